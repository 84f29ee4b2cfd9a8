/**
 * @module store/postgres/onramp-tables — the on-ramp's records in the PostgreSQL `StoreTx`:
 * break-glass sessions and the TOTP steps each principal used, exception records, and the audit
 * trail (hash-chained records and signed digests, append-only by trigger). The contract of
 * src/store/sqlite/{breakglass,exceptions,audit}.ts.
 */
import type {
  AuditDigest,
  AuditQuery,
  AuditRecord,
  BreakglassClose,
  BreakglassSession,
  ExceptionQuery,
  ExceptionRecord,
  ExceptionState,
} from '../types.js';
import type { Row } from './tx-core.js';
import { PgNotifyTables } from './weir-tables.js';

/**
 * Columns named, never `*`: a statement prepared on a connection fails ("cached plan must not
 * change result type") once another node's newer migration adds a column to its table.
 */
const AUDIT_DIGEST_COLUMNS = 'seq, last_seq, last_hash, time, previous_signature, key_fingerprint, signature';
const AUDIT_RECORD_COLUMNS = 'seq, prev_hash, hash, event, event_time, event_name, principal, event_id';

const SESSION_COLUMNS =
  'session_id, identity, destinations, reason, principal, opened_at, expires, drill, closed_at, closed_by, close_reason';

const EXCEPTION_COLUMNS = [
  'exception_id',
  'identity',
  'destinations',
  'reason',
  'data_class',
  'ttl_ms',
  'window_start',
  'window_end',
  'requester',
  'requested_at',
  'state',
  'decided_by',
  'decided_at',
  'comment',
  'expires',
  'revoked_by',
  'revoked_at',
  'revoke_reason',
] as const;

/** Break-glass sessions and used one-time codes (server-wide). */
abstract class PgBreakglassTables extends PgNotifyTables {
  async useTotpStep(principal: string, step: number, at: Date): Promise<boolean> {
    // Under the write lock (store.ts): no second request can slip between the read of the last
    // step and the insert, on this node or another, so two requests with one code cannot both pass.
    const last = await this.one<number | null>(
      'SELECT MAX(step) FROM breakglass_totp_used WHERE principal = $1',
      [principal],
    );
    if (last !== null && last !== undefined && step <= last) return false;
    await this.run('INSERT INTO breakglass_totp_used (principal, step, used_at) VALUES ($1, $2, $3)', [
      principal,
      step,
      at,
    ]);
    this.written.add('breakglass');
    return true;
  }

  async insertBreakglassSession(s: BreakglassSession): Promise<void> {
    await this.run(
      `INSERT INTO breakglass_sessions (${SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        s.id,
        s.identity,
        s.destinations,
        s.reason,
        s.principal,
        s.openedAt,
        s.expires,
        s.drill,
        s.closedAt ?? null,
        s.closedBy ?? null,
        s.closeReason ?? null,
      ],
    );
    this.written.add('breakglass');
  }

  async getBreakglassSession(id: string): Promise<BreakglassSession | undefined> {
    const r = (
      await this.q(`SELECT ${SESSION_COLUMNS} FROM breakglass_sessions WHERE session_id = $1`, [id])
    )[0];
    return r === undefined ? undefined : sessionOf(r);
  }

  async listBreakglassSessions(q?: { readonly openAt?: Date }): Promise<BreakglassSession[]> {
    const rows = await this.q(
      `SELECT ${SESSION_COLUMNS} FROM breakglass_sessions
       WHERE $1::timestamptz IS NULL OR (closed_at IS NULL AND NOT drill AND expires > $1::timestamptz) ORDER BY seq`,
      [q?.openAt ?? null],
    );
    return rows.map(sessionOf);
  }

  async closeBreakglassSession(id: string, close: BreakglassClose): Promise<boolean> {
    const changed = await this.run(
      `UPDATE breakglass_sessions SET closed_at = $1, closed_by = $2, close_reason = $3
       WHERE session_id = $4 AND closed_at IS NULL`,
      [close.at, close.by, close.reason ?? null, id],
    );
    if (changed === 0) return false;
    this.written.add('breakglass');
    return true;
  }
}

function sessionOf(r: Row): BreakglassSession {
  const closedAt = r['closed_at'] as Date | null;
  const closedBy = r['closed_by'] as string | null;
  const closeReason = r['close_reason'] as string | null;
  return {
    id: r['session_id'] as string,
    identity: r['identity'] as string,
    destinations: r['destinations'] as string[],
    reason: r['reason'] as string,
    principal: r['principal'] as string,
    openedAt: r['opened_at'] as Date,
    expires: r['expires'] as Date,
    drill: r['drill'] === true,
    ...(closedAt !== null ? { closedAt } : {}),
    ...(closedBy !== null ? { closedBy } : {}),
    ...(closeReason !== null ? { closeReason } : {}),
  };
}

/** The row's values, in {@link EXCEPTION_COLUMNS} order. */
function exceptionValues(e: ExceptionRecord): unknown[] {
  return [
    e.id,
    e.identity,
    e.destinations,
    e.reason,
    e.dataClass ?? null,
    e.ttlMs,
    e.window?.start ?? null,
    e.window?.end ?? null,
    e.requester,
    e.requestedAt,
    e.state,
    e.decidedBy ?? null,
    e.decidedAt ?? null,
    e.comment ?? null,
    e.expires ?? null,
    e.revokedBy ?? null,
    e.revokedAt ?? null,
    e.revokeReason ?? null,
  ];
}

function exceptionOf(r: Row): ExceptionRecord {
  const optional = {
    dataClass: r['data_class'],
    decidedBy: r['decided_by'],
    decidedAt: r['decided_at'],
    comment: r['comment'],
    expires: r['expires'],
    revokedBy: r['revoked_by'],
    revokedAt: r['revoked_at'],
    revokeReason: r['revoke_reason'],
  };
  const start = r['window_start'] as Date | null;
  const end = r['window_end'] as Date | null;
  return {
    id: r['exception_id'] as string,
    identity: r['identity'] as string,
    destinations: r['destinations'] as string[],
    reason: r['reason'] as string,
    ttlMs: r['ttl_ms'] as number,
    requester: r['requester'] as string,
    requestedAt: r['requested_at'] as Date,
    state: r['state'] as ExceptionState,
    ...(start !== null && end !== null ? { window: { start, end } } : {}),
    // exactOptionalPropertyTypes: absent, never `undefined` or null.
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== null && v !== undefined)),
  };
}

/** Exception records. */
abstract class PgExceptionTables extends PgBreakglassTables {
  async insertException(e: ExceptionRecord): Promise<void> {
    await this.run(
      `INSERT INTO exceptions (${EXCEPTION_COLUMNS.join(', ')})
       VALUES (${EXCEPTION_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`,
      exceptionValues(e),
    );
    this.written.add('exceptions');
  }

  async getException(id: string): Promise<ExceptionRecord | undefined> {
    const r = (
      await this.q(`SELECT ${EXCEPTION_COLUMNS.join(', ')} FROM exceptions WHERE exception_id = $1`, [id])
    )[0];
    return r === undefined ? undefined : exceptionOf(r);
  }

  async listExceptions(q?: ExceptionQuery): Promise<ExceptionRecord[]> {
    if (q?.states !== undefined && q.states.length === 0) return [];
    const rows = await this.q(
      `SELECT ${EXCEPTION_COLUMNS.join(', ')} FROM exceptions
       WHERE ($1::text IS NULL OR identity = $1::text) AND ($2::text[] IS NULL OR state = ANY($2::text[]))
       ORDER BY seq`,
      [q?.identity ?? null, q?.states ?? null],
    );
    return rows.map(exceptionOf);
  }

  async updateException(e: ExceptionRecord): Promise<boolean> {
    const [id, ...rest] = exceptionValues(e);
    const set = EXCEPTION_COLUMNS.slice(1)
      .map((c, i) => `${c} = $${i + 1}`)
      .join(', ');
    const changed = await this.run(
      `UPDATE exceptions SET ${set} WHERE exception_id = $${EXCEPTION_COLUMNS.length}`,
      [...rest, id],
    );
    if (changed === 0) return false;
    this.written.add('exceptions');
    return true;
  }
}

/** Audit records and digests. */
export abstract class PgAuditTables extends PgExceptionTables {
  async lastAuditRecord(): Promise<{ seq: number; hash: string } | undefined> {
    const r = (await this.q('SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1'))[0];
    return r === undefined ? undefined : { seq: r['seq'] as number, hash: r['hash'] as string };
  }

  async appendAuditRecord(r: AuditRecord): Promise<void> {
    // One statement: the insert happens only where the record follows the last one, so a gap or
    // a taken place fails without reading the tip again. With several nodes the write lock keeps
    // the tip from moving under a transaction; were it ever bypassed, the primary key on seq
    // still refuses a second record at one place (the chain cannot fork).
    const added = await this.run(
      `INSERT INTO audit_records (seq, prev_hash, hash, event, event_time, event_name, principal, event_id)
       SELECT $1::bigint, $2::text, $3::text, $4::text, $5::timestamptz, $6::text, $7::text, $8::text
       WHERE (SELECT COALESCE(MAX(seq), 0) FROM audit_records) = $1::bigint - 1`,
      [r.seq, r.prevHash, r.hash, r.event, r.eventTime, r.eventName, r.principal, r.eventId],
    );
    if (added !== 1) {
      const last = (await this.lastAuditRecord())?.seq ?? 0;
      throw new Error(`audit record seq ${r.seq} does not follow ${last}`);
    }
  }

  async listAuditRecords(q: AuditQuery = {}): Promise<AuditRecord[]> {
    const rows = await this.q(
      `SELECT ${AUDIT_RECORD_COLUMNS} FROM audit_records
       WHERE ($1::bigint IS NULL OR seq > $1::bigint) AND ($2::timestamptz IS NULL OR event_time >= $2::timestamptz)
         AND ($3::text IS NULL OR principal = $3::text) AND ($4::text IS NULL OR event_name = $4::text)
       ORDER BY seq LIMIT $5::bigint`,
      [q.afterSeq ?? null, q.since ?? null, q.principal ?? null, q.eventName ?? null, q.limit ?? null],
    );
    return rows.map((r) => ({
      seq: r['seq'] as number,
      prevHash: r['prev_hash'] as string,
      hash: r['hash'] as string,
      event: r['event'] as string,
      eventTime: r['event_time'] as Date,
      eventName: r['event_name'] as string,
      principal: r['principal'] as string,
      eventId: r['event_id'] as string,
    }));
  }

  async appendAuditDigest(d: AuditDigest): Promise<void> {
    const last = (await this.one<number | null>('SELECT MAX(seq) FROM audit_digests')) ?? 0;
    if (d.seq !== last + 1) throw new Error(`audit digest seq ${d.seq} does not follow ${last}`);
    await this.run(
      `INSERT INTO audit_digests (seq, last_seq, last_hash, time, previous_signature, key_fingerprint, signature)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [d.seq, d.lastSeq, d.lastHash, d.time, d.previousSignature, d.keyFingerprint, d.signature],
    );
  }

  async listAuditDigests(): Promise<AuditDigest[]> {
    return (await this.q(`SELECT ${AUDIT_DIGEST_COLUMNS} FROM audit_digests ORDER BY seq`)).map((r) => ({
      seq: r['seq'] as number,
      lastSeq: r['last_seq'] as number,
      lastHash: r['last_hash'] as string,
      time: r['time'] as Date,
      previousSignature: r['previous_signature'] as string | null,
      keyFingerprint: r['key_fingerprint'] as string,
      signature: r['signature'] as string,
    }));
  }
}
