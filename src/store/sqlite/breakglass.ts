/**
 * @module store/sqlite/breakglass — break-glass sessions and drills, and the TOTP time steps each
 * principal has used (so no one-time code is accepted twice), in the SQLite `StoreTx`.
 */
import type { BreakglassClose, BreakglassSession } from '../types.js';
import type { Row } from './tx-core.js';
import { NotifyTables } from './notify-tables.js';

const COLUMNS =
  'session_id, identity, destinations, reason, principal, opened_at, expires, drill, closed_at, closed_by, close_reason';

/** Break-glass sessions and used one-time codes (server-wide). */
export abstract class BreakglassTables extends NotifyTables {
  async useTotpStep(principal: string, step: number, at: Date): Promise<boolean> {
    // Inside the caller's serializable transaction: no second request can slip between the
    // read of the last step and the insert, so two requests with one code cannot both pass.
    const last = this.st('SELECT MAX(step) FROM breakglass_totp_used WHERE principal = ?')
      .pluck()
      .get(principal) as number | null;
    if (last !== null && step <= last) return false;
    this.st('INSERT INTO breakglass_totp_used (principal, step, used_at) VALUES (?, ?, ?)').run(
      principal,
      step,
      at.getTime(),
    );
    this.written.add('breakglass');
    return true;
  }

  async insertBreakglassSession(s: BreakglassSession): Promise<void> {
    this.st(`INSERT INTO breakglass_sessions (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
      s.id,
      s.identity,
      JSON.stringify(s.destinations),
      s.reason,
      s.principal,
      s.openedAt.getTime(),
      s.expires.getTime(),
      s.drill ? 1 : 0,
      s.closedAt?.getTime() ?? null,
      s.closedBy ?? null,
      s.closeReason ?? null,
    );
    this.written.add('breakglass');
  }

  async getBreakglassSession(id: string): Promise<BreakglassSession | undefined> {
    const r = this.st(`SELECT ${COLUMNS} FROM breakglass_sessions WHERE session_id = ?`).get(id) as
      Row | undefined;
    return r === undefined ? undefined : sessionOf(r);
  }

  async listBreakglassSessions(q?: { readonly openAt?: Date }): Promise<BreakglassSession[]> {
    const rows = (
      q?.openAt === undefined
        ? this.st(`SELECT ${COLUMNS} FROM breakglass_sessions ORDER BY seq`).all()
        : this.st(
            `SELECT ${COLUMNS} FROM breakglass_sessions WHERE closed_at IS NULL AND drill = 0 AND expires > ? ORDER BY seq`,
          ).all(q.openAt.getTime())
    ) as Row[];
    return rows.map(sessionOf);
  }

  async closeBreakglassSession(id: string, close: BreakglassClose): Promise<boolean> {
    const changed = this.st(
      `UPDATE breakglass_sessions SET closed_at = ?, closed_by = ?, close_reason = ?
       WHERE session_id = ? AND closed_at IS NULL`,
    ).run(close.at.getTime(), close.by, close.reason ?? null, id);
    if (changed.changes === 0) return false;
    this.written.add('breakglass');
    return true;
  }
}

function sessionOf(r: Row): BreakglassSession {
  const closedAt = r['closed_at'] as number | null;
  const closedBy = r['closed_by'] as string | null;
  const closeReason = r['close_reason'] as string | null;
  return {
    id: r['session_id'] as string,
    identity: r['identity'] as string,
    destinations: JSON.parse(r['destinations'] as string) as string[],
    reason: r['reason'] as string,
    principal: r['principal'] as string,
    openedAt: new Date(r['opened_at'] as number),
    expires: new Date(r['expires'] as number),
    drill: r['drill'] === 1,
    ...(closedAt !== null ? { closedAt: new Date(closedAt) } : {}),
    ...(closedBy !== null ? { closedBy } : {}),
    ...(closeReason !== null ? { closeReason } : {}),
  };
}
