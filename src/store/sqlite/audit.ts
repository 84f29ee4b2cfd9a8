/**
 * @module store/sqlite/audit — the audit trail's tables in the SQLite `StoreTx`: hash-chained
 * records and signed digests, append-only (migration 10 adds triggers refusing UPDATE and
 * DELETE). What the hashes and signatures are is the audit component's; this layer stores them.
 */
import type { AuditDigest, AuditQuery, AuditRecord } from '../types.js';
import type { Row } from './tx-core.js';
import { BreakglassTables } from './breakglass.js';

/** Audit records and digests. */
export abstract class AuditTables extends BreakglassTables {
  async lastAuditRecord(): Promise<{ seq: number; hash: string } | undefined> {
    const r = this.st('SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1').get() as
      Row | undefined;
    return r === undefined ? undefined : { seq: r['seq'] as number, hash: r['hash'] as string };
  }

  async appendAuditRecord(r: AuditRecord): Promise<void> {
    // One statement: the insert happens only where the record follows the last one (MAX on the
    // rowid is a single lookup), so a gap or a taken place fails without reading the tip again —
    // the caller read it already, in this transaction, to link the hash.
    const added = this.st(
      `INSERT INTO audit_records (seq, prev_hash, hash, event, event_time, event_name, principal, event_id)
       SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE (SELECT COALESCE(MAX(seq), 0) FROM audit_records) = ? - 1`,
    ).run(
      r.seq,
      r.prevHash,
      r.hash,
      r.event,
      r.eventTime.getTime(),
      r.eventName,
      r.principal,
      r.eventId,
      r.seq,
    );
    if (added.changes !== 1) {
      const last = (await this.lastAuditRecord())?.seq ?? 0;
      throw new Error(`audit record seq ${r.seq} does not follow ${last}`);
    }
  }

  async listAuditRecords(q: AuditQuery = {}): Promise<AuditRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.afterSeq !== undefined) {
      where.push('seq > ?');
      args.push(q.afterSeq);
    }
    if (q.since !== undefined) {
      where.push('event_time >= ?');
      args.push(q.since.getTime());
    }
    if (q.principal !== undefined) {
      where.push('principal = ?');
      args.push(q.principal);
    }
    if (q.eventName !== undefined) {
      where.push('event_name = ?');
      args.push(q.eventName);
    }
    let sql = 'SELECT * FROM audit_records';
    if (where.length > 0) sql += ` WHERE ${where.join(' AND ')}`;
    sql += ' ORDER BY seq';
    if (q.limit !== undefined) {
      sql += ' LIMIT ?';
      args.push(q.limit);
    }
    return (this.st(sql).all(...args) as Row[]).map((r) => ({
      seq: r['seq'] as number,
      prevHash: r['prev_hash'] as string,
      hash: r['hash'] as string,
      event: r['event'] as string,
      eventTime: new Date(r['event_time'] as number),
      eventName: r['event_name'] as string,
      principal: r['principal'] as string,
      eventId: r['event_id'] as string,
    }));
  }

  async appendAuditDigest(d: AuditDigest): Promise<void> {
    const last = (this.st('SELECT MAX(seq) FROM audit_digests').pluck().get() as number | null) ?? 0;
    if (d.seq !== last + 1) throw new Error(`audit digest seq ${d.seq} does not follow ${last}`);
    this.st(
      `INSERT INTO audit_digests (seq, last_seq, last_hash, time, previous_signature, key_fingerprint, signature)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(d.seq, d.lastSeq, d.lastHash, d.time.getTime(), d.previousSignature, d.keyFingerprint, d.signature);
  }

  async listAuditDigests(): Promise<AuditDigest[]> {
    return (this.st('SELECT * FROM audit_digests ORDER BY seq').all() as Row[]).map((r) => ({
      seq: r['seq'] as number,
      lastSeq: r['last_seq'] as number,
      lastHash: r['last_hash'] as string,
      time: new Date(r['time'] as number),
      previousSignature: r['previous_signature'] as string | null,
      keyFingerprint: r['key_fingerprint'] as string,
      signature: r['signature'] as string,
    }));
  }
}
