/**
 * @module gateway/line-blocks — hands log lines to a sonic-boom destination a block at a time.
 *
 * Given one line per write, sonic-boom 4 appends it to its pending string and byte-counts that
 * whole string on every write, which copies it: at 8 KiB blocks and ≈ 0.5 KB decision lines,
 * ≈ 4–10 KB of garbage per line. Collecting the lines of a block in an array and writing them
 * joined makes that one copy per block. Used by the decision-log file and by `weir serve`'s
 * stdout; see docs/benchmarks.md ("One CONNECT's cost").
 */

/** Lines are handed over once about this many bytes are pending. */
export const BLOCK_BYTES = 8192;

/** Pending lines and the write that takes them. */
export class LineBlocks {
  readonly #lines: string[] = [];
  #size = 0;

  /** @param target where a block goes; read at each hand-over, so it may change (rotation). */
  constructor(
    private readonly target: () => { write(chunk: string): unknown },
    private readonly blockSize = BLOCK_BYTES,
  ) {}

  /** Queues one whole line; `size` is what it counts towards the block (bytes, or close to it). */
  push(line: string, size: number): void {
    this.#lines.push(line);
    this.#size += size;
    if (this.#size >= this.blockSize) this.handOver();
  }

  /** Writes the pending lines, if any, to the target as one string. */
  handOver(): void {
    if (this.#lines.length === 0) return;
    this.target().write(this.#lines.join(''));
    this.#lines.length = 0;
    this.#size = 0;
  }
}

/** What of a sonic-boom destination `bufferLines` needs. */
export interface FlushableDestination {
  write(chunk: string): unknown;
  flush(cb?: (err?: Error) => void): void;
  flushSync(): void;
}

/** A pino destination: lines go to `dest` in blocks; a flush hands over what is pending first. */
export interface BufferedLines {
  write(line: string): void;
  flush(cb?: (err?: Error) => void): void;
  flushSync(): void;
  /** Hands the pending lines to `dest` without flushing it. */
  handOver(): void;
}

/** Wraps `dest` (a `pino.destination`) so that lines reach it joined, a block at a time. */
export function bufferLines(dest: FlushableDestination): BufferedLines {
  const blocks = new LineBlocks(() => dest);
  return {
    // The length in UTF-16 units is close enough to bytes to size a block, and costs nothing.
    write: (line) => blocks.push(line, line.length),
    flush(cb) {
      blocks.handOver();
      dest.flush(cb);
    },
    flushSync() {
      blocks.handOver();
      dest.flushSync();
    },
    handOver: () => blocks.handOver(),
  };
}

/** Anything holding a pending block for a sonic-boom destination. */
interface HandsOver {
  handOver(): void;
}

const handedOverAtExit = new Set<HandsOver>();

/**
 * Hands `lines`' pending block to its destination when the process is about to exit, ahead of
 * pino's own exit hooks (which flush sonic-boom, but know nothing of lines not yet handed to
 * it). One pair of process listeners serves every registration. Returns the unregistration.
 */
export function handOverAtExit(lines: HandsOver): () => void {
  if (handedOverAtExit.size === 0) {
    process.prependListener('beforeExit', handOverAll);
    process.prependListener('exit', handOverAll);
  }
  handedOverAtExit.add(lines);
  return () => {
    handedOverAtExit.delete(lines);
    if (handedOverAtExit.size === 0) {
      process.off('beforeExit', handOverAll);
      process.off('exit', handOverAll);
    }
  };
}

function handOverAll(): void {
  for (const lines of handedOverAtExit) lines.handOver();
}
