/**
 * @module gateway/proxy/tunnel — an open tunnel (a CONNECT after its `200`, an upgraded plain-HTTP
 * connection after its `101`) as one object, as smokescreen's instrumented conn: it relays both
 * ways with backpressure and half-close, counts the bytes, enforces the idle timeout and maximum
 * lifetime, inspects the client's first bytes (a ClientHello's SNI or an HTTP request's Host must
 * name the CONNECT host; other bytes pass only to a destination allowed by address), and is
 * closed and logged once, by `finish(reason)`.
 *
 * Hot path: per chunk the relay does one counter call and one write; every callback is bound once
 * per tunnel, none per chunk.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createHeadReader } from '../connect-head.js';
import type { HeadParse, HeadReader } from '../connect-head.js';
import type { LogEntry } from '../decision-line.js';
import { parseAuthority, sameHost } from '../host.js';
import type { Authority } from '../host.js';
import type { HotCounts } from '../metrics.js';
import { MAX_HELLO_BYTES, parseClientHello } from '../sni.js';
import { RequestLineSniffer, tunnelHeadProblem } from '../tunnel-head.js';
import type { UpstreamReads } from '../upstream-reads.js';
import type { Snapshot } from '../../engine/index.js';
import type { OpenTunnel } from './admission.js';
import { EMPTY } from './context.js';
import type { Exchange, GatewayContext } from './context.js';
import type { CutReason, LiveConnection, Right } from './live.js';

/**
 * Unsent bytes a relay lets queue on the receiving socket before it pauses the sending one.
 * Node's default (16 KiB, what `pipe()` uses) is less than one 64 KiB socket read, so a bulk
 * transfer would pause and resume on every read.
 */
const RELAY_QUEUE_BYTES = 256 * 1024;
/** The first byte of a TLS handshake record. */
const TLS_HANDSHAKE = 0x16;

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
export class Tunnel implements OpenTunnel, LiveConnection {
  /** `performance.now()` at which the tunnel reaches its maximum lifetime. */
  readonly expires: number;
  /** What the tunnel was admitted on (watched when the exchange was admitted). */
  readonly right: Right;
  decidedOn: Snapshot;
  readonly #watched: boolean;
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
  /** The CONNECT target the client's first bytes must name; undefined: no inspection. */
  #target: Authority | undefined;
  /** The client's first bytes, held until they are judged. */
  #first: Buffer = EMPTY;
  /** First bytes that are not TLS: the request line followed so far, then its head. */
  #line: RequestLineSniffer | undefined;
  #head: HeadReader | undefined;

  /**
   * Opens a tunnel and starts relaying. `head` is what the client sent beyond its request head;
   * with `target` (CONNECT) the client's first bytes must name it (`#feed`). `toClient` is what
   * the upstream sent beyond its `101` (an upgraded plain-HTTP connection). `reads`: the upstream
   * was connected with its `onread`.
   */
  static open(
    x: Exchange,
    target: Authority | undefined,
    upstream: Socket,
    head: Buffer,
    toClient: Buffer = EMPTY,
    reads?: UpstreamReads,
  ): Tunnel {
    const t = new Tunnel(x, upstream, reads);
    t.#start(target, head, toClient);
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
    const a = x.admitted;
    this.#watched = a !== undefined;
    this.right = {
      identity: a?.identity ?? '',
      token: a?.token,
      host: a?.host,
      ip: x.entry.ip ?? '',
      port: a?.port ?? 0,
    };
    this.decidedOn = a?.snapshot ?? x.gw.opts.getSnapshot();
  }

  /** Its token was revoked or expired, or the policy no longer allows it (`LiveConnections`). */
  cut(reason: CutReason): void {
    this.finish(reason);
  }

  /** Closes both sides and logs `tunnel closed` with `reason`; later calls do nothing. */
  finish(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    const gw = this.#gw;
    gw.deadlines.tunnels.delete(this);
    gw.live.delete(this);
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

  #start(target: Authority | undefined, head: Buffer, toClient: Buffer): void {
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
    // Watched from now on; a snapshot swapped in since the decision is applied here, at once.
    if (this.#watched) this.#gw.live.add(this);
    if (this.#closed) return;
    if (reads?.inUse === true) reads.start(upstream, { to: client, count: this.#countIn });
    else relay(upstream, client, this.#countIn);
    if (toClient.length > 0) {
      this.#bytesIn += toClient.length;
      this.#hot.bytesIn += toClient.length;
      client.write(toClient);
    }
    if (target === undefined) {
      if (head.length > 0) {
        this.#countOut(head.length);
        upstream.write(head);
      }
      relay(client, upstream, this.#countOut);
      client.resume();
      return;
    }
    this.#inspectFirstBytes(target, head);
  }

  /**
   * The client's first bytes are held until they are judged (`#feed`); only then does the
   * client-to-upstream relay start.
   */
  #inspectFirstBytes(target: Authority, head: Buffer): void {
    const client = this.#client;
    this.#target = target;
    // A client may send its head and FIN together (`printf … | nc -N`): its `end` has then been
    // emitted while the tunnel was being decided, and will not come again.
    if (client.readableEnded) return this.#feed(head, true);
    client.on('data', this.#inspect);
    client.once('end', this.#endBeforeInspected);
    if (head.length > 0) this.#feed(head, false);
    if (!this.#closed) client.resume();
  }

  readonly #inspect = (chunk: Buffer): void => this.#feed(chunk, false);

  // FIN before the first bytes were judged: they are judged as they are (a partial ClientHello
  // is refused); with nothing sent, the half-close is passed on.
  readonly #endBeforeInspected = (): void => this.#feed(EMPTY, true);

  /**
   * Adds the client's next bytes and judges them once they are enough: a TLS ClientHello must
   * name the CONNECT host; an HTTP request head's Host must name it; anything else passes only
   * to a destination allowed by address. `final`: the client has sent everything (FIN).
   */
  #feed(chunk: Buffer, final: boolean): void {
    if (chunk.length > 0) {
      const first = this.#first;
      this.#first = first.length === 0 ? chunk : Buffer.concat([first, chunk]);
    }
    if (this.#first.length === 0) {
      if (!final) return;
      this.#client.off('data', this.#inspect);
      this.#upstream.end();
      return;
    }
    if (this.#first[0] === TLS_HANDSHAKE) this.#judgeTls(final);
    else this.#judgePlain(chunk, final);
  }

  /** Judges the first bytes once they are a whole ClientHello, malformed, or `final`. */
  #judgeTls(final: boolean): void {
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
      if (!sni.ok || !sameHost(sni.value.host, (this.#target as Authority).host)) {
        return this.#refuse('sni-mismatch', `the ClientHello names ${hello.sni}`, hello.sni);
      }
    } else if (!this.#addressAllowed()) {
      // Without SNI a shared front end serves its default site, which need not be the name
      // that was allowed; only where the address itself is allowed does that not matter.
      return this.#refuse('sni-missing', 'a ClientHello without SNI to a destination allowed by name only');
    }
    this.#pass();
  }

  /**
   * Judges first bytes that are not TLS. To a destination allowed by address they pass. To one
   * allowed by name only, an HTTP/1.x request head must name the CONNECT host (Host smuggling: a
   * front end serves the Host it is given, not the host that was checked), and anything else (a
   * head that is malformed, too large or unfinished at FIN included) is refused. `chunk`: the
   * bytes just added.
   */
  #judgePlain(chunk: Buffer, final: boolean): void {
    // Allowed by address, the destination is allowed whatever its bytes name: they pass at once
    // (a protocol whose first message is short and unterminated must not wait for more).
    if (this.#head === undefined && this.#line === undefined && this.#addressAllowed()) return this.#pass();
    const limits = this.#gw.headLimits;
    let parsed: HeadParse;
    if (this.#head === undefined) {
      this.#line ??= new RequestLineSniffer(limits.maxHeaderSize);
      const line = this.#line.push(chunk);
      if (line === 'undecided' && !final) return;
      if (line !== 'request-line') return this.#opaque();
      this.#head = createHeadReader(limits, true);
      parsed = this.#head.push(this.#first);
    } else {
      parsed = this.#head.push(chunk);
    }
    if (parsed.kind === 'incomplete' && !final) return;
    if (parsed.kind !== 'head') return this.#opaque();
    const problem = tunnelHeadProblem(parsed.target, parsed.rawHeaders, this.#target as Authority);
    if (problem !== undefined) return this.#refuse('host-mismatch', problem);
    this.#pass();
  }

  /** First bytes that are neither TLS nor HTTP, to a destination allowed by name only. */
  #opaque(): void {
    this.#refuse(
      'not-tls-or-http',
      'the first bytes are neither a TLS ClientHello nor an HTTP request, to a destination allowed by name only',
    );
  }

  /**
   * Whether the connected address is allowed by address alone (a CIDR, prefix-list or group
   * rule), not only by the CONNECT name: decided again without the name, on the snapshot in
   * force. Asked only for bytes that name no host, so the common tunnel never pays for it.
   */
  #addressAllowed(): boolean {
    const target = this.#target as Authority;
    // A literal was decided without a name: only address rules can have allowed it.
    if (target.host.kind === 'ip') return true;
    const e = this.#entry;
    const gw = this.#gw;
    return gw.opts.getSnapshot().decide({
      identity: e.identity ?? '',
      ip: e.ip ?? '',
      port: target.port,
      protocol: 'tcp',
      now: gw.opts.now(),
    }).allow;
  }

  /** Logs a denial of the tunnel's first bytes (`reason`, with `why`) and cuts the tunnel. */
  #refuse(reason: string, why: string, sni?: string): void {
    const gw = this.#gw;
    gw.logDecision({
      ...this.#entry,
      ...(sni !== undefined ? { sni } : {}),
      decision: 'deny',
      reason,
      at: new Date(gw.opts.now()).toISOString(),
    });
    gw.log.warn({ decisionId: this.#entry.decisionId, reason, why }, 'tunnel refused after its first bytes');
    this.finish(reason);
  }

  /** The first bytes are judged: they go upstream, then the relay takes over. */
  #pass(): void {
    const first = this.#first;
    this.#first = EMPTY;
    this.#line = undefined;
    this.#head = undefined;
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
