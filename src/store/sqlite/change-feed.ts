/**
 * @module store/sqlite/change-feed — tells subscribers what committed: the store's own writes,
 * as each transaction names them, and, polled while anyone listens, commits other processes
 * made to the same file.
 */
import type Database from 'better-sqlite3';
import type { ChangeEvent, ChangeKind } from '../types.js';

// Every kind: a commit by another process may have written any table. Kept complete by the type
// below (a kind added to ChangeKind and missing here fails to compile).
const EVERY_KIND: Readonly<Record<ChangeKind, true>> = {
  rules: true,
  groups: true,
  prefixLists: true,
  workloads: true,
  tokens: true,
  bundle: true,
  exceptions: true,
  breakglass: true,
  notifications: true,
};
const ALL_KINDS = Object.keys(EVERY_KIND) as ChangeKind[];

/** The subscribers of one SQLite store, and the poll for other processes' commits. */
export class ChangeFeed {
  private readonly listeners = new Set<(e: ChangeEvent) => void>();
  /** `PRAGMA data_version` when last looked at: it changes when another connection commits. */
  private dataVersion: unknown;
  private poller: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Database.Database,
    private readonly now: () => Date,
    private readonly externalPollMs: number,
    /** Whether the store's connection is closed or inside a transaction: no poll then. */
    private readonly busy: () => boolean,
  ) {
    this.dataVersion = db.pragma('data_version', { simple: true });
  }

  /** Adds a listener; the returned function removes it (the last one out stops the poll). */
  subscribe(listener: (event: ChangeEvent) => void): () => void {
    this.listeners.add(listener);
    if (this.poller === undefined && this.externalPollMs > 0) {
      this.poller = setInterval(() => this.pollExternal(), this.externalPollMs);
      this.poller.unref();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** Stops the poll (the store is closing, or nobody listens). */
  stop(): void {
    clearInterval(this.poller);
    this.poller = undefined;
  }

  /**
   * Another process committed to the file (e.g. `weir token revoke --data-dir` beside a running
   * server): tell subscribers, naming every kind, since what it wrote is unknown here.
   */
  private pollExternal(): void {
    // Mid-transaction the connection's own view is not the committed state: look next tick.
    if (this.busy()) return;
    const version = this.db.pragma('data_version', { simple: true });
    if (version === this.dataVersion) return;
    this.dataVersion = version;
    this.emit({ scope: undefined, at: this.now(), kinds: ALL_KINDS });
  }

  /** Tells every listener; a listener that throws neither stops the others nor fails the write. */
  emit(event: ChangeEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // A listener's failure must not undo or fail a committed write.
      }
    }
  }
}
