/**
 * @module api/weir/overview — `GET /weir/v1/overview` (`GetOverview`): the outcome metrics of a
 * period (src/outcomes), for the console's Overview and anyone with a read-only key. The period
 * is `since` (a duration back from now) cut into buckets of `bucket`; both are bounded and so is
 * their ratio, so one call costs at most `MAX_BUCKETS` buckets whatever it asks.
 */
import { MAX_BUCKETS, periodOf, readOverview, storedDecisionFacts } from '../../outcomes/index.js';
import type { Period } from '../../outcomes/index.js';
import { WeirApiError } from './errors.js';
import type { OperationContext } from './operations.js';
import type { RouteTable } from './route.js';

const UNIT_MS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000 };
const MIN_BUCKET_MS = 60_000;
const MAX_BUCKET_MS = 7 * 86_400_000;
/** The longest period: a year and a day, for a yearly review. */
const MAX_SINCE_MS = 366 * 86_400_000;
const DEFAULT_SINCE = '30d';
/** Bucket sizes chosen when none is asked: the smallest giving at most `AUTO_BUCKETS` buckets. */
const AUTO_SIZES = ['1m', '5m', '15m', '1h', '3h', '6h', '12h', '1d', '7d'];
const AUTO_BUCKETS = 200;

/** A duration `<n>m|h|d`, or a precise error naming the parameter. */
function duration(value: string, name: string, min: number, max: number, example: string): number {
  // Anchored, no nested quantifiers: linear on any input (and the length is bounded first).
  const m = value.length <= 8 ? /^(\d{1,6})([mhd])$/.exec(value) : null;
  const ms = m === null ? NaN : Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? NaN);
  if (!(ms >= min && ms <= max)) {
    throw new WeirApiError(
      'InvalidParameterValue',
      `GetOverview: '${name}' must be a duration from ${fmt(min)} to ${fmt(max)} as <number><m|h|d>, e.g. ${name}=${example} (got ${JSON.stringify(value.slice(0, 40))})`,
    );
  }
  return ms;
}

function fmt(ms: number): string {
  for (const [u, n] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
  ] as const) {
    if (ms % n === 0) return `${ms / n}${u}`;
  }
  return `${ms / 60_000}m`;
}

/** The period asked for by `since` and `bucket` (defaults: 30 days, buckets chosen to fit). */
export function overviewPeriod(query: Readonly<Record<string, string>>, now: number): Period {
  const since = duration(query.since ?? DEFAULT_SINCE, 'since', MIN_BUCKET_MS, MAX_SINCE_MS, '30d');
  const asked = query.bucket;
  const bucket =
    asked !== undefined
      ? duration(asked, 'bucket', MIN_BUCKET_MS, MAX_BUCKET_MS, '1h')
      : (AUTO_SIZES.map((s) => duration(s, 'bucket', MIN_BUCKET_MS, MAX_BUCKET_MS, '1h')).find(
          (b) => since / b <= AUTO_BUCKETS,
        ) ?? MAX_BUCKET_MS);
  // One more bucket than the ratio: the first is aligned down to a bucket boundary.
  if (Math.ceil(since / bucket) + 1 > MAX_BUCKETS) {
    const least = Math.ceil(since / (MAX_BUCKETS - 1) / MIN_BUCKET_MS) * MIN_BUCKET_MS;
    throw new WeirApiError(
      'InvalidParameterValue',
      `GetOverview: since=${query.since ?? DEFAULT_SINCE} in buckets of ${asked ?? fmt(bucket)} makes more than ${MAX_BUCKETS} buckets; use bucket=${fmt(least)} or larger, or a shorter since`,
    );
  }
  return periodOf(now, since, bucket);
}

/** `GetOverview`: the outcome metrics of the period asked for. */
export async function getOverviewOp(
  ctx: OperationContext,
  query: Readonly<Record<string, string>>,
): Promise<Record<string, unknown>> {
  const period = overviewPeriod(query, ctx.now().getTime());
  const set = ctx.options.explainContext?.().set;
  const enforcement = ctx.options.enforcementSamples;
  return readOverview(ctx.store, period, {
    scope: ctx.scope,
    ...(set !== undefined ? { set } : {}),
    ...(enforcement !== undefined ? { enforcement } : {}),
    decisions: storedDecisionFacts,
  });
}

/** The overview's route, spread into the handler's table. */
export const OVERVIEW_ROUTES: RouteTable = {
  overview: [
    {
      method: 'GET',
      name: 'GetOverview',
      read: true,
      query: ['since', 'bucket'],
      run: (c, i) => getOverviewOp(c, i.query),
    },
  ],
};
