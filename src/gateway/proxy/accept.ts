/**
 * @module gateway/proxy/accept — a new client connection until its first request head is read: a
 * connection that opens with `CONNECT ` is read by the gateway's own strict head parser
 * (`connect-head.ts`), without an HTTP parser, request and response objects per tunnel; any
 * other is handed back to Node's HTTP parser with its bytes unread. Also the answer to a head
 * Node's parser refused (`clientError`).
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { createHeadReader, sniffConnect } from '../connect-head.js';
import type { HeadReader } from '../connect-head.js';
import { connectRequest, EMPTY, ignore } from './context.js';
import type { GatewayContext } from './context.js';
import { handleConnect } from './connect.js';
import { parserRefusal, refuseRaw } from './refusals.js';
import type { Refusal } from './refusals.js';

/**
 * One new connection whose first request head is arriving. Its first bytes say whether it is a
 * CONNECT (read here) or anything else (given to `handBack`, Node's own connection handler).
 */
export class AcceptedConnection {
  readonly #gw: GatewayContext;
  readonly #socket: Socket;
  readonly #handBack: (socket: Socket) => void;
  readonly #reader: HeadReader;
  /** Bytes read while the kind of request is undecided; undefined once it is a CONNECT. */
  #sniffed: Buffer | undefined = EMPTY;

  /** Starts reading `socket`, a connection just accepted (over TLS: just handshaken). */
  static start(gw: GatewayContext, socket: Socket, handBack: (socket: Socket) => void): void {
    // As Node's HTTP server sets it on the plain listener: a client's FIN (over TLS, its
    // close_notify) ends only its direction, so a tunnel relays a half-close, also when it came
    // with the CONNECT head. Set here, after the TLS handshake, not as a server option: a FIN in
    // the middle of a handshake must still close the connection at once.
    socket.allowHalfOpen = true;
    gw.deadlines.heads.set(socket, performance.now() + gw.headersTimeout);
    socket.on('error', ignore);
    const read = new AcceptedConnection(gw, socket, handBack);
    socket.on('data', read.#onData);
    socket.once('end', read.#onEnd);
  }

  private constructor(gw: GatewayContext, socket: Socket, handBack: (socket: Socket) => void) {
    this.#gw = gw;
    this.#socket = socket;
    this.#handBack = handBack;
    this.#reader = createHeadReader(gw.headLimits);
  }

  /** Answers a head that cannot become a request, and closes. */
  #refuseHead(r: Refusal): void {
    refuseRaw(this.#gw, this.#socket, this.#gw.startEntry(this.#socket, 'connect'), r);
  }

  /** Stops reading for the head: it is complete, refused, or Node's parser takes over. */
  #done(): void {
    this.#gw.deadlines.heads.delete(this.#socket);
    this.#socket.off('data', this.#onData);
    this.#socket.off('end', this.#onEnd);
  }

  // A FIN before the head is complete: the request can never finish, so the connection is
  // closed now rather than at the head deadline (as Node's parser does for other requests).
  readonly #onEnd = (): void => {
    const socket = this.#socket;
    this.#gw.deadlines.heads.delete(socket);
    socket.off('data', this.#onData);
    // Still sniffing and nothing kept: not a byte arrived.
    if (this.#sniffed?.length === 0) return void socket.end();
    this.#refuseHead({
      status: 400,
      reason: 'malformed-request',
      text: 'The connection was half-closed before the request head was complete.',
    });
  };

  readonly #onData = (chunk: Buffer): void => {
    const socket = this.#socket;
    const sniffed = this.#sniffed;
    if (sniffed !== undefined) {
      const data = sniffed.length === 0 ? chunk : Buffer.concat([sniffed, chunk]);
      const kind = sniffConnect(data);
      if (kind === 'undecided') {
        this.#sniffed = data;
        return;
      }
      if (kind === 'other') {
        this.#done();
        socket.off('error', ignore);
        // Put back what was read; Node's parser reads it first, then the socket's next bytes.
        socket.unshift(data);
        this.#handBack(socket);
        return;
      }
      this.#sniffed = undefined;
      chunk = data;
    }
    const r = this.#reader.push(chunk);
    if (r.kind === 'incomplete') return;
    this.#done();
    socket.pause();
    if (r.kind === 'bad') return this.#refuseHead(r);
    handleConnect(this.#gw, connectRequest(socket, r.target, r.rawHeaders), socket, r.rest);
  };
}

/**
 * A request head Node's parser refuses (the request-smuggling spellings among them, see
 * `parserRefusal`) never reaches `admit`; it is answered here, with the parser's code so the
 * client can see what was wrong, and logged like any refusal.
 */
export function onClientError(gw: GatewayContext, err: NodeJS.ErrnoException, socket: Duplex): void {
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  // Only the HTTP parser's errors get an HTTP answer; anything else (a reset, a TLS handshake
  // that failed or timed out on the TLS listener) has no HTTP peer to read it.
  const httpError = err.code?.startsWith('HPE_') === true || err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  if (!httpError || !socket.writable || inFlight?.headersSent === true) {
    socket.destroy();
    return;
  }
  const entry = gw.startEntry(socket, 'http');
  refuseRaw(gw, socket, entry, parserRefusal(err, gw.limits.maxHeaderSize));
}
