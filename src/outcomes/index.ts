/**
 * @module outcomes — outcome metrics over a period (docs/console.md "Overview"): decisions
 * allowed, denied and would-deny; top denied pairs; guardrail denials; time to approve
 * exceptions; rules and exceptions expiring soon; wildcard rules; the share of workloads whose
 * egress goes through the gateway; policy change to enforcement. Pure computations over the
 * store and the policy in force; `GET /weir/v1/overview` serves them.
 */
export { computeOverview, readOverview, EXPIRING_WITHIN_DAYS, TOP_DENIED } from './overview.js';
export type { DecisionFacts, OverviewInput, OverviewSources } from './overview.js';
export { MAX_BUCKETS, periodOf } from './period.js';
export { storedDecisionFacts } from './stored-decisions.js';
export type { Period } from './period.js';
export { createEnforcementSamples, DEFAULT_ENFORCEMENT_SAMPLES } from './enforcement.js';
export type { EnforcementSample, EnforcementSamples } from './enforcement.js';
export type { DecisionCount, DeniedPair, GuardrailCount } from './decisions.js';
export type { KnownBy } from './share.js';
export type { PoliciesInForce, RuleSource } from './rules.js';
