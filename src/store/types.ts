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
import type { DecisionsTx } from './decisions-types.js';

export * from './decisions-types.js';

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

/** A queued notification as one webhook's delivery sees it (`dueNotifications`). */
export interface QueuedNotification {
  /** The outbox row's number: stable, so a receiver can drop a repeat (delivery is at least once). */
  readonly seq: number;
  readonly event: string;
  readonly text: string;
  readonly fields: Readonly<Record<string, unknown>>;
  /** When it was queued. */
  readonly at: Date;
  /** Attempts made so far for this webhook. */
  readonly attempts: number;
}

/** What one attempt to deliver a notification to a webhook came to (`recordNotificationAttempt`). */
export type NotificationAttempt =
  | { readonly outcome: 'delivered'; readonly at: Date }
  | { readonly outcome: 'retry'; readonly at: Date; readonly error: string; readonly nextAttemptAt: Date }
  | { readonly outcome: 'given-up'; readonly at: Date; readonly error: string };

/** One webhook's undelivered notifications (`notificationBacklog`). */
export interface NotificationBacklog {
  /** Taken for the webhook, neither delivered nor given up. */
  readonly pending: number;
  /** When the oldest of them was queued. */
  readonly oldestAt?: Date;
  /** The earliest time one of them is due. */
  readonly nextAttemptAt?: Date;
}

/**
 * A break-glass session (or drill) as stored: who opened it, for which identity and destinations,
 * until when, and how it ended. Server-wide, like tokens: the gateway enforces one namespace.
 */
export interface BreakglassSession {
  /** `bg-` and 17 hex digits. */
  readonly id: string;
  /** The workload identity it opens egress for. */
  readonly identity: string;
  /** Canonical destination texts (`host[:port][/proto]`, `CIDR:port`, `pl-…`); empty: everything but the guardrails. */
  readonly destinations: readonly string[];
  readonly reason: string;
  /** The principal who opened it (their TOTP code proved it). */
  readonly principal: string;
  readonly openedAt: Date;
  readonly expires: Date;
  /** A drill: the whole path ran, nothing was granted. */
  readonly drill: boolean;
  readonly closedAt?: Date;
  readonly closedBy?: string;
  readonly closeReason?: string;
}

/** How a break-glass session was closed. */
export interface BreakglassClose {
  readonly at: Date;
  readonly by: string;
  readonly reason?: string;
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
export interface StoreTx extends AuditTx, DecisionsTx {
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
  /** The bundles applied (server-wide), newest first, at most `limit` of them. */
  listPolicyBundles(limit: number): Promise<StoredBundle[]>;

  /**
   * Queues a notification for the webhooks; `false` when its `dedupeKey` was queued before (then
   * nothing is written).
   */
  enqueueNotification(n: NewNotification): Promise<boolean>;

  /**
   * Registers a webhook by its key (a digest of its URL, never the URL: it may carry a token).
   * A webhook seen for the first time starts after the notifications queued so far (it gets what
   * is queued from then on); one seen before keeps its place. `true` when it is new.
   */
  addNotificationWebhook(webhook: string, at: Date): Promise<boolean>;
  /**
   * Takes the notifications queued since the webhook's last call into its deliveries (due at
   * once) and returns how many; 0 for a webhook never added.
   */
  takeNewNotifications(webhook: string): Promise<number>;
  /**
   * The webhook's deliveries due at `now` (neither delivered nor given up), earliest due first,
   * at most `limit`.
   */
  dueNotifications(webhook: string, now: Date, limit: number): Promise<QueuedNotification[]>;
  /** Records an attempt: delivered, to be retried at `nextAttemptAt`, or given up. */
  recordNotificationAttempt(webhook: string, seq: number, attempt: NotificationAttempt): Promise<void>;
  /** The webhook's undelivered notifications: how many, the oldest, the next due. */
  notificationBacklog(webhook: string): Promise<NotificationBacklog>;

  /**
   * Records that `principal` used the one-time code of TOTP time step `step`; `false` (nothing
   * written) when that step or a later one was used before: a code is never accepted twice, and
   * an older code still inside the ±1 window is refused after a newer one (server-wide).
   */
  useTotpStep(principal: string, step: number, at: Date): Promise<boolean>;
  /** Stores a new break-glass session or drill (server-wide). */
  insertBreakglassSession(s: BreakglassSession): Promise<void>;
  getBreakglassSession(id: string): Promise<BreakglassSession | undefined>;
  /**
   * Sessions in opening order: every one, or with `openAt` only the sessions (not drills) open
   * at that time (not closed, `expires` after it).
   */
  listBreakglassSessions(q?: { readonly openAt?: Date }): Promise<BreakglassSession[]>;
  /** Closes an open session; `false` (nothing written) when it is unknown or already closed. */
  closeBreakglassSession(id: string, close: BreakglassClose): Promise<boolean>;

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

/**
 * One audit record as stored: a CloudTrail-shaped event (audit/record.ts builds it) and its link
 * in the hash chain. The store keeps what it is given; hashing and checking the chain belong to
 * the audit component, so that a driver cannot get them subtly different.
 */
export interface AuditRecord {
  /** 1, 2, 3 … without gaps: the record's place in the chain. */
  readonly seq: number;
  /** The `hash` of record `seq - 1` (the genesis value for record 1). */
  readonly prevHash: string;
  /** SHA-256 (hex) of the record's canonical form (docs/audit.md "The chain"). */
  readonly hash: string;
  /** The CloudTrail event as canonical JSON text. */
  readonly event: string;
  /** Copies of event fields, for queries (verification checks them against `event`). */
  readonly eventTime: Date;
  readonly eventName: string;
  readonly principal: string;
  readonly eventId: string;
}

/** Which audit records to list (all of them, in `seq` order, when empty). */
export interface AuditQuery {
  /** Records with `seq` above this. */
  readonly afterSeq?: number;
  /** Records whose event time is at or after this. */
  readonly since?: Date;
  readonly principal?: string;
  readonly eventName?: string;
  readonly limit?: number;
}

/**
 * A signed digest of the audit chain: the last record's `seq` and `hash` at `time`, signed with
 * the data dir's Ed25519 key (audit/digest.ts). Digests chain too, through the previous one's
 * signature, so that one removed from the middle is seen.
 */
export interface AuditDigest {
  /** 1, 2, 3 … */
  readonly seq: number;
  readonly lastSeq: number;
  readonly lastHash: string;
  readonly time: Date;
  /** The previous digest's signature (base64); null for the first. */
  readonly previousSignature: string | null;
  /** SHA-256 (hex) of the signing key's public key (DER SPKI), naming the key it was signed with. */
  readonly keyFingerprint: string;
  /** Ed25519 signature (base64) over the digest's canonical form. */
  readonly signature: string;
}

/** The audit trail's methods of a transaction (part of `StoreTx`). */
export interface AuditTx {
  /** The last record's `seq` and `hash`, read in the caller's transaction (the chain's tip). */
  lastAuditRecord(): Promise<{ readonly seq: number; readonly hash: string } | undefined>;
  /** Appends a record; its `seq` must follow the last record's, else it throws. */
  appendAuditRecord(r: AuditRecord): Promise<void>;
  /** Records matching `q`, in `seq` order. */
  listAuditRecords(q?: AuditQuery): Promise<AuditRecord[]>;
  /** Appends a digest; its `seq` must follow the last digest's. */
  appendAuditDigest(d: AuditDigest): Promise<void>;
  /** Every digest, in `seq` order. */
  listAuditDigests(): Promise<AuditDigest[]>;
}
