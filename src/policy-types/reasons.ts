/**
 * @module policy-types/reasons — the decision reasons, defined once. The engine answers with
 * them, a policy test may expect one (`reason:` in a test case, checked by the policy schema),
 * `weir check` explains them, and the gateway logs and counts them. Every other list of reasons
 * is derived from this table.
 */

/**
 * Every reason a decision can give. The order is part of the compiled engine's format: a
 * snapshot stores a decision's reason as its index here (see `reasonCode`).
 * - `matched`: a rule allows the request (or, in report mode, would).
 * - `no-match`: no rule of an applicable policy allows it (the nearest rule is named, if any).
 * - `expired`: the only rules that match have expired.
 * - `exception`, `breakglass`: allowed by an approved exception or an open break-glass session
 *   (the decision names it: `Decision.grant`).
 * - `guardrail`: the address is in a guarded range (metadata, link-local…) no rule names.
 * - `unknown-identity`: no policy applies to the identity.
 * - `error`: evaluation failed; a decision that errs always denies.
 */
export const DECISION_REASONS = [
  'matched',
  'no-match',
  'expired',
  'exception',
  'breakglass',
  'guardrail',
  'unknown-identity',
  'error',
] as const;

/** One of `DECISION_REASONS`. */
export type DecisionReason = (typeof DECISION_REASONS)[number];

/** The index of `reason` in `DECISION_REASONS`: how a compiled snapshot stores a reason. */
export function reasonCode(reason: DecisionReason): number {
  return DECISION_REASONS.indexOf(reason);
}
