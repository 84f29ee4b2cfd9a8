/**
 * @module snapshot/grants-source.test — grants through the composed source on a real SQLite
 * store: read at start, swapped in on a change event naming exceptions or break-glass, dropped
 * by the timer at `until` (the snapshot swaps, so the gateway re-checks its tunnels), started by
 * the timer at `from`; a failed read keeps the grants in force; a prefix list only a grant names
 * is read.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Scope } from '../model/index.js';
import type { Destination, Grant } from '../policy-types/index.js';
import { openSqliteStore } from '../store/index.js';
import type { ChangeEvent, Store } from '../store/index.js';
import { createControlPlaneSource } from './control-plane-source.js';
import type { ControlPlaneSource, EnforcedChange } from './control-plane-source.js';

const SCOPE: Scope = { accountId: '123456789012', region: 'us-east-1' };
const APP = 'spiffe://t/ns/a/sa/app';
const LOC = { file: 'exc-1', line: 0, col: 0 };

function grant(
  over: Partial<Grant> = {},
  to: Destination = { kind: 'cidr', family: 4, cidr: '192.0.2.0/24', loc: LOC },
): Grant {
  const id = over.id ?? 'exc-1';
  return {
    kind: 'exception',
    id,
    identity: APP,
    rules: [{ id, policy: `exception/${id}`, destinations: [to], ports: [], protocol: 'tcp', loc: LOC }],
    everything: false,
    from: Date.now() - 60_000,
    until: Date.now() + 3_600_000,
    requester: 'dev@example.com',
    approver: 'lead@example.com',
    reason: 'r',
    expires: Date.now() + 3_600_000,
    ...over,
  };
}

/** A store whose change feed a test can also write to (events of kinds no StoreTx method writes yet). */
function withFeed(store: Store): { store: Store; emit(e: ChangeEvent): void } {
  const listeners = new Set<(e: ChangeEvent) => void>();
  return {
    store: {
      transaction: (scope, fn, opts) => store.transaction(scope, fn, opts),
      subscribe(l) {
        listeners.add(l);
        const off = store.subscribe(l);
        return () => {
          listeners.delete(l);
          off();
        };
      },
      close: () => store.close(),
    },
    emit: (e) => {
      for (const l of listeners) l(e);
    },
  };
}

describe('grants in the composed source', () => {
  let dir: string;
  let sqlite: Store;
  let feed: ReturnType<typeof withFeed>;
  let source: ControlPlaneSource | undefined;
  let list: Grant[];
  let fail: boolean;
  const swaps: number[] = [];
  const enforced: [number, EnforcedChange][] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'weir-grants-'));
    sqlite = openSqliteStore({ file: join(dir, 'weir.sqlite') });
    feed = withFeed(sqlite);
    list = [];
    fail = false;
    swaps.length = 0;
    enforced.length = 0;
  });

  afterEach(async () => {
    source?.close();
    source = undefined;
    await sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (): Promise<ControlPlaneSource> => {
    source = await createControlPlaneSource({
      store: feed.store,
      scope: SCOPE,
      policy: { kind: 'bundle' },
      logger: pino({ level: 'silent' }),
      now: Date.now,
      grants: async (tx, now) => {
        expect(now).toBeInstanceOf(Date);
        await tx.getPolicyBundle();
        if (fail) throw new Error('no table');
        return [...list];
      },
      onRebuild: (swapped) => {
        if (swapped) swaps.push(Date.now());
      },
      onEnforced: (s, c) => void enforced.push([s, c]),
    });
    return source;
  };

  const decide = (src: ControlPlaneSource, ip = '192.0.2.1') =>
    src.current().decide({ identity: APP, ip, port: 443, protocol: 'tcp', now: Date.now() });

  /** Resolves at the next swap after this call. */
  const nextSwap = (n = swaps.length): Promise<number> =>
    new Promise((resolve) => {
      const poll = (): void => {
        if (swaps.length > n) resolve(swaps[n] as number);
        else setTimeout(poll, 5);
      };
      poll();
    });

  it('reads the grants at start', async () => {
    list = [grant()];
    const src = await start();
    expect(decide(src)).toMatchObject({ allow: true, reason: 'exception', grant: { id: 'exc-1' } });
    expect(src.grants()).toHaveLength(1);
    expect(src.grantCounts(Date.now()).active).toEqual({ exception: 1, breakglass: 0 });
  });

  it.each(['exceptions', 'breakglass'] as const)(
    'swaps new grants in on a change event naming %s, and times it from the event',
    async (kind) => {
      const src = await start();
      expect(decide(src).allow).toBe(false);
      const gen = src.generation();
      list = [grant()];
      const swapped = nextSwap();
      feed.emit({ scope: undefined, at: new Date(Date.now() - 5), kinds: [kind] });
      await swapped;
      expect(decide(src).grant?.id).toBe('exc-1');
      expect(src.generation()).toBe(gen + 1);
      expect(enforced.filter(([, c]) => c === 'grants')).toHaveLength(1);
      expect(enforced[0]?.[0]).toBeGreaterThanOrEqual(0.005);
    },
  );

  it('ignores events naming neither, and a revoked grant stops at the next read', async () => {
    list = [grant()];
    const src = await start();
    list = [];
    feed.emit({ scope: undefined, at: new Date(), kinds: ['notifications'] });
    await new Promise((r) => setTimeout(r, 20));
    expect(decide(src).allow).toBe(true);
    await src.refreshGrants();
    expect(decide(src).allow).toBe(false);
    expect(src.grantCounts(Date.now()).ended.exception).toEqual({ expired: 0, withdrawn: 1 });
  });

  it('keeps the grants in force when a read fails', async () => {
    list = [grant()];
    const src = await start();
    fail = true;
    list = [];
    await src.refreshGrants();
    expect(decide(src).allow).toBe(true);
  });

  it('swaps the snapshot at until without any write, and the grant no longer allows', async () => {
    const until = Date.now() + 150;
    list = [grant({ until, expires: until })];
    const src = await start();
    expect(decide(src).allow).toBe(true);
    const before = src.current();
    const at = await nextSwap();
    expect(at).toBeGreaterThanOrEqual(until);
    expect(src.current()).not.toBe(before);
    expect(decide(src)).toMatchObject({ allow: false, reason: 'unknown-identity' });
    expect(src.grantCounts(Date.now()).ended.exception).toEqual({ expired: 1, withdrawn: 0 });
    // The measured delay from `until` to the swap (reported; no threshold here).
    console.info(`grant until → snapshot swap: ${at - until} ms`);
  });

  it('swaps the snapshot at from, so a grant starts without a write', async () => {
    const from = Date.now() + 100;
    list = [grant({ from })];
    const src = await start();
    expect(decide(src).allow).toBe(false);
    const at = await nextSwap();
    expect(at).toBeGreaterThanOrEqual(from);
    expect(decide(src).allow).toBe(true);
  });

  it('does not loop on a grant naming a prefix list that does not exist', async () => {
    list = [grant({}, { kind: 'prefixList', ref: 'pl-missing', loc: LOC })];
    const src = await start();
    await new Promise((r) => setTimeout(r, 100));
    const gen = src.generation();
    await new Promise((r) => setTimeout(r, 100));
    expect(src.generation()).toBe(gen);
    expect(decide(src).allow).toBe(false);
  });

  it('reads a prefix list that only a grant names', async () => {
    await sqlite.transaction(SCOPE, (tx) =>
      tx.insertPrefixList(
        SCOPE,
        {
          prefixListId: 'pl-0a',
          prefixListName: 'partners',
          addressFamily: 'IPv4',
          maxEntries: 10,
          version: 1,
          state: 'create-complete',
          ownerId: SCOPE.accountId,
          tags: [],
        },
        [{ cidr: '203.0.113.0/28' }],
      ),
    );
    await sqlite.transaction(SCOPE, (tx) =>
      tx.insertPrefixList(
        SCOPE,
        {
          prefixListId: 'pl-0b',
          prefixListName: 'vendors',
          addressFamily: 'IPv4',
          maxEntries: 10,
          version: 1,
          state: 'create-complete',
          ownerId: SCOPE.accountId,
          tags: [],
        },
        [{ cidr: '198.51.100.0/28' }],
      ),
    );
    list = [grant({}, { kind: 'prefixList', ref: 'pl-0a', loc: LOC })];
    const src = await start();
    expect(decide(src, '203.0.113.5')).toMatchObject({ allow: true, reason: 'exception' });
    expect(decide(src, '203.0.113.50').allow).toBe(false);
    // Named by a grant read later: a full read brings it in.
    list = [grant({ id: 'exc-2' }, { kind: 'prefixList', ref: 'vendors', loc: LOC })];
    expect(decide(src, '198.51.100.5').allow).toBe(false);
    const swapped = nextSwap(swaps.length + 1);
    await src.refreshGrants();
    await swapped;
    expect(decide(src, '198.51.100.5')).toMatchObject({ allow: true, grant: { id: 'exc-2' } });
  });
});
