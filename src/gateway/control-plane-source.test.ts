/**
 * @module gateway/control-plane-source.test — the composed source on a real SQLite store:
 * rebuilds follow the change feed and are coalesced (one in flight, one more for any change
 * during it), other namespaces are ignored, snapshots are swapped whole, and revoked tokens
 * follow the feed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Scope, SecurityGroup } from '../model/index.js';
import { openSqliteStore } from '../store/index.js';
import type { Store } from '../store/index.js';
import { createControlPlaneSource } from './control-plane-source.js';
import type { ControlPlaneSource } from './control-plane-source.js';
import { TokenRevocations } from './token.js';

const SCOPE: Scope = { accountId: '123456789012', region: 'us-east-1' };
const APP = 'spiffe://t/ns/a/sa/app';

function group(id: string): SecurityGroup {
  return {
    groupId: id,
    groupName: id,
    description: id,
    vpcId: 'vpc-1',
    ownerId: SCOPE.accountId,
    isDefault: false,
    tags: [],
  };
}

describe('control-plane snapshot source', () => {
  let dir: string;
  let store: Store;
  let source: ControlPlaneSource | undefined;
  const rebuilds: boolean[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weir-cps-'));
    store = openSqliteStore({ file: join(dir, 'weir.sqlite') });
    rebuilds.length = 0;
    await store.transaction(SCOPE, async (tx) => {
      for (let i = 0; i < 10; i++) {
        await tx.insertGroup(SCOPE, group(`sg-${i}`));
        await tx.insertRules(SCOPE, [
          {
            key: `k${i}`,
            rule: {
              ruleId: `sgr-${i}`,
              groupId: `sg-${i}`,
              groupOwnerId: SCOPE.accountId,
              direction: 'egress',
              ipProtocol: 'tcp',
              fromPort: 1000 + i,
              toPort: 1000 + i,
              target: { kind: 'ipv4', cidr: '192.0.2.0/24' },
              tags: [],
            },
          },
        ]);
      }
    });
  });

  afterEach(async () => {
    source?.close();
    source = undefined;
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (revocations?: TokenRevocations): Promise<ControlPlaneSource> => {
    source = await createControlPlaneSource({
      store,
      scope: SCOPE,
      policy: { kind: 'bundle' },
      logger: pino({ level: 'silent' }),
      now: Date.now,
      onRebuild: (swapped) => void rebuilds.push(swapped),
      ...(revocations !== undefined ? { revocations } : {}),
    });
    return source;
  };

  const allows = (src: ControlPlaneSource, port: number): boolean =>
    src.current().decide({ identity: APP, ip: '192.0.2.1', port, protocol: 'tcp', now: Date.now() }).allow;

  const settle = async (src: ControlPlaneSource): Promise<void> => {
    // A rebuild that the feed started is in flight until its read transaction and compile finish.
    await store.transaction(undefined, async () => undefined, { readOnly: true });
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    expect(src.generation()).toBeGreaterThan(0);
  };

  it('a burst of writes costs two rebuilds, not one per write, and ends with all of them applied', async () => {
    const src = await start();
    expect(rebuilds).toEqual([true]);
    expect(allows(src, 1000)).toBe(false);
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        store.transaction(SCOPE, (tx) =>
          tx.attachWorkload(SCOPE, { identity: APP, groupId: `sg-${i}`, createdAt: new Date() }),
        ),
      ),
    );
    await settle(src);
    // The first write starts a rebuild; the nine during it ask for exactly one more.
    expect(rebuilds).toEqual([true, true, true]);
    for (let i = 0; i < 10; i++) expect(allows(src, 1000 + i)).toBe(true);
    expect(src.current().version).toMatch(/^none, store 10$/);
  });

  it('writes to another namespace do not rebuild', async () => {
    const src = await start();
    const west: Scope = { ...SCOPE, region: 'us-west-2' };
    await store.transaction(west, (tx) =>
      tx.attachWorkload(west, { identity: APP, groupId: 'sg-0', createdAt: new Date() }),
    );
    await settle(src);
    expect(rebuilds).toEqual([true]);
    expect(src.generation()).toBe(1);
  });

  it('a decision holds the snapshot it started with while a new one is swapped in', async () => {
    const src = await start();
    const before = src.current();
    await store.transaction(SCOPE, (tx) =>
      tx.attachWorkload(SCOPE, { identity: APP, groupId: 'sg-3', createdAt: new Date() }),
    );
    await settle(src);
    expect(src.current()).not.toBe(before);
    expect(before.decide({ identity: APP, ip: '192.0.2.1', port: 1003, protocol: 'tcp', now: 0 }).allow).toBe(
      false,
    );
    expect(allows(src, 1003)).toBe(true);
  });

  it('a commit by another process on the same store (scope unknown) rebuilds', async () => {
    const src = await start();
    const other = openSqliteStore({ file: join(dir, 'weir.sqlite') });
    try {
      await other.transaction(SCOPE, (tx) =>
        tx.attachWorkload(SCOPE, { identity: APP, groupId: 'sg-5', createdAt: new Date() }),
      );
    } finally {
      await other.close();
    }
    // The store polls for outside commits: wait for the rebuild it reports, not for a time.
    while (src.generation() < 2) await new Promise((r) => setTimeout(r, 10));
    expect(allows(src, 1005)).toBe(true);
  });

  it('keeps revoked tokens in step with the store, starting with those already revoked', async () => {
    const expires = new Date(Date.now() + 3_600_000);
    await store.transaction(undefined, (tx) => tx.revokeToken({ id: 'old', expires, revokedAt: new Date() }));
    const revoked = new TokenRevocations();
    await start(revoked);
    expect(revoked.has('old')).toBe(true);
    await store.transaction(undefined, (tx) =>
      tx.revokeToken({ id: 'new', identity: APP, expires, revokedAt: new Date() }),
    );
    // In force as soon as the write has committed: the read is queued right behind it.
    await store.transaction(undefined, async () => undefined, { readOnly: true });
    expect(revoked.has('new')).toBe(true);
    expect(rebuilds).toEqual([true]);
  });
});
