/**
 * @module store/postgres/change-feed — tells subscribers what other Weir nodes committed to the
 * same database: every write transaction leaves a row in `change_log` and a NOTIFY on commit
 * (store.ts); this feed LISTENs on its own connection and, on each notification and after each
 * (re)connection, reads the rows past the last one it saw. A notification missed while the
 * connection was down is therefore caught up, not lost: the log, not the notification, is the
 * truth. The store tells its own commits itself, at once, so rows of this node are skipped here.
 */
import pg from 'pg';
import type { ChangeEvent, ChangeKind } from '../types.js';
import { poolConfig } from './connection.js';
import type { Row } from './tx-core.js';

/** The LISTEN/NOTIFY channel. */
export const CHANNEL = 'weir_changes';

// Every kind, for "something changed, I cannot say what" (a gap in the log). Kept complete by
// the type: a kind added to ChangeKind and missing here fails to compile.
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

/** Rows read per query while catching up (a node back from a long partition reads in pages). */
const PAGE = 1000;

/** How the feed connects. */
export interface PgChangeFeedOptions {
  readonly url: string;
  /** This store's `origin` in `change_log`: its own rows are not told twice. */
  readonly origin: string;
  /** The last `change_log.seq` already accounted for (the log's end when the store opened). */
  readonly afterSeq: number;
  readonly now: () => Date;
  /** Awaited before each reconnection (tests hold it to write while the feed is away). */
  readonly beforeReconnect?: () => Promise<void>;
}

/** The subscribers of one PostgreSQL store, and the LISTEN connection that feeds them. */
export class PgChangeFeed {
  private readonly listeners = new Set<(e: ChangeEvent) => void>();
  private client: pg.Client | undefined;
  private lastSeq: number;
  /** Whether a connection is wanted (someone listens and the store is open). */
  private wanted = false;
  private connecting: Promise<void> | undefined;
  private catching: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  /** Connections made so far; the backoff grows with failures in a row. */
  private connects = 0;
  private failures = 0;

  constructor(private readonly opts: PgChangeFeedOptions) {
    this.lastSeq = opts.afterSeq;
  }

  /** Adds a listener; the returned function removes it (the last one out closes the connection). */
  subscribe(listener: (event: ChangeEvent) => void): () => void {
    this.listeners.add(listener);
    if (!this.wanted && !this.stopped) {
      this.wanted = true;
      this.connecting ??= this.connect();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) {
        this.wanted = false;
        this.hangUp();
      }
    };
  }

  /** Resolves once the feed listens and has caught up (or at once when nobody listens). */
  async ready(): Promise<void> {
    while (this.connecting !== undefined) await this.connecting;
    await this.catching;
  }

  /** Stops for good (the store is closing). */
  stop(): void {
    this.stopped = true;
    this.wanted = false;
    this.hangUp();
    // Not awaiting a reconnection's backoff (up to 5 s): the loop sees `stopped` and ends, and a
    // connection it completes meanwhile is closed at once.
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

  private hangUp(): void {
    const c = this.client;
    this.client = undefined;
    c?.end().catch(() => undefined);
  }

  /** Connects, LISTENs and catches up; retries with backoff while a connection is wanted. */
  private async connect(): Promise<void> {
    try {
      while (this.wanted && !this.stopped) {
        if (this.connects > 0 || this.failures > 0) {
          // 100 ms, doubling to 5 s: a database that is down is not hammered.
          await sleep(Math.min(5000, 100 * 2 ** Math.min(this.failures, 6)));
          if (this.opts.beforeReconnect) await this.opts.beforeReconnect();
          if (!this.wanted || this.stopped) return;
        }
        const client = new pg.Client(poolConfig(this.opts.url, 1, 'weir-change-feed'));
        client.on('error', () => this.dropped(client));
        client.on('end', () => this.dropped(client));
        client.on('notification', () => void this.catchUp());
        try {
          await client.connect();
          await client.query(`LISTEN ${CHANNEL}`);
        } catch {
          this.failures++;
          client.end().catch(() => undefined);
          continue;
        }
        if (!this.wanted || this.stopped) {
          client.end().catch(() => undefined);
          return;
        }
        this.connects++;
        this.failures = 0;
        this.client = client;
        // Listening first, then reading: a commit between the two is in the read or notified.
        await this.catchUp();
        // Dropped while catching up: `dropped` saw a connection attempt under way (this one) and
        // left the reconnection to it.
        if (this.client === client) return;
        this.failures++;
      }
    } finally {
      this.connecting = undefined;
    }
  }

  /** The connection went away: connect again if it is still wanted. */
  private dropped(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => undefined);
    if (this.wanted && !this.stopped) this.connecting ??= this.connect();
  }

  /** Reads and tells the rows past the last one seen; one reader at a time, re-run when asked meanwhile. */
  private catchUp(): Promise<void> {
    if (this.catching) {
      this.again = true;
      return this.catching;
    }
    this.catching = (async () => {
      do {
        this.again = false;
        const client = this.client;
        if (client === undefined) return;
        const rows = (
          await client.query<Row>(
            `SELECT seq, origin, account_id, region, kinds, group_ids, prefix_list_ids, at
             FROM change_log WHERE seq > $1 ORDER BY seq LIMIT ${PAGE}`,
            [this.lastSeq],
          )
        ).rows;
        this.tell(rows);
        if (rows.length === PAGE) this.again = true;
      } while (this.again);
    })()
      // A failed read is a dropped connection: the reconnection catches up from lastSeq.
      .catch(() => undefined)
      .finally(() => {
        this.catching = undefined;
      });
    return this.catching;
  }

  private tell(rows: readonly Row[]): void {
    for (const r of rows) {
      const seq = Number(r['seq']);
      // Rows skipped: pruned before this node read them (it was away long). What changed is
      // unknown, so say "everything": readers rebuild, and converge.
      if (seq > this.lastSeq + 1) this.emit({ scope: undefined, at: this.opts.now(), kinds: ALL_KINDS });
      this.lastSeq = seq;
      if (r['origin'] === this.opts.origin) continue;
      const account = r['account_id'] as string | null;
      const region = r['region'] as string | null;
      this.emit({
        scope: account !== null && region !== null ? { accountId: account, region } : undefined,
        at: r['at'] as Date,
        kinds: r['kinds'] as ChangeKind[],
        groupIds: r['group_ids'] as string[],
        prefixListIds: r['prefix_list_ids'] as string[],
      });
    }
  }
}

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms).unref();
  });
