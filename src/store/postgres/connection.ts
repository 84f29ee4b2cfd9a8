/**
 * @module store/postgres/connection — the `pg` side of the PostgreSQL store: the pool (with the
 * type parsers Weir's values need), the advisory-lock keys every node agrees on, applying the
 * migrations under one of them, and a URL safe to log.
 */
import pg from 'pg';
import type { PoolClient, PoolConfig } from 'pg';
import { PG_MIGRATIONS } from './migrations.js';
import type { PgMigration } from './migrations.js';

/**
 * Advisory-lock keys (two 32-bit halves): "WEIR" and a purpose. Advisory locks are per database,
 * so two Weir installations in one cluster (two databases) never wait for each other.
 */
export const LOCK_NAMESPACE = 0x57454952;
/** Held (per session) while a node applies migrations. */
export const MIGRATION_LOCK = 1;
/** Held (per transaction) by every write transaction: see store.ts for why one lock. */
export const WRITE_LOCK = 2;

const INT8 = 20;

/**
 * bigint columns (sequence numbers, counts, TTLs) as numbers, as the `Store` contract has them;
 * `pg` hands them over as strings, since a bigint may exceed 2^53. None of ours can in practice,
 * and one that did must not be silently rounded: it fails the query instead.
 */
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`bigint ${text} is beyond what a number holds exactly`);
  return n;
}

const types: NonNullable<PoolConfig['types']> = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format)) as NonNullable<
    PoolConfig['types']
  >['getTypeParser'],
};

/** The pool config of a store on `url`. */
export function poolConfig(url: string, max: number, applicationName: string): PoolConfig {
  return {
    connectionString: url,
    max,
    types,
    application_name: applicationName,
    // A database that does not answer fails the request after 10 s instead of queueing every
    // request behind it for ever; keepalive finds a connection a dead peer left half open.
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
  };
}

/** A new pool; an idle connection's error (the server restarted) is left to the next query. */
export function createPool(url: string, max: number): pg.Pool {
  const pool = new pg.Pool(poolConfig(url, max, 'weir'));
  // Without a listener the error of an idle client would crash the process; the pool drops the
  // client itself, and whoever next needs a connection gets a new one or the real error.
  pool.on('error', () => undefined);
  return pool;
}

/** `url` with its password replaced by `***`, for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/**
 * Applies the migrations the database has not recorded, each in its own transaction, holding
 * the migration lock: two nodes starting together take turns, and the second finds every
 * version recorded. Returns the versions this call applied.
 */
export async function migrate(
  client: PoolClient,
  migrations: readonly PgMigration[] = PG_MIGRATIONS,
): Promise<number[]> {
  await client.query('SELECT pg_advisory_lock($1, $2)', [LOCK_NAMESPACE, MIGRATION_LOCK]);
  try {
    await client.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)`,
    );
    const done = new Set(
      (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map(
        (r) => r.version,
      ),
    );
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await client.query('BEGIN');
      try {
        if (m.sql.trim() !== '') await client.query(m.sql);
        await client.query(
          'INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, now())',
          [m.version, m.name],
        );
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, {
          cause: err,
        });
      }
      applied.push(m.version);
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_NAMESPACE, MIGRATION_LOCK]);
  }
}
