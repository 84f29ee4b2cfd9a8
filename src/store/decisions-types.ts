/**
 * @module store/decisions-types — the decisions part of the `Store` contract (migration 12): the
 * gateway's decisions, their per-bucket counters, and the transaction methods every driver
 * implements (`DecisionsTx`, part of `StoreTx`). Re-exported by store/types.
 */

/**
 * Width of a {@link DecisionCount} bucket: one minute, fine enough for a chart of the last hour
 * and small enough (a few rows a minute) to keep for {@link DECISION_COUNTS_RETENTION_MS}.
 */
export const DECISION_COUNT_BUCKET_MS = 60_000;
/** Width of a {@link DeniedPairCount} bucket: one hour (pairs are many more rows than counts). */
export const DENIED_PAIR_BUCKET_MS = 3_600_000;
/**
 * How long the counters are kept: longer than the raw decisions (`--decisions-retention`, 7 days
 * by default), so that charts and the evidence report cover a quarter even when the rows are gone.
 */
export const DECISION_COUNTS_RETENTION_MS = 90 * 86_400_000;
/** The pair that stands for every pair of a bucket beyond its cap (`addDeniedPairs`). */
export const OTHER_PAIR = '*';

/** The exception or break-glass session that allowed a decision, as the decision named it. */
export interface DecisionGrantRecord {
  /** `exception` or `breakglass`. */
  readonly kind: string;
  readonly id: string;
  readonly requester: string;
  readonly approver?: string;
  readonly reason: string;
  /** ISO 8601. */
  readonly expires: string;
}

/** One gateway decision to store: the fields of its decision line that readers search and explain. */
export interface NewDecision {
  /** Decision time. */
  readonly at: Date;
  readonly decisionId: string;
  /** `allow`, `deny`, `would-deny`, `unauthenticated`, `limit` or `error`. */
  readonly decision: string;
  /** The client's `address:port`. */
  readonly src: string;
  readonly protocol: string;
  readonly identity?: string;
  /** The name the client asked for (or an IP literal as it was written). */
  readonly host?: string;
  readonly ip?: string;
  readonly port?: number;
  readonly reason?: string;
  /** `enforce` or `audit`. */
  readonly mode?: string;
  /** `file:line` of the rule shown. */
  readonly policy?: string;
  readonly policyName?: string;
  readonly ruleId?: string;
  readonly securityGroupRuleId?: string;
  /** The snapshot that decided (policy generation or bundle version, store revision). */
  readonly snapshot?: string;
  readonly guardrail?: string;
  readonly grant?: DecisionGrantRecord;
  /** The gateway node that decided (its host name), when several share a store. */
  readonly node?: string;
}

/** A stored decision: `seq` increases with every append and is never reused, even after a prune. */
export interface StoredDecision extends NewDecision {
  readonly seq: number;
}

/** Which decisions `listDecisions` selects; every filter is an exact match. */
export interface DecisionSearch {
  readonly identity?: string;
  /** A host name or an IP address: decisions whose `host` or `ip` is this. */
  readonly destination?: string;
  readonly decision?: string;
  readonly reason?: string;
  /** At or after. */
  readonly since?: Date;
  /** Before. */
  readonly until?: Date;
  /** With a `seq` above this (live follow). */
  readonly afterSeq?: number;
  /** The newest `limit` of those selected (returned oldest first). */
  readonly limit: number;
}

/** How many decisions of one kind and reason one bucket saw (added up over appends). */
export interface DecisionCount {
  /** The bucket's start (a multiple of {@link DECISION_COUNT_BUCKET_MS}). */
  readonly bucket: Date;
  readonly decision: string;
  /** `''` for decisions without a reason. */
  readonly reason: string;
  readonly count: number;
}

/** How often one (identity, destination) pair was denied in one bucket. */
export interface DeniedPairCount {
  /** The bucket's start (a multiple of {@link DENIED_PAIR_BUCKET_MS}). */
  readonly bucket: Date;
  /** `deny` or `would-deny`. */
  readonly decision: string;
  /** `''` when unknown; {@link OTHER_PAIR} for the pairs beyond the bucket's cap. */
  readonly identity: string;
  /** `destinationText` of the denial (`host:port`, `[v6]:port`); {@link OTHER_PAIR} as above. */
  readonly destination: string;
  readonly count: number;
}

/** A period of time: from `since` (inclusive) to `until` (exclusive). */
export interface DecisionPeriod {
  readonly since: Date;
  readonly until: Date;
}

/** The decisions' methods of a transaction (part of `StoreTx`): server-wide, no scope. */
export interface DecisionsTx {
  /** Appends decisions in the order given (each gets the next `seq`). Emits no change event. */
  appendDecisions(rows: readonly NewDecision[]): Promise<void>;
  /** Adds each count to its (bucket, decision, reason) counter. */
  addDecisionCounts(counts: readonly DecisionCount[]): Promise<void>;
  /**
   * Adds each count to its (bucket, decision, identity, destination) counter. A pair new to a
   * bucket that already holds `maxPerBucket` pairs is added to the bucket's ({@link OTHER_PAIR},
   * {@link OTHER_PAIR}) counter instead, so a flood of distinct destinations costs one row.
   */
  addDeniedPairs(pairs: readonly DeniedPairCount[], maxPerBucket: number): Promise<void>;
  /** The newest `q.limit` decisions matching `q`, oldest first. */
  listDecisions(q: DecisionSearch): Promise<StoredDecision[]>;
  /** The decision with this ID (the latest, should a node have reused one). */
  getDecision(decisionId: string): Promise<StoredDecision | undefined>;
  /** The highest `seq` ever appended (0 when none), pruned rows included. */
  lastDecisionSeq(): Promise<number>;
  /** Counters whose bucket starts in the period, by bucket, decision, reason. */
  listDecisionCounts(p: DecisionPeriod): Promise<DecisionCount[]>;
  /**
   * The `limit` most denied pairs whose bucket starts in the period, summed over its buckets
   * (`bucket` is the period's start), most first; only `decision` when given.
   */
  topDeniedPairs(
    p: DecisionPeriod & { readonly limit: number; readonly decision?: string },
  ): Promise<DeniedPairCount[]>;
  /**
   * Deletes at most `limit` of the oldest decisions that are older than `before` or beyond the
   * newest `maxRows` (by `seq`); returns how many. Small deletes, so that a prune never holds the
   * store for long: call again while it returns `limit`.
   */
  pruneDecisions(q: {
    readonly before: Date;
    readonly maxRows: number;
    readonly limit: number;
  }): Promise<number>;
  /** Deletes at most `limit` counters and pairs whose bucket starts before `before`; returns how many. */
  pruneDecisionCounts(before: Date, limit: number): Promise<number>;
}
