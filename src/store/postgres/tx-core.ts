/**
 * @module store/postgres/tx-core — the base layer of the PostgreSQL `StoreTx`: queries on the
 * transaction's connection (as named prepared statements), what the transaction wrote (for its
 * change event), and tags, which every resource table uses.
 */
import type { PoolClient } from 'pg';
import type { Scope, Tag } from '../../model/index.js';
import type { ChangeKind, TagRecord } from '../types.js';

/**
 * Columns named, never `*`: a statement prepared on a connection fails ("cached plan must not
 * change result type") once another node's newer migration adds a column to its table.
 */
const TAG_COLUMNS = 'resource_id, resource_type, key, value';

/** A result row as `pg` returns it. */
export type Row = Record<string, unknown>;

/**
 * Statement names by SQL text. Every query of the driver is a fixed text (lists travel as one
 * array parameter, `= ANY($n)`), so the map stays small; `pg` prepares each name once per
 * connection and then only binds, which spares the server parsing and planning it again.
 */
const names = new Map<string, string>();
function statementName(sql: string): string {
  let name = names.get(sql);
  if (name === undefined) {
    name = `weir_${names.size}`;
    names.set(sql, name);
  }
  return name;
}

/** Queries, write notes and tags; the table layers above add the rest of `StoreTx`. */
export abstract class PgTxCore {
  /** What this transaction wrote, read after COMMIT. */
  readonly written = new Set<ChangeKind>();
  /** The groups and prefix lists it wrote, for the event's `groupIds` / `prefixListIds`. */
  readonly writtenGroups = new Set<string>();
  readonly writtenPrefixLists = new Set<string>();
  constructor(protected readonly client: PoolClient) {}

  /** Runs one statement; its rows. */
  protected async q(sql: string, values: readonly unknown[] = []): Promise<Row[]> {
    const res = await this.client.query<Row>({ name: statementName(sql), text: sql, values: [...values] });
    return res.rows;
  }

  /** Runs one statement; how many rows it wrote. */
  protected async run(sql: string, values: readonly unknown[] = []): Promise<number> {
    const res = await this.client.query({ name: statementName(sql), text: sql, values: [...values] });
    return res.rowCount ?? 0;
  }

  /** The first row's first column, if any. */
  protected async one<T>(sql: string, values: readonly unknown[] = []): Promise<T | undefined> {
    const row = (await this.q(sql, values))[0];
    return row === undefined ? undefined : (Object.values(row)[0] as T);
  }

  /**
   * Notes the resource a tag write touched: a rule's tags (its `weir:owner`) reach the gateway
   * through the rule's group; VPC tags reach nothing.
   */
  protected async tagged(scope: Scope, resourceId: string): Promise<void> {
    if (resourceId.startsWith('sgr-')) {
      const groupId = await this.one<string>(
        'SELECT group_id FROM security_group_rules WHERE account_id = $1 AND region = $2 AND rule_id = $3',
        [scope.accountId, scope.region, resourceId],
      );
      if (groupId !== undefined) this.writtenGroups.add(groupId);
    } else if (resourceId.startsWith('sg-')) {
      this.writtenGroups.add(resourceId);
    } else if (resourceId.startsWith('pl-')) {
      this.writtenPrefixLists.add(resourceId);
    }
  }

  protected async tagsOf(scope: Scope, resourceIds: readonly string[]): Promise<Map<string, Tag[]>> {
    const out = new Map<string, Tag[]>();
    if (resourceIds.length === 0) return out;
    const rows = await this.q(
      `SELECT resource_id, key, value FROM tags
       WHERE account_id = $1 AND region = $2 AND resource_id = ANY($3::text[]) ORDER BY seq`,
      [scope.accountId, scope.region, resourceIds],
    );
    for (const r of rows) {
      const id = r['resource_id'] as string;
      let list = out.get(id);
      if (!list) out.set(id, (list = []));
      list.push({ key: r['key'] as string, value: r['value'] as string });
    }
    return out;
  }

  /** Deletes every tag of the resources (a deleted VPC, group, rule or list). */
  protected async dropTags(scope: Scope, resourceIds: readonly string[]): Promise<void> {
    if (resourceIds.length === 0) return;
    await this.run(
      'DELETE FROM tags WHERE account_id = $1 AND region = $2 AND resource_id = ANY($3::text[])',
      [scope.accountId, scope.region, resourceIds],
    );
  }

  // --- Tags ---------------------------------------------------------------------------------

  async putTags(scope: Scope, resourceId: string, resourceType: string, tags: readonly Tag[]) {
    // One statement per tag: a single INSERT naming one key twice would fail ON CONFLICT.
    for (const t of tags) {
      await this.run(
        `INSERT INTO tags (account_id, region, resource_id, resource_type, key, value) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (resource_id, key) DO UPDATE SET value = excluded.value
         WHERE tags.account_id = excluded.account_id AND tags.region = excluded.region`,
        [scope.accountId, scope.region, resourceId, resourceType, t.key, t.value],
      );
    }
    if (tags.length > 0) await this.tagged(scope, resourceId);
  }

  async deleteTags(
    scope: Scope,
    resourceId: string,
    tags: readonly { readonly key: string; readonly value?: string }[] | undefined,
  ) {
    await this.tagged(scope, resourceId);
    if (!tags) {
      await this.dropTags(scope, [resourceId]);
      return;
    }
    for (const t of tags) {
      if (t.value === undefined) {
        await this.run(
          'DELETE FROM tags WHERE account_id = $1 AND region = $2 AND resource_id = $3 AND key = $4',
          [scope.accountId, scope.region, resourceId, t.key],
        );
      } else {
        await this.run(
          'DELETE FROM tags WHERE account_id = $1 AND region = $2 AND resource_id = $3 AND key = $4 AND value = $5',
          [scope.accountId, scope.region, resourceId, t.key, t.value],
        );
      }
    }
  }

  async listTags(scope: Scope, resourceIds?: readonly string[]): Promise<TagRecord[]> {
    // Byte order, as SQLite sorts, whatever the database's collation.
    const rows = resourceIds
      ? await this.q(
          `SELECT ${TAG_COLUMNS} FROM tags WHERE account_id = $1 AND region = $2 AND resource_id = ANY($3::text[])
           ORDER BY resource_id COLLATE "C", key COLLATE "C"`,
          [scope.accountId, scope.region, resourceIds],
        )
      : await this.q(
          `SELECT ${TAG_COLUMNS} FROM tags WHERE account_id = $1 AND region = $2 ORDER BY resource_id COLLATE "C", key COLLATE "C"`,
          [scope.accountId, scope.region],
        );
    return rows.map((r) => ({
      resourceId: r['resource_id'] as string,
      resourceType: r['resource_type'] as string,
      key: r['key'] as string,
      value: r['value'] as string,
    }));
  }
}
