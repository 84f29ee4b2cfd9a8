/**
 * @module engine/types — the decision engine's contract: what `decide()` is asked and what it
 * answers. Reasons are a closed set; any evaluation error denies with reason `error`.
 */
import type { DecisionReason, GrantRef, Mode, SourceLocation } from '../policy-types/index.js';

// The reasons are defined once, in policy-types (a policy test may expect one too); they are part
// of the engine's contract, so its callers find them here.
export { DECISION_REASONS } from '../policy-types/index.js';
export type { DecisionReason } from '../policy-types/index.js';

/** What is asked. `host` (a normalised FQDN) and/or `ip` must be given. */
export interface DecisionRequest {
  readonly identity: string;
  /** The destination name, when the caller asked for one (FQDN rules match on it). */
  readonly host?: string;
  /** The destination address, IPv4 or IPv6 text (CIDR, prefix-list and group rules match on it). */
  readonly ip?: string;
  readonly port: number;
  /** `tcp` `udp` `icmp` `icmpv6` or a protocol number as text. */
  readonly protocol: string;
  /** Evaluation time, epoch ms (injected clock). */
  readonly now: number;
}

/** The rule a decision rests on (the match, or for a denial the nearest rule). */
export interface MatchedRule {
  readonly policy: string;
  readonly file: string;
  readonly line: number;
  readonly ruleId: string;
  /** The security-group rule it became, when known (after plan/apply). */
  readonly securityGroupRuleId?: string;
  readonly owner?: string;
  readonly expires?: string;
}

export interface Decision {
  readonly allow: boolean;
  readonly mode: Mode;
  readonly reason: DecisionReason;
  readonly matched?: MatchedRule;
  readonly identity: string;
  /** Time spent in `decide()`, nanoseconds. */
  readonly evalNs: number;
  /** For guardrail denials: the range that blocked (e.g. `169.254.0.0/16 link-local`). */
  readonly guardrail?: string;
  /**
   * For a `no-match` naming its nearest rule: what that rule missed. `port` (its destination
   * matched, its protocol or ports did not) is nearer than `destination` (the reverse).
   */
  readonly missedBy?: 'port' | 'destination';
  /**
   * For a report-mode pass of a denial (a would-deny): the first policy that applies to the
   * identity (all of them are in report mode), so the would-deny is attributed even when no rule
   * is near enough to be `matched`.
   */
  readonly policy?: string;
  /**
   * For a decision a grant allowed (reason `exception` or `breakglass`): the grant, as the
   * decision log, `weir decisions` and `weir check` name it.
   */
  readonly grant?: GrantRef;
}

/** Rules that almost matched a denied request, and why each did not (for `weir check`). */
export interface NearMiss {
  readonly rule: MatchedRule;
  readonly loc: SourceLocation;
  /** e.g. `port 80 not in 443`, `protocol udp is not tcp`, `expired 2026-01-31 (owner …)`. */
  readonly why: readonly string[];
}
