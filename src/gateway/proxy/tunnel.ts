/**
 * @module gateway/proxy/tunnel — an open tunnel (a CONNECT after its `200`, an upgraded plain-HTTP
 * connection after its `101`) as one object, as smokescreen's instrumented conn: it relays both
 * ways with backpressure and half-close, counts the bytes, enforces the idle timeout and maximum
 * lifetime, inspects the client's first bytes (a ClientHello must name the CONNECT host), and is
 * closed and logged once, by `finish(reason)`.
 *
 * Hot path: per chunk the relay does one counter call and one write; every callback is bound once
 * per tunnel, none per chunk.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { LogEntry } from '../decision-line.js';
import { parseAuthority, sameHost } from '../host.js';
import type { Authority } from '../host.js';
import type { HotCounts } from '../metrics.js';
import { MAX_HELLO_BYTES, parseClientHello } from '../sni.js';
import type { UpstreamReads } from '../upstream-reads.js';
import type { OpenTunnel } from './admission.js';
import { EMPTY } from './context.js';
import type { Exchange, GatewayContext } from './context.js';

/**
 * Unsent bytes a relay lets queue on the receiving socket before it pauses the sending one.
 * Node's default (16 KiB, what `pipe()` uses) is less than one 64 KiB socket read, so a bulk
 * transfer would pause and resume on every read.
 */
const RELAY_QUEUE_BYTES = 256 * 1024;

/**
 * Copies `from` into `to` and counts each chunk; pauses `from` while `to` has more than
 * RELAY_QUEUE_BYTES unsent (backpressure), and passes a half-close on: when `from` has sent
 * everything (FIN), `to` is ended after the bytes queued for it.
 */
function relay(from: Socket, to: Socket, count: (bytes: number) => void): void {
  // A FIN that came while the tunnel was being set up has had its `end` already: net reads
  // the end of a stream at once even when it is paused (with nothing left to read).
  if (from.readableEnded) {
    to.end();
    return;
  }
  const resume = (): void => void from.resume();
  from.on('data', (c: Buffer) => {
    count(c.length);
    // `write` returning false has set `needDrain`, so `drain` comes once the queue is empty.
    if (!to.write(c) && to.writableLength >= RELAY_QUEUE_BYTES) {
      from.pause();
      to.once('drain', resume);
    }
  });
  from.once('end', () => void to.end());
}

/**
 * A tunnel between a client and its upstream. Each direction ends on its own (half-close: a
 * client may send its request and FIN, then read the whole answer); the tunnel is closed and
 * logged once both directions are done, or at once on an error, a timeout, its lifetime or an
 * SNI refusal. Created by `open`, which starts it.
 */
export class Tunnel implements OpenTunnel {
  /** `performance.now()` at which the tunnel reaches its maximum lifetime. */
  readonly expires: number;
  readonly #gw: GatewayContext;
  readonly #hot: HotCounts;
  readonly #entry: LogEntry;
  readonly #client: Socket;
  readonly #upstream: Socket;
  readonly #reads: UpstreamReads | undefined;
  /** Epoch ms when the tunnel opened. */
  readonly #opened: number;
  /** Bytes from the upstream to the client. */
  #bytesIn = 0;
  /** Bytes from the client to the upstream. */
  #bytesOut = 0;
  #closed = false;
  /** Sides closed cleanly (after their FIN and ours). */
  #sidesClosed = 0;
  /** The host the client's ClientHello must name (CONNECT); undefined: no inspection. */
  #sniTarget: Authority | undefined;
  /** The client's first bytes, held until they are judged. */
  #first: Buffer = EMPTY;

  /**
   * Opens a tunnel and starts relaying. `head` is what the client sent beyond its request head;
   * with `sniTarget` (CONNECT) the client's first bytes must not be a ClientHello naming another
   * host. `toClient` is what the upstream sent beyond its `101` (an upgraded plain-HTTP
   * connection). `reads`: the upstream was connected with its `onread`.
   */
  static open(
    x: Exchange,
    sniTarget: Authority | undefined,
    upstream: Socket,
    head: Buffer,
    toClient: Buffer = EMPTY,
    reads?: UpstreamReads,
  ): Tunnel {
    const t = new Tunnel(x, upstream, reads);
    t.#start(sniTarget, head, toClient);
    return t;
  }

  private constructor(x: Exchange, upstream: Socket, reads: UpstreamReads | undefined) {
    this.#gw = x.gw;
    this.#hot = x.gw.hot;
    this.#entry = x.entry;
    this.#client = x.client;
    this.#upstream = upstream;
    this.#reads = reads;
    this.#opened = x.gw.opts.now();
    this.expires = performance.now() + x.gw.limits.tunnelMaxLifetimeMs;
  }

  /** Closes both sides and logs `tunnel closed` with `reason`; later calls do nothing. */
  finish(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    const gw = this.#gw;
    gw.deadlines.tunnels.delete(this);
    this.#hot.activeTunnels--;
    this.#client.destroy();
    this.#upstream.destroy();
    this.#reads?.release();
    gw.sockets.delete(this.#upstream);
    gw.logClosed('tunnel closed', this.#entry, this.#opened, reason, this.#bytesIn, this.#bytesOut);
  }

  readonly #onIdle = (): void => this.finish('idle-timeout');
  readonly #onClientClose = (): void => this.#onClose(this.#client);
  readonly #onUpstreamClose = (): void => this.#onClose(this.#upstream);

  #onClose(s: Socket): void {
    // A side that closed after sending its FIN and receiving ours is done; one that closed
    // any other way (reset, error) takes the other side down with it.
    if (s.errored !== null || !s.readableEnded)
      return this.finish(s === this.#client ? 'client-reset' : 'upstream-reset');
    if (++this.#sidesClosed === 2) this.finish('closed');
  }

  /** Counts bytes from the upstream to the client (per chunk: keep it this small). */
  readonly #countIn = (n: number): void => {
    this.#bytesIn += n;
    this.#hot.bytesIn += n;
  };

  /** Counts bytes from the client to the upstream (per chunk: keep it this small). */
  readonly #countOut = (n: number): void => {
    this.#bytesOut += n;
    this.#hot.bytesOut += n;
  };

  #start(sniTarget: Authority | undefined, head: Buffer, toClient: Buffer): void {
    const client = this.#client;
    const upstream = this.#upstream;
    const reads = this.#reads;
    const idleTimeoutMs = this.#gw.limits.idleTimeoutMs;
    this.#hot.activeTunnels++;
    this.#gw.deadlines.tunnels.add(this);
    client.setTimeout(idleTimeoutMs, this.#onIdle);
    upstream.setTimeout(idleTimeoutMs, this.#onIdle);
    client.once('close', this.#onClientClose);
    upstream.once('close', this.#onUpstreamClose);
    if (reads?.inUse === true) reads.start(upstream, { to: client, count: this.#countIn });
    else relay(upstream, client, this.#countIn);
    if (toClient.length > 0) {
      this.#bytesIn += toClient.length;
      this.#hot.bytesIn += toClient.length;
      client.write(toClient);
    }
    if (sniTarget === undefined) {
      if (head.length > 0) {
        this.#countOut(head.length);
        upstream.write(head);
      }
      relay(client, upstream, this.#countOut);
      client.resume();
      return;
    }
    this.#inspectFirstBytes(sniTarget, head);
  }

  /**
   * The client's first bytes are held until they are known not to be a ClientHello with a
   * foreign SNI; only then does the client-to-upstream relay start.
   */
  #inspectFirstBytes(sniTarget: Authority, head: Buffer): void {
    const client = this.#client;
    this.#sniTarget = sniTarget;
    // A client may send its head and FIN together (`printf … | nc -N`): its `end` has then been
    // emitted while the tunnel was being decided, and will not come again.
    if (client.readableEnded) {
      this.#first = head;
      return this.#endBeforeInspected();
    }
    client.on('data', this.#inspect);
    client.once('end', this.#endBeforeInspected);
    if (head.length > 0) this.#inspect(head);
    if (!this.#closed) client.resume();
  }

  readonly #inspect = (chunk: Buffer): void => {
    const first = this.#first;
    this.#first = first.length === 0 ? chunk : Buffer.concat([first, chunk]);
    this.#judge(false);
  };

  // FIN before the first bytes were judged: nothing sent is passed on as a half-close; a
  // partial ClientHello is judged as it is (and refused).
  readonly #endBeforeInspected = (): void => {
    if (this.#first.length > 0) return this.#judge(true);
    this.#client.off('data', this.#inspect);
    this.#upstream.end();
  };

  /** Judges the first bytes once they are a whole ClientHello, something else, or `final`. */
  #judge(final: boolean): void {
    const first = this.#first;
    const hello = parseClientHello(first);
    if (hello.kind === 'incomplete' && !final && first.length <= MAX_HELLO_BYTES + 5 * 8) return;
    if (hello.kind === 'malformed' || hello.kind === 'incomplete') {
      this.#gw.log.warn(
        {
          decisionId: this.#entry.decisionId,
          why: hello.kind === 'malformed' ? hello.why : 'incomplete or too long',
        },
        'malformed TLS ClientHello',
      );
      return this.finish('malformed-client-hello');
    }
    if (hello.kind === 'client-hello' && hello.sni !== undefined) {
      const sni = parseAuthority(hello.sni, 443);
      // Domain fronting: the tunnel goes to an address checked for the CONNECT host, but the
      // TLS server (a shared CDN edge) routes by SNI to whatever name the client put there.
      if (!sni.ok || !sameHost(sni.value.host, (this.#sniTarget as Authority).host)) {
        this.#gw.logDecision({
          ...this.#entry,
          sni: hello.sni,
          decision: 'deny',
          reason: 'sni-mismatch',
          at: new Date(this.#gw.opts.now()).toISOString(),
        });
        return this.finish('sni-mismatch');
      }
    }
    this.#countOut(first.length);
    this.#upstream.write(first);
    // After the client's FIN the relay ends the upstream at once (it sees the end has been).
    this.#startRelay();
  }

  #startRelay(): void {
    const client = this.#client;
    client.off('data', this.#inspect);
    client.off('end', this.#endBeforeInspected);
    relay(client, this.#upstream, this.#countOut);
  }
}
