/**
 * @module test/store/postgres-gateway-feed.test — what a gateway on one node makes of writes
 * through another node on the same PostgreSQL database: the control-plane snapshot source of
 * node 2 (the gateway's view) rebuilds from the change feed and enforces a rule and an
 * attachment written through node 1, and its revocation list follows a revocation made there.
 * Waits are for the events (generations, the revocation), never for a time; the time from
 * commit to enforcement is printed for the record.
 */
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TokenRevocations } from '../../src/identity/index.js';
import type { Scope } from '../../src/model/index.js';
import { createControlPlaneSource } from '../../src/snapshot/index.js';
import type { ControlPlaneSource } from '../../src/snapshot/index.js';
import { openPostgresStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/index.js';
import { postgresAvailable, startPostgres } from '../helpers/postgres.js';
import type { PostgresServer } from '../helpers/postgres.js';

const available = postgresAvailable();
const SCOPE: Scope = { accountId: '123456789012', region: 'us-east-1' };
const APP = 'spiffe://t/ns/a/sa/app';

describe.skipIf(!available)("a gateway's snapshot on node 2 follows writes through node 1", () => {
  let server: PostgresServer;
  let one: Store;
  let two: Store;
  let source: ControlPlaneSource | undefined;
  beforeAll(async () => {
    server = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  }, 120_000);
  afterEach(async () => {
    source?.close();
    await Promise.all([one.close(), two.close()]);
  });

  const until = async (check: () => boolean, what: string): Promise<void> => {
    for (let i = 0; i < 3000; i++) {
      if (check()) return;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`timed out waiting for ${what}`);
  };

  it('a rule and an attachment made on node 1 are enforced by node 2; a revocation there too', async () => {
    const url = await server.createDatabase();
    [one, two] = await Promise.all([openPostgresStore({ url }), openPostgresStore({ url })]);
    await one.transaction(SCOPE, (tx) =>
      tx.insertGroup(SCOPE, {
        groupId: 'sg-1',
        groupName: 'app',
        description: 'app',
        vpcId: 'vpc-1',
        ownerId: SCOPE.accountId,
        isDefault: false,
        tags: [],
      }),
    );
    const revocations = new TokenRevocations();
    source = await createControlPlaneSource({
      store: two,
      scope: SCOPE,
      policy: { kind: 'bundle' },
      logger: pino({ level: 'silent' }),
      now: Date.now,
      revocations,
    });
    const src = source;
    const allows = (): boolean =>
      src.current().decide({ identity: APP, ip: '192.0.2.1', port: 443, protocol: 'tcp', now: Date.now() })
        .allow;
    expect(allows()).toBe(false);

    const t0 = performance.now();
    await one.transaction(SCOPE, async (tx) => {
      await tx.insertRules(SCOPE, [
        {
          key: 'k1',
          rule: {
            ruleId: 'sgr-1',
            groupId: 'sg-1',
            groupOwnerId: SCOPE.accountId,
            direction: 'egress',
            ipProtocol: 'tcp',
            fromPort: 443,
            toPort: 443,
            target: { kind: 'ipv4', cidr: '192.0.2.0/24' },
            tags: [],
          },
        },
      ]);
      await tx.attachWorkload(SCOPE, { identity: APP, groupId: 'sg-1', createdAt: new Date() });
    });
    const committed = performance.now();
    await until(allows, 'node 2 to allow');
    const enforced = performance.now();

    const expires = new Date(Date.now() + 3_600_000);
    await one.transaction(undefined, (tx) =>
      tx.revokeToken({ id: 'tok-1', identity: APP, expires, revokedAt: new Date() }),
    );
    const revokedAt = performance.now();
    await until(() => revocations.has('tok-1'), 'node 2 to know the revocation');
    console.log(
      `postgres feed: rule+attachment commit ${(committed - t0).toFixed(1)} ms, then enforced on node 2 after ` +
        `${(enforced - committed).toFixed(1)} ms; revocation known after ${(performance.now() - revokedAt).toFixed(1)} ms`,
    );
  });
});

describe.skipIf(available)("a gateway's snapshot on node 2 (PostgreSQL binaries missing)", () => {
  it.skip('needs /usr/lib/postgresql/*/bin (apt-get install postgresql)', () => undefined);
});
