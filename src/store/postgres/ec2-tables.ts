/**
 * @module store/postgres/ec2-tables — scopes, VPCs and managed prefix lists (entries kept by
 * version) in the PostgreSQL `StoreTx`: the contract of src/store/sqlite/{vpcs,prefix-lists}.ts.
 */
import type { ManagedPrefixList, PrefixListEntry, Scope, Vpc } from '../../model/index.js';
import type { PrefixListChange, VpcAttributeName, VpcAttributes } from '../types.js';
import { PgTxCore } from './tx-core.js';
import type { Row } from './tx-core.js';

/**
 * Columns named, never `*`: a statement prepared on a connection fails ("cached plan must not
 * change result type") once another node's newer migration adds a column to its table.
 */
const PREFIX_LIST_COLUMNS = 'prefix_list_id, name, address_family, max_entries, version, state';
const VPC_COLUMNS = 'vpc_id, cidr_block, ipv6_cidr_block, is_default';

const VPC_ATTRIBUTE_COLUMNS: Readonly<Record<VpcAttributeName, string>> = {
  enableDnsSupport: 'enable_dns_support',
  enableDnsHostnames: 'enable_dns_hostnames',
  enableNetworkAddressUsageMetrics: 'enable_network_address_usage_metrics',
};

/** Scopes and VPCs. */
export abstract class PgScopeVpcTables extends PgTxCore {
  async getScope(scope: Scope) {
    const id = await this.one<string>(
      'SELECT default_vpc_id FROM scopes WHERE account_id = $1 AND region = $2',
      [scope.accountId, scope.region],
    );
    return id === undefined ? undefined : { defaultVpcId: id };
  }

  async insertScope(scope: Scope, record: { defaultVpcId: string }) {
    await this.run('INSERT INTO scopes (account_id, region, default_vpc_id) VALUES ($1, $2, $3)', [
      scope.accountId,
      scope.region,
      record.defaultVpcId,
    ]);
  }

  async listScopes(): Promise<Scope[]> {
    const rows = await this.q('SELECT account_id, region FROM scopes ORDER BY seq');
    return rows.map((r) => ({ accountId: r['account_id'] as string, region: r['region'] as string }));
  }

  async insertVpc(scope: Scope, vpc: Vpc) {
    await this.run(
      'INSERT INTO vpcs (vpc_id, account_id, region, cidr_block, ipv6_cidr_block, is_default) VALUES ($1, $2, $3, $4, $5, $6)',
      [vpc.vpcId, scope.accountId, scope.region, vpc.cidrBlock, vpc.ipv6CidrBlock ?? null, vpc.isDefault],
    );
    if (vpc.tags.length) await this.putTags(scope, vpc.vpcId, 'vpc', vpc.tags);
  }

  private async vpcs(scope: Scope, rows: Row[]): Promise<Vpc[]> {
    const tags = await this.tagsOf(
      scope,
      rows.map((r) => r['vpc_id'] as string),
    );
    return rows.map((r) => {
      const id = r['vpc_id'] as string;
      const ipv6 = r['ipv6_cidr_block'] as string | null;
      return {
        vpcId: id,
        cidrBlock: r['cidr_block'] as string,
        ...(ipv6 ? { ipv6CidrBlock: ipv6 } : {}),
        isDefault: r['is_default'] === true,
        ownerId: scope.accountId,
        state: 'available' as const,
        tags: tags.get(id) ?? [],
      };
    });
  }

  async getVpc(scope: Scope, vpcId: string) {
    const rows = await this.q(
      `SELECT ${VPC_COLUMNS} FROM vpcs WHERE account_id = $1 AND region = $2 AND vpc_id = $3`,
      [scope.accountId, scope.region, vpcId],
    );
    return (await this.vpcs(scope, rows))[0];
  }

  async listVpcs(scope: Scope, vpcIds?: readonly string[]) {
    const rows = vpcIds
      ? await this.q(
          `SELECT ${VPC_COLUMNS} FROM vpcs WHERE account_id = $1 AND region = $2 AND vpc_id = ANY($3::text[]) ORDER BY seq`,
          [scope.accountId, scope.region, vpcIds],
        )
      : await this.q(`SELECT ${VPC_COLUMNS} FROM vpcs WHERE account_id = $1 AND region = $2 ORDER BY seq`, [
          scope.accountId,
          scope.region,
        ]);
    return this.vpcs(scope, rows);
  }

  async getVpcAttributes(scope: Scope, vpcId: string): Promise<VpcAttributes | undefined> {
    const row = (
      await this.q(
        `SELECT is_default, enable_dns_support, enable_dns_hostnames, enable_network_address_usage_metrics
         FROM vpcs WHERE account_id = $1 AND region = $2 AND vpc_id = $3`,
        [scope.accountId, scope.region, vpcId],
      )
    )[0];
    if (!row) return undefined;
    const flag = (v: unknown, dflt: boolean): boolean => (v === null || v === undefined ? dflt : v === true);
    return {
      enableDnsSupport: flag(row['enable_dns_support'], true),
      enableDnsHostnames: flag(row['enable_dns_hostnames'], row['is_default'] === true),
      enableNetworkAddressUsageMetrics: flag(row['enable_network_address_usage_metrics'], false),
    };
  }

  async setVpcAttribute(scope: Scope, vpcId: string, name: VpcAttributeName, value: boolean) {
    // The column comes from a closed table, never from the caller's text.
    const column = VPC_ATTRIBUTE_COLUMNS[name];
    await this.run(`UPDATE vpcs SET ${column} = $1 WHERE account_id = $2 AND region = $3 AND vpc_id = $4`, [
      value,
      scope.accountId,
      scope.region,
      vpcId,
    ]);
  }

  async deleteVpc(scope: Scope, vpcId: string) {
    await this.run('DELETE FROM vpcs WHERE account_id = $1 AND region = $2 AND vpc_id = $3', [
      scope.accountId,
      scope.region,
      vpcId,
    ]);
    await this.dropTags(scope, [vpcId]);
  }
}

/** Prefix lists and their versioned entries. */
export abstract class PgPrefixListTables extends PgScopeVpcTables {
  async insertPrefixList(scope: Scope, pl: ManagedPrefixList, entries: readonly PrefixListEntry[]) {
    this.written.add('prefixLists');
    this.writtenPrefixLists.add(pl.prefixListId);
    await this.run(
      `INSERT INTO prefix_lists (prefix_list_id, account_id, region, name, address_family, max_entries, version, state)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        pl.prefixListId,
        scope.accountId,
        scope.region,
        pl.prefixListName,
        pl.addressFamily,
        pl.maxEntries,
        pl.version,
        pl.state,
      ],
    );
    await this.addEntries(pl.prefixListId, entries, pl.version);
    if (pl.tags.length) await this.putTags(scope, pl.prefixListId, 'prefix-list', pl.tags);
  }

  private async addEntries(prefixListId: string, entries: readonly PrefixListEntry[], version: number) {
    if (entries.length === 0) return;
    // One statement for the lot; WITH ORDINALITY keeps their order in `seq`.
    await this.run(
      `INSERT INTO prefix_list_entries (prefix_list_id, cidr, description, added_version)
       SELECT $1, e.cidr, e.description, $4 FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS e(cidr, description, n)
       ORDER BY e.n`,
      [prefixListId, entries.map((e) => e.cidr), entries.map((e) => e.description ?? null), version],
    );
  }

  private async prefixLists(scope: Scope, rows: Row[]): Promise<ManagedPrefixList[]> {
    const tags = await this.tagsOf(
      scope,
      rows.map((r) => r['prefix_list_id'] as string),
    );
    return rows.map((r) => ({
      prefixListId: r['prefix_list_id'] as string,
      prefixListName: r['name'] as string,
      addressFamily: r['address_family'] as 'IPv4' | 'IPv6',
      maxEntries: r['max_entries'] as number,
      version: r['version'] as number,
      state: r['state'] as ManagedPrefixList['state'],
      ownerId: scope.accountId,
      tags: tags.get(r['prefix_list_id'] as string) ?? [],
    }));
  }

  async getPrefixList(scope: Scope, prefixListId: string) {
    const rows = await this.q(
      `SELECT ${PREFIX_LIST_COLUMNS} FROM prefix_lists WHERE account_id = $1 AND region = $2 AND prefix_list_id = $3`,
      [scope.accountId, scope.region, prefixListId],
    );
    return (await this.prefixLists(scope, rows))[0];
  }

  async listPrefixLists(scope: Scope, prefixListIds?: readonly string[]) {
    const rows = prefixListIds
      ? await this.q(
          `SELECT ${PREFIX_LIST_COLUMNS} FROM prefix_lists WHERE account_id = $1 AND region = $2
           AND prefix_list_id = ANY($3::text[]) ORDER BY seq`,
          [scope.accountId, scope.region, prefixListIds],
        )
      : await this.q(
          `SELECT ${PREFIX_LIST_COLUMNS} FROM prefix_lists WHERE account_id = $1 AND region = $2 ORDER BY seq`,
          [scope.accountId, scope.region],
        );
    return this.prefixLists(scope, rows);
  }

  async getPrefixListEntries(scope: Scope, prefixListId: string, version?: number) {
    const pl = await this.getPrefixList(scope, prefixListId);
    if (!pl) return [];
    const v = version ?? pl.version;
    const rows = await this.q(
      `SELECT cidr, description FROM prefix_list_entries
       WHERE prefix_list_id = $1 AND added_version <= $2 AND (removed_version IS NULL OR removed_version > $2)
       ORDER BY seq`,
      [prefixListId, v],
    );
    return rows.map((r) => {
      const d = r['description'] as string | null;
      return { cidr: r['cidr'] as string, ...(d !== null ? { description: d } : {}) };
    });
  }

  async updatePrefixList(scope: Scope, pl: ManagedPrefixList, change?: PrefixListChange) {
    this.written.add('prefixLists');
    this.writtenPrefixLists.add(pl.prefixListId);
    const updated = await this.run(
      `UPDATE prefix_lists SET name = $1, max_entries = $2, version = $3, state = $4
       WHERE account_id = $5 AND region = $6 AND prefix_list_id = $7`,
      [
        pl.prefixListName,
        pl.maxEntries,
        pl.version,
        pl.state,
        scope.accountId,
        scope.region,
        pl.prefixListId,
      ],
    );
    // Entries carry no scope of their own: touch them only for a list found in this scope.
    if (!change || updated === 0) return;
    // An added CIDR that is already live replaces the live one (its description changes).
    const retire = [...change.remove, ...change.add.map((e) => e.cidr)];
    if (retire.length > 0) {
      await this.run(
        `UPDATE prefix_list_entries SET removed_version = $1
         WHERE prefix_list_id = $2 AND cidr = ANY($3::text[]) AND removed_version IS NULL`,
        [pl.version, pl.prefixListId, retire],
      );
    }
    await this.addEntries(pl.prefixListId, change.add, pl.version);
  }

  async deletePrefixList(scope: Scope, prefixListId: string) {
    this.written.add('prefixLists');
    this.writtenPrefixLists.add(prefixListId);
    const deleted = await this.run(
      'DELETE FROM prefix_lists WHERE account_id = $1 AND region = $2 AND prefix_list_id = $3',
      [scope.accountId, scope.region, prefixListId],
    );
    if (deleted === 0) return;
    await this.run('DELETE FROM prefix_list_entries WHERE prefix_list_id = $1', [prefixListId]);
    await this.dropTags(scope, [prefixListId]);
  }
}
