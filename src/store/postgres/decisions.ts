/**
 * @module store/postgres/decisions — the gateway's decisions and their per-bucket counters in the
 * PostgreSQL `StoreTx` (migration 12), the contract of src/store/sqlite/decisions.ts. A batch of
 * decisions is one INSERT (one array per column): the batch writer's round trips stay one per
 * batch. Nothing here notes a write for the change feed, as on SQLite.
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
import { PgAuditTables } from './onramp-tables.js';
import type { Row } from './tx-core.js';
import { decisionFromRow, decisionRowValues } from '../decision-rows.js';

/** Columns with their array types, in {@link values} order. */
const COLUMN_TYPES = [
  ['at', 'timestamptz'],
  ['decision_id', 'text'],
  ['decision', 'text'],
  ['reason', 'text'],
  ['identity', 'text'],
  ['src', 'text'],
  ['protocol', 'text'],
  ['host', 'text'],
  ['ip', 'text'],
  ['port', 'integer'],
  ['mode', 'text'],
  ['policy', 'text'],
  ['policy_name', 'text'],
  ['rule_id', 'text'],
  ['sg_rule_id', 'text'],
  ['snapshot', 'text'],
  ['guardrail', 'text'],
  ['grant_kind', 'text'],
  ['grant_id', 'text'],
  ['grant_json', 'text'],
  ['node', 'text'],
] as const;
const COLUMNS = COLUMN_TYPES.map(([c]) => c).join(', ');

/** The row's values, in {@link COLUMN_TYPES} order. */
function values(d: NewDecision): unknown[] {
  return decisionRowValues(d, d.at);
}

// Every column from one array parameter each; WITH ORDINALITY keeps the batch's order in `seq`.
const INSERT_BATCH = `INSERT INTO decisions (${COLUMNS})
  SELECT ${COLUMNS} FROM unnest(${COLUMN_TYPES.map(([, t], i) => `$${i + 1}::${t}[]`).join(', ')})
    WITH ORDINALITY AS d(${COLUMNS}, n)
  ORDER BY n
  RETURNING seq`;

const decisionOf = (r: Row): StoredDecision => decisionFromRow(r, r['at'] as Date);

/** Decisions and their counters: the top layer, so the whole chain is the `StoreTx`. */
export abstract class PgDecisionTables extends PgAuditTables {
  async appendDecisions(rows: readonly NewDecision[]): Promise<void> {
    if (rows.length === 0) return;
    const all = rows.map(values);
    const columns = COLUMN_TYPES.map((_, i) => all.map((v) => v[i]));
    const added = await this.q(INSERT_BATCH, columns);
    const last = Math.max(...added.map((r) => r['seq'] as number));
    await this.run('UPDATE decisions_last_seq SET seq = GREATEST(seq, $1)', [last]);
  }

  async addDecisionCounts(counts: readonly DecisionCount[]): Promise<void> {
    // One statement per counter: a batch naming one counter twice would fail ON CONFLICT.
    for (const c of counts) {
      await this.run(
        `INSERT INTO decision_counts (bucket, decision, reason, count) VALUES ($1, $2, $3, $4)
         ON CONFLICT (bucket, decision, reason) DO UPDATE SET count = decision_counts.count + excluded.count`,
        [c.bucket, c.decision, c.reason, c.count],
      );
    }
  }

  async addDeniedPairs(pairs: readonly DeniedPairCount[], maxPerBucket: number): Promise<void> {
    for (const p of pairs) {
      const added = await this.run(
        `UPDATE denied_pairs SET count = count + $1
         WHERE bucket = $2 AND decision = $3 AND identity = $4 AND destination = $5`,
        [p.count, p.bucket, p.decision, p.identity, p.destination],
      );
      if (added > 0) continue;
      // The "other" row itself is not counted against the cap: it is what the cap falls back to.
      const size =
        (await this.one<number>('SELECT COUNT(*) FROM denied_pairs WHERE bucket = $1', [p.bucket])) ?? 0;
      const [identity, destination] =
        size >= maxPerBucket ? [OTHER_PAIR, OTHER_PAIR] : [p.identity, p.destination];
      await this.run(
        `INSERT INTO denied_pairs (bucket, decision, identity, destination, count) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (bucket, decision, identity, destination) DO UPDATE SET count = denied_pairs.count + excluded.count`,
        [p.bucket, p.decision, identity, destination, p.count],
      );
    }
  }

  async listDecisions(q: DecisionSearch): Promise<StoredDecision[]> {
    // The SQL names only the filters present (at most 2^7 texts): a filter written as "$n IS NULL
    // OR …" would keep a generic plan from the indexes on a table of a million rows.
    const where: string[] = [];
    const args: unknown[] = [];
    const cond = (sql: (n: string) => string, value: unknown): void => {
      args.push(value);
      where.push(sql(`$${args.length}`));
    };
    if (q.identity !== undefined) cond((n) => `identity = ${n}`, q.identity);
    if (q.decision !== undefined) cond((n) => `decision = ${n}`, q.decision);
    if (q.reason !== undefined) cond((n) => `reason = ${n}`, q.reason);
    if (q.destination !== undefined) cond((n) => `(host = ${n} OR ip = ${n})`, q.destination);
    if (q.since !== undefined) cond((n) => `at >= ${n}`, q.since);
    if (q.until !== undefined) cond((n) => `at < ${n}`, q.until);
    if (q.afterSeq !== undefined) cond((n) => `seq > ${n}`, q.afterSeq);
    args.push(q.limit);
    const rows = await this.q(
      `SELECT seq, ${COLUMNS} FROM decisions${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}
       ORDER BY seq DESC LIMIT $${args.length}`,
      args,
    );
    return rows.map(decisionOf).reverse();
  }

  async getDecision(decisionId: string): Promise<StoredDecision | undefined> {
    const r = (
      await this.q(`SELECT seq, ${COLUMNS} FROM decisions WHERE decision_id = $1 ORDER BY seq DESC LIMIT 1`, [
        decisionId,
      ])
    )[0];
    return r === undefined ? undefined : decisionOf(r);
  }

  async lastDecisionSeq(): Promise<number> {
    return (await this.one<number>('SELECT seq FROM decisions_last_seq')) ?? 0;
  }

  async listDecisionCounts(p: DecisionPeriod): Promise<DecisionCount[]> {
    const rows = await this.q(
      `SELECT bucket, decision, reason, count FROM decision_counts WHERE bucket >= $1 AND bucket < $2
       ORDER BY bucket, decision COLLATE "C", reason COLLATE "C"`,
      [p.since, p.until],
    );
    return rows.map((r) => ({
      bucket: r['bucket'] as Date,
      decision: r['decision'] as string,
      reason: r['reason'] as string,
      count: r['count'] as number,
    }));
  }

  async topDeniedPairs(
    p: DecisionPeriod & { readonly limit: number; readonly decision?: string },
  ): Promise<DeniedPairCount[]> {
    const rows = await this.q(
      `SELECT decision, identity, destination, SUM(count)::bigint AS total FROM denied_pairs
       WHERE bucket >= $1 AND bucket < $2 AND ($3::text IS NULL OR decision = $3::text)
       GROUP BY decision, identity, destination
       ORDER BY total DESC, identity COLLATE "C", destination COLLATE "C" LIMIT $4`,
      [p.since, p.until, p.decision ?? null, p.limit],
    );
    return rows.map((r) => ({
      bucket: p.since,
      decision: r['decision'] as string,
      identity: r['identity'] as string,
      destination: r['destination'] as string,
      count: r['total'] as number,
    }));
  }

  async pruneDecisions(q: { readonly before: Date; readonly maxRows: number; readonly limit: number }) {
    // Beyond the cap first (by seq, through the primary key), then by age (through the time index).
    const last = await this.lastDecisionSeq();
    let deleted = await this.run(
      'DELETE FROM decisions WHERE seq IN (SELECT seq FROM decisions WHERE seq <= $1 ORDER BY seq LIMIT $2)',
      [last - q.maxRows, q.limit],
    );
    if (deleted < q.limit) {
      deleted += await this.run(
        'DELETE FROM decisions WHERE seq IN (SELECT seq FROM decisions WHERE at < $1 ORDER BY at LIMIT $2)',
        [q.before, q.limit - deleted],
      );
    }
    return deleted;
  }

  async pruneDecisionCounts(before: Date, limit: number): Promise<number> {
    let deleted = await this.run(
      `DELETE FROM decision_counts WHERE (bucket, decision, reason) IN
       (SELECT bucket, decision, reason FROM decision_counts WHERE bucket < $1 ORDER BY bucket LIMIT $2)`,
      [before, limit],
    );
    if (deleted < limit) {
      deleted += await this.run(
        `DELETE FROM denied_pairs WHERE (bucket, decision, identity, destination) IN
         (SELECT bucket, decision, identity, destination FROM denied_pairs WHERE bucket < $1 ORDER BY bucket LIMIT $2)`,
        [before, limit - deleted],
      );
    }
    return deleted;
  }
}
