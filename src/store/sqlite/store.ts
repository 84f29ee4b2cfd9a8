/**
 * @module store/sqlite/store — the SQLite `Store`: transactions serialized through an
 * in-process queue (a better-sqlite3 connection cannot interleave two), BEGIN/COMMIT on
 * statements prepared once, and a change event after each write that commits.
 */
import type Database from 'better-sqlite3';
import type { Scope } from '../../model/index.js';
import type { ChangeEvent, Store, StoreTx } from '../types.js';
import { ChangeFeed } from './change-feed.js';
import type { Checkpointer } from './checkpointer.js';
import { BundleHistoryTables } from './bundle-history.js';

/**
 * The SQLite `Store`: runs each transaction on the one connection, one at a time, and hands
 * what it wrote to the change feed.
 */
export class SqliteStore implements Store {
  private queue: Promise<unknown> = Promise.resolve();
  /** Transactions queued or running. */
  private pending = 0;
  private readonly tx: SqliteTx;
  private readonly control: Record<'beginRead' | 'beginWrite' | 'commit' | 'rollback', Database.Statement>;
  private closed = false;
  private readonly feed: ChangeFeed;

  constructor(
    private readonly db: Database.Database,
    private readonly now: () => Date,
    externalPollMs: number,
    private readonly checkpointer?: Checkpointer,
  ) {
    this.tx = new SqliteTx(db);
    this.feed = new ChangeFeed(db, now, externalPollMs, () => this.closed || this.pending > 0);
    // Prepared once: these run twice per request, and parsing them each time shows in profiles.
    this.control = {
      beginRead: db.prepare('BEGIN DEFERRED'),
      beginWrite: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
    };
  }

  transaction<T>(
    scope: Scope | undefined,
    fn: (tx: StoreTx) => Promise<T>,
    opts?: { readonly readOnly?: boolean },
  ): Promise<T> {
    const run = async (): Promise<T> => {
      if (this.closed) throw new Error('store is closed');
      const readOnly = opts?.readOnly === true;
      const c = this.control;
      (readOnly ? c.beginRead : c.beginWrite).run();
      this.tx.clearWritten();
      // A write in a read-only transaction would commit without a change event: refuse it.
      if (readOnly) this.db.pragma('query_only = ON');
      let result: T;
      try {
        result = await fn(this.tx);
        c.commit.run();
        if (!readOnly) this.checkpointer?.committed();
      } catch (err) {
        // SQLite may already have rolled back (e.g. SQLITE_FULL); a second ROLLBACK would mask `err`.
        if (this.db.inTransaction) c.rollback.run();
        throw err;
      } finally {
        if (readOnly) this.db.pragma('query_only = OFF');
      }
      const kinds = [...this.tx.written];
      if (!readOnly && (scope !== undefined || kinds.length > 0)) {
        this.feed.emit({
          scope,
          at: this.now(),
          kinds,
          groupIds: [...this.tx.writtenGroups],
          prefixListIds: [...this.tx.writtenPrefixLists],
        });
      }
      return result;
    };
    // With nothing queued, start at once rather than a microtask later: `run` issues BEGIN
    // synchronously, and no other transaction can be open, since every one is counted here.
    const idle = this.pending === 0;
    this.pending++;
    const next = idle ? run() : this.queue.then(run, run);
    // Keep the queue going whatever this transaction's outcome.
    this.queue = next.then(
      () => void this.pending--,
      () => void this.pending--,
    );
    return next;
  }

  subscribe(listener: (event: ChangeEvent) => void): () => void {
    return this.feed.subscribe(listener);
  }

  async close(): Promise<void> {
    await this.queue;
    if (this.closed) return;
    this.closed = true;
    this.feed.stop();
    // The writer's connection closes last: SQLite then checkpoints and removes the WAL.
    await this.checkpointer?.close();
    this.db.close();
  }
}

/**
 * The one `StoreTx` of a store, reused by every transaction. Its methods come in layers, one
 * file per group of tables (tx-core: statements, write notes and tags; vpcs; prefix-lists;
 * rules; groups; weir-tables: workloads, tokens, bundles; breakglass: sessions and used codes; audit: the audit trail; exceptions; decisions: the gateway's decisions and counters). The layers are one class split by
 * table, not kinds of transaction: each calls only methods below it (a group's deletion
 * deletes its rules; every layer writes tags), and the chain costs nothing per call.
 */
class SqliteTx extends BundleHistoryTables implements StoreTx {}
