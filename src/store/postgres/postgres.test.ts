/**
 * @module store/postgres/postgres.test — the PostgreSQL driver against the shared `Store` suites,
 * a fresh database per test on one throwaway server per file (scripts/postgres.sh), plus what only
 * several nodes on one database have: migrating together, the change feed across stores and its
 * catch-up after a dropped connection, and one audit chain with several writers.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresAvailable, startPostgres } from '../../../test/helpers/postgres.js';
import type { PostgresServer } from '../../../test/helpers/postgres.js';
import { runBreakglassStoreTests } from '../breakglass.suite.js';
import { runDecisionStoreTests } from '../decisions.suite.js';
import { runStoreTests } from '../store.suite.js';
import type { StoreFixture } from '../store.suite.js';
import type { ChangeEvent, Store } from '../types.js';
import { poolConfig } from './connection.js';
import { openPostgresStore, redactUrl } from './index.js';
import type { PostgresStore } from './index.js';
import { PG_MIGRATIONS } from './migrations.js';

const available = postgresAvailable();
let server: PostgresServer;

if (available) {
  beforeAll(async () => {
    server = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  }, 120_000);
}

async function fixture(): Promise<StoreFixture> {
  const url = await server.createDatabase();
  let store = await openPostgresStore({ url });
  return {
    store,
    reopen: async () => {
      await store.close();
      store = await openPostgresStore({ url });
      return store;
    },
    cleanup: () => store.close(),
  };
}

/** Polls `check` until it holds (events from another store arrive through the database). */
async function until(check: () => boolean, what: string, seen?: () => unknown): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}${seen ? `; seen: ${JSON.stringify(seen())}` : ''}`);
}

const A = { accountId: '111111111111', region: 'us-east-1' };

describe.skipIf(!available)('postgres driver', () => {
  runStoreTests('postgres', fixture);
  runBreakglassStoreTests('postgres', fixture);
  runDecisionStoreTests('postgres', fixture);

  it('two stores opening one new database together migrate it once, and a third applies nothing', async () => {
    const url = await server.createDatabase();
    const stores = await Promise.all([openPostgresStore({ url }), openPostgresStore({ url })]);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const recorded = async () =>
        (await admin.query('SELECT version, applied_at FROM schema_migrations ORDER BY version')).rows as {
          version: number;
          applied_at: Date;
        }[];
      const first = await recorded();
      expect(first.map((r) => r.version)).toEqual(PG_MIGRATIONS.map((m) => m.version));
      // Opening again applies nothing: every version keeps the time it was applied at.
      await (await openPostgresStore({ url })).close();
      expect(await recorded()).toEqual(first);
    } finally {
      await admin.end();
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('reads bigint columns as numbers, and refuses one a number cannot hold exactly', async () => {
    const client = new pg.Client(poolConfig(server.url, 1, 'weir-test'));
    await client.connect();
    try {
      const safe = await client.query('SELECT 9007199254740991::bigint AS n, COUNT(*) AS c FROM pg_class');
      expect(safe.rows[0]).toMatchObject({ n: 9007199254740991, c: expect.any(Number) });
      await expect(client.query('SELECT 9007199254740993::bigint AS n')).rejects.toThrow(
        /beyond what a number holds/,
      );
    } finally {
      await client.end();
    }
  });

  it('a URL that cannot be reached is named without its password', async () => {
    const url = 'postgres://weir:s3cret-pass@127.0.0.1:1/weir';
    const err = (await openPostgresStore({ url }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain('postgres://weir:***@127.0.0.1:1/weir');
    expect(err.message).not.toContain('s3cret');
    expect(redactUrl(url)).toBe('postgres://weir:***@127.0.0.1:1/weir');
  });

  describe('several stores on one database', () => {
    let url: string;
    let one: PostgresStore;
    let two: PostgresStore;
    let held: (() => void) | undefined;
    let gate: Promise<void> | undefined;
    const open = () =>
      openPostgresStore({
        url,
        beforeFeedReconnect: async () => {
          await gate;
        },
      });
    const setUp = async () => {
      url = await server.createDatabase();
      [one, two] = await Promise.all([open(), open()]);
    };
    const tearDown = async () => {
      held?.();
      await Promise.all([one.close(), two.close()]);
    };

    it("a store hears another's commits, with what they wrote, and not its own twice", async () => {
      await setUp();
      try {
        const heard: ChangeEvent[] = [];
        two.subscribe((e) => heard.push(e));
        const own: ChangeEvent[] = [];
        one.subscribe((e) => own.push(e));
        await one.transaction(A, async (tx) => {
          await tx.insertScope(A, { defaultVpcId: 'vpc-01' });
          await tx.insertGroup(A, {
            groupId: 'sg-01',
            groupName: 'default',
            description: 'd',
            vpcId: 'vpc-01',
            ownerId: A.accountId,
            isDefault: true,
            tags: [],
          });
        });
        await until(
          () => heard.length >= 1,
          'the event on the other store',
          () => heard,
        );
        expect(heard).toHaveLength(1);
        expect(heard[0]).toMatchObject({
          scope: A,
          kinds: ['groups'],
          groupIds: ['sg-01'],
          prefixListIds: [],
        });
        await one.feedReady();
        await two.transaction(undefined, (tx) =>
          tx.revokeToken({ id: 't1', expires: new Date(Date.now() + 60_000), revokedAt: new Date() }),
        );
        await until(
          () => own.length >= 2,
          "the other store's revocation",
          () => own,
        );
        // One event for its own write (told at commit), one for the other's: none twice.
        expect(own.map((e) => [e.scope, e.kinds])).toEqual([
          [A, ['groups']],
          [undefined, ['tokens']],
        ]);
        // The other store heard the first write from the log and its own at its commit.
        expect(heard.map((e) => e.kinds)).toEqual([['groups'], ['tokens']]);
      } finally {
        await tearDown();
      }
    });

    it('a feed whose connection dropped catches up on what committed meanwhile', async () => {
      await setUp();
      try {
        const heard: ChangeEvent[] = [];
        two.subscribe((e) => heard.push(e));
        await two.feedReady();
        // Hold the reconnection until the write below has committed: its NOTIFY goes to nobody.
        gate = new Promise<void>((r) => (held = r));
        const admin = new pg.Client({ connectionString: url });
        await admin.connect();
        try {
          const killed = await admin.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'weir-change-feed' AND datname = current_database()",
          );
          expect(killed.rowCount).toBe(1);
        } finally {
          await admin.end();
        }
        await one.transaction(undefined, (tx) =>
          tx.revokeToken({ id: 'while-away', expires: new Date(Date.now() + 60_000), revokedAt: new Date() }),
        );
        await one.transaction(A, (tx) => tx.insertScope(A, { defaultVpcId: 'vpc-01' }));
        expect(heard).toEqual([]);
        held!();
        await until(() => heard.length === 2, 'the caught-up events');
        expect(heard.map((e) => [e.scope, e.kinds])).toEqual([
          [undefined, ['tokens']],
          [A, []],
        ]);
        // And it listens again: a new commit arrives by notification.
        await one.transaction(undefined, (tx) =>
          tx.revokeToken({ id: 'after', expires: new Date(Date.now() + 60_000), revokedAt: new Date() }),
        );
        await until(() => heard.length === 3, 'the event after reconnecting');
      } finally {
        await tearDown();
      }
    });

    it('a feed that finds rows gone from the log (pruned while it was away) says everything changed', async () => {
      await setUp();
      try {
        const heard: ChangeEvent[] = [];
        two.subscribe((e) => heard.push(e));
        await two.feedReady();
        gate = new Promise<void>((r) => (held = r));
        const admin = new pg.Client({ connectionString: url });
        await admin.connect();
        try {
          await admin.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'weir-change-feed' AND datname = current_database()",
          );
          await one.transaction(A, (tx) => tx.insertScope(A, { defaultVpcId: 'vpc-01' }));
          // As the writers' pruning would, had 10,000 more commits followed.
          await admin.query('DELETE FROM change_log');
        } finally {
          await admin.end();
        }
        await one.transaction(undefined, (tx) =>
          tx.revokeToken({ id: 'later', expires: new Date(Date.now() + 60_000), revokedAt: new Date() }),
        );
        held!();
        await until(() => heard.length === 2, 'the caught-up events');
        expect(heard[0]).toMatchObject({ scope: undefined });
        expect([...heard[0]!.kinds].sort()).toEqual([
          'breakglass',
          'bundle',
          'exceptions',
          'groups',
          'notifications',
          'prefixLists',
          'rules',
          'tokens',
          'workloads',
        ]);
        expect(heard[0]!.groupIds).toBeUndefined();
        expect(heard[1]).toMatchObject({ scope: undefined, kinds: ['tokens'] });
      } finally {
        await tearDown();
      }
    });

    it('audit appends from two stores at once stay one linear chain', async () => {
      await setUp();
      try {
        const append = (store: Store, who: string) =>
          store.transaction(undefined, async (tx) => {
            const tip = await tx.lastAuditRecord();
            const seq = (tip?.seq ?? 0) + 1;
            await tx.appendAuditRecord({
              seq,
              prevHash: tip?.hash ?? 'genesis',
              hash: `${who}-${seq}`,
              event: '{}',
              eventTime: new Date(),
              eventName: 'Test',
              principal: who,
              eventId: `${who}-${seq}`,
            });
          });
        await Promise.all(
          Array.from({ length: 40 }, (_, i) => append(i % 2 === 0 ? one : two, i % 2 === 0 ? 'one' : 'two')),
        );
        const records = await one.transaction(undefined, (tx) => tx.listAuditRecords(), { readOnly: true });
        expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
        for (let i = 1; i < records.length; i++) expect(records[i]!.prevHash).toBe(records[i - 1]!.hash);
        expect(new Set(records.map((r) => r.principal))).toEqual(new Set(['one', 'two']));
      } finally {
        await tearDown();
      }
    });
  });
});

describe.skipIf(available)('postgres driver (PostgreSQL binaries missing)', () => {
  it.skip('needs /usr/lib/postgresql/*/bin (apt-get install postgresql)', () => undefined);
});
