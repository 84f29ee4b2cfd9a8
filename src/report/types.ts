/**
 * @module report/types — the evidence report as a versioned JSON document (`weir.report/v1`):
 * what `buildReport` answers, `GET /weir/v1/report` sends and `weir report --format json`
 * writes; the HTML and PDF forms render exactly this. Times are ISO 8601 UTC, durations ms.
 * The schema is written out in docs/report.md; a field is only ever added, never repurposed.
 */

/** The format name and version every report carries. */
export const REPORT_FORMAT = 'weir.report/v1';

/** Where a report's data came from. */
export type ReportSource =
  | { readonly kind: 'data-dir'; readonly dataDir: string }
  | { readonly kind: 'server'; readonly endpoint?: string };

/** One destination a workload may reach, and why. */
export interface AccessEntry {
  /** `host[:port][/proto]`, `CIDR[:port][/proto]`, `pl-…`, `sg-…`, or `*` (everything). */
  readonly to: string;
  /** What grants it. */
  readonly via: 'policy' | 'security-group' | 'exception' | 'breakglass';
  /** The policy (for a security-group rule made by `weir policy apply`: the one that made it). */
  readonly policy?: string;
  /** Policy rule ID, security-group rule ID (`sgr-…`), `exc-…` or `bg-…`. */
  readonly rule: string;
  readonly groupId?: string;
  readonly owner?: string;
  /** Why: the rule's justification, a group rule's description, an exception's reason. */
  readonly justification?: string;
  readonly dataClass?: string;
  /** ISO 8601, when it expires. */
  readonly expires?: string;
  /** The rule has expired by the report's generation time (it no longer allows). */
  readonly expired?: boolean;
  /** Where it is written (`file:line:col`), for policy rules. */
  readonly declaredIn?: string;
  /** The policy is in report mode: it logs `would-deny` instead of denying. */
  readonly reportMode?: boolean;
}

/** One workload (or identity pattern of a policy) and what it may reach. */
export interface WorkloadAccess {
  /** The identity, or the pattern of a policy that names no known workload (`…/sa/*`). */
  readonly identity: string;
  readonly pattern?: boolean;
  readonly labels?: Readonly<Record<string, string>>;
  readonly policies: readonly string[];
  readonly groups: readonly string[];
  readonly destinations: readonly AccessEntry[];
}

/** One thing that expires (or expired) near the period: the calendar's row. */
export interface ExpiryEntry {
  /** ISO 8601. */
  readonly at: string;
  /** `YYYY-MM-DD` (UTC), for grouping by day. */
  readonly day: string;
  readonly kind: 'policy-rule' | 'security-group-rule' | 'exception' | 'breakglass';
  /** `policy/rule`, `sgr-…`, `exc-…`, `bg-…`. */
  readonly what: string;
  readonly identity?: string;
  readonly owner?: string;
  /** Already past at generation time. */
  readonly past: boolean;
}

/** An exception granted (approved) during the period, or in force during it. */
export interface ExceptionEntry {
  readonly id: string;
  readonly identity: string;
  readonly destinations: readonly string[];
  readonly requester: string;
  /** The approving principal(s); the two-person rule makes it never the requester. */
  readonly approvers: readonly string[];
  readonly reason: string;
  readonly comment?: string;
  readonly dataClass?: string;
  readonly requestedAt: string;
  readonly approvedAt?: string;
  readonly expires?: string;
  /** The lifetime granted (approval to expiry), ms. */
  readonly durationMs?: number;
  /** Request to approval, ms. */
  readonly timeToApproveMs?: number;
  /** As at generation time: `active`, `expired`, `revoked`. */
  readonly state: string;
  readonly revokedBy?: string;
  readonly revokeReason?: string;
}

/** A break-glass session or drill opened during the period (or open during it). */
export interface BreakglassEntry {
  readonly id: string;
  readonly identity: string;
  /** Empty: everything but the guardrails. */
  readonly destinations: readonly string[];
  readonly reason: string;
  readonly principal: string;
  readonly openedAt: string;
  readonly expires: string;
  readonly drill: boolean;
  /** `open`, `closed`, `expired` or `drill`. */
  readonly state: string;
  readonly closedAt?: string;
  readonly closedBy?: string;
  readonly closeReason?: string;
  /** Opened to closed (or expiry), ms. */
  readonly durationMs: number;
}

/** The audit chain's verification at generation time. */
export interface AuditSection {
  /** Every record matches its hash and link; every digest is signed and matches. */
  readonly intact: boolean;
  readonly records: number;
  readonly lastSeq: number;
  /** The last record's hash (hex): the chain's tip this report vouches for. */
  readonly lastHash?: string;
  readonly digests: number;
  readonly lastDigest?: { readonly seq: number; readonly lastSeq: number; readonly time: string };
  /** Records after the last digest (signed within 5 minutes). */
  readonly unsigned: number;
  /** Digest signatures were checked with the server's public key (else chain and match only). */
  readonly signaturesChecked: boolean;
  /** Records whose event time falls in the period. */
  readonly recordsInPeriod: number;
  /** What is wrong, when not intact: the first bad record. */
  readonly problem?: { readonly seq: number; readonly reason: string };
}

/** A policy bundle applied before or during the period, and when it was in force. */
export interface BundleEntry {
  readonly version: string;
  readonly hash: string;
  readonly appliedAt: string;
  /** When the next bundle replaced it; absent: still in force. */
  readonly replacedAt?: string;
}

/** What policy the report's access section was computed from. */
export interface PolicySection {
  /** For people: `policy bundle version 7`, `policy directory /etc/weir`, `none`. */
  readonly source: string;
  readonly policies: number;
  readonly rules: number;
  /** Bundles in force during the period, oldest first (history from the store). */
  readonly bundles: readonly BundleEntry[];
  /** When the store kept no bundle history, or the history was cut: why. */
  readonly note?: string;
}

/** Denials and decisions of the period, from the gateway's per-bucket decision counters. */
export interface DenialsSection {
  /** Set when the period starts before the counters' retention (90 days): where they start. */
  readonly countersFrom?: string;
  /** Decisions of the period by kind (`allow`, `deny`, `would-deny`, `unauthenticated` …). */
  readonly totals: Readonly<Record<string, number>>;
  /** Denials by decision reason, most first: `deny` and `would-deny` (report mode) apart. */
  readonly byReason: readonly {
    readonly reason: string;
    readonly deny: number;
    readonly wouldDeny: number;
  }[];
  /** Decisions per UTC day of the period. */
  readonly perDay: readonly {
    readonly day: string;
    readonly allow: number;
    readonly deny: number;
    readonly wouldDeny: number;
    readonly other: number;
  }[];
  /** The most denied (identity, destination) pairs of the period. */
  readonly topPairs: readonly {
    readonly decision: string;
    readonly identity: string;
    readonly destination: string;
    readonly count: number;
  }[];
}

/** The whole report. */
export interface ReportDocument {
  readonly format: typeof REPORT_FORMAT;
  readonly generatedAt: string;
  readonly period: { readonly since: string; readonly until: string };
  readonly source: ReportSource;
  /** The gateway account whose workloads and groups it covers. */
  readonly account: string;
  readonly policy: PolicySection;
  readonly access: readonly WorkloadAccess[];
  readonly expiryCalendar: readonly ExpiryEntry[];
  readonly exceptions: readonly ExceptionEntry[];
  readonly breakglass: readonly BreakglassEntry[];
  readonly audit: AuditSection;
  /** Denials by reason and decisions over the period; absent when the store keeps no decision counters. */
  readonly denials?: DenialsSection;
  /**
   * The outcome metrics of the period by day, the document `GET /weir/v1/overview` answers
   * (outcomes/`readOverview`: decisions, top denied, guardrail denials, time to approve, expiring,
   * wildcard rules, share through the gateway, policy change to enforcement); absent when the
   * store lacks what it reads.
   */
  readonly outcomes?: Readonly<Record<string, unknown>>;
  /** Sections cut at their row cap (bounded cost), by name. */
  readonly truncated: readonly string[];
}
