/**
 * @module outcomes/stored-decisions — the decisions facts of a period, read from the decisions
 * store (migration 12): the per-minute counters for the series (allowed, denied, would-deny,
 * refused; guardrail denials per bucket), the per-hour denied-pair counters for the top pairs,
 * the stored guardrail denials for the per-range split, and, for the share through the
 * gateway, whether each known identity has a stored decision in the period. Every read is bounded:
 * counters by the period (at most 2,000 buckets of ≥ 1 minute), rows by a limit, probes by a cap.
 */
import { OTHER_PAIR } from '../store/index.js';
import type { StoreTx } from '../store/index.js';
import type { DecisionFacts } from './overview.js';
import type { Period } from './period.js';

/** Guardrail denials read for the per-range split (the newest of the period). */
export const GUARDRAIL_ROWS = 5_000;
/** Known identities probed for a stored decision; beyond, the rest count as not probed. */
export const MAX_PROBES = 2_000;
/** Denied pairs read (the overview lists the top ten; more merge nothing). */
const PAIRS = 50;

/** The range of a guardrail label (`169.254.0.0/16 link-local …` → `169.254.0.0/16`), as /metrics labels it. */
function rangeOf(label: string): string {
  return label.split(' ')[0] ?? label;
}

/**
 * The decisions facts of `p` in `tx`, probing `known` identities (at most {@link MAX_PROBES}, in
 * the order given) for a decision in the period.
 */
export async function storedDecisionFacts(
  tx: StoreTx,
  p: Period,
  known: readonly string[],
): Promise<DecisionFacts & { readonly probed: number }> {
  const period = { since: new Date(p.since), until: new Date(p.until) };
  const counts = await tx.listDecisionCounts(period);
  const pairs = await tx.topDeniedPairs({ ...period, limit: PAIRS, decision: 'deny' });
  const guarded = await tx.listDecisions({ reason: 'guardrail', ...period, limit: GUARDRAIL_ROWS });
  const perIdentity = new Map<string, number>();
  const probes = known.slice(0, MAX_PROBES);
  for (const identity of probes) {
    const seen = await tx.listDecisions({ identity, ...period, limit: 1 });
    perIdentity.set(identity, seen.length);
  }
  return {
    counts: counts.map((c) => ({
      at: c.bucket.getTime(),
      decision: c.decision,
      ...(c.reason !== '' ? { reason: c.reason } : {}),
      count: c.count,
    })),
    guardrails: guarded.map((d) => ({
      at: d.at.getTime(),
      range: rangeOf(d.guardrail ?? 'unknown'),
      count: 1,
    })),
    // The `*` pair sums the pairs beyond a bucket's cap: no pair to act on, so not listed.
    denied: pairs
      .filter((x) => x.identity !== OTHER_PAIR && x.identity !== '')
      .map((x) => ({ identity: x.identity, destination: x.destination, count: x.count })),
    perIdentity,
    probed: probes.length,
  };
}
