/**
 * @module report/denials — denials by reason, the decisions per day and the most denied
 * (identity, destination) pairs of the period, from the per-bucket decision counters the gateway's
 * batch writer keeps in the store (kept 90 days, longer than the raw decisions). Read one day at
 * a time, so memory holds one day's counters whatever the period.
 */
import { DECISION_COUNTS_RETENTION_MS } from '../store/index.js';
import type { DecisionCount, StoreTx } from '../store/index.js';
import type { DenialsSection } from './types.js';

const DAY_MS = 86_400_000;
/** Pairs listed at most. */
export const TOP_PAIRS = 20;

/** The decisions a report counts as denials (`would-deny`: a policy in report mode). */
const DENIALS = new Set(['deny', 'would-deny']);

/** Denials and decisions of [since, until) from the counters of `tx`. */
export async function denialsSection(tx: StoreTx, since: Date, until: Date): Promise<DenialsSection> {
  const byReason = new Map<string, { deny: number; wouldDeny: number }>();
  const totals: Record<string, number> = {};
  const perDay: { day: string; allow: number; deny: number; wouldDeny: number; other: number }[] = [];
  const add = (c: DecisionCount, day: (typeof perDay)[number]): void => {
    totals[c.decision] = (totals[c.decision] ?? 0) + c.count;
    if (c.decision === 'allow') day.allow += c.count;
    else if (c.decision === 'deny') day.deny += c.count;
    else if (c.decision === 'would-deny') day.wouldDeny += c.count;
    else day.other += c.count;
    if (!DENIALS.has(c.decision)) return;
    const reason = c.reason === '' ? 'unknown' : c.reason;
    const r = byReason.get(reason) ?? { deny: 0, wouldDeny: 0 };
    if (c.decision === 'deny') r.deny += c.count;
    else r.wouldDeny += c.count;
    byReason.set(reason, r);
  };
  // UTC days: the first and last may be partial (the period starts and ends at any time).
  for (let from = since.getTime(); from < until.getTime();) {
    const to = Math.min((Math.floor(from / DAY_MS) + 1) * DAY_MS, until.getTime());
    const day = { day: new Date(from).toISOString().slice(0, 10), allow: 0, deny: 0, wouldDeny: 0, other: 0 };
    for (const c of await tx.listDecisionCounts({ since: new Date(from), until: new Date(to) })) add(c, day);
    perDay.push(day);
    from = to;
  }
  const pairs = await tx.topDeniedPairs({ since, until, limit: TOP_PAIRS });
  // Counters older than their retention are pruned: a longer period says where they start.
  const kept = until.getTime() - DECISION_COUNTS_RETENTION_MS;
  return {
    ...(kept > since.getTime() ? { countersFrom: new Date(kept).toISOString() } : {}),
    totals,
    byReason: [...byReason.entries()]
      .map(([reason, n]) => ({ reason, deny: n.deny, wouldDeny: n.wouldDeny }))
      .sort((a, b) => b.deny + b.wouldDeny - (a.deny + a.wouldDeny) || a.reason.localeCompare(b.reason)),
    perDay,
    topPairs: pairs.map((p) => ({
      decision: p.decision,
      identity: p.identity,
      destination: p.destination,
      count: p.count,
    })),
  };
}
