/**
 * @module audit/record — the audit record: one CloudTrail-shaped event per change (and per
 * failed write, and per read with `--audit-reads`), sealed into the hash chain in the
 * transaction of the change. docs/audit.md describes the fields and the chain.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { AuditRecord, StoreTx } from '../store/index.js';
import { canonicalJson } from './canonical.js';
import type { Json } from './canonical.js';

/** The `prevHash` of record 1: the chain's fixed start. */
export const GENESIS_HASH = '0'.repeat(64);
/** CloudTrail's event version whose fields the records carry. */
export const EVENT_VERSION = '1.08';
/** `eventSource` of EC2 Query calls (as CloudTrail names EC2). */
export const EC2_EVENT_SOURCE = 'ec2.amazonaws.com';
/** `eventSource` of Weir API calls and of CLI commands that write the data dir directly. */
export const WEIR_EVENT_SOURCE = 'weir.dev';
/** What stands for a secret in `requestParameters` (CloudTrail's own words for it). */
export const HIDDEN = 'HIDDEN_DUE_TO_SECURITY_REASONS';

/** Who made a call: the access key's identity, or the local user for a CLI data-dir write. */
export interface AuditActor {
  readonly principal: string;
  readonly role: string;
  readonly accountId: string;
  /** Absent for a CLI write with `--data-dir` (no key is used: the data dir's owner acts). */
  readonly accessKeyId?: string;
  /** The credentials profile (CloudTrail's `userName`). */
  readonly userName: string;
}

/** CloudTrail's `userIdentity`, with Weir's `principal` and `role` beside its fields. */
export interface AuditUserIdentity {
  readonly type: 'IAMUser';
  readonly principalId: string;
  readonly arn: string;
  readonly accountId: string;
  readonly accessKeyId?: string;
  readonly userName: string;
  readonly principal: string;
  readonly role: string;
}

/** One audit event, in CloudTrail's record shape (eventVersion 1.08). */
export interface AuditEvent {
  readonly eventVersion: string;
  readonly eventTime: string;
  readonly eventSource: string;
  readonly eventName: string;
  readonly awsRegion: string;
  readonly userIdentity: AuditUserIdentity;
  readonly sourceIPAddress: string;
  readonly userAgent: string;
  readonly requestParameters: Json;
  readonly responseElements: Json;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  readonly requestID: string;
  readonly eventID: string;
  readonly readOnly: boolean;
  readonly eventType: 'AwsApiCall';
  readonly managementEvent: true;
  readonly recipientAccountId: string;
}

/** What a call is, known before it runs (parameters already without secrets: {@link redact}). */
export interface AuditCall {
  readonly eventSource: string;
  readonly eventName: string;
  readonly region: string;
  readonly actor: AuditActor;
  readonly sourceIPAddress: string;
  readonly userAgent: string;
  readonly requestParameters: Json;
  readonly requestId: string;
  readonly readOnly: boolean;
}

/** How a call ended: what it created, or the error it answered. */
export interface AuditOutcome {
  readonly responseElements?: Json;
  readonly errorCode?: string;
  readonly errorMessage?: string;
}

/** CloudTrail writes times to the second, `2026-12-06T10:00:00Z`. */
const cloudTrailTime = (d: Date): string => `${d.toISOString().slice(0, 19)}Z`;

/** Builds the event of `call` ending as `outcome` at `now`. */
export function auditEvent(
  call: AuditCall,
  outcome: AuditOutcome,
  now: Date,
  eventId = randomUUID(),
): AuditEvent {
  const a = call.actor;
  return {
    eventVersion: EVENT_VERSION,
    eventTime: cloudTrailTime(now),
    eventSource: call.eventSource,
    eventName: call.eventName,
    awsRegion: call.region,
    userIdentity: {
      type: 'IAMUser',
      // STS GetCallerIdentity answers the access key ID as UserId; the two agree.
      principalId: a.accessKeyId ?? a.principal,
      arn: `arn:aws:iam::${a.accountId}:user/${a.userName}`,
      accountId: a.accountId,
      ...(a.accessKeyId !== undefined ? { accessKeyId: a.accessKeyId } : {}),
      userName: a.userName,
      principal: a.principal,
      role: a.role,
    },
    sourceIPAddress: call.sourceIPAddress,
    userAgent: call.userAgent,
    requestParameters: call.requestParameters,
    responseElements: outcome.responseElements ?? null,
    ...(outcome.errorCode !== undefined ? { errorCode: outcome.errorCode } : {}),
    ...(outcome.errorMessage !== undefined ? { errorMessage: cut(outcome.errorMessage, 1024) } : {}),
    requestID: call.requestId,
    eventID: eventId,
    readOnly: call.readOnly,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: a.accountId,
  };
}

/**
 * SHA-256 (hex) of a record's canonical form: `canonicalJson({ seq, prevHash, event })`. The
 * seq is inside, so a record moved to another place no longer matches its hash.
 */
export function recordHash(seq: number, prevHash: string, event: Json | AuditEvent): string {
  return hashOfCanonicalEvent(seq, prevHash, canonicalJson(event));
}

/**
 * {@link recordHash} for an event already in canonical form: the same bytes, since the keys
 * `event` < `prevHash` < `seq` are already in canonical order. Every write appends a record, so
 * serialising the event once instead of twice is a sixth of the append's CPU.
 */
function hashOfCanonicalEvent(seq: number, prevHash: string, canonicalEvent: string): string {
  const text = `{"event":${canonicalEvent},"prevHash":${JSON.stringify(prevHash)},"seq":${canonicalJson(seq)}}`;
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Appends `event` to the chain in the caller's transaction: read the tip, link to it, hash,
 * insert. Called inside the change's own transaction, so both commit or neither does.
 */
export async function appendAudit(
  tx: Pick<StoreTx, 'lastAuditRecord' | 'appendAuditRecord'>,
  event: AuditEvent,
): Promise<AuditRecord> {
  const tip = await tx.lastAuditRecord();
  const seq = (tip?.seq ?? 0) + 1;
  const prevHash = tip?.hash ?? GENESIS_HASH;
  const canonical = canonicalJson(event);
  const record: AuditRecord = {
    seq,
    prevHash,
    hash: hashOfCanonicalEvent(seq, prevHash, canonical),
    event: canonical,
    eventTime: new Date(Date.parse(event.eventTime)),
    eventName: event.eventName,
    principal: event.userIdentity.principal,
    eventId: event.eventID,
  };
  await tx.appendAuditRecord(record);
  return record;
}

const cut = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max)}…`);

/**
 * Whether a parameter name names a secret. The audit trail must never hold one: no token text
 * (a bearer token is the workload's egress rights), no secret access key, no one-time code or
 * TOTP secret, no password. Matched by name so that routes added later are covered unseen.
 */
export function isSecretName(name: string): boolean {
  const n = name.toLowerCase();
  return (
    n === 'token' ||
    n === 'otp' ||
    n === 'code' ||
    n.endsWith('token') ||
    n.includes('secret') ||
    n.includes('password') ||
    n.includes('totp') ||
    n.includes('privatekey')
  );
}

/** Largest `requestParameters`, in canonical bytes; larger ones are replaced by a note of the size. */
const MAX_PARAMETERS_BYTES = 64 << 10;

/**
 * `params` as `requestParameters`: secrets replaced by {@link HIDDEN} at any depth, long strings
 * cut, and the whole bounded (a peer's 1 MiB request must not become a 1 MiB record per call).
 */
export function redact(params: unknown): Json {
  const walk = (v: unknown, depth: number): Json => {
    if (v === null || v === undefined) return null;
    if (typeof v === 'string') return cut(v, 2048);
    if (typeof v === 'number') return Number.isFinite(v) ? v : null;
    if (typeof v === 'boolean') return v;
    if (v instanceof Date) return v.toISOString();
    if (Buffer.isBuffer(v)) return { bytes: v.length };
    if (depth > 8) return '…';
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    if (typeof v === 'object') {
      const out: Record<string, Json> = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if (x === undefined) continue;
        out[k] = isSecretName(k) ? HIDDEN : walk(x, depth + 1);
      }
      return out;
    }
    return null;
  };
  const out = walk(params, 0);
  // The canonical form has the same characters as JSON.stringify's, in another key order (`out`
  // holds only JSON values), so the native serialiser measures it.
  const size = Buffer.byteLength(JSON.stringify(out));
  return size <= MAX_PARAMETERS_BYTES ? out : { weirTruncated: true, bytes: size };
}

/** How far back `--since 2h` reaches: a number and s|m|h|d. */
const SINCE_DURATION = /^([1-9][0-9]{0,8})(s|m|h|d)$/;

/**
 * `--since` / `since=`: an ISO 8601 time (`2026-12-06T10:00:00Z`), or a duration back from
 * `now` (`90m`, `24h`, `7d`); undefined when it is neither.
 */
export function parseSince(text: string, now: Date): Date | undefined {
  const m = SINCE_DURATION.exec(text);
  if (m !== null) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now.getTime() - Number(m[1]) * unit);
  }
  if (!/^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) return undefined;
  const t = Date.parse(text);
  return Number.isNaN(t) ? undefined : new Date(t);
}
