/**
 * @module store/types — the `Store` contract every driver implements (SQLite now, PostgreSQL
 * later). The contract is a transaction of small, domain-shaped reads and writes; the rules
 * of EC2 (duplicates, quotas, references) live above it in the API layer, written once.
 */
import type {
  Direction,
  ManagedPrefixList,
  PrefixListEntry,
  Scope,
  SecurityGroup,
  SecurityGroupRule,
  Tag,
  Vpc,
} from '../model/index.js';

/** A tag together with the resource it is on, as DescribeTags lists it. */
export interface TagRecord extends Tag {
  readonly resourceId: string;
  readonly resourceType: string;
}

/** What a scope (account + region) was given when first used. */
/** The VPC attributes of DescribeVpcAttribute / ModifyVpcAttribute, by their EC2 names. */
export type VpcAttributeName = 'enableDnsSupport' | 'enableDnsHostnames' | 'enableNetworkAddressUsageMetrics';
export type VpcAttributes = Readonly<Record<VpcAttributeName, boolean>>;

export interface ScopeRecord {
  readonly defaultVpcId: string;
}

export interface RuleQuery {
  readonly groupIds?: readonly string[];
  readonly ruleIds?: readonly string[];
  readonly direction?: Direction;
}

/** A stored rule plus the key that makes it unique within its group and direction. */
export interface NewRule {
  readonly rule: SecurityGroupRule;
  readonly key: string;
}

/** Entries to apply in one prefix-list version. */
export interface PrefixListChange {
  readonly add: readonly PrefixListEntry[];
  readonly remove: readonly string[];
}

/** A security group attached to a workload identity: the gateway enforces its egress rules for it. */
export interface WorkloadAttachment {
  /** The workload identity (SPIFFE ID or service-account string), as tokens and certificates carry it. */
  readonly identity: string;
  readonly groupId: string;
  readonly createdAt: Date;
}

/** A gateway token revoked before its expiry. Kept until `expires`, after which it is refused anyway. */
export interface RevokedToken {
  /** The token's `id` claim. */
  readonly id: string;
  /** The identity the token was issued to, when the revoker knew it (revoked by token text). */
  readonly identity?: string;
  /** The token's own expiry: after it the record serves no purpose. */
  readonly expires: Date;
  readonly revokedAt: Date;
}

/**
 * A gateway token as issued: its claims, so that `weir token list|inspect` can show it and
 * revoking an unknown ID is an error. Never the token's text or signature: the record is no
 * credential.
 */
export interface IssuedToken {
  /** The token's `id` claim. */
  readonly id: string;
  readonly identity: string;
  readonly issued: Date;
  readonly expires: Date;
}

/** A signed policy bundle as applied through the API: the exact bytes, verified before storing. */
export interface StoredBundle {
  /** The bundle file, byte for byte (its signature covers it, so it is re-verifiable on load). */
  readonly bytes: Buffer;
  readonly version: string;
  /** The bundle's `contentHash` (`sha256:<hex>`). */
  readonly hash: string;
  readonly appliedAt: Date;
}

/**
 * A notification to send to the webhooks (`--notify-webhook`), written in the same transaction
 * as the change it tells of (the outbox pattern): a change that commits is told at least once,
 * a change that rolls back is never told.
 */
export interface NewNotification {
  /** What happened, dotted: `exception.requested`, `breakglass.opened`, `rule.expiring` … */
  readonly event: string;
  /** One line for people (Slack- and Mattermost-style webhooks show the `text` field as is). */
  readonly text: string;
  /** Structured fields sent beside `text` (IDs, principals, times as ISO 8601). */
  readonly fields: Readonly<Record<string, unknown>>;
  readonly at: Date;
  /**
   * Set for notices that must be sent once only (a rule expiring, once a day per rule): a second
   * notification with the same key is dropped.
   */
  readonly dedupeKey?: string;
}

/** Where an exception request stands. `expired` is not stored: it is derived from `expires`. */
export type ExceptionState = 'pending' | 'approved' | 'denied' | 'revoked';

/**
 * A temporary exception to the policy files (`weir exception request`): asked by one principal,
 * approved or denied by another, expiring by itself. Server-wide (it names an identity, which
 * the gateway of one account serves). Whether it is in force is a function of the record and the
 * time, so reading it never writes.
 */
export interface ExceptionRecord {
  /** `exc-` and 17 lower-case hex digits. */
  readonly id: string;
  /** The exact workload identity. */
  readonly identity: string;
  /** Destinations as canonical text (`api.stripe.com:443/tcp`, `10.0.0.0/8:443/tcp`, `pl-…:443/tcp`). */
  readonly destinations: readonly string[];
  readonly reason: string;
  readonly dataClass?: string;
  /** The lifetime asked for, ms; the approval starts it. */
  readonly ttlMs: number;
  /** The change window: it allows only between these instants. */
  readonly window?: { readonly start: Date; readonly end: Date };
  readonly requester: string;
  readonly requestedAt: Date;
  readonly state: ExceptionState;
  /** Who approved or denied it, when, and their comment (a denial's reason). */
  readonly decidedBy?: string;
  readonly decidedAt?: Date;
  readonly comment?: string;
  /** Set at approval: approval time + TTL (which the approver may shorten). */
  readonly expires?: Date;
  readonly revokedBy?: string;
  readonly revokedAt?: Date;
  readonly revokeReason?: string;
}

/** A filter of `listExceptions`; every field given must hold. */
export interface ExceptionQuery {
  readonly identity?: string;
  readonly states?: readonly ExceptionState[];
}

/** What a write transaction touched, for readers that rebuild only part of their state. */
export type ChangeKind =
  | 'rules'
  | 'groups'
  | 'prefixLists'
  | 'workloads'
  | 'tokens'
  | 'bundle'
  | 'exceptions'
  | 'breakglass'
  | 'notifications';

/**
 * One atomic unit of work. Every method sees the writes made earlier in the same
 * transaction; nothing is visible to others until the transaction commits.
 * Methods returning lists return them in creation order unless they say otherwise.
 */
export interface StoreTx {
  getScope(scope: Scope): Promise<ScopeRecord | undefined>;
  insertScope(scope: Scope, record: ScopeRecord): Promise<void>;

  insertVpc(scope: Scope, vpc: Vpc): Promise<void>;
  getVpc(scope: Scope, vpcId: string): Promise<Vpc | undefined>;
  listVpcs(scope: Scope, vpcIds?: readonly string[]): Promise<Vpc[]>;
  deleteVpc(scope: Scope, vpcId: string): Promise<void>;
  /** A VPC's DescribeVpcAttribute values (EC2's defaults where never set); undefined if no such VPC. */
  getVpcAttributes(scope: Scope, vpcId: string): Promise<VpcAttributes | undefined>;
  setVpcAttribute(scope: Scope, vpcId: string, name: VpcAttributeName, value: boolean): Promise<void>;

  insertGroup(scope: Scope, group: SecurityGroup): Promise<void>;
  getGroup(scope: Scope, groupId: string): Promise<SecurityGroup | undefined>;
  findGroupByName(scope: Scope, vpcId: string, groupName: string): Promise<SecurityGroup | undefined>;
  listGroups(scope: Scope, q?: { groupIds?: readonly string[]; vpcId?: string }): Promise<SecurityGroup[]>;
  /** How many groups a VPC of the scope holds (the per-VPC quota), without reading them. */
  countGroups(scope: Scope, vpcId: string): Promise<number>;
  deleteGroup(scope: Scope, groupId: string): Promise<void>;

  /** Inserts rules; a rule whose key already exists in its group raises `DuplicateRuleKeyError`. */
  insertRules(scope: Scope, rules: readonly NewRule[]): Promise<void>;
  listRules(scope: Scope, q?: RuleQuery): Promise<SecurityGroupRule[]>;
  findRuleByKey(
    scope: Scope,
    groupId: string,
    direction: Direction,
    key: string,
  ): Promise<SecurityGroupRule | undefined>;
  /** Replaces a rule's protocol, ports, target and description, keeping its ID and tags. */
  replaceRule(scope: Scope, rule: NewRule): Promise<void>;
  deleteRules(scope: Scope, ruleIds: readonly string[]): Promise<void>;
  countRules(scope: Scope, groupId: string, direction: Direction): Promise<number>;
  /** The prefix list of each prefix-list rule of a group and direction (they weigh more in quotas). */
  prefixListRefs(scope: Scope, groupId: string, direction: Direction): Promise<string[]>;
  /** Rules of groups other than `exceptGroupId` that reference the group or prefix list. */
  countReferences(
    scope: Scope,
    ref: { readonly groupId: string } | { readonly prefixListId: string },
    exceptGroupId?: string,
  ): Promise<number>;

  /** Adds or overwrites tags on one resource. */
  putTags(scope: Scope, resourceId: string, resourceType: string, tags: readonly Tag[]): Promise<void>;
  /** Deletes tags by key, or by key and value when `value` is given. No tags given: delete all. */
  deleteTags(
    scope: Scope,
    resourceId: string,
    tags: readonly { readonly key: string; readonly value?: string }[] | undefined,
  ): Promise<void>;
  /** Tags ordered by resource ID, then key (the order DescribeTags lists them in). */
  listTags(scope: Scope, resourceIds?: readonly string[]): Promise<TagRecord[]>;

  insertPrefixList(scope: Scope, list: ManagedPrefixList, entries: readonly PrefixListEntry[]): Promise<void>;
  getPrefixList(scope: Scope, prefixListId: string): Promise<ManagedPrefixList | undefined>;
  listPrefixLists(scope: Scope, prefixListIds?: readonly string[]): Promise<ManagedPrefixList[]>;
  /** Entries as they were at `version` (default: the current version). */
  getPrefixListEntries(scope: Scope, prefixListId: string, version?: number): Promise<PrefixListEntry[]>;
  /** Writes a new version: updated list fields plus the entry changes recorded at `list.version`. */
  updatePrefixList(scope: Scope, list: ManagedPrefixList, change?: PrefixListChange): Promise<void>;
  deletePrefixList(scope: Scope, prefixListId: string): Promise<void>;

  /** Every scope that has been used (has a default VPC), in creation order. */
  listScopes(): Promise<Scope[]>;

  /** Attaches a group to an identity; attaching the same pair again is a no-op (keeps `createdAt`). */
  attachWorkload(scope: Scope, a: WorkloadAttachment): Promise<void>;
  /** Detaches a group from an identity; `false` when they were not attached. */
  detachWorkload(scope: Scope, identity: string, groupId: string): Promise<boolean>;
  /** Attachments of the scope, optionally of one identity and/or one group, in creation order. */
  listWorkloadAttachments(
    scope: Scope,
    q?: { readonly identity?: string; readonly groupId?: string },
  ): Promise<WorkloadAttachment[]>;

  /** Records a revoked token (server-wide). Revoking the same ID again is a no-op (keeps the first record). */
  revokeToken(t: RevokedToken): Promise<void>;
  /** Revoked tokens whose `expires` is after `now` (server-wide), in revocation order. */
  listRevokedTokens(now: Date): Promise<RevokedToken[]>;
  /** Records an issued token (server-wide); the same ID again is a no-op. */
  recordIssuedToken(t: IssuedToken): Promise<void>;
  /** Issued tokens whose `expires` is after `now` (all of them without `now`), in issue order. */
  listIssuedTokens(now?: Date): Promise<IssuedToken[]>;
  /** The issued token with this ID, if recorded. */
  getIssuedToken(id: string): Promise<IssuedToken | undefined>;

  /** Stores `b` as the bundle in force (server-wide); earlier ones are kept as history. */
  putPolicyBundle(b: StoredBundle): Promise<void>;
  /** The bundle applied last, if any. */
  getPolicyBundle(): Promise<StoredBundle | undefined>;

  /**
   * Queues a notification for the webhooks; `false` when its `dedupeKey` was queued before (then
   * nothing is written).
   */
  enqueueNotification(n: NewNotification): Promise<boolean>;

  /** Stores a new exception record (server-wide); its ID must be new. */
  insertException(e: ExceptionRecord): Promise<void>;
  /** The exception with this ID, if any. */
  getException(id: string): Promise<ExceptionRecord | undefined>;
  /** Exceptions matching `q`, in request order. */
  listExceptions(q?: ExceptionQuery): Promise<ExceptionRecord[]>;
  /** Replaces the stored record of `e.id` (its state and decision fields); `false` when there is none. */
  updateException(e: ExceptionRecord): Promise<boolean>;
}

/** What a committed write changed, for the change feed (the decision engine listens). */
export interface ChangeEvent {
  /** The transaction's scope; `undefined` for server-wide writes (tokens, bundle). */
  readonly scope: Scope | undefined;
  readonly at: Date;
  /**
   * What the transaction wrote, best effort (writes to VPCs, tags and scopes name no kind; a
   * commit by another process, where the driver can see one, names every kind with scope
   * `undefined`): a reader may treat any event as "something changed".
   */
  readonly kinds: readonly ChangeKind[];
  /**
   * The security groups whose row, rules, rule tags or workload attachments the transaction
   * wrote (created and deleted ones included), so a reader can re-read only those. Absent when
   * the driver cannot know (a commit by another process): then any group may have changed.
   */
  readonly groupIds?: readonly string[];
  /** The prefix lists the transaction wrote (created, modified, deleted); absent as `groupIds`. */
  readonly prefixListIds?: readonly string[];
}

export interface Store {
  /**
   * Runs `fn` as one serializable transaction: all of its writes commit together or none do,
   * and a resolved promise means the writes are durable. Read-only work passes `readOnly`.
   */
  transaction<T>(
    scope: Scope | undefined,
    fn: (tx: StoreTx) => Promise<T>,
    opts?: { readonly readOnly?: boolean },
  ): Promise<T>;
  /**
   * Called after every committed write transaction that has a scope or wrote something
   * server-wide. Returns an unsubscribe function.
   */
  subscribe(listener: (event: ChangeEvent) => void): () => void;
  close(): Promise<void>;
}

/** Raised by `insertRules` when a rule's key already exists: the caller maps it to EC2's error. */
export class DuplicateRuleKeyError extends Error {
  readonly key: string;
  constructor(key: string) {
    super(`duplicate rule key ${key}`);
    this.name = 'DuplicateRuleKeyError';
    this.key = key;
  }
}
