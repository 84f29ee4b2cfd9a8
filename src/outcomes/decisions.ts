/**
 * @module outcomes/decisions — the gateway's decisions over the period: allowed, denied and
 * would-deny per bucket, the (identity, destination) pairs denied most, and denials by the
 * guardrails (per bucket and per range). Computed from the decisions store's aggregate counts,
 * never from a scan of every decision, so the cost follows the buckets, not the traffic.
 */
import { bucketOf } from './period.js';
import type { Period } from './period.js';

/** A count of decisions of one kind at one time (a stored counter's bucket start, epoch ms). */
export interface DecisionCount {
  readonly at: number;
  /** `allow`, `deny`, `would-deny`, `unauthenticated`, `limit`, `error`. */
  readonly decision: string;
  /** The decision reason (`guardrail`, `no-match`…), when counted by reason. */
  readonly reason?: string;
  readonly count: number;
}

/** Guardrail denials to one range at one time (a stored denial: count 1). */
export interface GuardrailCount {
  readonly at: number;
  /** The guardrail's range (`169.254.0.0/16`) as the gateway reports it. */
  readonly range: string;
  readonly count: number;
}

/** Decisions per bucket, by what they came to. */
export interface DecisionSeries {
  readonly allowed: number[];
  /** Denied by the policy (`deny`). */
  readonly denied: number[];
  /** Would have been denied by a policy in report mode (allowed for now). */
  readonly wouldDeny: number[];
  /** Refused before the policy: no identity proved, a limit, an error. */
  readonly refused: number[];
  readonly totals: {
    readonly allowed: number;
    readonly denied: number;
    readonly wouldDeny: number;
    readonly refused: number;
  };
}

const SERIES: Readonly<Record<string, 'allowed' | 'denied' | 'wouldDeny' | 'refused'>> = {
  allow: 'allowed',
  deny: 'denied',
  'would-deny': 'wouldDeny',
  unauthenticated: 'refused',
  limit: 'refused',
  error: 'refused',
};

/** Sums `counts` into the period's buckets (counts outside it are left out). */
export function decisionSeries(p: Period, counts: Iterable<DecisionCount>): DecisionSeries {
  const zero = (): number[] => new Array<number>(p.buckets).fill(0);
  const out = { allowed: zero(), denied: zero(), wouldDeny: zero(), refused: zero() };
  const totals = { allowed: 0, denied: 0, wouldDeny: 0, refused: 0 };
  for (const c of counts) {
    const b = bucketOf(p, c.at);
    const series = SERIES[c.decision];
    if (b < 0 || series === undefined) continue;
    out[series][b] = (out[series][b] ?? 0) + c.count;
    totals[series] += c.count;
  }
  return { ...out, totals };
}

/** Guardrail denials per bucket and per range (most first). */
export interface GuardrailDenials {
  readonly perBucket: number[];
  readonly total: number;
  /** Per range, from the stored denials (`rangesFrom` of them: the counters name no range). */
  readonly byRange: { readonly range: string; readonly count: number }[];
  readonly rangesFrom: number;
}

/**
 * Guardrail denials: per bucket from the counters of reason `guardrail` (kept longer than the
 * decisions themselves), per range from the stored denials of the period.
 */
export function guardrailDenials(
  p: Period,
  counts: Iterable<DecisionCount>,
  ranges: Iterable<GuardrailCount>,
): GuardrailDenials {
  const perBucket = new Array<number>(p.buckets).fill(0);
  let total = 0;
  for (const c of counts) {
    const b = bucketOf(p, c.at);
    if (b < 0 || c.reason !== 'guardrail') continue;
    perBucket[b] = (perBucket[b] ?? 0) + c.count;
    total += c.count;
  }
  const byRange = new Map<string, number>();
  let rangesFrom = 0;
  for (const r of ranges) {
    if (bucketOf(p, r.at) < 0) continue;
    byRange.set(r.range, (byRange.get(r.range) ?? 0) + r.count);
    rangesFrom += r.count;
  }
  return {
    perBucket,
    total,
    byRange: [...byRange]
      .map(([range, count]) => ({ range, count }))
      .sort((a, b) => b.count - a.count || a.range.localeCompare(b.range)),
    rangesFrom,
  };
}

/** A denied (identity, destination) pair and how often. */
export interface DeniedPair {
  readonly identity: string;
  /** `host:port`, `[v6]:port`, `host/udp`… (`destinationText` of the denial template). */
  readonly destination: string;
  readonly count: number;
  /** The last denial's time, epoch ms, when known. */
  readonly lastAt?: number;
}

/** The `limit` pairs denied most (ties: the most recent, then by name), merging repeats of a pair. */
export function topDenied(pairs: Iterable<DeniedPair>, limit: number): DeniedPair[] {
  const merged = new Map<string, DeniedPair>();
  for (const d of pairs) {
    const key = `${d.identity}\u0000${d.destination}`;
    const prev = merged.get(key);
    if (prev === undefined) {
      merged.set(key, d);
      continue;
    }
    const lastAt = Math.max(prev.lastAt ?? -Infinity, d.lastAt ?? -Infinity);
    merged.set(key, {
      identity: d.identity,
      destination: d.destination,
      count: prev.count + d.count,
      ...(Number.isFinite(lastAt) ? { lastAt } : {}),
    });
  }
  return [...merged.values()]
    .sort(
      (a, b) =>
        b.count - a.count ||
        (b.lastAt ?? 0) - (a.lastAt ?? 0) ||
        a.identity.localeCompare(b.identity) ||
        a.destination.localeCompare(b.destination),
    )
    .slice(0, limit);
}
