/**
 * @module store/sqlite/sqlite.test — the SQLite driver against the shared `Store` suite, in
 * memory and on disk, plus what only SQLite has: recorded migrations and the WAL journal.
 */
import Database from 'better-sqlite3';
import { copyFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runStoreTests } from '../store.suite.js';
import type { ChangeEvent } from '../types.js';
import { Checkpointer } from './checkpointer.js';
import { openSqliteStore } from './index.js';
import { MIGRATIONS } from './migrations.js';

async function tempFile(): Promise<{ file: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-store-'));
  return { file: join(dir, 'weir.db'), remove: () => rm(dir, { recursive: true, force: true }) };
}

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
        [undefined, ['bundle', 'groups', 'prefixLists', 'rules', 'tokens', 'workloads']],
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

  /** Scopes in a copy of the main database file without its WAL: only checkpointed commits. */
  function checkpointedScopes(): number {
    const copy = `${file}.copy`;
    copyFileSync(file, copy);
    const db = new Database(copy, { readonly: true });
    try {
      // Before the first checkpoint even the schema is only in the WAL.
      const schema = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'scopes'").get();
      if (schema === undefined) return 0;
      return (db.prepare('SELECT COUNT(*) AS n FROM scopes').get() as { n: number }).n;
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
      while (checkpointedScopes() === 0) await new Promise((r) => setTimeout(r, 20));
      expect(checkpointedScopes()).toBe(1);
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
