/**
 * @module gateway/decision-log — the decision log as a file (`weir serve --decision-log FILE`):
 * a pino destination (sonic-boom, asynchronous and buffered) that rotates at a size
 * (`FILE` → `FILE.1` … `FILE.N`, the oldest dropped) and reopens `FILE` on demand (SIGHUP, after
 * an external logrotate moved it).
 *
 * Rotation swaps destinations instead of reopening one: the old destination keeps its open
 * descriptor, which follows the renamed file, and flushes what it still buffers there before it
 * closes. So every line lands whole in exactly one file, and the lines written before a
 * rotation are all in `FILE.1`.
 */
import { existsSync, mkdirSync, openSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pino } from 'pino';
import { BLOCK_BYTES, LineBlocks, handOverAtExit } from './line-blocks.js';

/** A pino destination writing to `file` with rotation. */
export interface DecisionLogFile {
  /** The absolute path of the live file. */
  readonly file: string;
  /** One log line (pino writes each line whole, newline included). */
  write(line: string): void;
  /** Starts writing the pending lines (pino's `logger.flush`). */
  flush(cb?: (err?: Error) => void): void;
  /** Opens `file` afresh; lines buffered for the old one still go to the old one. */
  reopen(): void;
  /** Writes what is pending and closes. */
  end(): Promise<void>;
}

export interface DecisionLogOptions {
  readonly file: string;
  /** Rotate before a line would take the live file past this many bytes; absent: never. */
  readonly maxSize?: number;
  /** Rotated files kept (`FILE.1` … `FILE.keep`); default 5. */
  readonly keep?: number;
  /** A write, rotation or reopen failed: reported here, never thrown (logging must not crash the gateway). */
  readonly onError?: (err: Error, during: 'write' | 'rotate' | 'reopen') => void;
}

type Destination = ReturnType<typeof pino.destination>;

/** The default of `--decision-log-keep`. */
export const DEFAULT_DECISION_LOG_KEEP = 5;

/**
 * Parses a size such as `100MB`, `512KiB`, `1G` or `1048576` (bytes). K, M and G are powers of
 * 1024 with or without `B`/`iB`, as logrotate reads them.
 */
export function parseSize(text: string): { ok: true; bytes: number } | { ok: false; problem: string } {
  const m = /^([0-9]+)\s*(?:(k|m|g)(?:i?b)?|b)?$/i.exec(text.trim());
  const n = m === null ? NaN : Number(m[1]);
  if (m === null || !Number.isSafeInteger(n) || n < 1) {
    return { ok: false, problem: `'${text}' is not a size: use a number of bytes or e.g. 512KB, 100MB, 1GB` };
  }
  const unit = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? '').toLowerCase() as 'k' | 'm' | 'g'] ?? 1;
  return { ok: true, bytes: n * unit };
}

/** Opens (creating, appending) the decision log file. */
export function openDecisionLog(opts: DecisionLogOptions): DecisionLogFile {
  const file = resolve(opts.file);
  const keep = opts.keep ?? DEFAULT_DECISION_LOG_KEEP;
  const report = opts.onError ?? (() => undefined);
  mkdirSync(dirname(file), { recursive: true });
  const closing: Promise<void>[] = [];

  /** A destination on a descriptor opened now, so that a rename right after cannot race the open. */
  function open(): { dest: Destination; size: number } {
    const fd = openSync(file, 'a', 0o640);
    let size = 0;
    try {
      size = statSync(file).size;
    } catch {
      // Moved already: the new lines start a new count.
    }
    // minLength: lines leave in blocks (8 KiB or the periodic flush), not one write call each.
    const dest = pino.destination({ dest: fd, sync: false, minLength: BLOCK_BYTES });
    dest.on('error', (err: Error) => report(err, 'write'));
    return { dest, size };
  }

  /** Ends `old` (its buffered lines go to the file its descriptor points at), tracked for `end()`. */
  function retire(old: Destination): void {
    closing.push(
      new Promise<void>((res) => {
        old.once('close', () => res());
        old.once('error', () => res());
        old.end();
      }),
    );
  }

  let current = open();
  let dirty = false;
  let ended = false;
  // Lines waiting for a block, handed to whichever destination is current then, and at exit
  // ahead of pino's flush of that destination.
  const blocks = new LineBlocks(() => current.dest);
  const forgetAtExit = handOverAtExit(blocks);

  const timer = setInterval(() => {
    if (!dirty) return;
    dirty = false;
    blocks.handOver();
    current.dest.flush();
  }, 100);
  timer.unref();

  function rotate(): void {
    try {
      const oldest = `${file}.${keep}`;
      if (existsSync(oldest)) unlinkSync(oldest);
      for (let i = keep - 1; i >= 1; i--) {
        if (existsSync(`${file}.${i}`)) renameSync(`${file}.${i}`, `${file}.${i + 1}`);
      }
      renameSync(file, `${file}.1`);
    } catch (err) {
      // Keep writing to the live file rather than lose lines; try again at the next line.
      report(err as Error, 'rotate');
      return;
    }
    swap('rotate');
  }

  /** Moves writing to a fresh descriptor on `file`; on failure keeps the old one (no line lost). */
  function swap(during: 'rotate' | 'reopen'): void {
    let next: { dest: Destination; size: number };
    try {
      next = open();
    } catch (err) {
      report(err as Error, during);
      return;
    }
    const old = current.dest;
    current = next;
    retire(old);
  }

  return {
    file,
    write(line) {
      // After end() (shutdown), a late line has nowhere to go; it must not throw into a request.
      if (ended) return;
      const n = Buffer.byteLength(line);
      if (opts.maxSize !== undefined && current.size > 0 && current.size + n > opts.maxSize) {
        // The lines before the rotation belong to the file being rotated out.
        blocks.handOver();
        rotate();
      }
      current.size += n;
      dirty = true;
      blocks.push(line, n);
    },
    flush(cb) {
      if (ended) cb?.();
      else {
        blocks.handOver();
        current.dest.flush(cb);
      }
    },
    reopen() {
      if (ended) return;
      blocks.handOver();
      swap('reopen');
    },
    async end() {
      if (!ended) {
        blocks.handOver();
        forgetAtExit();
        ended = true;
        clearInterval(timer);
        retire(current.dest);
      }
      await Promise.all(closing);
    },
  };
}
