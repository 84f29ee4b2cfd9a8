/**
 * @module outcomes/overview — the whole overview of a period: every outcome metric, computed
 * from plain inputs (`computeOverview`, pure, what the tests seed) and read from the store and
 * the policy in force (`readOverview`, one read-only transaction). The answer is JSON-ready:
 * times as ISO 8601, durations in seconds, series as one number (or null) per bucket.
 */
import { groupPolicies } from '../engine/index.js';
import type { AttachedGroup } from '../engine/index.js';
import type { Scope } from '../model/index.js';
import type { PolicySet } from '../policy-types/index.js';
import type { ExceptionRecord, Store, StoreTx, WorkloadAttachment } from '../store/index.js';
import type { DecisionCount, DeniedPair, GuardrailCount } from './decisions.js';
import { decisionSeries, guardrailDenials, topDenied } from './decisions.js';
import { enforcementLag } from './enforcement.js';
import type { EnforcementSamples } from './enforcement.js';
import { expiringExceptions, timeToApprove } from './exceptions.js';
import { bucketStarts } from './period.js';
import type { Period } from './period.js';
import { expiringRules, wildcardRules } from './rules.js';
import type { PoliciesInForce } from './rules.js';
import { addKnown, gatewayShare } from './share.js';
import type { KnownBy } from './share.js';

/** "Expiring soon" means within this many days. */
export const EXPIRING_WITHIN_DAYS = 30;
const DAY_MS = 86_400_000;
/** Pairs listed in "top denied". */
export const TOP_DENIED = 10;

/** What the decisions store says about the period (absent: no decisions are stored). */
export interface DecisionFacts {
  readonly counts: readonly DecisionCount[];
  readonly guardrails: readonly GuardrailCount[];
  readonly denied: readonly DeniedPair[];
  /** For known identities: decisions in the period (probed: more than 0 is all that counts). */
  readonly perIdentity: ReadonlyMap<string, number>;
}

/** Everything an overview is computed from. */
export interface OverviewInput {
  readonly period: Period;
  readonly inForce: readonly PoliciesInForce[];
  readonly exceptions: readonly ExceptionRecord[];
  readonly known: ReadonlyMap<string, ReadonlySet<KnownBy>>;
  readonly decisions?: DecisionFacts;
  readonly enforcement?: EnforcementSamples;
}

const iso = (t: number): string => new Date(t).toISOString();

function withIsoExpiry<T extends { readonly expires?: number }>(
  x: T,
): Omit<T, 'expires'> & { expires?: string } {
  const { expires, ...rest } = x;
  return { ...rest, ...(expires !== undefined ? { expires: iso(expires) } : {}) };
}

/** The overview of `input`, JSON-ready. */
export function computeOverview(input: OverviewInput): Record<string, unknown> {
  const p = input.period;
  const within = EXPIRING_WITHIN_DAYS * DAY_MS;
  const d = input.decisions;
  const series = decisionSeries(p, d?.counts ?? []);
  const rules = expiringRules(input.inForce, p.until, within);
  const wild = wildcardRules(input.inForce);
  const tta = timeToApprove(p, input.exceptions);
  const lag = enforcementLag(p, input.enforcement);
  const totalDecisions = Object.values(series.totals).reduce((a, b) => a + b, 0);
  let unauthenticated = 0;
  for (const c of d?.counts ?? [])
    if (c.decision === 'unauthenticated' && c.at >= p.since && c.at < p.until) unauthenticated += c.count;
  return {
    period: {
      since: iso(p.since),
      until: iso(p.until),
      bucketSeconds: p.bucketMs / 1000,
      buckets: bucketStarts(p).map(iso),
    },
    decisionsStored: d !== undefined,
    decisions: series,
    topDenied: topDenied(d?.denied ?? [], TOP_DENIED).map(({ lastAt, ...rest }) => ({
      ...rest,
      ...(lastAt !== undefined ? { lastAt: iso(lastAt) } : {}),
    })),
    guardrailDenials: guardrailDenials(p, d?.counts ?? [], d?.guardrails ?? []),
    timeToApprove: {
      ...tta,
      approvals: tta.approvals.map((a) => ({
        ...a,
        requestedAt: iso(a.requestedAt),
        approvedAt: iso(a.approvedAt),
      })),
    },
    expiring: {
      withinDays: EXPIRING_WITHIN_DAYS,
      rules: rules.expiring.map(withIsoExpiry),
      rulesExpired: rules.expired,
      exceptions: expiringExceptions(input.exceptions, p.until, within).map(withIsoExpiry),
    },
    wildcardRules: {
      count: wild.rules.length,
      rulesInForce: wild.total,
      rules: wild.rules.map(withIsoExpiry),
    },
    gatewayShare: gatewayShare({
      known: input.known,
      seen: d?.perIdentity ?? new Map(),
      unauthenticated,
      decisions: totalDecisions,
    }),
    enforcement: {
      ...lag,
      ...(lag.recordedSince !== undefined ? { recordedSince: iso(lag.recordedSince) } : {}),
    },
  };
}

/** The workload identities a policy set names: registered workloads and exact selectors. */
function knownFromPolicy(set: PolicySet | undefined, known: Map<string, Set<KnownBy>>): void {
  if (set === undefined) return;
  for (const w of set.workloads) addKnown(known, w.identity, 'policy');
  for (const p of set.policies) {
    for (const w of p.workloads)
      if (w.identity?.kind === 'exact') addKnown(known, w.identity.value, 'policy');
  }
}

/** The namespace's attached groups with their egress rules and identities. */
async function attachedGroups(
  tx: StoreTx,
  scope: Scope,
  attachments: readonly WorkloadAttachment[],
): Promise<AttachedGroup[]> {
  const groupIds = [...new Set(attachments.map((a) => a.groupId))];
  if (groupIds.length === 0) return [];
  const groups = await tx.listGroups(scope, { groupIds });
  const rules = await tx.listRules(scope, { groupIds, direction: 'egress' });
  return groups.map((group) => ({
    group,
    rules: rules.filter((r) => r.groupId === group.groupId),
    identities: attachments.filter((a) => a.groupId === group.groupId).map((a) => a.identity),
  }));
}

/** Where `readOverview` reads besides the store. */
export interface OverviewSources {
  /** The namespace whose attached groups the gateway enforces. */
  readonly scope: Scope;
  /** The policy set in force (files or bundle); absent: none loaded. */
  readonly set?: PolicySet;
  readonly enforcement?: EnforcementSamples;
  /**
   * Reads the decisions store's facts in the read transaction, given the known identities to
   * look for; absent: no decisions stored.
   */
  readonly decisions?: (tx: StoreTx, p: Period, known: readonly string[]) => Promise<DecisionFacts>;
}

/**
 * The overview of `period`, read in one read-only transaction: exceptions, issued tokens valid
 * in the period, the namespace's attachments and their groups' rules, and the decisions facts.
 */
export async function readOverview(
  store: Store,
  period: Period,
  src: OverviewSources,
): Promise<Record<string, unknown>> {
  const { scope } = src;
  const known = new Map<string, Set<KnownBy>>();
  knownFromPolicy(src.set, known);
  const read = await store.transaction(
    scope,
    async (tx) => {
      const attachments = await tx.listWorkloadAttachments(scope);
      for (const a of attachments) addKnown(known, a.identity, 'attachment');
      for (const t of await tx.listIssuedTokens(new Date(period.since)))
        if (t.issued.getTime() < period.until) addKnown(known, t.identity, 'token');
      return {
        attached: await attachedGroups(tx, scope, attachments),
        exceptions: await tx.listExceptions(),
        decisions:
          src.decisions === undefined ? undefined : await src.decisions(tx, period, [...known.keys()]),
      };
    },
    { readOnly: true },
  );
  const inForce: PoliciesInForce[] = [
    { policies: src.set?.policies ?? [], source: 'policy' },
    { policies: groupPolicies({ scope, groups: read.attached, prefixLists: [] }), source: 'group' },
  ];
  return computeOverview({
    period,
    inForce,
    exceptions: read.exceptions,
    known,
    ...(read.decisions !== undefined ? { decisions: read.decisions } : {}),
    ...(src.enforcement !== undefined ? { enforcement: src.enforcement } : {}),
  });
}
