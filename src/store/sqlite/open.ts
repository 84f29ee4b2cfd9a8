/**
 * @module store/sqlite/open — the better-sqlite3 connection behind the SQLite `Store`: opening
 * the file (WAL journal, pragmas), applying the migrations, and moving WAL checkpoints to a
 * background worker. What runs on that connection is in store.ts and the table files.
 */
import { chmodSync, closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Store } from '../types.js';
import { Checkpointer, DEFAULT_AUTOCHECKPOINT_PAGES, WRITER_AUTOCHECKPOINT_PAGES } from './checkpointer.js';
import { MIGRATIONS } from './migrations.js';
import { SqliteStore } from './store.js';

/** How to open a SQLite store. */
export interface SqliteStoreOptions {
  /** Path of the database file, or ':memory:' for tests. */
  readonly file: string;
  readonly now?: () => Date;
  /**
   * How often (ms) to look for commits made by other processes on the same file (another
   * `weir` writing the data dir), so subscribers hear of them too; 0: never. Default 250.
   * Polled only while someone is subscribed; one `PRAGMA data_version` per tick.
   */
  readonly externalPollMs?: number;
  /**
   * Run WAL checkpoints in a background worker thread (default true), off the request path. A
   * short-lived process (one CLI write) passes false: it checkpoints as it closes anyway, and
   * starting a worker would cost more than the write.
   */
  readonly backgroundCheckpoints?: boolean;
  /**
   * Open for reading only (`weir audit … --data-dir`): nothing is created, migrated or written,
   * and a write transaction fails. The file must exist.
   */
  readonly readOnly?: boolean;
}

/** Opens (creating and migrating if needed) a SQLite store. */
export function openSqliteStore(opts: SqliteStoreOptions): Store {
  if (opts.readOnly === true) return openReadOnly(opts);
  if (opts.file !== ':memory:' && opts.file !== '') ownerOnly(opts.file);
  const db = new Database(opts.file);
  // WAL with synchronous=NORMAL: a committed transaction is in the WAL file before the call
  // returns, so it survives the process being killed (only power loss could drop the tail).
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  let checkpointer: Checkpointer | undefined;
  if (
    opts.backgroundCheckpoints !== false &&
    !db.memory &&
    db.pragma('journal_mode', { simple: true }) === 'wal'
  ) {
    db.pragma(`wal_autocheckpoint = ${WRITER_AUTOCHECKPOINT_PAGES}`);
    checkpointer = new Checkpointer({
      file: db.name,
      // The writer's own checkpoints take over, at SQLite's usual pace.
      onFailure: () => {
        if (db.open) db.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
      },
    });
  }
  return new SqliteStore(db, opts.now ?? (() => new Date()), opts.externalPollMs ?? 250, checkpointer);
}

/**
 * Makes the database file 0600 before SQLite opens it: created so when missing (under umask
 * 022 SQLite would make it 0644, readable by every local user: every rule, attachment and
 * revocation), tightened when an older version left it looser. SQLite creates `-wal` and `-shm`
 * with the database file's mode, so they follow; ones left looser are tightened too.
 */
function ownerOnly(file: string): void {
  closeSync(openSync(file, 'a', 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) {
    let mode: number;
    try {
      mode = statSync(f).mode & 0o777;
    } catch {
      continue;
    }
    if ((mode & 0o077) === 0) continue;
    try {
      chmodSync(f, mode & 0o700);
    } catch {
      // Another user's file (we may open it, not chmod it): opening it is the caller's choice.
    }
  }
}

/** Applies, each in its own transaction, the migrations the file has not recorded yet. */
function migrate(db: Database.Database): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
  );
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map(
      (r) => r.version,
    ),
  );
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        new Date().toISOString(),
      );
    }).immediate();
  }
}

/**
 * A store that only reads. While a writer has the file open (its `-wal` exists) SQLite's own
 * read-only mode shares the writer's WAL index; with no writer, even a read-only connection
 * would create `-wal` and `-shm` beside the file, so the file is read into memory instead and
 * opened there (its header switched from WAL to rollback journal, which an in-memory copy
 * needs): reading then leaves the data dir exactly as it was.
 */
function openReadOnly(opts: SqliteStoreOptions): Store {
  let db: Database.Database;
  if (existsSync(`${opts.file}-wal`)) {
    db = new Database(opts.file, { readonly: true, fileMustExist: true });
  } else {
    const bytes = readFileSync(opts.file);
    // Bytes 18 and 19 of the header: file format write and read versions, 2 for WAL, 1 legacy.
    if (bytes.length >= 100) bytes[18] = bytes[19] = 1;
    db = new Database(bytes, { readonly: true });
  }
  const store = new SqliteStore(db, opts.now ?? (() => new Date()), 0);
  return {
    transaction: (scope, fn) => store.transaction(scope, fn, { readOnly: true }),
    subscribe: (listener) => store.subscribe(listener),
    close: () => store.close(),
  };
}
