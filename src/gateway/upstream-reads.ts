/**
 * @module gateway/upstream-reads — the upstream-to-client direction of a CONNECT tunnel, read
 * with `net.Socket`'s `onread` option instead of a new Buffer and a `data` event per read.
 *
 * Why: with `data` events every read allocates a fresh 64 KiB buffer that lives until the next
 * garbage collection. A streamed tunnel piles up tens of MB of them between collections (V8 then
 * collects for "external memory pressure"), and when they are freed together the C allocator
 * returns the memory to the kernel, so the next reads fault every page in again: 130–270 page
 * faults per MiB relayed, most of Weir's CPU per MiB (see docs/benchmarks.md).
 *
 * How: an idle or slow tunnel reads into one buffer shared by all tunnels and relays a copy of
 * what it read (the shared buffer is overwritten by the next read of any tunnel, so nothing may
 * keep pointing into it). A read that fills the shared buffer means bytes are flowing: from then
 * on the tunnel reads into a buffer of its own, taken from a small pool, and writes straight
 * from it; while such a write is still queued the tunnel stops reading (the buffer is in use), and
 * reads again once the write is out. When reads get small again the buffer goes back to the pool.
 */
import type { OnReadOpts, Socket } from 'node:net';

/** The shared buffer, and the smallest read that moves a tunnel to a buffer of its own. */
const SHARED_BYTES = 64 * 1024;
/**
 * A tunnel's own buffer while bytes flow; one read can take this much from the socket. On 2 vCPUs
 * 512 KiB and 1 MiB streamed alike, 256 KiB ≈ 1.2× the CPU per MiB (docs/benchmarks.md).
 */
const OWN_BYTES = 512 * 1024;
/** Copies a tunnel lets queue on the client before it stops reading (as the `data` relay). */
const MAX_BACKLOG = 256 * 1024;
/** Own buffers kept for reuse when tunnels give them back (4 MiB at most). */
const MAX_SPARE = 8;

const shared = Buffer.allocUnsafeSlow(SHARED_BYTES);
const spare: Buffer[] = [];

function takeOwn(): Buffer {
  return spare.pop() ?? Buffer.allocUnsafeSlow(OWN_BYTES);
}

function giveBack(own: Buffer): void {
  if (spare.length < MAX_SPARE) spare.push(own);
}

/** Where an upstream's reads go once its tunnel relays them. */
export interface ReadSink {
  readonly to: Socket;
  readonly count: (bytes: number) => void;
}

/**
 * The `onread` option of one upstream socket, and the relay it feeds. A class, not an object
 * literal with closures: one shape for every tunnel.
 */
export class UpstreamReads {
  /** For `net.connect`. */
  readonly onread: OnReadOpts = {
    buffer: () => {
      this.#inUse = true;
      return this.#own ?? shared;
    },
    callback: (n, buf) => this.#relay(n, buf),
  };
  #inUse = false;
  #own: Buffer | undefined;
  /** Writes to the sink not yet called back; while one from `#own` is among them, it is in use. */
  #queued = 0;
  #stopped = false;
  #from: Socket | undefined;
  #sink: ReadSink | undefined;
  readonly #written = (): void => {
    if (--this.#queued > 0 || !this.#stopped) return;
    this.#stopped = false;
    this.#from?.resume();
  };

  /** Whether the socket was created with `onread` (an injected connect may ignore it). */
  get inUse(): boolean {
    return this.#inUse;
  }

  /**
   * Starts relaying the socket's reads to `sink.to`, and its end as `sink.to.end()`. The socket
   * must have been paused from its creation, so that nothing was read before.
   */
  start(from: Socket, sink: ReadSink): void {
    this.#from = from;
    this.#sink = sink;
    from.once('end', () => void sink.to.end());
    from.resume();
  }

  /** Gives the tunnel's own buffer back once both sockets are destroyed. */
  release(): void {
    if (this.#own !== undefined && this.#queued === 0) giveBack(this.#own);
    this.#own = undefined;
  }

  /** Relays one read; false stops reading (net's `onread` contract). */
  #relay(n: number, buf: Uint8Array): boolean {
    const sink = this.#sink;
    if (sink === undefined) return false;
    sink.count(n);
    const to = sink.to;
    this.#queued++;
    const own = this.#own;
    if (buf !== own) {
      // The shared buffer is the next read of every tunnel: relay a copy.
      const copy = Buffer.allocUnsafe(n);
      shared.copy(copy, 0, 0, n);
      to.write(copy, this.#written);
      if (n === SHARED_BYTES) this.#own = takeOwn();
      return to.writableLength < MAX_BACKLOG || this.#stop();
    }
    to.write(n === own.length ? own : own.subarray(0, n), this.#written);
    if (to.writableLength > 0) return this.#stop();
    if (n < SHARED_BYTES) {
      giveBack(own);
      this.#own = undefined;
    }
    return true;
  }

  /** Stops reading until every queued write is out. */
  #stop(): false {
    this.#stopped = true;
    return false;
  }
}
