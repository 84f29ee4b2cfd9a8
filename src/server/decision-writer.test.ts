/**
 * @module server/decision-writer.test — the decision writer against a real SQLite store (in
 * memory), wrapped to count, stall or fail transactions: batches, the bounded queue, retries,
 * the window's prune, the counters, and the flush at close.
 */
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LogEntry } from '../gateway/index.js';
import { openSqliteStore } from '../store/index.js';
import type { Store, StoreTx } from '../store/index.js';
import { countsOf, DecisionWriter, storedDecision } from './decision-writer.js';

const T0 = Date.parse('2026-12-08T01:00:00.000Z');
const WEB = 'spiffe://prod.example/ns/shop/sa/web';

/** A decision entry; a field given as `undefined` is left out. */
function entry(i: number, over: { [K in keyof LogEntry]?: LogEntry[K] | undefined } = {}): LogEntry {
  const e: Record<string, unknown> = {
    decisionId: `d${i}`,
    at: new Date(T0 + i).toISOString(),
    src: '10.0.0.5:40000',
    protocol: 'connect',
    identity: WEB,
    host: 'api.example.com',
    ip: '192.0.2.10',
    port: 443,
    decision: 'deny',
    reason: 'no-match',
    ...over,
  };
  for (const [k, v] of Object.entries(e)) if (v === undefined) delete e[k];
  return e as unknown as LogEntry;
}

/** The real store, with its transactions counted, and stalled or failed on demand. */
class Wrapped implements Store {
  transactions = 0;
  stall = false;
  failures = 0;
  constructor(readonly inner: Store) {}
  transaction<T>(
    scope: Parameters<Store['transaction']>[0],
    fn: (tx: StoreTx) => Promise<T>,
    opts?: { readonly readOnly?: boolean },
  ): Promise<T> {
    if (opts?.readOnly !== true) {
      if (this.stall) return new Promise<T>(() => undefined);
      if (this.failures > 0) {
        this.failures--;
        return Promise.reject(new Error('SQLITE_FULL: database or disk is full'));
      }
      this.transactions++;
    }
    return this.inner.transaction(scope, fn, opts);
  }
  subscribe(listener: Parameters<Store['subscribe']>[0]) {
    return this.inner.subscribe(listener);
  }
  close() {
    return this.inner.close();
  }
}

describe('DecisionWriter', () => {
  let store: Wrapped;
  beforeEach(() => {
    store = new Wrapped(openSqliteStore({ file: ':memory:' }));
  });
  afterEach(async () => {
    await store.inner.close();
  });
  const stored = () => store.inner.transaction(undefined, (tx) => tx.listDecisions({ limit: 100_000 }));

  it('push only queues: the store is not touched until a flush', async () => {
    const w = new DecisionWriter({ store });
    for (let i = 0; i < 10; i++) w.push(entry(i));
    expect(store.transactions).toBe(0);
    expect(w.queued).toBe(10);
    await w.flush();
    expect(store.transactions).toBe(1);
    expect((await stored()).map((d) => d.decisionId)).toEqual(Array.from({ length: 10 }, (_, i) => `d${i}`));
  });

  it('writes many decisions in few transactions: one per batch, counters included', async () => {
    const w = new DecisionWriter({ store, batchRows: 2000 });
    for (let i = 0; i < 5000; i++)
      w.push(entry(i, i % 5 === 0 ? { decision: 'allow', reason: 'matched' } : {}));
    await w.flush();
    expect(store.transactions).toBe(3);
    expect(w.written).toBe(5000);
    expect(await stored()).toHaveLength(5000);
    const counts = await store.inner.transaction(undefined, (tx) =>
      tx.listDecisionCounts({ since: new Date(T0 - 3_600_000), until: new Date(T0 + 3_600_000) }),
    );
    expect(counts.map((c) => [c.decision, c.reason, c.count])).toEqual([
      ['allow', 'matched', 1000],
      ['deny', 'no-match', 4000],
    ]);
    const pairs = await store.inner.transaction(undefined, (tx) =>
      tx.topDeniedPairs({ since: new Date(T0 - 3_600_000), until: new Date(T0 + 3_600_000), limit: 5 }),
    );
    expect(pairs.map((p) => [p.identity, p.destination, p.count])).toEqual([
      [WEB, 'api.example.com:443', 4000],
    ]);
  });

  it('under a stalled store the queue stays bounded, dropping and counting the oldest; push never waits', async () => {
    const registry = new Registry();
    const w = new DecisionWriter({ store, maxQueue: 100, batchRows: 10, registry });
    store.stall = true;
    for (let i = 0; i < 10; i++) w.push(entry(i));
    // The first batch is taken and hangs in its transaction; the flush never resolves.
    void w.flush();
    for (let i = 10; i < 1000; i++) w.push(entry(i));
    expect(w.queued).toBe(100);
    expect(w.dropped).toBe(890);
    expect(await registry.getSingleMetricAsString('weir_decisions_dropped_total')).toMatch(
      /^weir_decisions_dropped_total 890$/m,
    );
    expect(await registry.getSingleMetricAsString('weir_decisions_queued')).toMatch(
      /^weir_decisions_queued 100$/m,
    );
    await w.close(10);
  });

  it('a failed batch is retried at the next flush, none lost while the queue has room', async () => {
    const w = new DecisionWriter({ store, batchRows: 5 });
    store.failures = 1;
    for (let i = 0; i < 12; i++) w.push(entry(i));
    await w.flush();
    expect(w.queued).toBe(12);
    expect(w.dropped).toBe(0);
    await w.flush();
    expect(w.queued).toBe(0);
    expect((await stored()).map((d) => d.decisionId)).toEqual(Array.from({ length: 12 }, (_, i) => `d${i}`));
  });

  it('prunes rows older than the retention and beyond the row cap, in chunks, and old counters', async () => {
    let now = T0;
    const w = new DecisionWriter({
      store,
      retentionMs: 60_000,
      maxRows: 150,
      pruneChunk: 40,
      now: () => now,
    });
    for (let i = 0; i < 200; i++) w.push(entry(i * 1000));
    await w.flush();
    // Rows from T0 to T0+199 s; 150 kept at most: d0..d49 go (in two chunks of 40 and one of 10).
    const before = store.transactions;
    await w.prune();
    expect(store.transactions - before).toBeGreaterThanOrEqual(3);
    let ids = (await stored()).map((d) => d.decisionId);
    expect(ids).toHaveLength(150);
    expect(ids[0]).toBe('d50000');
    // A minute after the last: everything older than a minute goes.
    now = T0 + 199_000 + 60_000 - 10_000;
    await w.prune();
    ids = (await stored()).map((d) => d.decisionId);
    expect(ids[0]).toBe('d189000');
    expect(ids).toHaveLength(11);
    // Counters live 90 days: still there; gone 91 days on.
    const period = { since: new Date(T0 - 3_600_000), until: new Date(T0 + 3_600_000) };
    expect(await store.inner.transaction(undefined, (tx) => tx.listDecisionCounts(period))).not.toEqual([]);
    now = T0 + 91 * 86_400_000;
    await w.prune();
    expect(await store.inner.transaction(undefined, (tx) => tx.listDecisionCounts(period))).toEqual([]);
  });

  it('close writes what is queued, ignores later pushes, and gives up on a hung store after its grace', async () => {
    const w = new DecisionWriter({ store }).start();
    for (let i = 0; i < 3; i++) w.push(entry(i));
    await w.close();
    expect(await stored()).toHaveLength(3);
    w.push(entry(99));
    expect(w.queued).toBe(0);
    const hung = new DecisionWriter({ store });
    hung.push(entry(1));
    store.stall = true;
    await hung.close(20);
    expect(hung.queued).toBe(0);
  });
});

describe('storedDecision and countsOf', () => {
  it('copies the fields of the entry, leaving out the empty ones', () => {
    const e = entry(1, { ip: '', grant: undefined, mode: 'enforce', snapshot: 'v1' });
    const d = storedDecision(e, 'gw-1');
    expect(d).toEqual({
      at: new Date(T0 + 1),
      decisionId: 'd1',
      decision: 'deny',
      src: '10.0.0.5:40000',
      protocol: 'connect',
      identity: WEB,
      host: 'api.example.com',
      port: 443,
      reason: 'no-match',
      mode: 'enforce',
      snapshot: 'v1',
      node: 'gw-1',
    });
  });

  it('counts per minute and reason, and denied pairs per hour by their template destination', () => {
    const rows = [
      storedDecision(entry(0), undefined),
      storedDecision(entry(60_000), undefined),
      storedDecision(entry(1, { host: '[2001:db8::1]', ip: '2001:db8::1' }), undefined),
      storedDecision(
        entry(2, { decision: 'would-deny', host: undefined, ip: '10.1.2.3', port: 5432 }),
        undefined,
      ),
      storedDecision(
        entry(3, { decision: 'unauthenticated', reason: 'no-token', identity: undefined }),
        undefined,
      ),
    ];
    const { counts, pairs } = countsOf(rows);
    expect(counts.map((c) => [c.bucket.getTime() - T0, c.decision, c.reason, c.count])).toEqual([
      [0, 'deny', 'no-match', 2],
      [60_000, 'deny', 'no-match', 1],
      [0, 'would-deny', 'no-match', 1],
      [0, 'unauthenticated', 'no-token', 1],
    ]);
    expect(pairs.map((p) => [p.decision, p.destination, p.count])).toEqual([
      ['deny', 'api.example.com:443', 2],
      ['deny', '[2001:db8::1]:443', 1],
      ['would-deny', '10.1.2.3:5432', 1],
    ]);
  });
});
