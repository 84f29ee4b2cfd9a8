/**
 * @module store/sqlite/prefix-lists — the managed prefix lists of the SQLite `StoreTx`, with
 * their entries kept by version (an entry carries the versions it was added and removed in).
 */
import type { ManagedPrefixList, PrefixListEntry, Scope } from '../../model/index.js';
import type { PrefixListChange } from '../types.js';
import type { Row } from './tx-core.js';
import { inList } from './tx-core.js';
import { ScopeVpcTables } from './vpcs.js';

/** Prefix lists and their versioned entries. */
export abstract class PrefixListTables extends ScopeVpcTables {
  async insertPrefixList(scope: Scope, pl: ManagedPrefixList, entries: readonly PrefixListEntry[]) {
    this.written.add('prefixLists');
    this.writtenPrefixLists.add(pl.prefixListId);
    this.st(
      `INSERT INTO prefix_lists (prefix_list_id, account_id, region, name, address_family, max_entries, version, state)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      pl.prefixListId,
      scope.accountId,
      scope.region,
      pl.prefixListName,
      pl.addressFamily,
      pl.maxEntries,
      pl.version,
      pl.state,
    );
    this.addEntries(pl.prefixListId, entries, pl.version);
    if (pl.tags.length) await this.putTags(scope, pl.prefixListId, 'prefix-list', pl.tags);
  }

  private addEntries(prefixListId: string, entries: readonly PrefixListEntry[], version: number) {
    const ins = this.st(
      'INSERT INTO prefix_list_entries (prefix_list_id, cidr, description, added_version) VALUES (?, ?, ?, ?)',
    );
    for (const e of entries) ins.run(prefixListId, e.cidr, e.description ?? null, version);
  }

  private prefixLists(scope: Scope, rows: Row[]): ManagedPrefixList[] {
    const tags = this.tagsOf(
      scope,
      rows.map((r) => r['prefix_list_id'] as string),
      'prefix-list',
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
    const rows = this.st(
      'SELECT * FROM prefix_lists WHERE account_id = ? AND region = ? AND prefix_list_id = ?',
    ).all(scope.accountId, scope.region, prefixListId) as Row[];
    return this.prefixLists(scope, rows)[0];
  }

  async listPrefixLists(scope: Scope, prefixListIds?: readonly string[]) {
    const rows = prefixListIds
      ? (this.db
          .prepare(
            `SELECT * FROM prefix_lists WHERE account_id = ? AND region = ?
             AND prefix_list_id IN (${inList(prefixListIds.length)}) ORDER BY seq`,
          )
          .all(scope.accountId, scope.region, ...prefixListIds) as Row[])
      : (this.st('SELECT * FROM prefix_lists WHERE account_id = ? AND region = ? ORDER BY seq').all(
          scope.accountId,
          scope.region,
        ) as Row[]);
    return this.prefixLists(scope, rows);
  }

  async getPrefixListEntries(scope: Scope, prefixListId: string, version?: number) {
    const pl = await this.getPrefixList(scope, prefixListId);
    if (!pl) return [];
    const v = version ?? pl.version;
    const rows = this.st(
      `SELECT cidr, description FROM prefix_list_entries
       WHERE prefix_list_id = ? AND added_version <= ? AND (removed_version IS NULL OR removed_version > ?)
       ORDER BY seq`,
    ).all(prefixListId, v, v) as Row[];
    return rows.map((r) => {
      const d = r['description'] as string | null;
      return { cidr: r['cidr'] as string, ...(d !== null ? { description: d } : {}) };
    });
  }

  async updatePrefixList(scope: Scope, pl: ManagedPrefixList, change?: PrefixListChange) {
    this.written.add('prefixLists');
    this.writtenPrefixLists.add(pl.prefixListId);
    const updated = this.st(
      `UPDATE prefix_lists SET name = ?, max_entries = ?, version = ?, state = ?
       WHERE account_id = ? AND region = ? AND prefix_list_id = ?`,
    ).run(
      pl.prefixListName,
      pl.maxEntries,
      pl.version,
      pl.state,
      scope.accountId,
      scope.region,
      pl.prefixListId,
    );
    // Entries carry no scope of their own: touch them only for a list found in this scope.
    if (!change || updated.changes === 0) return;
    const retire = this.st(
      `UPDATE prefix_list_entries SET removed_version = ?
       WHERE prefix_list_id = ? AND cidr = ? AND removed_version IS NULL`,
    );
    // An added CIDR that is already live replaces the live one (its description changes).
    for (const cidr of [...change.remove, ...change.add.map((e) => e.cidr)]) {
      retire.run(pl.version, pl.prefixListId, cidr);
    }
    this.addEntries(pl.prefixListId, change.add, pl.version);
  }

  async deletePrefixList(scope: Scope, prefixListId: string) {
    this.written.add('prefixLists');
    this.writtenPrefixLists.add(prefixListId);
    const deleted = this.st(
      'DELETE FROM prefix_lists WHERE account_id = ? AND region = ? AND prefix_list_id = ?',
    ).run(scope.accountId, scope.region, prefixListId);
    if (deleted.changes === 0) return;
    this.st('DELETE FROM prefix_list_entries WHERE prefix_list_id = ?').run(prefixListId);
    this.st('DELETE FROM tags WHERE account_id = ? AND region = ? AND resource_id = ?').run(
      scope.accountId,
      scope.region,
      prefixListId,
    );
  }
}
