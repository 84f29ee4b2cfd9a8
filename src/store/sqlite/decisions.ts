/**
 * @module store/sqlite/decisions — the gateway's decisions and their per-bucket counters in the
 * SQLite `StoreTx` (migration 12). Appends come in batches from the server's decision writer;
 * nothing here notes a write for the change feed: a decision changes nothing a gateway enforces,
 * and an event per batch would make every reader of the feed re-read the store several times a
 * second.
 */
import type {
  DecisionCount,
  DecisionPeriod,
  DecisionSearch,
  DeniedPairCount,
  NewDecision,
  StoredDecision,
} from '../types.js';
import { OTHER_PAIR } from '../types.js';
import type { Row } from './tx-core.js';
import { ExceptionTables } from './exceptions.js';
import { decisionFromRow, decisionRowValues } from '../decision-rows.js';

const COLUMNS =
  'at, decision_id, decision, reason, identity, src, protocol, host, ip, port, mode, policy, policy_name, ' +
  'rule_id, sg_rule_id, snapshot, guardrail, grant_kind, grant_id, grant_json, node';
const PLACEHOLDERS = COLUMNS.split(',')
  .map(() => '?')
  .join(', ');

/** The row's values, in {@link COLUMNS} order. */
function values(d: NewDecision): unknown[] {
  return decisionRowValues(d, d.at.getTime());
}

const decisionOf = (r: Row): StoredDecision => decisionFromRow(r, new Date(r['at'] as number));

/** Decisions and their counters, above the exception records. */
export abstract class DecisionTables extends ExceptionTables {
  async appendDecisions(rows: readonly NewDecision[]): Promise<void> {
    const insert = this.st(`INSERT INTO decisions (${COLUMNS}) VALUES (${PLACEHOLDERS})`);
    for (const d of rows) insert.run(...values(d));
  }

  async addDecisionCounts(counts: readonly DecisionCount[]): Promise<void> {
    const up = this.st(
      `INSERT INTO decision_counts (bucket, decision, reason, count) VALUES (?, ?, ?, ?)
       ON CONFLICT (bucket, decision, reason) DO UPDATE SET count = count + excluded.count`,
    );
    for (const c of counts) up.run(c.bucket.getTime(), c.decision, c.reason, c.count);
  }

  async addDeniedPairs(pairs: readonly DeniedPairCount[], maxPerBucket: number): Promise<void> {
    const add = this.st(
      `UPDATE denied_pairs SET count = count + ?
       WHERE bucket = ? AND decision = ? AND identity = ? AND destination = ?`,
    );
    const size = this.st('SELECT COUNT(*) FROM denied_pairs WHERE bucket = ?').pluck();
    const insert = this.st(
      `INSERT INTO denied_pairs (bucket, decision, identity, destination, count) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (bucket, decision, identity, destination) DO UPDATE SET count = count + excluded.count`,
    );
    for (const p of pairs) {
      const bucket = p.bucket.getTime();
      if (add.run(p.count, bucket, p.decision, p.identity, p.destination).changes > 0) continue;
      // The "other" row itself is not counted against the cap: it is what the cap falls back to.
      const full = (size.get(bucket) as number) >= maxPerBucket;
      const [identity, destination] = full ? [OTHER_PAIR, OTHER_PAIR] : [p.identity, p.destination];
      insert.run(bucket, p.decision, identity, destination, p.count);
    }
  }

  async listDecisions(q: DecisionSearch): Promise<StoredDecision[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const eq = (column: string, value: unknown): void => {
      where.push(`${column} = ?`);
      args.push(value);
    };
    if (q.identity !== undefined) eq('identity', q.identity);
    if (q.decision !== undefined) eq('decision', q.decision);
    if (q.reason !== undefined) eq('reason', q.reason);
    if (q.destination !== undefined) {
      where.push('(host = ? OR ip = ?)');
      args.push(q.destination, q.destination);
    }
    if (q.since !== undefined) {
      where.push('at >= ?');
      args.push(q.since.getTime());
    }
    if (q.until !== undefined) {
      where.push('at < ?');
      args.push(q.until.getTime());
    }
    if (q.afterSeq !== undefined) {
      where.push('seq > ?');
      args.push(q.afterSeq);
    }
    // The SQL text varies only with which filters are present (at most 2^8 statements cached).
    const sql = `SELECT seq, ${COLUMNS} FROM decisions${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}
       ORDER BY seq DESC LIMIT ?`;
    const rows = this.st(sql).all(...args, q.limit) as Row[];
    return rows.map(decisionOf).reverse();
  }

  async getDecision(decisionId: string): Promise<StoredDecision | undefined> {
    const r = this.st(
      `SELECT seq, ${COLUMNS} FROM decisions WHERE decision_id = ? ORDER BY seq DESC LIMIT 1`,
    ).get(decisionId) as Row | undefined;
    return r === undefined ? undefined : decisionOf(r);
  }

  async lastDecisionSeq(): Promise<number> {
    // AUTOINCREMENT keeps the highest seq ever handed out here, pruned rows included.
    const seq = this.st("SELECT seq FROM sqlite_sequence WHERE name = 'decisions'").pluck().get() as
      number | undefined;
    return seq ?? 0;
  }

  async listDecisionCounts(p: DecisionPeriod): Promise<DecisionCount[]> {
    const rows = this.st(
      `SELECT bucket, decision, reason, count FROM decision_counts WHERE bucket >= ? AND bucket < ?
       ORDER BY bucket, decision, reason`,
    ).all(p.since.getTime(), p.until.getTime()) as Row[];
    return rows.map((r) => ({
      bucket: new Date(r['bucket'] as number),
      decision: r['decision'] as string,
      reason: r['reason'] as string,
      count: r['count'] as number,
    }));
  }

  async topDeniedPairs(
    p: DecisionPeriod & { readonly limit: number; readonly decision?: string },
  ): Promise<DeniedPairCount[]> {
    const byDecision = p.decision !== undefined ? ' AND decision = ?' : '';
    const rows = this.st(
      `SELECT decision, identity, destination, SUM(count) AS total FROM denied_pairs
       WHERE bucket >= ? AND bucket < ?${byDecision}
       GROUP BY decision, identity, destination ORDER BY total DESC, identity, destination LIMIT ?`,
    ).all(
      p.since.getTime(),
      p.until.getTime(),
      ...(p.decision !== undefined ? [p.decision] : []),
      p.limit,
    ) as Row[];
    return rows.map((r) => ({
      bucket: p.since,
      decision: r['decision'] as string,
      identity: r['identity'] as string,
      destination: r['destination'] as string,
      count: r['total'] as number,
    }));
  }

  async pruneDecisions(q: { readonly before: Date; readonly maxRows: number; readonly limit: number }) {
    // Beyond the cap first (by seq, through the primary key), then by age (through the time
    // index): each finds its rows without scanning the ones it keeps.
    const last = await this.lastDecisionSeq();
    let deleted = this.st(
      'DELETE FROM decisions WHERE seq IN (SELECT seq FROM decisions WHERE seq <= ? ORDER BY seq LIMIT ?)',
    ).run(last - q.maxRows, q.limit).changes;
    if (deleted < q.limit) {
      deleted += this.st(
        'DELETE FROM decisions WHERE seq IN (SELECT seq FROM decisions WHERE at < ? ORDER BY at LIMIT ?)',
      ).run(q.before.getTime(), q.limit - deleted).changes;
    }
    return deleted;
  }

  async pruneDecisionCounts(before: Date, limit: number): Promise<number> {
    const t = before.getTime();
    let deleted = this.st(
      `DELETE FROM decision_counts WHERE (bucket, decision, reason) IN
       (SELECT bucket, decision, reason FROM decision_counts WHERE bucket < ? ORDER BY bucket LIMIT ?)`,
    ).run(t, limit).changes;
    if (deleted < limit) {
      deleted += this.st(
        `DELETE FROM denied_pairs WHERE (bucket, decision, identity, destination) IN
         (SELECT bucket, decision, identity, destination FROM denied_pairs WHERE bucket < ? ORDER BY bucket LIMIT ?)`,
      ).run(t, limit - deleted).changes;
    }
    return deleted;
  }
}
