/**
 * @module store/decisions.suite — the decisions part of the `Store` contract (the gateway's
 * decisions, their per-bucket counters and the bounded window), run by every driver beside
 * `runStoreTests`. Not a test file itself.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoreFixture } from './store.suite.js';
import type { ChangeEvent, NewDecision, Store, StoreTx } from './types.js';
import { OTHER_PAIR } from './types.js';

const T0 = new Date('2026-12-08T01:00:00.000Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const WEB = 'spiffe://prod.example/ns/shop/sa/web';
const JOB = 'spiffe://prod.example/ns/shop/sa/job';

function decision(id: string, over: Partial<NewDecision> = {}): NewDecision {
  return {
    at: T0,
    decisionId: id,
    decision: 'deny',
    reason: 'no-match',
    src: '10.0.0.5:40000',
    protocol: 'tcp',
    identity: WEB,
    host: 'api.example.com',
    ip: '192.0.2.10',
    port: 443,
    ...over,
  };
}

/** Runs the decisions contract against a driver's fresh store. */
export function runDecisionStoreTests(name: string, makeStore: () => Promise<StoreFixture>): void {
  describe(`Store contract, decisions: ${name}`, () => {
    let fx: StoreFixture;
    let store: Store;
    beforeEach(async () => {
      fx = await makeStore();
      store = fx.store;
    });
    afterEach(async () => {
      await fx.cleanup();
    });
    const write = <T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> => store.transaction(undefined, fn);
    const read = <T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> =>
      store.transaction(undefined, fn, { readOnly: true });
    const ids = (rows: readonly { decisionId: string }[]): string[] => rows.map((r) => r.decisionId);

    it('appends decisions with increasing seq and gives every field back, absent ones absent', async () => {
      const full = decision('d-full', {
        mode: 'enforce',
        policy: 'policies/shop.yaml:12',
        policyName: 'shop',
        ruleId: 'stripe',
        securityGroupRuleId: 'sgr-0123456789abcdef0',
        snapshot: 'v3/r7',
        guardrail: 'metadata',
        grant: {
          kind: 'exception',
          id: 'exc-1',
          requester: 'dev@example.com',
          approver: 'lead@example.com',
          reason: 'INC-1',
          expires: '2026-12-09T00:00:00.000Z',
        },
        node: 'gw-1',
      });
      const bare: NewDecision = {
        at: at(1),
        decisionId: 'd-bare',
        decision: 'unauthenticated',
        src: '10.0.0.6:1',
        protocol: 'tcp',
      };
      await write((tx) => tx.appendDecisions([full, bare]));
      const rows = await read((tx) => tx.listDecisions({ limit: 10 }));
      expect(rows).toHaveLength(2);
      const [a, b] = rows as [NonNullable<(typeof rows)[0]>, NonNullable<(typeof rows)[0]>];
      expect(b.seq).toBeGreaterThan(a.seq);
      expect(a).toEqual({ ...full, seq: a.seq });
      expect(b).toEqual({ ...bare, seq: b.seq });
      expect(Object.keys(b).sort()).toEqual(['at', 'decision', 'decisionId', 'protocol', 'seq', 'src']);
      expect(await read((tx) => tx.lastDecisionSeq())).toBe(b.seq);
    });

    it('lists the newest `limit`, oldest first, and after a seq for live follow', async () => {
      await write((tx) =>
        tx.appendDecisions(Array.from({ length: 5 }, (_, i) => decision(`d${i}`, { at: at(i) }))),
      );
      expect(ids(await read((tx) => tx.listDecisions({ limit: 3 })))).toEqual(['d2', 'd3', 'd4']);
      const all = await read((tx) => tx.listDecisions({ limit: 100 }));
      const third = all[2]!.seq;
      expect(ids(await read((tx) => tx.listDecisions({ limit: 100, afterSeq: third })))).toEqual([
        'd3',
        'd4',
      ]);
      expect(await read((tx) => tx.listDecisions({ limit: 100, afterSeq: all[4]!.seq }))).toEqual([]);
    });

    it('filters by identity, destination (host or IP), decision, reason and time, all exactly', async () => {
      await write((tx) =>
        tx.appendDecisions([
          decision('a', { at: at(0), decision: 'allow', reason: 'matched' }),
          decision('b', { at: at(1000), identity: JOB }),
          decision('c', { at: at(2000), host: 'db.internal', ip: '10.1.2.3', port: 5432 }),
          decision('d', {
            at: at(3000),
            reason: 'guardrail',
            host: '169.254.169.254',
            ip: '169.254.169.254',
          }),
          decision('e', { at: at(4000), decision: 'would-deny' }),
        ]),
      );
      const q = async (f: Omit<Parameters<StoreTx['listDecisions']>[0], 'limit'>): Promise<string[]> =>
        ids(await read((tx) => tx.listDecisions({ limit: 100, ...f })));
      expect(await q({ identity: JOB })).toEqual(['b']);
      expect(await q({ identity: 'spiffe://prod.example/ns/shop' })).toEqual([]);
      expect(await q({ destination: 'db.internal' })).toEqual(['c']);
      expect(await q({ destination: '10.1.2.3' })).toEqual(['c']);
      expect(await q({ destination: '192.0.2.10' })).toEqual(['a', 'b', 'e']);
      expect(await q({ destination: 'example.com' })).toEqual([]);
      expect(await q({ decision: 'deny' })).toEqual(['b', 'c', 'd']);
      expect(await q({ reason: 'guardrail' })).toEqual(['d']);
      expect(await q({ since: at(1000), until: at(3000) })).toEqual(['b', 'c']);
      expect(await q({ decision: 'deny', reason: 'no-match', identity: WEB })).toEqual(['c']);
    });

    it('finds one decision by its ID', async () => {
      await write((tx) => tx.appendDecisions([decision('one'), decision('two', { identity: JOB })]));
      expect((await read((tx) => tx.getDecision('two')))?.identity).toBe(JOB);
      expect(await read((tx) => tx.getDecision('three'))).toBeUndefined();
    });

    it('adds counts per (bucket, decision, reason) and lists a period, start inclusive, end exclusive', async () => {
      const m = 60_000;
      await write((tx) =>
        tx.addDecisionCounts([
          { bucket: at(0), decision: 'deny', reason: 'no-match', count: 2 },
          { bucket: at(0), decision: 'allow', reason: 'matched', count: 5 },
          { bucket: at(m), decision: 'deny', reason: 'no-match', count: 1 },
        ]),
      );
      await write((tx) =>
        tx.addDecisionCounts([{ bucket: at(0), decision: 'deny', reason: 'no-match', count: 3 }]),
      );
      const counts = await read((tx) => tx.listDecisionCounts({ since: at(0), until: at(m) }));
      expect(counts).toEqual([
        { bucket: at(0), decision: 'allow', reason: 'matched', count: 5 },
        { bucket: at(0), decision: 'deny', reason: 'no-match', count: 5 },
      ]);
      expect(await read((tx) => tx.listDecisionCounts({ since: at(m), until: at(2 * m) }))).toHaveLength(1);
    });

    it('adds denied pairs, folds pairs beyond the cap of a bucket into one other row, and ranks them', async () => {
      const h = 3_600_000;
      const pair = (identity: string, destination: string, count: number, bucket = at(0)) => ({
        bucket,
        decision: 'deny',
        identity,
        destination,
        count,
      });
      await write((tx) =>
        tx.addDeniedPairs([pair(WEB, 'a.example:443', 3), pair(JOB, 'b.example:443', 1)], 2),
      );
      // The bucket is full: a known pair still adds up, new ones go to the other row.
      await write((tx) =>
        tx.addDeniedPairs(
          [pair(JOB, 'b.example:443', 1), pair(WEB, 'c.example:443', 4), pair(WEB, 'd.example:443', 1)],
          2,
        ),
      );
      // Another bucket has room of its own.
      await write((tx) => tx.addDeniedPairs([pair(WEB, 'c.example:443', 1, at(h))], 2));
      await write((tx) =>
        tx.addDeniedPairs([{ ...pair(WEB, 'a.example:443', 9, at(h)), decision: 'would-deny' }], 2),
      );
      const top = await read((tx) => tx.topDeniedPairs({ since: at(0), until: at(2 * h), limit: 10 }));
      expect(top.map((p) => [p.decision, p.identity, p.destination, p.count])).toEqual([
        ['would-deny', WEB, 'a.example:443', 9],
        ['deny', OTHER_PAIR, OTHER_PAIR, 5],
        ['deny', WEB, 'a.example:443', 3],
        ['deny', JOB, 'b.example:443', 2],
        ['deny', WEB, 'c.example:443', 1],
      ]);
      const denyOnly = await read((tx) =>
        tx.topDeniedPairs({ since: at(0), until: at(h), limit: 2, decision: 'deny' }),
      );
      expect(denyOnly.map((p) => p.count)).toEqual([5, 3]);
      expect(denyOnly[0]!.bucket).toEqual(at(0));
    });

    it('prunes the oldest decisions by age and beyond the row cap, in chunks of at most `limit`', async () => {
      await write((tx) =>
        tx.appendDecisions(Array.from({ length: 10 }, (_, i) => decision(`d${i}`, { at: at(i * 1000) }))),
      );
      // Older than 3 s: d0..d2, in chunks of 2.
      const old = { before: at(3000), maxRows: 100, limit: 2 };
      expect(await write((tx) => tx.pruneDecisions(old))).toBe(2);
      expect(await write((tx) => tx.pruneDecisions(old))).toBe(1);
      expect(await write((tx) => tx.pruneDecisions(old))).toBe(0);
      // At most 4 rows: d3..d5 go.
      expect(await write((tx) => tx.pruneDecisions({ before: at(0), maxRows: 4, limit: 100 }))).toBe(3);
      expect(ids(await read((tx) => tx.listDecisions({ limit: 100 })))).toEqual(['d6', 'd7', 'd8', 'd9']);
    });

    it('never reuses a seq, even once every row is pruned', async () => {
      await write((tx) => tx.appendDecisions([decision('x'), decision('y')]));
      const last = await read((tx) => tx.lastDecisionSeq());
      expect(await write((tx) => tx.pruneDecisions({ before: at(1), maxRows: 0, limit: 100 }))).toBe(2);
      expect(await read((tx) => tx.lastDecisionSeq())).toBe(last);
      await write((tx) => tx.appendDecisions([decision('z')]));
      const [z] = await read((tx) => tx.listDecisions({ limit: 10, afterSeq: last }));
      expect(z?.decisionId).toBe('z');
      expect(z!.seq).toBeGreaterThan(last);
    });

    it('prunes counters and pairs older than a time, in chunks', async () => {
      const m = 60_000;
      await write(async (tx) => {
        await tx.addDecisionCounts(
          [0, 1, 2].map((i) => ({ bucket: at(i * m), decision: 'deny', reason: '', count: 1 })),
        );
        await tx.addDeniedPairs(
          [0, 2].map((i) => ({
            bucket: at(i * m),
            decision: 'deny',
            identity: WEB,
            destination: 'x:1',
            count: 1,
          })),
          10,
        );
      });
      expect(await write((tx) => tx.pruneDecisionCounts(at(2 * m), 2))).toBe(2);
      expect(await write((tx) => tx.pruneDecisionCounts(at(2 * m), 2))).toBe(1);
      expect(await write((tx) => tx.pruneDecisionCounts(at(2 * m), 2))).toBe(0);
      const period = { since: at(0), until: at(10 * m) };
      expect((await read((tx) => tx.listDecisionCounts(period))).map((c) => c.bucket)).toEqual([at(2 * m)]);
      expect(await read((tx) => tx.topDeniedPairs({ ...period, limit: 10 }))).toHaveLength(1);
    });

    it('appending decisions and counters emits no change event (gateways do not re-read for them)', async () => {
      const events: ChangeEvent[] = [];
      const off = store.subscribe((e) => events.push(e));
      await write(async (tx) => {
        await tx.appendDecisions([decision('quiet')]);
        await tx.addDecisionCounts([{ bucket: T0, decision: 'deny', reason: 'no-match', count: 1 }]);
        await tx.addDeniedPairs(
          [{ bucket: T0, decision: 'deny', identity: WEB, destination: 'x:1', count: 1 }],
          10,
        );
        await tx.pruneDecisions({ before: T0, maxRows: 10, limit: 10 });
      });
      off();
      expect(events).toEqual([]);
    });

    it('keeps decisions across a reopen', async () => {
      if (fx.reopen === undefined) return;
      await write((tx) => tx.appendDecisions([decision('kept')]));
      store = await fx.reopen();
      expect(ids(await read((tx) => tx.listDecisions({ limit: 10 })))).toEqual(['kept']);
    });
  });
}
