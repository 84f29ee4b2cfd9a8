/**
 * @module server/decision-writer — the gateway's decisions into the store, off its hot path: the
 * gateway's `onDecision` only copies the decision into a bounded in-memory queue; a timer writes
 * the queue in batches, each batch with its per-bucket counters in ONE transaction; a second
 * timer keeps the window bounded (`--decisions-retention`, `--decisions-max-rows`) with small
 * deletes. When the store is slow or failing, the queue drops its oldest decisions and counts
 * them (`weir_decisions_dropped_total`): the gateway never waits for the store and never fails
 * because of it. `close()` writes what is queued (at shutdown, before the store closes).
 */
import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { LogEntry } from '../gateway/index.js';
import { canonicalAddress, destinationText } from '../model/index.js';
import {
  DECISION_COUNT_BUCKET_MS,
  DECISION_COUNTS_RETENTION_MS,
  DENIED_PAIR_BUCKET_MS,
} from '../store/index.js';
import type { DecisionCount, DeniedPairCount, NewDecision, Store } from '../store/index.js';

/** `--decisions-retention` by default: a week of decisions to search. */
export const DEFAULT_DECISIONS_RETENTION_MS = 7 * 86_400_000;
/** `--decisions-max-rows` by default: about 0.5 GB of SQLite with its indexes. */
export const DEFAULT_DECISIONS_MAX_ROWS = 1_000_000;

/** How the writer is tuned; every field has a default but the store. */
export interface DecisionWriterOptions {
  readonly store: Store;
  readonly logger?: Logger;
  /** Where `weir_decisions_*` metrics are registered; none: no metrics. */
  readonly registry?: Registry;
  /** The node name written with each decision (the host name). */
  readonly node?: string;
  readonly now?: () => number;
  /** Between two batches; default 250 ms (new decisions are searchable well within 2 s). */
  readonly flushMs?: number;
  /**
   * The most decisions one transaction writes; default 500: a batch holds the store (which API
   * calls share) for a few milliseconds only.
   */
  readonly batchRows?: number;
  /** The most decisions waiting; beyond it the oldest are dropped. Default 50,000 (~15 MB). */
  readonly maxQueue?: number;
  readonly retentionMs?: number;
  readonly maxRows?: number;
  /** Between two prunes; default 60 s. */
  readonly pruneMs?: number;
  /** Rows one prune transaction deletes at most; default 5000. */
  readonly pruneChunk?: number;
  /** Denied pairs a bucket keeps before folding new ones into "other"; default 200. */
  readonly maxPairsPerBucket?: number;
}

/** The decision as stored: a copy, since the gateway goes on filling its entry after the line is written. */
export function storedDecision(e: Readonly<LogEntry>, node: string | undefined): NewDecision {
  const text: Record<string, string> = {};
  const copy = (k: keyof NewDecision & keyof LogEntry): void => {
    const v = e[k];
    if (typeof v === 'string' && v !== '') text[k] = v;
  };
  for (const k of [
    'identity',
    'host',
    'ip',
    'reason',
    'mode',
    'policy',
    'policyName',
    'ruleId',
    'securityGroupRuleId',
    'snapshot',
    'guardrail',
  ] as const)
    copy(k);
  return {
    at: new Date(e.at),
    decisionId: e.decisionId,
    decision: e.decision ?? 'error',
    src: e.src,
    protocol: e.protocol,
    ...text,
    ...(e.port !== undefined ? { port: e.port } : {}),
    ...(e.grant !== undefined ? { grant: { ...e.grant } } : {}),
    ...(node !== undefined ? { node } : {}),
  };
}

const DENIED = new Set(['deny', 'would-deny']);

/**
 * The destination of a denied pair as the denial template names it: the name asked for, or the
 * address (the log writes an IP literal in its URL spelling, `[2001:db8::1]`).
 */
function pairTarget(d: NewDecision): { host: string } | { ip: string } {
  const h = d.host;
  const bare = h !== undefined && h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
  const literal = bare === undefined ? undefined : canonicalAddress(bare);
  if (h !== undefined && literal === undefined) return { host: h };
  return { ip: literal?.ip ?? d.ip ?? '' };
}

/** The counters of a batch: per (minute, decision, reason), and per (hour, decision, identity, destination) denied. */
export function countsOf(rows: readonly NewDecision[]): {
  counts: DecisionCount[];
  pairs: DeniedPairCount[];
} {
  const counts = new Map<string, DecisionCount>();
  const pairs = new Map<string, DeniedPairCount>();
  for (const d of rows) {
    const t = d.at.getTime();
    const minute = t - (t % DECISION_COUNT_BUCKET_MS);
    const reason = d.reason ?? '';
    const ck = `${minute}\n${d.decision}\n${reason}`;
    const c = counts.get(ck);
    counts.set(ck, { bucket: new Date(minute), decision: d.decision, reason, count: (c?.count ?? 0) + 1 });
    if (!DENIED.has(d.decision) || (d.host === undefined && d.ip === undefined)) continue;
    const hour = t - (t % DENIED_PAIR_BUCKET_MS);
    const protocol = d.protocol === 'udp' ? 'udp' : 'tcp';
    const destination = destinationText({ ...pairTarget(d), port: d.port ?? 0, protocol });
    const identity = d.identity ?? '';
    const pk = `${hour}\n${d.decision}\n${identity}\n${destination}`;
    const p = pairs.get(pk);
    pairs.set(pk, {
      bucket: new Date(hour),
      decision: d.decision,
      identity,
      destination,
      count: (p?.count ?? 0) + 1,
    });
  }
  return { counts: [...counts.values()], pairs: [...pairs.values()] };
}

/** Writes the gateway's decisions to the store in batches; see the module comment. */
export class DecisionWriter {
  private queue: NewDecision[] = [];
  /** Decisions dropped since start (queue full, or a batch the store refused). */
  dropped = 0;
  /** Decisions written since start. */
  written = 0;
  private flushing: Promise<void> | undefined;
  private pruning: Promise<void> | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;
  private failing = false;
  private readonly o: Required<Omit<DecisionWriterOptions, 'logger' | 'registry' | 'node'>>;
  private readonly metrics:
    { dropped: Counter; written: Counter; queued: Gauge; pruned: Counter } | undefined;

  constructor(private readonly options: DecisionWriterOptions) {
    this.o = {
      store: options.store,
      now: options.now ?? Date.now,
      flushMs: options.flushMs ?? 250,
      batchRows: options.batchRows ?? 500,
      maxQueue: options.maxQueue ?? 50_000,
      retentionMs: options.retentionMs ?? DEFAULT_DECISIONS_RETENTION_MS,
      maxRows: options.maxRows ?? DEFAULT_DECISIONS_MAX_ROWS,
      pruneMs: options.pruneMs ?? 60_000,
      pruneChunk: options.pruneChunk ?? 5000,
      maxPairsPerBucket: options.maxPairsPerBucket ?? 200,
    };
    const registers = options.registry !== undefined ? [options.registry] : undefined;
    this.metrics =
      registers === undefined
        ? undefined
        : {
            dropped: new Counter({
              name: 'weir_decisions_dropped_total',
              help: 'Gateway decisions not stored: the queue was full, or the store refused their batch',
              registers,
            }),
            written: new Counter({
              name: 'weir_decisions_written_total',
              help: 'Gateway decisions written to the store',
              registers,
            }),
            queued: new Gauge({
              name: 'weir_decisions_queued',
              help: 'Gateway decisions waiting to be written to the store',
              registers,
              collect: () => this.metrics?.queued.set(this.queue.length),
            }),
            pruned: new Counter({
              name: 'weir_decisions_pruned_total',
              help: 'Stored decisions deleted by --decisions-retention and --decisions-max-rows',
              registers,
            }),
          };
  }

  /** Starts the flush and prune timers (unref'd: they never keep the process up). */
  start(): this {
    const flush = setInterval(() => void this.flush(), this.o.flushMs);
    const prune = setInterval(() => void this.prune(), this.o.pruneMs);
    flush.unref();
    prune.unref();
    this.timers.push(flush, prune);
    // A window lowered since the last run (or a long stop) is applied now, not in a minute.
    void this.prune();
    return this;
  }

  /** The gateway's `onDecision`: a copy into the queue, nothing else (no I/O, no await). */
  push(entry: Readonly<LogEntry>): void {
    if (this.closed) return;
    this.queue.push(storedDecision(entry, this.options.node));
    if (this.queue.length > this.o.maxQueue) this.drop(this.queue.length - this.o.maxQueue);
  }

  /** Decisions waiting to be written. */
  get queued(): number {
    return this.queue.length;
  }

  private drop(n: number): void {
    this.queue.splice(0, n);
    this.dropped += n;
    this.metrics?.dropped.inc(n);
  }

  /**
   * Writes the queued decisions, a batch per transaction, until the queue is empty or a batch
   * fails. One flush at a time: a timer tick while a slow transaction runs adds nothing.
   */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.o.batchRows);
      const { counts, pairs } = countsOf(batch);
      try {
        await this.o.store.transaction(undefined, async (tx) => {
          await tx.appendDecisions(batch);
          await tx.addDecisionCounts(counts);
          await tx.addDeniedPairs(pairs, this.o.maxPairsPerBucket);
        });
      } catch (err) {
        // Back at the front, to be tried again at the next tick; what no longer fits is the oldest.
        this.queue.unshift(...batch);
        if (this.queue.length > this.o.maxQueue) this.drop(this.queue.length - this.o.maxQueue);
        if (!this.failing) {
          this.options.logger?.error(
            { err, queued: this.queue.length },
            'gateway decisions could not be stored; keeping the newest in memory and retrying',
          );
        }
        this.failing = true;
        return;
      }
      if (this.failing)
        this.options.logger?.info({ dropped: this.dropped }, 'gateway decisions are stored again');
      this.failing = false;
      this.written += batch.length;
      this.metrics?.written.inc(batch.length);
    }
  }

  /**
   * Deletes what falls outside the window: rows older than the retention or beyond the row cap,
   * counters older than theirs. Small transactions in a row, so decisions and API calls queue
   * behind one chunk at most. Resolves with the rows deleted.
   */
  prune(): Promise<void> {
    this.pruning ??= this.pruneAll().finally(() => (this.pruning = undefined));
    return this.pruning;
  }

  private async pruneAll(): Promise<void> {
    const now = this.o.now();
    const chunk = this.o.pruneChunk;
    const q = { before: new Date(now - this.o.retentionMs), maxRows: this.o.maxRows, limit: chunk };
    try {
      for (let n = chunk; n === chunk && !this.closed;) {
        n = await this.o.store.transaction(undefined, (tx) => tx.pruneDecisions(q));
        this.metrics?.pruned.inc(n);
      }
      const countsBefore = new Date(now - Math.max(DECISION_COUNTS_RETENTION_MS, this.o.retentionMs));
      for (let n = chunk; n === chunk && !this.closed;) {
        n = await this.o.store.transaction(undefined, (tx) => tx.pruneDecisionCounts(countsBefore, chunk));
      }
    } catch (err) {
      this.options.logger?.warn(
        { err },
        'pruning stored decisions failed; trying again at the next interval',
      );
    }
  }

  /** Stops the timers and writes what is queued (one try, at most `graceMs`); later pushes are ignored. */
  async close(graceMs = 5000): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.closed = true;
    // A store that hangs must not hang the shutdown: what it has not taken by then is lost.
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([(async () => (await this.pruning, await this.flush()))(), grace]);
    clearTimeout(timer);
    if (this.queue.length > 0) {
      this.options.logger?.warn(
        { lost: this.queue.length },
        'gateway decisions still queued at shutdown could not be stored',
      );
    }
  }
}
