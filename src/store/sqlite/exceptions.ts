/**
 * @module store/sqlite/exceptions — exception records (`weir exception`) in the SQLite `StoreTx`
 * (migration 8): one row per request, updated in place as it is approved, denied or revoked.
 */
import type { ExceptionQuery, ExceptionRecord, ExceptionState } from '../types.js';
import type { Row } from './tx-core.js';
import { AuditTables } from './audit.js';

const COLUMNS =
  'exception_id, identity, destinations, reason, data_class, ttl_ms, window_start, window_end, requester, ' +
  'requested_at, state, decided_by, decided_at, comment, expires, revoked_by, revoked_at, revoke_reason';

const time = (d: Date | undefined): number | null => (d === undefined ? null : d.getTime());

/** The row's values, in {@link COLUMNS} order. */
function values(e: ExceptionRecord): unknown[] {
  return [
    e.id,
    e.identity,
    JSON.stringify(e.destinations),
    e.reason,
    e.dataClass ?? null,
    e.ttlMs,
    time(e.window?.start),
    time(e.window?.end),
    e.requester,
    e.requestedAt.getTime(),
    e.state,
    e.decidedBy ?? null,
    time(e.decidedAt),
    e.comment ?? null,
    time(e.expires),
    e.revokedBy ?? null,
    time(e.revokedAt),
    e.revokeReason ?? null,
  ];
}

function record(r: Row): ExceptionRecord {
  const str = (k: string): string | undefined => (r[k] === null ? undefined : (r[k] as string));
  const date = (k: string): Date | undefined => (r[k] === null ? undefined : new Date(r[k] as number));
  const optional = {
    dataClass: str('data_class'),
    decidedBy: str('decided_by'),
    decidedAt: date('decided_at'),
    comment: str('comment'),
    expires: date('expires'),
    revokedBy: str('revoked_by'),
    revokedAt: date('revoked_at'),
    revokeReason: str('revoke_reason'),
  };
  const start = date('window_start');
  const end = date('window_end');
  return {
    id: r['exception_id'] as string,
    identity: r['identity'] as string,
    destinations: JSON.parse(r['destinations'] as string) as string[],
    reason: r['reason'] as string,
    ttlMs: r['ttl_ms'] as number,
    requester: r['requester'] as string,
    requestedAt: new Date(r['requested_at'] as number),
    state: r['state'] as ExceptionState,
    ...(start !== undefined && end !== undefined ? { window: { start, end } } : {}),
    // exactOptionalPropertyTypes: absent, never `undefined`.
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
  };
}

/** Exception records, above the Weir tables. */
export abstract class ExceptionTables extends AuditTables {
  async insertException(e: ExceptionRecord): Promise<void> {
    this.st(
      `INSERT INTO exceptions (${COLUMNS}) VALUES (${COLUMNS.split(',')
        .map(() => '?')
        .join(', ')})`,
    ).run(...values(e));
    this.written.add('exceptions');
  }

  async getException(id: string): Promise<ExceptionRecord | undefined> {
    const r = this.st(`SELECT ${COLUMNS} FROM exceptions WHERE exception_id = ?`).get(id) as Row | undefined;
    return r === undefined ? undefined : record(r);
  }

  async listExceptions(q?: ExceptionQuery): Promise<ExceptionRecord[]> {
    let sql = `SELECT ${COLUMNS} FROM exceptions WHERE 1 = 1`;
    const args: unknown[] = [];
    if (q?.identity !== undefined) {
      sql += ' AND identity = ?';
      args.push(q.identity);
    }
    if (q?.states !== undefined) {
      if (q.states.length === 0) return [];
      sql += ` AND state IN (${q.states.map(() => '?').join(', ')})`;
      args.push(...q.states);
    }
    const rows = this.st(`${sql} ORDER BY seq`).all(...args) as Row[];
    return rows.map(record);
  }

  async updateException(e: ExceptionRecord): Promise<boolean> {
    const [, ...rest] = values(e);
    const set = COLUMNS.split(', ')
      .slice(1)
      .map((c) => `${c} = ?`)
      .join(', ');
    const changed = this.st(`UPDATE exceptions SET ${set} WHERE exception_id = ?`).run(...rest, e.id);
    if (changed.changes === 0) return false;
    this.written.add('exceptions');
    return true;
  }
}
