/**
 * @module policy-types/types — a policy set after parsing and normalisation: what the linter,
 * the test runner, the compiler (decision engine) and plan/apply all work from. Every element
 * keeps where it came from (file:line:col) so any finding or decision can point at it.
 */
import type { DecisionReason } from './reasons.js';

export type Mode = 'enforce' | 'report';

export interface SourceLocation {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly col: number;
}

/**
 * A workload identity pattern: an exact SPIFFE ID / service-account string, or a glob where
 * `*` matches exactly one path segment and `**` any number of segments (e.g.
 * `spiffe://prod.example/ns/payments/sa/*`).
 */
export type IdentityPattern =
  { readonly kind: 'exact'; readonly value: string } | { readonly kind: 'glob'; readonly value: string };

/** Which workloads a policy applies to: an identity pattern, labels (from the registry), or both. */
export interface WorkloadSelector {
  readonly identity?: IdentityPattern;
  /** Every label must equal the workload's label of the same key. */
  readonly labels?: Readonly<Record<string, string>>;
  readonly loc: SourceLocation;
}

/**
 * One destination of a rule.
 * - `fqdn`: `name` is normalised (lower case, no trailing dot, IDNA/punycode) and carries no
 *   wildcard; `match` says how the original pattern matched: `exact` (`api.stripe.com`),
 *   `one-label` (`*.stripe.network`: exactly one more label) or `any-depth` (`**.example.com`:
 *   one or more labels).
 * - `cidr`: canonical CIDR (host bits zero).
 * - `prefixList` / `group`: an EC2 prefix-list or security-group ID (`pl-…`, `sg-…`) or name.
 */
export type Destination =
  | {
      readonly kind: 'fqdn';
      readonly name: string;
      readonly match: 'exact' | 'one-label' | 'any-depth';
      readonly loc: SourceLocation;
    }
  | { readonly kind: 'cidr'; readonly family: 4 | 6; readonly cidr: string; readonly loc: SourceLocation }
  | { readonly kind: 'prefixList'; readonly ref: string; readonly loc: SourceLocation }
  | { readonly kind: 'group'; readonly ref: string; readonly loc: SourceLocation };

/** An inclusive port range; a single port has from === to. */
export interface PortRange {
  readonly from: number;
  readonly to: number;
}

export interface PolicyRule {
  /** Unique within its policy. */
  readonly id: string;
  /** The owning policy's `metadata.name`. */
  readonly policy: string;
  readonly destinations: readonly Destination[];
  /** Empty means all ports. */
  readonly ports: readonly PortRange[];
  /** EC2's canonical protocol: `tcp` `udp` `icmp` `icmpv6`, `-1` (all) or another number. */
  readonly protocol: string;
  readonly justification?: string;
  readonly dataClass?: string;
  /** The rule's owner, else the policy's `metadata.owner`. */
  readonly owner?: string;
  /** Epoch ms after which the rule no longer allows (a date means the end of that day, UTC). */
  readonly expires?: number;
  /** The expiry as written, for messages. */
  readonly expiresText?: string;
  /** The security-group rule this rule is (rules that come from the control plane). */
  readonly securityGroupRuleId?: string;
  readonly loc: SourceLocation;
  /** Where each field of the rule is written, when loaded from a file (findings point there). */
  readonly fieldLocs?: Readonly<Partial<Record<RuleField, SourceLocation>>>;
}

/** The fields of a rule as written in a policy file. */
export type RuleField =
  'id' | 'to' | 'ports' | 'protocol' | 'justification' | 'dataClass' | 'owner' | 'expires';

export type Expectation = 'allow' | 'deny';

/** A `tests:` case or a case from a file under `tests/`. */
export interface PolicyTest {
  readonly from: string;
  /** As written: `host[:port][/proto]` or `ip[:port][/proto]`. */
  readonly to: string;
  readonly expect: Expectation;
  /** The rule ID expected to match (allow), or to be nearest (deny). */
  readonly rule?: string;
  /** Expected deny reason, e.g. `no-match`, `expired`, `guardrail`. */
  readonly reason?: DecisionReason;
  /** Evaluation time (epoch ms); default: now. */
  readonly at?: number;
  readonly loc: SourceLocation;
}

/**
 * `spec.exceptions` of a policy: who may approve temporary exceptions (`weir exception`) for the
 * workloads it covers, and for how long at most.
 */
export interface ExceptionSettings {
  /** Principals (`weir_principal`) who may approve; absent: any key with the approver or admin role. */
  readonly approvers?: readonly string[];
  /** The longest exception, ms (`maxTtl`); absent: the default, 7 days. */
  readonly maxTtlMs?: number;
  /** `maxTtl` as written, for messages. */
  readonly maxTtlText?: string;
  readonly loc: SourceLocation;
}

export interface Policy {
  readonly name: string;
  readonly owner?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly mode: Mode;
  readonly workloads: readonly WorkloadSelector[];
  readonly rules: readonly PolicyRule[];
  readonly tests: readonly PolicyTest[];
  /** `spec.exceptions`, when written. */
  readonly exceptions?: ExceptionSettings;
  readonly loc: SourceLocation;
}

/** A workload known to the registry file, with labels (`env`, `team`, `dataClass` …). */
export interface RegisteredWorkload {
  readonly identity: string;
  readonly labels: Readonly<Record<string, string>>;
  /**
   * Security-group IDs declared attached to this identity (unique, as written): the gateway
   * treats each like an API attachment (`weir workload attach`). Absent: none.
   */
  readonly securityGroups?: readonly string[];
  /** Where the registry entry is written, when loaded from a file. */
  readonly loc?: SourceLocation;
}

export interface PolicySet {
  readonly policies: readonly Policy[];
  readonly workloads: readonly RegisteredWorkload[];
  /**
   * Cases of `EgressPolicyTest` documents that name no policy: they test the set as a whole.
   * (Cases that name a policy are in that policy's `tests`.)
   */
  readonly tests?: readonly PolicyTest[];
}
