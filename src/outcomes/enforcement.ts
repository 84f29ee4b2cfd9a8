/**
 * @module outcomes/enforcement — policy change to enforcement: seconds from a change (an API
 * write, a bundle applied, a policy file saved, an exception or break-glass change) to the
 * gateway snapshot that enforces it, as samples over time.
 *
 * The samples are kept in memory by the process whose gateway observed them (`weir serve` feeds
 * them from the same callback as the `weir_gateway_policy_enforcement_seconds` histogram), in a
 * ring of fixed size. Why not a table: the lag is a fact about one gateway process, not about
 * the shared state, and writing it would be a store write after every snapshot swap, on the
 * change feed that triggers those swaps (each write wakes every listener of the feed: a second
 * process would rebuild because the first recorded a swap). The price, said in the overview and
 * docs: the chart covers the time since the process started.
 */
import { bucketQuantiles, quantile } from './period.js';
import type { Period } from './period.js';

/** One observed lag. */
export interface EnforcementSample {
  /** When the change was enforced, epoch ms. */
  readonly at: number;
  readonly seconds: number;
  /** What changed (`api`, `bundle`, `policy-dir`, `grants`…, as the histogram's label). */
  readonly change: string;
}

/** The samples one process observed: pushed by the gateway's wiring, read by the overview. */
export interface EnforcementSamples {
  push(s: EnforcementSample): void;
  /** Samples at or after `since` (epoch ms), oldest first. */
  since(since: number): EnforcementSample[];
  /** When recording started (epoch ms): the chart shows nothing before it. */
  readonly startedAt: number;
}

/** Samples kept by default: a swap is a policy change, so this is months of changes. */
export const DEFAULT_ENFORCEMENT_SAMPLES = 10_000;

/** A ring of the last `capacity` samples, recording from `startedAt`. */
export function createEnforcementSamples(
  startedAt: number,
  capacity = DEFAULT_ENFORCEMENT_SAMPLES,
): EnforcementSamples {
  const slots: EnforcementSample[] = [];
  let next = 0;
  return {
    startedAt,
    push(s) {
      if (slots.length < capacity) slots.push(s);
      else slots[next] = s;
      next = (next + 1) % capacity;
    },
    since(since) {
      // Oldest first: once full, the oldest is at `next`.
      const ordered = slots.length < capacity ? slots : [...slots.slice(next), ...slots.slice(0, next)];
      return ordered.filter((s) => s.at >= since);
    },
  };
}

/** Policy change to enforcement over the period. */
export interface EnforcementLag {
  /** Per bucket: median and p90 seconds (`null`: no change enforced in it). */
  readonly medianSeconds: (number | null)[];
  readonly p90Seconds: (number | null)[];
  readonly overall: {
    readonly count: number;
    readonly medianSeconds?: number;
    readonly p90Seconds?: number;
    readonly maxSeconds?: number;
  };
  /** Samples by what changed. */
  readonly byChange: { readonly change: string; readonly count: number; readonly medianSeconds: number }[];
  /** Since when samples exist (the process start), epoch ms; absent: no gateway records them. */
  readonly recordedSince?: number;
}

/** {@link EnforcementLag} of `samples` (absent: this server runs no gateway). */
export function enforcementLag(p: Period, samples: EnforcementSamples | undefined): EnforcementLag {
  const list = samples?.since(p.since).filter((s) => s.at < p.until) ?? [];
  const q = bucketQuantiles(
    p,
    list.map((s) => ({ at: s.at, value: s.seconds })),
  );
  const secs = list.map((s) => s.seconds);
  const groups = new Map<string, number[]>();
  for (const s of list) {
    const g = groups.get(s.change);
    if (g === undefined) groups.set(s.change, [s.seconds]);
    else g.push(s.seconds);
  }
  const median = quantile(secs, 0.5);
  const p90 = quantile(secs, 0.9);
  return {
    medianSeconds: q.median,
    p90Seconds: q.p90,
    overall: {
      count: list.length,
      ...(median !== undefined ? { medianSeconds: median } : {}),
      ...(p90 !== undefined ? { p90Seconds: p90 } : {}),
      ...(secs.length > 0 ? { maxSeconds: Math.max(...secs) } : {}),
    },
    byChange: [...groups]
      .map(([change, v]) => ({ change, count: v.length, medianSeconds: quantile(v, 0.5) ?? 0 }))
      .sort((a, b) => a.change.localeCompare(b.change)),
    ...(samples !== undefined ? { recordedSince: samples.startedAt } : {}),
  };
}
