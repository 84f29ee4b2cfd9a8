/**
 * @module outcomes/period — the period an overview covers, cut into equal buckets: `[since,
 * until)` with `since` aligned down to a bucket boundary, so that two overviews of the same
 * bucket size put the same event in the same bucket (charts do not shift as time passes).
 */

/** The most buckets one overview may have: what a chart can show and a request may cost. */
export const MAX_BUCKETS = 2000;

/** A period cut into buckets. Times are epoch ms. */
export interface Period {
  /** The first bucket's start (aligned to `bucketMs`). */
  readonly since: number;
  /** Exclusive end: the moment the overview was computed. */
  readonly until: number;
  readonly bucketMs: number;
  /** How many buckets: `ceil((until - since) / bucketMs)`, at least 1. */
  readonly buckets: number;
}

/**
 * The period of `spanMs` ending at `until`, in buckets of `bucketMs`. Throws a RangeError naming
 * the bound when the span or bucket is not a positive number of ms or the buckets would exceed
 * {@link MAX_BUCKETS} (callers check their input first and say it in their own words).
 */
export function periodOf(until: number, spanMs: number, bucketMs: number): Period {
  if (!(bucketMs > 0) || !(spanMs > 0)) throw new RangeError('span and bucket must be positive');
  const since = Math.floor((until - spanMs) / bucketMs) * bucketMs;
  const buckets = Math.max(1, Math.ceil((until - since) / bucketMs));
  if (buckets > MAX_BUCKETS) throw new RangeError(`more than ${MAX_BUCKETS} buckets`);
  return { since, until, bucketMs, buckets };
}

/** The bucket `t` (epoch ms) falls in, or -1 outside the period. */
export function bucketOf(p: Period, t: number): number {
  if (!(t >= p.since && t < p.until)) return -1;
  return Math.floor((t - p.since) / p.bucketMs);
}

/** Each bucket's start, epoch ms. */
export function bucketStarts(p: Period): number[] {
  return Array.from({ length: p.buckets }, (_, i) => p.since + i * p.bucketMs);
}

/**
 * The `q`-quantile (0 < q ≤ 1) of `values` by the nearest-rank method (always one of the
 * values, so a p90 of approval times is a time someone actually waited); undefined when empty.
 */
export function quantile(values: readonly number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1];
}

/** Median and p90 of what fell in each bucket; `null` for a bucket with nothing (a gap in a chart). */
export function bucketQuantiles(
  p: Period,
  samples: Iterable<{ readonly at: number; readonly value: number }>,
): { readonly median: (number | null)[]; readonly p90: (number | null)[]; readonly count: number[] } {
  const per: number[][] = Array.from({ length: p.buckets }, () => []);
  for (const s of samples) {
    const b = bucketOf(p, s.at);
    if (b >= 0) per[b]?.push(s.value);
  }
  return {
    median: per.map((v) => quantile(v, 0.5) ?? null),
    p90: per.map((v) => quantile(v, 0.9) ?? null),
    count: per.map((v) => v.length),
  };
}
