/**
 * @module store/postgres/store — the PostgreSQL `Store`: a `pg` pool, write transactions under
 * one database-wide lock, read-only ones on a snapshot beside them, and a change event after each
 * write that commits (here at once; on other nodes through the change log and LISTEN/NOTIFY).
 *
 * Why one write lock (a transaction-scoped advisory lock every write transaction takes first)
 * rather than SERIALIZABLE with retry: every API write appends to the one audit chain, so any
 * two concurrent writes conflict at its tip anyway; under SERIALIZABLE one of each pair would
 * fail with 40001 and run again, a retry storm under load where the lock just queues them. It
 * also makes the checks the API does in a transaction (duplicates, quotas, references, the TOTP
 * step) hold across nodes without a retry loop re-running `fn`, keeps `change_log` rows visible
 * in seq order (the feed's catch-up relies on it), and cannot deadlock (one lock, taken first).
 * The writes themselves then run READ COMMITTED: with no other writer between the lock and the
 * commit, each statement sees everything committed before. Reads take no lock: REPEATABLE READ
 * READ ONLY gives each a consistent snapshot and never waits for a writer.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { PoolClient } from 'pg';
import type { Scope } from '../../model/index.js';
import type { ChangeEvent, Store, StoreTx } from '../types.js';
import { PgChangeFeed, CHANNEL } from './change-feed.js';
import { LOCK_NAMESPACE, WRITE_LOCK } from './connection.js';
import { PgDecisionTables } from './decisions.js';

const BEGIN_WRITE = `BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(${LOCK_NAMESPACE}, ${WRITE_LOCK})`;

/** How many `change_log` rows to keep: a node away for longer gets one "everything changed" event. */
const CHANGE_LOG_KEEP = 10_000;

/** What the store is built from (openPostgresStore makes them). */
export interface PostgresStoreParts {
  readonly pool: pg.Pool;
  readonly url: string;
  readonly now: () => Date;
  /** `change_log`'s last seq when the store opened. */
  readonly afterSeq: number;
  readonly beforeReconnect?: () => Promise<void>;
}

/** The PostgreSQL `Store`. */
export class PostgresStore implements Store {
  /** This store's name in `change_log` (random: two stores in one process are two origins). */
  readonly origin = randomBytes(8).toString('hex');
  private readonly pool: pg.Pool;
  private readonly now: () => Date;
  private readonly feed: PgChangeFeed;
  /**
   * Write transactions of this store, one at a time: they would queue on the write lock anyway,
   * and queueing here keeps their order and spares pool connections that would only wait.
   */
  private writes: Promise<unknown> = Promise.resolve();
  private readonly running = new Set<Promise<unknown>>();
  private closed = false;

  constructor(parts: PostgresStoreParts) {
    this.pool = parts.pool;
    this.now = parts.now;
    this.feed = new PgChangeFeed({
      url: parts.url,
      origin: this.origin,
      afterSeq: parts.afterSeq,
      now: parts.now,
      ...(parts.beforeReconnect ? { beforeReconnect: parts.beforeReconnect } : {}),
    });
  }

  transaction<T>(
    scope: Scope | undefined,
    fn: (tx: StoreTx) => Promise<T>,
    opts?: { readonly readOnly?: boolean },
  ): Promise<T> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    let p: Promise<T>;
    if (opts?.readOnly === true) {
      p = this.read(fn);
    } else {
      const run = () => this.write(scope, fn);
      p = this.writes.then(run, run);
      this.writes = p.catch(() => undefined);
    }
    this.running.add(p);
    const forget = () => void this.running.delete(p);
    p.then(forget, forget);
    return p;
  }

  private async read<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.withClient(async (client) => {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const result = await fn(new PostgresTx(client));
      await client.query('COMMIT');
      return result;
    });
  }

  private async write<T>(scope: Scope | undefined, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    const tx = await this.withClient(async (client) => {
      // One round trip for both (the simple protocol takes several statements; the keys are ours).
      await client.query(BEGIN_WRITE);
      const tx = new PostgresTx(client);
      const result = await fn(tx);
      const told = scope !== undefined || tx.written.size > 0;
      if (told) await this.logChange(client, scope, tx);
      const done = await client.query('COMMIT');
      // COMMIT of a transaction a swallowed error aborted answers ROLLBACK, not an error.
      if (done.command !== 'COMMIT') throw new Error('the transaction was rolled back by an earlier error');
      return { tx, result, told };
    });
    if (tx.told) {
      this.feed.emit({
        scope,
        at: this.now(),
        kinds: [...tx.tx.written],
        groupIds: [...tx.tx.writtenGroups],
        prefixListIds: [...tx.tx.writtenPrefixLists],
      });
    }
    return tx.result;
  }

  /** The transaction's row in the change log, and the NOTIFY that PostgreSQL sends as it commits. */
  private async logChange(client: PoolClient, scope: Scope | undefined, tx: PostgresTx): Promise<void> {
    const res = await client.query<{ seq: number }>({
      name: 'weir_change_log',
      text: `WITH c AS (
               INSERT INTO change_log (origin, account_id, region, kinds, group_ids, prefix_list_ids, at)
               VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq)
             SELECT seq, pg_notify('${CHANNEL}', seq::text) FROM c`,
      values: [
        this.origin,
        scope?.accountId ?? null,
        scope?.region ?? null,
        [...tx.written],
        [...tx.writtenGroups],
        [...tx.writtenPrefixLists],
        this.now(),
      ],
    });
    const seq = Number(res.rows[0]?.seq ?? 0);
    if (seq % 1000 === 0) {
      await client.query('DELETE FROM change_log WHERE seq <= $1', [seq - CHANGE_LOG_KEEP]);
    }
  }

  /** Runs `fn` on a pool connection, rolling back on failure; a connection that failed is dropped. */
  private async withClient<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      return await fn(client);
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        broken = rollbackErr as Error;
      }
      throw err;
    } finally {
      client.release(broken);
    }
  }

  subscribe(listener: (event: ChangeEvent) => void): () => void {
    return this.feed.subscribe(listener);
  }

  /** Resolves once the change feed listens and has caught up (tests; a server need not wait). */
  feedReady(): Promise<void> {
    return this.feed.ready();
  }

  async close(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
    if (this.closed) return;
    this.closed = true;
    this.feed.stop();
    await this.pool.end();
  }
}

/**
 * The `StoreTx` of one transaction, on its connection. Its methods come in layers, one file per
 * group of tables (tx-core: queries, write notes and tags; ec2-tables; rules-groups; weir-tables; onramp-tables;
 * decisions),
 * each calling only those below it, as the SQLite driver's.
 */
class PostgresTx extends PgDecisionTables implements StoreTx {}
