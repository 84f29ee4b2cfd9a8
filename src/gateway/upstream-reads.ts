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

/** The `onread` option of one upstream socket, and the relay it feeds. */
export interface UpstreamReads {
  /** For `net.connect`. */
  readonly onread: OnReadOpts;
  /** Whether the socket was created with `onread` (an injected connect may ignore it). */
  readonly inUse: boolean;
  /**
   * Starts relaying the socket's reads to `sink.to`, and its end as `sink.to.end()`. The socket
   * must have been paused from its creation, so that nothing was read before.
   */
  start(from: Socket, sink: ReadSink): void;
  /** Gives the tunnel's own buffer back once both sockets are destroyed. */
  release(): void;
}

export function upstreamReads(): UpstreamReads {
  let inUse = false;
  let own: Buffer | undefined;
  /** Writes to the sink not yet called back; while one from `own` is among them, `own` is in use. */
  let queued = 0;
  let stopped = false;
  let from: Socket | undefined;
  let sink: ReadSink | undefined;

  const written = (): void => {
    if (--queued > 0 || !stopped) return;
    stopped = false;
    from?.resume();
  };

  /** Stops reading until every queued write is out; false is net's `onread` for "stop". */
  const stop = (): false => {
    stopped = true;
    return false;
  };

  /** Relays one read; false stops reading. */
  const relayRead = (n: number, buf: Uint8Array): boolean => {
    if (sink === undefined) return false;
    sink.count(n);
    const to = sink.to;
    queued++;
    if (buf !== own) {
      // The shared buffer is the next read of every tunnel: relay a copy.
      to.write(Buffer.from(shared.subarray(0, n)), written);
      if (n === SHARED_BYTES) own = takeOwn();
      return to.writableLength < MAX_BACKLOG || stop();
    }
    to.write(n === own.length ? own : own.subarray(0, n), written);
    if (to.writableLength > 0) return stop();
    if (n < SHARED_BYTES) {
      giveBack(own);
      own = undefined;
    }
    return true;
  };

  return {
    onread: {
      buffer: () => {
        inUse = true;
        return own ?? shared;
      },
      callback: relayRead,
    },
    get inUse() {
      return inUse;
    },
    start(socket, s) {
      from = socket;
      sink = s;
      socket.once('end', () => void s.to.end());
      socket.resume();
    },
    release() {
      if (own !== undefined && queued === 0) giveBack(own);
      own = undefined;
    },
  };
}
