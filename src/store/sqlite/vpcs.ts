/**
 * @module store/sqlite/vpcs — the scopes (an account and region, with its default VPC) and
 * VPC tables of the SQLite `StoreTx`.
 */
import type { Scope, Vpc } from '../../model/index.js';
import { inList, TxCore } from './tx-core.js';
import type { Row } from './tx-core.js';

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
