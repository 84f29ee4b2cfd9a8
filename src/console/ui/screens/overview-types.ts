/**
 * @module console/ui/screens/overview-types — the answer of `GET /weir/v1/overview` as the
 * Overview screen reads it (docs/weir-api.md "Overview"; src/outcomes computes it).
 */

type Series = (number | null)[];

/** A rule as the overview lists it. */
export interface RuleRow {
  readonly policy: string;
  readonly ruleId: string;
  readonly source: 'policy' | 'group';
  readonly owner?: string;
  readonly expires?: string;
  readonly destinations: readonly string[];
  readonly wildcards?: readonly ('name' | 'any-address')[];
}

/** One row of the "expiring" table: a rule or an exception. */
export interface ExpiringRow {
  readonly key: string;
  readonly kind: string;
  readonly what: string;
  readonly href: string;
  readonly detail: string;
  readonly owner: string;
  readonly expires: string;
}

interface Quantiles {
  readonly medianSeconds: Series;
  readonly p90Seconds: Series;
  readonly overall: {
    readonly count: number;
    readonly medianSeconds?: number;
    readonly p90Seconds?: number;
    readonly maxSeconds?: number;
  };
}

/** `GET /weir/v1/overview`. */
export interface Overview {
  readonly period: { since: string; until: string; bucketSeconds: number; buckets: string[] };
  readonly decisionsStored: boolean;
  readonly decisions: {
    allowed: Series;
    denied: Series;
    wouldDeny: Series;
    refused: Series;
    totals: { allowed: number; denied: number; wouldDeny: number; refused: number };
  };
  readonly topDenied: { identity: string; destination: string; count: number; lastAt?: string }[];
  readonly guardrailDenials: {
    perBucket: Series;
    byRange: { range: string; count: number }[];
    total: number;
  };
  readonly timeToApprove: Quantiles & { readonly pending: { count: number; oldestSeconds?: number } };
  readonly expiring: {
    withinDays: number;
    rules: RuleRow[];
    rulesExpired: number;
    exceptions: { id: string; identity: string; destinations: string[]; expires: string }[];
  };
  readonly wildcardRules: { count: number; rulesInForce: number; rules: RuleRow[] };
  readonly gatewayShare: {
    known: number;
    active: number;
    share?: number;
    silent: { identity: string; knownBy: string[] }[];
    silentCount: number;
    unknownSeen: number;
    unauthenticated: { count: number; decisions: number; share?: number };
  };
  readonly enforcement: Quantiles & { readonly recordedSince?: string };
}
