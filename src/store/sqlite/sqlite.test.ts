/**
 * @module store/sqlite/sqlite.test — the SQLite driver against the shared `Store` suite, in
 * memory and on disk, plus what only SQLite has: recorded migrations and the WAL journal.
 */
import Database from 'better-sqlite3';
import { copyFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runStoreTests } from '../store.suite.js';
import { runBreakglassStoreTests } from '../breakglass.suite.js';
import { runDecisionStoreTests } from '../decisions.suite.js';
import type { ChangeEvent } from '../types.js';
import { Checkpointer } from './checkpointer.js';
import { openSqliteStore } from './index.js';
import { MIGRATIONS } from './migrations.js';

async function tempFile(): Promise<{ file: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-store-'));
  return { file: join(dir, 'weir.db'), remove: () => rm(dir, { recursive: true, force: true }) };
}

runBreakglassStoreTests('sqlite :memory:', async () => {
  const store = openSqliteStore({ file: ':memory:' });
  return { store, cleanup: () => store.close() };
});

runDecisionStoreTests('sqlite file', async () => {
  const { file, remove } = await tempFile();
  let store = openSqliteStore({ file });
  return {
    store,
    reopen: async () => {
      await store.close();
      store = openSqliteStore({ file });
      return store;
    },
    cleanup: async () => {
      await store.close();
      await remove();
    },
  };
});

runStoreTests('sqlite :memory:', async () => {
  const store = openSqliteStore({ file: ':memory:' });
  return { store, cleanup: () => store.close() };
});

runStoreTests('sqlite file', async () => {
  const { file, remove } = await tempFile();
  let store = openSqliteStore({ file });
  return {
    store,
    reopen: async () => {
      await store.close();
      store = openSqliteStore({ file });
      return store;
    },
    cleanup: async () => {
      await store.close();
      await remove();
    },
  };
});

describe('sqlite driver', () => {
  let file: string;
  let remove: () => Promise<void>;
  beforeEach(async () => {
    ({ file, remove } = await tempFile());
  });
  afterEach(async () => {
    await remove();
  });

  /** Reads the database behind a closed store with a connection of its own. */
  function inspect<T>(fn: (db: Database.Database) => T): T {
    const db = new Database(file, { readonly: true });
    try {
      return fn(db);
    } finally {
      db.close();
    }
  }
  const migrations = () =>
    inspect(
      (db) =>
        db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all() as {
          version: number;
          name: string;
          applied_at: string;
        }[],
    );

  it('records every migration in schema_migrations, and reopening applies none again', async () => {
    await openSqliteStore({ file }).close();
    const first = migrations();
    expect(first.map((m) => [m.version, m.name])).toEqual(MIGRATIONS.map((m) => [m.version, m.name]));
    for (const m of first) expect(Number.isNaN(Date.parse(m.applied_at))).toBe(false);

    // Reopening must not run a migration's SQL again: CREATE TABLE would throw if it did.
    const store = openSqliteStore({ file });
    await store.transaction(undefined, (tx) =>
      tx.insertScope({ accountId: '111111111111', region: 'us-east-1' }, { defaultVpcId: 'vpc-01' }),
    );
    await store.close();
    await openSqliteStore({ file }).close();
    expect(migrations()).toEqual(first);
    expect(inspect((db) => db.prepare('SELECT COUNT(*) AS n FROM scopes').get())).toEqual({ n: 1 });
  });

  it('migration 4 keeps every rule of an older database, in order, and its constraints', async () => {
    // A database as version 3 left it, with rules written the way that version wrote them.
    const old = new Database(file);
    old.exec(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
    for (const m of MIGRATIONS.filter((x) => x.version <= 3)) {
      old.exec(m.sql);
      old.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, 'then');
    }
    const insert = old.prepare(
      `INSERT INTO security_group_rules (rule_id, account_id, region, group_id, group_owner_id, direction,
         ip_protocol, from_port, to_port, target_kind, cidr, description, rule_key)
       VALUES (?, '111111111111', 'us-east-1', 'sg-0000000000000000a', '111111111111', 'egress', 'tcp', ?, ?, 'ipv4', ?, ?, ?)`,
    );
    for (const [id, port, cidr] of [
      ['sgr-0000000000000000c', 443, '10.0.0.0/8'],
      ['sgr-0000000000000000a', 80, '10.1.0.0/16'],
      ['sgr-0000000000000000b', 22, '10.2.0.0/16'],
    ] as const) {
      insert.run(id, port, port, cidr, `rule ${id}`, `egress|tcp|${port}|${port}|ipv4|${cidr}`);
    }
    old.prepare('DELETE FROM security_group_rules WHERE rule_id = ?').run('sgr-0000000000000000a');
    old.close();

    const store = openSqliteStore({ file });
    const scope = { accountId: '111111111111', region: 'us-east-1' };
    const group = 'sg-0000000000000000a';
    const rules = () => store.transaction(scope, (tx) => tx.listRules(scope, { groupIds: [group] }));
    expect((await rules()).map((r) => [r.ruleId, r.fromPort, r.description])).toEqual([
      ['sgr-0000000000000000c', 443, 'rule sgr-0000000000000000c'],
      ['sgr-0000000000000000b', 22, 'rule sgr-0000000000000000b'],
    ]);
    // A new rule comes after the migrated ones; the same rule again is still refused.
    const added = {
      ruleId: 'sgr-0000000000000000d',
      groupId: group,
      groupOwnerId: scope.accountId,
      direction: 'egress' as const,
      ipProtocol: 'udp',
      fromPort: 53,
      toPort: 53,
      target: { kind: 'ipv4' as const, cidr: '10.3.0.0/16' },
      tags: [],
    };
    await store.transaction(scope, (tx) =>
      tx.insertRules(scope, [{ rule: added, key: 'egress|udp|53|53|ipv4|10.3.0.0/16' }]),
    );
    expect((await rules()).map((r) => r.ruleId)).toEqual([
      'sgr-0000000000000000c',
      'sgr-0000000000000000b',
      'sgr-0000000000000000d',
    ]);
    await expect(
      store.transaction(scope, (tx) =>
        tx.insertRules(scope, [
          {
            rule: {
              ...added,
              ruleId: 'sgr-0000000000000000e',
              fromPort: 443,
              toPort: 443,
              target: { kind: 'ipv4', cidr: '10.0.0.0/8' },
            },
            key: 'egress|tcp|443|443|ipv4|10.0.0.0/8',
          },
        ]),
      ),
    ).rejects.toThrow(/egress\|tcp\|443/);
    expect(await store.transaction(scope, (tx) => tx.countRules(scope, group, 'egress'))).toBe(3);
    await store.close();
    expect(migrations().map((m) => m.version)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(
      inspect((db) =>
        db.prepare("SELECT COUNT(*) AS n FROM sqlite_sequence WHERE name = 'security_group_rules'").get(),
      ),
    ).toEqual({ n: 0 });
  });

  it('versions are unique and ascending, so order of application is order of version', () => {
    const versions = MIGRATIONS.map((m) => m.version);
    expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b));
  });

  it('subscribers hear of commits by another connection (another process) to the same file', async () => {
    const server = openSqliteStore({ file, externalPollMs: 5 });
    const other = openSqliteStore({ file, externalPollMs: 0 });
    try {
      const events: ChangeEvent[] = [];
      server.subscribe((e) => events.push(e));
      const now = new Date('2026-11-23T00:00:00Z');
      // Its own commits come as ordinary events, never twice as "external".
      await server.transaction(undefined, (tx) =>
        tx.revokeToken({ id: 'own', expires: new Date(now.getTime() + 1000), revokedAt: now }),
      );
      await other.transaction(undefined, (tx) =>
        tx.revokeToken({ id: 'theirs', expires: new Date(now.getTime() + 1000), revokedAt: now }),
      );
      // Bounded by attempts, not by a clock.
      for (let i = 0; i < 2000 && events.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
      expect(events.map((e) => [e.scope, [...e.kinds].sort()])).toEqual([
        [undefined, ['tokens']],
        [
          undefined,
          [
            'breakglass',
            'bundle',
            'exceptions',
            'groups',
            'notifications',
            'prefixLists',
            'rules',
            'tokens',
            'workloads',
          ],
        ],
      ]);
      await new Promise((r) => setTimeout(r, 30));
      expect(events).toHaveLength(2);
      const seen = await server.transaction(undefined, (tx) => tx.listRevokedTokens(now), { readOnly: true });
      expect(seen.map((t) => t.id)).toEqual(['own', 'theirs']);
    } finally {
      await other.close();
      await server.close();
    }
  });

  it('a file store journals in WAL mode', async () => {
    const store = openSqliteStore({ file });
    // The journal mode is a property of the file: another connection sees it too.
    expect(new Database(file, { readonly: true }).pragma('journal_mode', { simple: true })).toBe('wal');
    await store.close();
    expect(inspect((db) => db.pragma('journal_mode', { simple: true }))).toBe('wal');
  });
});

describe('sqlite background checkpoints', () => {
  let file: string;
  let remove: () => Promise<void>;
  beforeEach(async () => {
    ({ file, remove } = await tempFile());
  });
  afterEach(async () => {
    await remove();
  });

  /**
   * Scopes in a copy of the main database file without its WAL: only checkpointed commits.
   * A copy taken while the worker is writing pages can be torn; that counts as not yet.
   */
  function checkpointedScopes(): number {
    const copy = `${file}.copy`;
    copyFileSync(file, copy);
    const db = new Database(copy, { readonly: true });
    try {
      // Before the first checkpoint even the schema is only in the WAL.
      const schema = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'scopes'").get();
      if (schema === undefined) return 0;
      return (db.prepare('SELECT COUNT(*) AS n FROM scopes').get() as { n: number }).n;
    } catch (err) {
      if (/malformed|not a database/i.test(String(err))) return 0;
      throw err;
    } finally {
      db.close();
    }
  }

  it('copies a commit into the database file without a checkpoint on the writer', async () => {
    const store = openSqliteStore({ file });
    try {
      await store.transaction(undefined, (tx) =>
        tx.insertScope({ accountId: '111111111111', region: 'us-east-1' }, { defaultVpcId: 'vpc-01' }),
      );
      // One small commit is far below any automatic checkpoint: only the worker copies it.
      let seen = 0;
      while ((seen = checkpointedScopes()) === 0) await new Promise((r) => setTimeout(r, 20));
      expect(seen).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('reports a worker that cannot start, and still closes', async () => {
    const failures: unknown[] = [];
    const cp = new Checkpointer({ file: join(file, 'missing.db'), onFailure: (e) => failures.push(e) });
    while (failures.length === 0) await new Promise((r) => setTimeout(r, 20));
    await cp.close();
    expect(failures).toHaveLength(1);
    expect(String(failures[0])).toMatch(/unable to open|directory does not exist|SQLITE_CANTOPEN/i);
  });
});

describe('sqlite read-only open', () => {
  const A = { accountId: '111111111111', region: 'us-east-1' };

  it('reads a closed store without creating a file beside it, and refuses writes', async () => {
    const { file, remove } = await tempFile();
    try {
      const w = openSqliteStore({ file, backgroundCheckpoints: false });
      await w.transaction(A, (tx) => tx.insertScope(A, { defaultVpcId: 'vpc-01' }));
      await w.close();
      const before = readdirSync(dirname(file)).sort();
      const r = openSqliteStore({ file, readOnly: true });
      expect(await r.transaction(undefined, (tx) => tx.listScopes())).toEqual([A]);
      await expect(r.transaction(A, (tx) => tx.insertScope(A, { defaultVpcId: 'vpc-02' }))).rejects.toThrow(
        /readonly|read-only/i,
      );
      await r.close();
      expect(readdirSync(dirname(file)).sort()).toEqual(before);
    } finally {
      await remove();
    }
  });

  it('reads what a writer still holding the file committed (its WAL)', async () => {
    const { file, remove } = await tempFile();
    const w = openSqliteStore({ file, backgroundCheckpoints: false });
    try {
      await w.transaction(A, (tx) => tx.insertScope(A, { defaultVpcId: 'vpc-01' }));
      const r = openSqliteStore({ file, readOnly: true });
      expect(await r.transaction(undefined, (tx) => tx.listScopes())).toEqual([A]);
      await r.close();
    } finally {
      await w.close();
      await remove();
    }
  });
});
