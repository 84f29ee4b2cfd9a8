/**
 * @module store/postgres/open — opening the PostgreSQL store: connect, migrate under the
 * migration lock, note where the change log ends, and hand the pool to the store.
 */
import { createPool, migrate, redactUrl } from './connection.js';
import { PostgresStore } from './store.js';

/** How to open a PostgreSQL store. */
export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` (any libpq-style URL `pg` takes). */
  readonly url: string;
  readonly now?: () => Date;
  /** Connections in the pool (default 10): one writer at a time, the rest for reads. */
  readonly poolSize?: number;
  /** Awaited before the change feed reconnects (tests: to write while the feed is away). */
  readonly beforeFeedReconnect?: () => Promise<void>;
}

/**
 * Opens a store on a PostgreSQL database, applying the migrations it lacks (several nodes may
 * open one database at once: they take turns). Rejects, naming the URL without its password,
 * when the database cannot be reached or migrated.
 */
export async function openPostgresStore(opts: PostgresStoreOptions): Promise<PostgresStore> {
  const pool = createPool(opts.url, opts.poolSize ?? 10);
  let afterSeq: number;
  try {
    const client = await pool.connect();
    try {
      await migrate(client);
      const r = await client.query<{ seq: number }>('SELECT COALESCE(MAX(seq), 0) AS seq FROM change_log');
      afterSeq = Number(r.rows[0]?.seq ?? 0);
    } finally {
      client.release();
    }
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new Error(`cannot open the PostgreSQL store at ${redactUrl(opts.url)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return new PostgresStore({
    pool,
    url: opts.url,
    now: opts.now ?? (() => new Date()),
    afterSeq,
    ...(opts.beforeFeedReconnect ? { beforeReconnect: opts.beforeFeedReconnect } : {}),
  });
}
