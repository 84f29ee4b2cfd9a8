/**
 * @module gateway/proxy/plain-http — absolute-URI plain-HTTP requests: the checks every one of
 * them passes (upgrades included) before a byte goes upstream, and the forwarding of the request
 * over an idle upstream connection kept for its checked address, or a fresh one, with hop-by-hop
 * and `Proxy-*` headers dropped.
 */
import { request as httpRequest } from 'node:http';
import type { ClientRequest, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { LogEntry } from '../decision-line.js';
import { formatHost, parseAbsoluteUri, parseAuthority, sameHost } from '../host.js';
import type { AbsoluteUri } from '../host.js';
import { oneSocketAgent } from '../http-forward.js';
import type { Snapshot } from '../../engine/index.js';
import { Exchange } from './context.js';
import type { Admission, GatewayContext } from './context.js';
import type { CutReason, LiveConnection, Right } from './live.js';
import { decideTarget } from './decide.js';
import { ambiguousHead, headerCount, isRefusal, refuseHttp } from './refusals.js';
import type { Refusal } from './refusals.js';
import { connectChecked } from './upstream.js';

/** A plain-HTTP request that passed every check: where it goes and who sends it. */
export interface Admitted {
  readonly uri: AbsoluteUri;
  /** The `Host` value to send upstream. */
  readonly host: string;
  readonly identity: string;
  /** Addresses of the URI's host the decision allowed, in resolver order. */
  readonly allowed: readonly string[];
  /** What the request was admitted on (watched while its connection lives). */
  readonly admission: Admission;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

/** Raw header pairs without hop-by-hop, `Proxy-*` and those the `Connection` header names. */
export function forwardable(raw: readonly string[], connection: string | undefined): string[] {
  const named = new Set((connection ?? '').split(',').map((s) => s.trim().toLowerCase()));
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const k = (raw[i] ?? '').toLowerCase();
    // Proxy-Authorization carries the workload's token: it must never reach the destination.
    if (HOP_BY_HOP.has(k) || k.startsWith('proxy-') || named.has(k)) continue;
    out.push(raw[i] ?? '', raw[i + 1] ?? '');
  }
  return out;
}

/**
 * The client's request sent over the checked upstream socket `sock`: its forwardable headers
 * plus `extra` (raw name/value pairs), on an agent that keeps `sock` open after a keep-alive
 * exchange when `keepAlive`; idle longer than `idleTimeoutMs`, it is destroyed.
 */
export function requestOver(
  sock: Socket,
  req: IncomingMessage,
  path: string,
  extra: readonly string[],
  keepAlive: boolean,
  idleTimeoutMs: number,
): ClientRequest {
  const headers = forwardable(req.rawHeaders, req.headers.connection);
  // A chunked body goes on chunked, whatever the method. Node's client chunks by default only
  // for some methods (not GET, DELETE, OPTIONS…); a body written without framing would be read
  // by the upstream as the next request on the connection: a smuggled request, and a response
  // out of step on a connection the pool hands to later requests. (A Content-Length is kept.)
  if (req.headers['transfer-encoding'] !== undefined) headers.push('Transfer-Encoding', 'chunked');
  headers.push(...extra);
  const upstream = httpRequest({
    method: req.method ?? 'GET',
    path,
    headers: headers as unknown as OutgoingHttpHeaders,
    setHost: false,
    agent: oneSocketAgent(sock, keepAlive),
  });
  upstream.setTimeout(idleTimeoutMs, () => upstream.destroy());
  return upstream;
}

/**
 * The checks every plain-HTTP request (upgrades included) passes before a byte goes upstream:
 * header count, absolute URI, Host against the URI, token, connection limits, then the decision
 * on the current snapshot. `hold` gets the connection slot's release, to call when the exchange ends.
 */
export async function admit(
  gw: GatewayContext,
  req: IncomingMessage,
  entry: LogEntry,
  hold: (release: () => void) => void,
): Promise<Admitted | Refusal> {
  const tooMany = headerCount(req, gw.limits.maxHeadersCount);
  if (tooMany !== undefined) return tooMany;
  const ambiguous = ambiguousHead(req);
  if (ambiguous !== undefined) return ambiguous;
  const uri = parseAbsoluteUri(req.url ?? '');
  if (!uri.ok) return { status: 400, reason: 'invalid-target', text: uri.problem };
  entry.host = formatHost(uri.value.host);
  entry.port = uri.value.port;
  const hostHeader = req.headers.host;
  if (hostHeader !== undefined) {
    const h = parseAuthority(hostHeader, 80);
    // Host must name the URI's destination: otherwise the request is checked and routed for
    // one host while the upstream (a shared front end, virtual hosting) serves another.
    if (!h.ok || !sameHost(h.value.host, uri.value.host) || h.value.port !== uri.value.port) {
      return {
        status: 403,
        reason: 'host-mismatch',
        text: `Host header '${hostHeader}' does not match the request URI authority '${uri.value.authority}'.`,
      };
    }
  }
  const auth = gw.authenticate(req);
  if ('status' in auth) return auth;
  entry.identity = auth.identity;
  entry.identitySource = auth.source;
  const release = gw.slots.acquire(auth.identity);
  if (isRefusal(release)) return release;
  hold(release);
  const snapshot = gw.opts.getSnapshot();
  const allowed = await decideTarget(entry, snapshot, auth.identity, uri.value, gw.decisionEnv);
  if (isRefusal(allowed)) return allowed;
  const to = uri.value;
  return {
    uri: to,
    host: hostHeader ?? to.authority,
    identity: auth.identity,
    allowed,
    admission: {
      identity: auth.identity,
      token: auth.token,
      host: to.host.kind === 'name' ? to.host.name : undefined,
      port: to.port,
      snapshot,
    },
  };
}

/** A plain-HTTP request: admitted, then sent over a kept or fresh connection to a checked address. */
export async function onRequest(
  gw: GatewayContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const x = new Exchange(gw, req.socket, 'http');
  const entry = x.entry;
  const opened = gw.opts.now();
  const admitted = await admit(gw, req, entry, (release) => res.once('close', release));
  if (isRefusal(admitted)) return refuseHttp(gw, res, entry, admitted);
  const { uri, host } = admitted;
  // Reuse only a connection to an address this request's own decision allowed: the pool is
  // keyed by checked address, port and Host, so neither a policy change nor a new DNS answer
  // (rebinding) can inherit a socket that an earlier decision opened.
  const idle = gw.pool.take(admitted.allowed, uri.port, host);
  let sock: Socket;
  if (idle !== undefined) {
    sock = idle.socket;
    entry.ip = idle.ip;
    entry.reused = true;
  } else {
    const fresh = await connectChecked(gw, entry, admitted.allowed, uri.port);
    if (isRefusal(fresh)) return refuseHttp(gw, res, entry, fresh);
    sock = fresh;
  }
  const ip = entry.ip as string;
  gw.logDecision(entry);
  if (req.socket.destroyed) {
    // The client left while the gateway connected: nothing to send; the connection stays clean.
    gw.pool.offer(ip, uri.port, host, sock);
    return;
  }
  const forwarded = new ForwardedRequest(x, opened, req, res);
  KeptConnection.of(gw, req.socket).admitted(admitted.admission, ip, forwarded);
  forwarded.send(sock, ip, uri, host);
}

/** Client sockets of plain HTTP under watch, each with its kept connection. */
const KEPT = new WeakMap<Socket, KeptConnection>();

/**
 * A keep-alive plain-HTTP client connection, watched for the right of its last admitted request:
 * when that token is revoked or expires, or the policy no longer allows that destination, the
 * request in flight (if any) is cut and logged, and the connection closed. Every new request on
 * it is admitted afresh anyway; this closes what is open now.
 */
class KeptConnection implements LiveConnection {
  right: Right = { identity: '', token: undefined, host: undefined, ip: '', port: 0 };
  decidedOn: Snapshot;
  #decisionId = '';
  /** The request in flight; undefined between requests. */
  #current: ForwardedRequest | undefined;

  /** The kept connection of `socket`, made on its first admitted request. */
  static of(gw: GatewayContext, socket: Socket): KeptConnection {
    let kept = KEPT.get(socket);
    if (kept === undefined) {
      kept = new KeptConnection(gw, socket);
      KEPT.set(socket, kept);
      const k = kept;
      socket.once('close', () => gw.live.delete(k));
    }
    return kept;
  }

  private constructor(
    private readonly gw: GatewayContext,
    private readonly socket: Socket,
  ) {
    this.decidedOn = gw.opts.getSnapshot();
  }

  /** A request on this connection was admitted on `a` to `ip` and is forwarded as `current`. */
  admitted(a: Admission, ip: string, current: ForwardedRequest): void {
    this.right = { identity: a.identity, token: a.token, host: a.host, ip, port: a.port };
    this.decidedOn = a.snapshot;
    this.#decisionId = current.decisionId;
    this.#current = current;
    current.onDone = () => {
      if (this.#current === current) this.#current = undefined;
    };
    if (!this.socket.destroyed) this.gw.live.add(this);
  }

  cut(reason: CutReason): void {
    const current = this.#current;
    this.#current = undefined;
    if (current !== undefined) current.cut(reason);
    else {
      this.gw.log.info(
        { decisionId: this.#decisionId, identity: this.right.identity, close: reason },
        'keep-alive connection closed',
      );
    }
    this.socket.destroy();
  }
}

/** One admitted plain-HTTP request on its upstream socket: its byte counts and its close line. */
class ForwardedRequest {
  #bytesIn = 0;
  #bytesOut = 0;
  #closeLogged = false;
  #upstream: ClientRequest | undefined;
  /** Called once the request has been logged closed. */
  onDone: () => void = () => undefined;

  constructor(
    private readonly x: Exchange,
    private readonly opened: number,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {}

  get decisionId(): string {
    return this.x.entry.decisionId;
  }

  /** Logs `request closed` once. */
  #closed(close: string): void {
    if (this.#closeLogged) return;
    this.#closeLogged = true;
    const { gw, entry } = this.x;
    gw.logClosed('request closed', entry, this.opened, close, this.#bytesIn, this.#bytesOut);
    this.onDone();
  }

  /** The right to it is gone (`KeptConnection`): logged with `reason`, the upstream cut. */
  cut(reason: CutReason): void {
    this.#closed(reason);
    this.#upstream?.destroy();
    this.res.destroy();
  }

  /** Sends the request over `sock` (to the checked `ip`) and relays the response. */
  send(sock: Socket, ip: string, uri: AbsoluteUri, host: string): void {
    const { gw, entry } = this.x;
    const { req, res } = this;
    const hot = gw.hot;
    const upstream = requestOver(sock, req, uri.path, ['Host', host], true, gw.limits.idleTimeoutMs);
    this.#upstream = upstream;
    // Node emits `free` once request and response are complete and the upstream allows keep-alive.
    sock.once('free', () => gw.pool.offer(ip, uri.port, host, sock));
    upstream.on('response', (pres) => {
      res.writeHead(
        pres.statusCode ?? 502,
        pres.statusMessage,
        forwardable(pres.rawHeaders, pres.headers.connection),
      );
      pres.on('data', (c: Buffer) => {
        this.#bytesIn += c.length;
        hot.bytesIn += c.length;
      });
      pres.pipe(res);
      pres.once('end', () => this.#closed('complete'));
      pres.once('error', () => res.destroy());
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (this.#closeLogged) return;
      if (res.headersSent) {
        res.destroy();
      } else {
        res.writeHead(502, { 'Content-Type': 'text/plain', 'Weir-Decision-Id': entry.decisionId });
        res.end(`Upstream failed (${err.code ?? 'error'}).\n`);
      }
      this.#closed(`upstream-error ${err.code ?? ''}`.trim());
    });
    req.on('data', (c: Buffer) => {
      this.#bytesOut += c.length;
      hot.bytesOut += c.length;
    });
    req.pipe(upstream);
    // The client closed before its answer was out (a half-close counts: Node's server aborts
    // the request then, as Squid does by default): the upstream is cut, and the close is the
    // client's, not an upstream error.
    res.once('close', () => {
      if (res.writableFinished) return;
      this.#closed('client-closed');
      upstream.destroy();
    });
  }
}
