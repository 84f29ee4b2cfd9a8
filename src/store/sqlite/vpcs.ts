/**
 * @module store/sqlite/vpcs — the scopes (an account and region, with its default VPC) and
 * VPC tables of the SQLite `StoreTx`.
 */
import type { Scope, Vpc } from '../../model/index.js';
import type { VpcAttributeName, VpcAttributes } from '../types.js';
import { inList, TxCore } from './tx-core.js';
import type { Row } from './tx-core.js';

const VPC_ATTRIBUTE_COLUMNS: Readonly<Record<VpcAttributeName, string>> = {
  enableDnsSupport: 'enable_dns_support',
  enableDnsHostnames: 'enable_dns_hostnames',
  enableNetworkAddressUsageMetrics: 'enable_network_address_usage_metrics',
};

/** Scopes and VPCs. */
export abstract class ScopeVpcTables extends TxCore {
  async getScope(scope: Scope) {
    const row = this.st('SELECT default_vpc_id FROM scopes WHERE account_id = ? AND region = ?').get(
      scope.accountId,
      scope.region,
    ) as Row | undefined;
    return row ? { defaultVpcId: row['default_vpc_id'] as string } : undefined;
  }

  async insertScope(scope: Scope, record: { defaultVpcId: string }) {
    this.st('INSERT INTO scopes (account_id, region, default_vpc_id) VALUES (?, ?, ?)').run(
      scope.accountId,
      scope.region,
      record.defaultVpcId,
    );
  }

  async listScopes(): Promise<Scope[]> {
    const rows = this.st('SELECT account_id, region FROM scopes ORDER BY rowid').all() as Row[];
    return rows.map((r) => ({ accountId: r['account_id'] as string, region: r['region'] as string }));
  }

  // --- VPCs ---------------------------------------------------------------------------------

  async insertVpc(scope: Scope, vpc: Vpc) {
    this.st(
      'INSERT INTO vpcs (vpc_id, account_id, region, cidr_block, ipv6_cidr_block, is_default) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(
      vpc.vpcId,
      scope.accountId,
      scope.region,
      vpc.cidrBlock,
      vpc.ipv6CidrBlock ?? null,
      vpc.isDefault ? 1 : 0,
    );
    if (vpc.tags.length) await this.putTags(scope, vpc.vpcId, 'vpc', vpc.tags);
  }

  private vpcs(scope: Scope, rows: Row[]): Vpc[] {
    const tags = this.tagsOf(
      scope,
      rows.map((r) => r['vpc_id'] as string),
      'vpc',
    );
    return rows.map((r) => {
      const id = r['vpc_id'] as string;
      const ipv6 = r['ipv6_cidr_block'] as string | null;
      return {
        vpcId: id,
        cidrBlock: r['cidr_block'] as string,
        ...(ipv6 ? { ipv6CidrBlock: ipv6 } : {}),
        isDefault: r['is_default'] === 1,
        ownerId: scope.accountId,
        state: 'available' as const,
        tags: tags.get(id) ?? [],
      };
    });
  }

  async getVpc(scope: Scope, vpcId: string) {
    const rows = this.st('SELECT * FROM vpcs WHERE account_id = ? AND region = ? AND vpc_id = ?').all(
      scope.accountId,
      scope.region,
      vpcId,
    ) as Row[];
    return this.vpcs(scope, rows)[0];
  }

  async listVpcs(scope: Scope, vpcIds?: readonly string[]) {
    const rows = vpcIds
      ? (this.db
          .prepare(
            `SELECT * FROM vpcs WHERE account_id = ? AND region = ? AND vpc_id IN (${inList(vpcIds.length)}) ORDER BY seq`,
          )
          .all(scope.accountId, scope.region, ...vpcIds) as Row[])
      : (this.st('SELECT * FROM vpcs WHERE account_id = ? AND region = ? ORDER BY seq').all(
          scope.accountId,
          scope.region,
        ) as Row[]);
    return this.vpcs(scope, rows);
  }

  async getVpcAttributes(scope: Scope, vpcId: string): Promise<VpcAttributes | undefined> {
    const row = this.st(
      'SELECT is_default, enable_dns_support, enable_dns_hostnames, enable_network_address_usage_metrics FROM vpcs WHERE account_id = ? AND region = ? AND vpc_id = ?',
    ).get(scope.accountId, scope.region, vpcId) as Row | undefined;
    if (!row) return undefined;
    const flag = (v: unknown, dflt: boolean): boolean => (v === null || v === undefined ? dflt : v === 1);
    return {
      enableDnsSupport: flag(row['enable_dns_support'], true),
      enableDnsHostnames: flag(row['enable_dns_hostnames'], row['is_default'] === 1),
      enableNetworkAddressUsageMetrics: flag(row['enable_network_address_usage_metrics'], false),
    };
  }

  async setVpcAttribute(scope: Scope, vpcId: string, name: VpcAttributeName, value: boolean) {
    // The column comes from a closed table, never from the caller's text.
    const column = VPC_ATTRIBUTE_COLUMNS[name];
    this.st(`UPDATE vpcs SET ${column} = ? WHERE account_id = ? AND region = ? AND vpc_id = ?`).run(
      value ? 1 : 0,
      scope.accountId,
      scope.region,
      vpcId,
    );
  }

  async deleteVpc(scope: Scope, vpcId: string) {
    this.st('DELETE FROM vpcs WHERE account_id = ? AND region = ? AND vpc_id = ?').run(
      scope.accountId,
      scope.region,
      vpcId,
    );
    this.st('DELETE FROM tags WHERE account_id = ? AND region = ? AND resource_id = ?').run(
      scope.accountId,
      scope.region,
      vpcId,
    );
  }
}
