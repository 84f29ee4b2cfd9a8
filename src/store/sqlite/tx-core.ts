/**
 * @module store/sqlite/tx-core — the base layer of the SQLite `StoreTx`: the statement cache,
 * what the running transaction wrote (for its change event), and tags, which every resource
 * table uses.
 */
import type Database from 'better-sqlite3';
import type { Scope, Tag } from '../../model/index.js';
import type { ChangeKind, TagRecord } from '../types.js';

/** A result row as better-sqlite3 returns it. */
export type Row = Record<string, unknown>;

/** `?, ?, …` for an IN-list of `n` values. */
export const inList = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

/** Statements, write notes and tags; the table layers above add the rest of `StoreTx`. */
export abstract class TxCore {
  private readonly stmts = new Map<string, Database.Statement>();
  /** What the running transaction wrote; cleared at each BEGIN, read after COMMIT. */
  readonly written = new Set<ChangeKind>();
  /** The groups and prefix lists it wrote, for the event's `groupIds` / `prefixListIds`. */
  readonly writtenGroups = new Set<string>();
  readonly writtenPrefixLists = new Set<string>();
  constructor(protected readonly db: Database.Database) {}

  /** Forgets the previous transaction's writes (at BEGIN). */
  clearWritten(): void {
    this.written.clear();
    this.writtenGroups.clear();
    this.writtenPrefixLists.clear();
  }

  /**
   * Notes the resource a tag write touched: a rule's tags (its `weir:owner`) reach the gateway
   * through the rule's group; VPC tags reach nothing.
   */
  protected tagged(scope: Scope, resourceId: string): void {
    if (resourceId.startsWith('sgr-')) {
      const groupId = this.st(
        'SELECT group_id FROM security_group_rules WHERE account_id = ? AND region = ? AND rule_id = ?',
      )
        .pluck()
        .get(scope.accountId, scope.region, resourceId) as string | undefined;
      if (groupId !== undefined) this.writtenGroups.add(groupId);
    } else if (resourceId.startsWith('sg-')) {
      this.writtenGroups.add(resourceId);
    } else if (resourceId.startsWith('pl-')) {
      this.writtenPrefixLists.add(resourceId);
    }
  }

  /** Statements are prepared once and reused: preparing is most of a small query's cost. */
  protected st(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      // Bounded: IN-lists of varying length make distinct SQL strings.
      if (this.stmts.size >= 256) this.stmts.clear();
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  protected tagsOf(scope: Scope, resourceIds: readonly string[], resourceType?: string): Map<string, Tag[]> {
    const out = new Map<string, Tag[]>();
    if (resourceIds.length === 0) return out;
    // Most resources carry no tags: for a long list, one indexed probe can spare the IN-queries.
    if (
      resourceType !== undefined &&
      resourceIds.length > 16 &&
      this.st('SELECT 1 FROM tags WHERE account_id = ? AND region = ? AND resource_type = ? LIMIT 1')
        .pluck()
        .get(scope.accountId, scope.region, resourceType) === undefined
    ) {
      return out;
    }
    // Chunk to stay well below SQLite's host-parameter limit.
    for (let i = 0; i < resourceIds.length; i += 500) {
      const chunk = resourceIds.slice(i, i + 500);
      const rows = this.st(
        `SELECT resource_id, key, value FROM tags
         WHERE account_id = ? AND region = ? AND resource_id IN (${inList(chunk.length)}) ORDER BY seq`,
      ).all(scope.accountId, scope.region, ...chunk) as Row[];
      for (const r of rows) {
        const id = r['resource_id'] as string;
        let list = out.get(id);
        if (!list) out.set(id, (list = []));
        list.push({ key: r['key'] as string, value: r['value'] as string });
      }
    }
    return out;
  }

  // --- Tags ---------------------------------------------------------------------------------

  async putTags(scope: Scope, resourceId: string, resourceType: string, tags: readonly Tag[]) {
    const up = this.st(
      `INSERT INTO tags (account_id, region, resource_id, resource_type, key, value) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (resource_id, key) DO UPDATE SET value = excluded.value
       WHERE tags.account_id = excluded.account_id AND tags.region = excluded.region`,
    );
    for (const t of tags) up.run(scope.accountId, scope.region, resourceId, resourceType, t.key, t.value);
    if (tags.length > 0) this.tagged(scope, resourceId);
  }

  async deleteTags(
    scope: Scope,
    resourceId: string,
    tags: readonly { readonly key: string; readonly value?: string }[] | undefined,
  ) {
    this.tagged(scope, resourceId);
    if (!tags) {
      this.st('DELETE FROM tags WHERE account_id = ? AND region = ? AND resource_id = ?').run(
        scope.accountId,
        scope.region,
        resourceId,
      );
      return;
    }
    for (const t of tags) {
      if (t.value === undefined) {
        this.st('DELETE FROM tags WHERE account_id = ? AND region = ? AND resource_id = ? AND key = ?').run(
          scope.accountId,
          scope.region,
          resourceId,
          t.key,
        );
      } else {
        this.st(
          'DELETE FROM tags WHERE account_id = ? AND region = ? AND resource_id = ? AND key = ? AND value = ?',
        ).run(scope.accountId, scope.region, resourceId, t.key, t.value);
      }
    }
  }

  async listTags(scope: Scope, resourceIds?: readonly string[]): Promise<TagRecord[]> {
    const rows = resourceIds
      ? (this.db
          .prepare(
            `SELECT * FROM tags WHERE account_id = ? AND region = ? AND resource_id IN (${inList(resourceIds.length)})
             ORDER BY resource_id, key`,
          )
          .all(scope.accountId, scope.region, ...resourceIds) as Row[])
      : (this.st('SELECT * FROM tags WHERE account_id = ? AND region = ? ORDER BY resource_id, key').all(
          scope.accountId,
          scope.region,
        ) as Row[]);
    return rows.map((r) => ({
      resourceId: r['resource_id'] as string,
      resourceType: r['resource_type'] as string,
      key: r['key'] as string,
      value: r['value'] as string,
    }));
  }
}
