/**
 * @module store/sqlite/checkpointer — moves WAL checkpoints off the request path.
 *
 * With `synchronous=NORMAL` a commit only appends to the WAL; the fsyncs happen at checkpoint.
 * SQLite's automatic checkpoint runs inside the COMMIT that crosses 1,000 WAL pages, so every
 * ~200th write request paid the fsyncs of the WAL and the database file (on ext4, about 80 µs
 * per write on average, in bursts of tens of milliseconds). Here a worker thread with its own
 * connection runs PASSIVE checkpoints, which never block the writer; the writer's own automatic
 * checkpoint stays on, at a much higher threshold, as the bound on WAL growth should the worker
 * fall behind or fail. Durability is unchanged: a commit is in the WAL before it returns.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** WAL pages after which the writer checkpoints itself (the worker normally gets there first). */
export const WRITER_AUTOCHECKPOINT_PAGES = 10_000;
/** SQLite's default, restored if the worker stops. */
export const DEFAULT_AUTOCHECKPOINT_PAGES = 1_000;

export interface CheckpointerOptions {
  /** The database file (not `:memory:`: only a file has a WAL). */
  readonly file: string;
  /** How often the worker looks for new commits. */
  readonly intervalMs?: number;
  /** Called once if the worker fails; the writer's own checkpoints then take over. */
  readonly onFailure: (err: unknown) => void;
}

// Plain CommonJS run with `eval`, so the same code works from the TypeScript sources (tests)
// and the build. It checkpoints only when the writer has committed since the last look.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('synchronous = NORMAL');
const commits = new Int32Array(workerData.commits);
let seen = 0;
const timer = setInterval(() => {
  const now = Atomics.load(commits, 0);
  if (now === seen) return;
  seen = now;
  db.pragma('wal_checkpoint(PASSIVE)');
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/** A running background checkpointer; {@link Checkpointer.committed} after every write commit. */
export class Checkpointer {
  private readonly commits = new Int32Array(new SharedArrayBuffer(4));
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private running = true;

  constructor(opts: CheckpointerOptions) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        driver: createRequire(import.meta.url).resolve('better-sqlite3'),
        file: opts.file,
        commits: this.commits.buffer,
        intervalMs: opts.intervalMs ?? 100,
      },
    });
    // Idle checkpoints must not keep a finished process alive.
    this.worker.unref();
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.once('error', (err) => {
      if (!this.running) return;
      this.running = false;
      opts.onFailure(err);
    });
  }

  /** Records a write commit (one atomic add; the worker polls the counter). */
  committed(): void {
    Atomics.add(this.commits, 0, 1);
  }

  /** Stops the worker and closes its connection, so the writer's close is the last one. */
  async close(): Promise<void> {
    if (this.running) {
      this.running = false;
      // Referenced again while it closes: an unreferenced worker would let a process with
      // nothing else to do exit (code 13) before the worker's exit, awaited here, arrives.
      this.worker.ref();
      this.worker.postMessage('close');
    }
    await this.exited;
  }
}
