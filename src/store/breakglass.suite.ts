/**
 * @module store/breakglass.suite — the break-glass part of the `Store` contract (sessions, drills,
 * used one-time codes), run by every driver beside `runStoreTests`. Not a test file itself.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoreFixture } from './store.suite.js';
import type { BreakglassSession, ChangeEvent, Store, StoreTx } from './types.js';

const T0 = new Date('2026-12-08T01:00:00.000Z');

function session(id: string, over: Partial<BreakglassSession> = {}): BreakglassSession {
  return {
    id,
    identity: 'spiffe://prod.example/ns/payments/sa/checkout',
    destinations: ['api.stripe.com:443/tcp'],
    reason: 'INC-1 stripe down',
    principal: 'oncall@example.com',
    openedAt: T0,
    expires: new Date(T0.getTime() + 1_800_000),
    drill: false,
    ...over,
  };
}

/** Runs the break-glass contract against a driver's fresh store. */
export function runBreakglassStoreTests(name: string, makeStore: () => Promise<StoreFixture>): void {
  describe(`Store contract, break-glass: ${name}`, () => {
    let fx: StoreFixture;
    let store: Store;
    beforeEach(async () => {
      fx = await makeStore();
      store = fx.store;
    });
    afterEach(async () => {
      await fx.cleanup();
    });
    const server = <T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> => store.transaction(undefined, fn);

    it('accepts a time step once per principal, and never a step at or before the last accepted one', async () => {
      expect(await server((tx) => tx.useTotpStep('a@example.com', 100, T0))).toBe(true);
      expect(await server((tx) => tx.useTotpStep('a@example.com', 100, T0))).toBe(false);
      // An older code still inside the ±1 window, after a newer one: refused.
      expect(await server((tx) => tx.useTotpStep('a@example.com', 99, T0))).toBe(false);
      expect(await server((tx) => tx.useTotpStep('a@example.com', 101, T0))).toBe(true);
      // Another principal has their own steps.
      expect(await server((tx) => tx.useTotpStep('b@example.com', 100, T0))).toBe(true);
    });

    it('a step used in a transaction that rolls back stays unused', async () => {
      await server(async (tx) => {
        expect(await tx.useTotpStep('a@example.com', 7, T0)).toBe(true);
        throw new Error('rolled back');
      }).catch(() => undefined);
      expect(await server((tx) => tx.useTotpStep('a@example.com', 7, T0))).toBe(true);
    });

    it('stores sessions and drills as given, lists them in opening order, and the open ones at a time', async () => {
      const s1 = session('bg-00000000000000001');
      const s2 = session('bg-00000000000000002', { destinations: [], drill: true });
      const s3 = session('bg-00000000000000003', { expires: new Date(T0.getTime() + 60_000) });
      await server(async (tx) => {
        await tx.insertBreakglassSession(s1);
        await tx.insertBreakglassSession(s2);
        await tx.insertBreakglassSession(s3);
      });
      const read = <T>(fn: (tx: StoreTx) => Promise<T>) =>
        store.transaction(undefined, fn, { readOnly: true });
      expect(await read((tx) => tx.getBreakglassSession(s2.id))).toEqual(s2);
      expect(await read((tx) => tx.getBreakglassSession('bg-0000000000000000f'))).toBeUndefined();
      expect(await read((tx) => tx.listBreakglassSessions())).toEqual([s1, s2, s3]);
      // Drills grant nothing: never open. s3 has expired 2 minutes in.
      const at = new Date(T0.getTime() + 120_000);
      expect((await read((tx) => tx.listBreakglassSessions({ openAt: at }))).map((s) => s.id)).toEqual([
        s1.id,
      ]);
    });

    it('closes an open session once, with who and why; closing again or an unknown ID is false', async () => {
      const s = session('bg-00000000000000001');
      await server((tx) => tx.insertBreakglassSession(s));
      const close = { at: new Date(T0.getTime() + 5_000), by: 'admin@example.com', reason: 'fixed' };
      expect(await server((tx) => tx.closeBreakglassSession(s.id, close))).toBe(true);
      expect(await server((tx) => tx.closeBreakglassSession(s.id, { at: T0, by: 'x' }))).toBe(false);
      expect(await server((tx) => tx.closeBreakglassSession('bg-0000000000000000f', close))).toBe(false);
      expect(await server((tx) => tx.getBreakglassSession(s.id))).toEqual({
        ...s,
        closedAt: close.at,
        closedBy: close.by,
        closeReason: close.reason,
      });
      expect(await server((tx) => tx.listBreakglassSessions({ openAt: T0 }))).toEqual([]);
    });

    it("every break-glass write tells subscribers kind 'breakglass'", async () => {
      const events: ChangeEvent[] = [];
      const off = store.subscribe((e) => events.push(e));
      await server((tx) => tx.useTotpStep('a@example.com', 1, T0));
      await server((tx) => tx.insertBreakglassSession(session('bg-00000000000000001')));
      await server((tx) => tx.closeBreakglassSession('bg-00000000000000001', { at: T0, by: 'a' }));
      off();
      expect(events.map((e) => e.kinds)).toEqual([['breakglass'], ['breakglass'], ['breakglass']]);
    });
  });
}
