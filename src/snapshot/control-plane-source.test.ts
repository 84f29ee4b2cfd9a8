/**
 * @module snapshot/control-plane-source.test — the composed source on a real SQLite store:
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
import { parseIdentityMap } from '../identity/index.js';
import type { IdentityMap } from '../identity/index.js';
import type { ControlPlaneSource } from './control-plane-source.js';
import { TokenRevocations } from '../identity/index.js';

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

  const start = async (
    revocations?: TokenRevocations,
    identityMap?: () => IdentityMap,
  ): Promise<ControlPlaneSource> => {
    source = await createControlPlaneSource({
      ...(identityMap !== undefined ? { identityMap } : {}),
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

  describe('incremental rebuilds', () => {
    const attach = (identity: string, groupId: string): Promise<void> =>
      store.transaction(SCOPE, (tx) =>
        tx.attachWorkload(SCOPE, { identity, groupId, createdAt: new Date() }),
      );
    const rule = (
      groupId: string,
      ruleId: string,
      target:
        | { kind: 'ipv4'; cidr: string }
        | { kind: 'prefixList'; prefixListId: string }
        | { kind: 'group'; groupId: string; userId: string },
      port = 443,
    ) => ({
      key: ruleId,
      rule: {
        ruleId,
        groupId,
        groupOwnerId: SCOPE.accountId,
        direction: 'egress' as const,
        ipProtocol: 'tcp',
        fromPort: port,
        toPort: port,
        target,
        tags: [],
      },
    });
    const ask = (src: ControlPlaneSource, ip: string, port: number, identity = APP) =>
      src.current().decide({ identity, ip, port, protocol: 'tcp', now: Date.now() });
    const PL = {
      prefixListId: 'pl-0a',
      prefixListName: 'partners',
      addressFamily: 'IPv4' as const,
      maxEntries: 10,
      version: 1,
      state: 'create-complete' as const,
      ownerId: SCOPE.accountId,
      tags: [],
    };

    it('a change to one group recompiles that group only; the others keep their compiled parts', async () => {
      for (let i = 0; i < 5; i++) await attach(`spiffe://t/ns/a/sa/w${i}`, `sg-${i}`);
      const src = await start();
      const before = [0, 1, 2, 3, 4].map((i) => src.compiler.compiledGroup(`sg-${i}`));
      expect(before.every((s) => s !== undefined)).toBe(true);
      await store.transaction(SCOPE, (tx) =>
        tx.insertRules(SCOPE, [rule('sg-2', 'sgr-2b', { kind: 'ipv4', cidr: '198.51.100.0/24' })]),
      );
      await settle(src);
      expect(src.generation()).toBe(2);
      for (const i of [0, 1, 3, 4]) expect(src.compiler.compiledGroup(`sg-${i}`)).toBe(before[i]);
      expect(src.compiler.compiledGroup('sg-2')).not.toBe(before[2]);
      expect(ask(src, '198.51.100.7', 443, 'spiffe://t/ns/a/sa/w2')).toMatchObject({
        allow: true,
        matched: { policy: 'sg-2/sg-2', ruleId: 'sgr-2b' },
      });
      expect(ask(src, '198.51.100.7', 443, 'spiffe://t/ns/a/sa/w1').allow).toBe(false);
      expect(src.lastRebuild().compileMs).toBeGreaterThanOrEqual(0);
    });

    it('a prefix-list change reaches the groups that reference it, and only them', async () => {
      await store.transaction(SCOPE, async (tx) => {
        await tx.insertPrefixList(SCOPE, PL, [{ cidr: '203.0.113.0/28' }]);
        await tx.insertRules(SCOPE, [rule('sg-1', 'sgr-1pl', { kind: 'prefixList', prefixListId: 'pl-0a' })]);
      });
      await attach(APP, 'sg-1');
      await attach(APP, 'sg-2');
      const src = await start();
      const other = src.compiler.compiledGroup('sg-2');
      expect(ask(src, '203.0.113.5', 443).allow).toBe(true);
      expect(ask(src, '203.0.113.20', 443).allow).toBe(false);
      await store.transaction(SCOPE, (tx) =>
        tx.updatePrefixList(
          SCOPE,
          { ...PL, version: 2 },
          { add: [{ cidr: '203.0.113.16/28' }], remove: ['203.0.113.0/28'] },
        ),
      );
      await settle(src);
      expect(ask(src, '203.0.113.5', 443).allow).toBe(false);
      expect(ask(src, '203.0.113.20', 443)).toMatchObject({ allow: true, matched: { ruleId: 'sgr-1pl' } });
      expect(src.compiler.compiledGroup('sg-2')).toBe(other);
      // Deleting the list (after its rule): the reference matches nothing, nothing fails.
      await store.transaction(SCOPE, async (tx) => {
        await tx.deleteRules(SCOPE, ['sgr-1pl']);
        await tx.deletePrefixList(SCOPE, 'pl-0a');
      });
      await settle(src);
      expect(ask(src, '203.0.113.20', 443).allow).toBe(false);
      expect(src.compiler.prefixListIds()).toEqual([]);
    });

    it('detach, attach again, and a deleted group follow the feed', async () => {
      await attach(APP, 'sg-1');
      await attach(APP, 'sg-2');
      const src = await start();
      expect(allows(src, 1001)).toBe(true);
      expect(await store.transaction(SCOPE, (tx) => tx.detachWorkload(SCOPE, APP, 'sg-1'))).toBe(true);
      await settle(src);
      expect(allows(src, 1001)).toBe(false);
      expect(src.compiler.groupIds()).toEqual(['sg-2']);
      await attach(APP, 'sg-1');
      await settle(src);
      expect(allows(src, 1001)).toBe(true);
      // The API refuses to delete an attached group; the store drops its attachments if asked.
      await store.transaction(SCOPE, (tx) => tx.deleteGroup(SCOPE, 'sg-2'));
      await settle(src);
      expect(allows(src, 1002)).toBe(false);
      expect(allows(src, 1001)).toBe(true);
      expect(src.compiler.groupIds()).toEqual(['sg-1']);
      expect(src.current().stats.rules).toBe(1);
    });

    it("a rule's owner tag, written alone, reaches the decision", async () => {
      await attach(APP, 'sg-1');
      const src = await start();
      await store.transaction(SCOPE, (tx) =>
        tx.putTags(SCOPE, 'sgr-1', 'security-group-rule', [
          { key: 'weir:owner', value: 'team-a@example.com' },
        ]),
      );
      await settle(src);
      expect(ask(src, '192.0.2.1', 1001).matched?.owner).toBe('team-a@example.com');
    });

    it("a group reference matches the identity map's sources attached to the group; map swaps rebuild", async () => {
      const BATCH = 'spiffe://t/ns/legacy/sa/batch';
      const load = (text: string): IdentityMap => {
        const r = parseIdentityMap(text, 'map.yaml');
        if (!r.ok) throw new Error(r.errors.join('\n'));
        return r.map;
      };
      let map = load(
        `apiVersion: weir.dev/v1\nkind: IdentityMap\nentries:\n  - { source: 10.9.0.7, identity: '${BATCH}' }\n`,
      );
      // sg-1 may reach members of sg-2 on 5432; BATCH is attached to sg-2.
      await store.transaction(SCOPE, (tx) =>
        tx.insertRules(SCOPE, [
          rule('sg-1', 'sgr-1db', { kind: 'group', groupId: 'sg-2', userId: SCOPE.accountId }, 5432),
        ]),
      );
      await attach(APP, 'sg-1');
      await attach(BATCH, 'sg-2');
      const src = await start(undefined, () => map);
      expect(ask(src, '10.9.0.7', 5432)).toMatchObject({ allow: true, matched: { ruleId: 'sgr-1db' } });
      expect(ask(src, '10.9.0.8', 5432).allow).toBe(false);
      map = load(
        `apiVersion: weir.dev/v1\nkind: IdentityMap\nentries:\n  - { source: 10.9.1.0/24, identity: '${BATCH}' }\n`,
      );
      await src.identityMapChanged();
      expect(ask(src, '10.9.0.7', 5432).allow).toBe(false);
      expect(ask(src, '10.9.1.200', 5432).allow).toBe(true);
      // Detaching the member's identity from sg-2 takes its addresses out of the group.
      await store.transaction(SCOPE, (tx) => tx.detachWorkload(SCOPE, BATCH, 'sg-2'));
      await settle(src);
      expect(ask(src, '10.9.1.200', 5432).allow).toBe(false);
    });
  });
});
