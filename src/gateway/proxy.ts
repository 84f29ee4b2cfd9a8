/**
 * @module gateway/proxy — the egress gateway: an HTTP/1.1 forward proxy for `CONNECT host:port`
 * tunnels and absolute-URI plain HTTP, over TCP or TLS. Each request is authenticated (client
 * certificate, bearer token or source address: `identity.ts`), its name resolved once, every
 * address decided by the current snapshot, and only an allowed address is connected to. Denials
 * answer 403 with `Weir-*` headers; every decision is one JSON log line. Plain HTTP keeps idle
 * upstream connections for reuse (per checked address, port and Host) and relays `Upgrade`
 * requests as tunnels after the upstream's `101`. All I/O (resolver, connect, clock, ids,
 * logger, snapshot) is passed in.
 */
import { createServer, request as httpRequest } from 'node:http';
import type {
  ClientRequest,
  IncomingHttpHeaders,
  IncomingMessage,
  OutgoingHttpHeaders,
  Server,
  ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo, OnReadOpts, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Decision, Snapshot } from '../engine/index.js';
import { createHeadReader, headersOf, sniffConnect } from './connect-head.js';
import { canonicalAddress, formatHost, parseAbsoluteUri, parseAuthority, sameHost } from './host.js';
import type { AbsoluteUri, Authority } from './host.js';
import { createDecisionLines } from './decision-line.js';
import type { LogEntry, Protocol } from './decision-line.js';
import { createUpstreamPool, oneSocketAgent } from './http-forward.js';
import { createAuthenticator } from '../identity/index.js';
import type { IdentityMap } from '../identity/index.js';
import type { GatewayTls } from '../identity/index.js';
import type { GatewayMetrics } from './metrics.js';
import type { Resolve } from './resolver.js';
import { MAX_HELLO_BYTES, parseClientHello } from './sni.js';
import { UpstreamReads } from './upstream-reads.js';

/** Limits and timeouts of the gateway. */
export interface GatewayLimits {
  /** Largest request head accepted (Node's `maxHeaderSize`); larger gets 431. */
  readonly maxHeaderSize: number;
  /** Upstream TCP connect timeout. */
  readonly connectTimeoutMs: number;
  /** A tunnel or upstream connection with no traffic either way for this long is closed. */
  readonly idleTimeoutMs: number;
  /** A CONNECT tunnel is closed this long after it opened, busy or not. */
  readonly tunnelMaxLifetimeMs: number;
  /** Most header fields in a request head; more gets 431 `too-many-headers`. */
  readonly maxHeadersCount: number;
  /** A client must finish its request head within this (Node's `headersTimeout`; else 408). */
  readonly headersTimeoutMs: number;
  /** A plain HTTP request (head and body) must arrive within this (Node's `requestTimeout`). */
  readonly requestTimeoutMs: number;
  /** Open tunnels and in-flight plain requests, all identities; more gets 429 `limit-total`. */
  readonly maxConns: number;
  /** Open tunnels and in-flight plain requests of one identity; more gets 429 `limit-identity`. */
  readonly maxConnsPerIdentity: number;
  /** An idle keep-alive upstream connection (plain HTTP) is closed after this. */
  readonly upstreamIdleTimeoutMs: number;
  /** Idle upstream connections kept per (checked address, port, Host). */
  readonly maxIdleUpstreamsPerHost: number;
  /** Idle upstream connections kept in all. */
  readonly maxIdleUpstreams: number;
}

/** The limits `weir serve` uses unless told otherwise. */
export const DEFAULT_GATEWAY_LIMITS: GatewayLimits = {
  maxHeaderSize: 16 * 1024,
  connectTimeoutMs: 10_000,
  idleTimeoutMs: 300_000,
  tunnelMaxLifetimeMs: 24 * 3_600_000,
  maxHeadersCount: 100,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 300_000,
  maxConns: 10_000,
  maxConnsPerIdentity: 1_000,
  // Below the 5 s keep-alive timeout of Node and many servers, so the gateway rarely picks a
  // connection the upstream is closing at that moment.
  upstreamIdleTimeoutMs: 4_000,
  maxIdleUpstreamsPerHost: 16,
  maxIdleUpstreams: 256,
};

/** What the gateway needs from outside. */
export interface GatewayOptions {
  /** The snapshot to enforce; read once per request, so a swap affects only new requests. */
  readonly getSnapshot: () => Snapshot;
  readonly resolve: Resolve;
  /**
   * Opens a TCP connection to a checked address (e.g. `net.connect`). For a CONNECT tunnel it is
   * given `onread`, to pass on to `net.connect`: the upstream's reads then go to the client from a
   * reused buffer (`upstream-reads.ts`); a connect that ignores it is relayed with `data` events.
   */
  readonly connect: (ip: string, port: number, onread?: OnReadOpts) => Socket;
  /** Epoch ms. */
  readonly now: () => number;
  readonly newId: () => string;
  /** Decision log: one line per decision, one per close. */
  readonly logger: Logger;
  /** The token signing key (`loadTokenKey`). */
  readonly tokenKey: Buffer;
  /** Listen with TLS (`loadGatewayTls`); with `clientCa`, client certificates prove identity. */
  readonly tls?: GatewayTls;
  /** The source-address identity map in force (`watchIdentityMap`), read once per request. */
  readonly identityMap?: () => IdentityMap;
  /** Token IDs revoked (`TokenRevocations`): such a token is refused with 407 `token-revoked`. */
  readonly revokedTokens?: { has(id: string): boolean };
  readonly limits?: Partial<GatewayLimits>;
  /** Prometheus instruments (`createGatewayMetrics`); none when absent. */
  readonly metrics?: GatewayMetrics;
}

/** A running gateway. */
export interface Gateway {
  readonly server: Server;
  /** Listens; resolves to `host:port` actually bound. */
  listen(host: string, port: number): Promise<AddressInfo>;
  /** Stops accepting, cuts open tunnels, lets in-flight plain requests finish (bounded). */
  close(graceMs?: number): Promise<void>;
  /**
   * Replaces the certificate, key and client CA for new handshakes (rotation); open connections
   * keep theirs. Only for a gateway created with `tls`, and the client CA only when it had one.
   */
  updateTls(tls: GatewayTls): void;
}

/** A plain-HTTP request that passed every check: where it goes and who sends it. */
interface Admitted {
  readonly uri: AbsoluteUri;
  /** The `Host` value to send upstream. */
  readonly host: string;
  readonly identity: string;
  /** Addresses of the URI's host the decision allowed, in resolver order. */
  readonly allowed: readonly string[];
}

/** A refusal before any upstream byte: status, `Weir-Reason`, text. */
interface Refusal {
  readonly status: number;
  readonly reason: string;
  readonly text: string;
  readonly decision?: Decision;
  readonly headers?: Record<string, string>;
}

const EMPTY = Buffer.alloc(0);
const ESTABLISHED = Buffer.from('HTTP/1.1 200 Connection established\r\n\r\n');
/** Node's own reply to a client that is too slow with its request head. */
const REQUEST_TIMEOUT = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n';
/**
 * Unsent bytes a relay lets queue on the receiving socket before it pauses the sending one.
 * Node's default (16 KiB, what `pipe()` uses) is less than one 64 KiB socket read, so a bulk
 * transfer would pause and resume on every read.
 */
const RELAY_QUEUE_BYTES = 256 * 1024;

const ignore = (): void => undefined;

/** An open CONNECT tunnel, as the shared lifetime sweep sees it. */
interface OpenTunnel {
  /** `performance.now()` at which the tunnel reaches its maximum lifetime. */
  readonly expires: number;
  finish(reason: string): void;
}

/** An upstream connect in progress, as the shared sweep sees it. */
interface PendingConnect {
  readonly deadline: number;
  settle(outcome: string): void;
}

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
 * What the CONNECT path reads of a request head: Node's `IncomingMessage` (a CONNECT that Node's
 * parser read) or the plain object `connectRequest` makes, without a stream per tunnel.
 */
interface RequestHead {
  readonly url?: string | undefined;
  readonly rawHeaders: string[];
  readonly headers: IncomingHttpHeaders;
  readonly socket: Socket;
}

/** The request head of a CONNECT read by `connect-head`, with headers as Node's parser keys them. */
function connectRequest(socket: Socket, target: string, raw: string[]): RequestHead {
  return { url: target, rawHeaders: raw, headers: headersOf(raw), socket };
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
function forwardable(raw: readonly string[], connection: string | undefined): string[] {
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
function requestOver(
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

/** Creates the gateway (not yet listening). */
export function createGateway(opts: GatewayOptions): Gateway {
  const limits: GatewayLimits = { ...DEFAULT_GATEWAY_LIMITS, ...opts.limits };
  const log = opts.logger;
  const lines = createDecisionLines(log);
  const metrics = opts.metrics;
  // Counted in plain numbers, added to the Prometheus instruments at each scrape.
  const hot = metrics?.hot ?? { bytesIn: 0, bytesOut: 0, activeTunnels: 0, decision: ignore };
  const authenticate = createAuthenticator({
    tokenKey: opts.tokenKey,
    now: opts.now,
    ...(opts.identityMap !== undefined ? { identityMap: opts.identityMap } : {}),
    clientCertificates: opts.tls?.clientCa !== undefined,
    ...(opts.revokedTokens !== undefined ? { revokedTokens: opts.revokedTokens } : {}),
  });
  const tunnels = new Set<Duplex>();
  const headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  const httpOptions = {
    maxHeaderSize: limits.maxHeaderSize,
    headersTimeout,
    requestTimeout: limits.requestTimeoutMs,
    // Node checks both timeouts on this period (30 s by default): without a shorter one a slow
    // client would hold its socket far past the limit.
    connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(headersTimeout / 4))),
  };
  const tls = opts.tls;
  const server: Server =
    tls === undefined
      ? createServer(httpOptions)
      : createHttpsServer({
          ...httpOptions,
          cert: tls.cert,
          key: tls.key,
          // Client certificates are asked for but not enforced by the handshake: a bad one is
          // answered with 407 and its reason (identity.ts), not a reset the client cannot read.
          ...(tls.clientCa !== undefined ? { ca: tls.clientCa, requestCert: true } : {}),
          rejectUnauthorized: false,
          // A client that opens TCP and never finishes the handshake is cut like a slow head.
          handshakeTimeout: headersTimeout,
        });
  if (tls !== undefined) {
    server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: { remoteAddress?: string }) => {
      log.debug({ err: err.code ?? err.message, src: socket.remoteAddress }, 'TLS handshake failed');
    });
  }
  // One over the limit so that an oversized head is seen (and refused) rather than truncated.
  server.maxHeadersCount = limits.maxHeadersCount + 1;
  const pool = createUpstreamPool({
    idleTimeoutMs: limits.upstreamIdleTimeoutMs,
    maxIdlePerKey: limits.maxIdleUpstreamsPerHost,
    maxIdleTotal: limits.maxIdleUpstreams,
  });
  const headLimits = { maxHeaderSize: limits.maxHeaderSize, maxHeadersCount: limits.maxHeadersCount };
  /** Connections whose first request head is still arriving, with their deadline. */
  const heads = new Map<Socket, number>();
  const connecting = new Map<Socket, PendingConnect>();
  const openTunnels = new Set<OpenTunnel>();
  /** One shared timer for head, connect and lifetime deadlines instead of a timer each. */
  const sweepMs = Math.max(
    10,
    Math.min(
      1_000,
      Math.floor(Math.min(headersTimeout, limits.connectTimeoutMs, limits.tunnelMaxLifetimeMs) / 4),
    ),
  );
  let sweeper: NodeJS.Timeout | undefined;
  let active = 0;
  const activeByIdentity = new Map<string, number>();

  /** Takes a connection slot for `identity`; the returned release is idempotent. */
  function acquire(identity: string): (() => void) | Refusal {
    const mine = activeByIdentity.get(identity) ?? 0;
    if (active >= limits.maxConns) {
      return {
        status: 429,
        reason: 'limit-total',
        text: `The gateway has ${active} open connections, its limit.`,
      };
    }
    if (mine >= limits.maxConnsPerIdentity) {
      return {
        status: 429,
        reason: 'limit-identity',
        text: `${identity} has ${mine} open connections, its limit.`,
      };
    }
    active++;
    activeByIdentity.set(identity, mine + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      active--;
      const n = (activeByIdentity.get(identity) ?? 1) - 1;
      if (n === 0) activeByIdentity.delete(identity);
      else activeByIdentity.set(identity, n);
    };
  }

  /** 431 when the head has more fields than allowed. */
  function headerCount(req: RequestHead): Refusal | undefined {
    if (req.rawHeaders.length / 2 <= limits.maxHeadersCount) return undefined;
    return {
      status: 431,
      reason: 'too-many-headers',
      text: `More than ${limits.maxHeadersCount} header fields.`,
    };
  }

  /** Writes the decision line and counts it. */
  function logDecision(entry: LogEntry): void {
    lines.decision(entry);
    if (metrics === undefined) return;
    const policy = entry.policyName ?? '';
    hot.decision(entry.decision ?? 'error', entry.reason ?? '', policy);
    if (entry.decision === 'would-deny') metrics.wouldDeny.inc({ policy });
    if (entry.decision === 'deny' && entry.guardrail !== undefined) {
      metrics.guardrailBlocks.inc({ range: entry.guardrail.split(' ')[0] ?? entry.guardrail });
    }
  }

  function start(req: RequestHead, protocol: Protocol): LogEntry {
    const s = req.socket;
    return {
      decisionId: opts.newId(),
      at: new Date(opts.now()).toISOString(),
      src: `${s.remoteAddress ?? '?'}:${s.remotePort ?? 0}`,
      protocol,
    };
  }

  function record(entry: LogEntry, d: Decision): void {
    entry.mode = d.mode;
    entry.reason = d.reason;
    entry.evalNs = d.evalNs;
    entry.decision = !d.allow ? 'deny' : d.reason === 'matched' ? 'allow' : 'would-deny';
    if (d.matched) {
      // Line 0: a control-plane rule, whose location is its ARN rather than a file.
      entry.policy = d.matched.line > 0 ? `${d.matched.file}:${d.matched.line}` : d.matched.file;
      entry.policyName = d.matched.policy;
      entry.ruleId = d.matched.ruleId;
      if (d.matched.securityGroupRuleId !== undefined) {
        entry.securityGroupRuleId = d.matched.securityGroupRuleId;
      }
    }
    // A would-deny with no rule near enough to be shown still belongs to its report-mode policy.
    else if (d.policy !== undefined) entry.policyName = d.policy;
    if (d.guardrail !== undefined) entry.guardrail = d.guardrail;
  }

  /**
   * Resolves and decides. Name rules match by name and address rules and guardrails by address,
   * so every address of the name is decided; only allowed ones are returned, in resolver order.
   */
  async function decide(entry: LogEntry, identity: string, target: Authority): Promise<string[] | Refusal> {
    if (target.host.kind === 'ip') return decideAddress(entry, identity, target, target.host.ip);
    // The snapshot in force when the request arrived decides, however long the lookup takes.
    const snapshot = pinSnapshot(entry);
    const addresses = await resolveTarget(target.host.name);
    if (isRefusal(addresses)) return addresses;
    return decideAddresses(entry, snapshot, identity, target, addresses);
  }

  /** An IP-literal target needs no lookup, so it is decided without a promise. */
  function decideAddress(
    entry: LogEntry,
    identity: string,
    target: Authority,
    ip: string,
  ): string[] | Refusal {
    return decideAddresses(entry, pinSnapshot(entry), identity, target, [ip]);
  }

  function pinSnapshot(entry: LogEntry): Snapshot {
    const snapshot = opts.getSnapshot();
    entry.snapshot = snapshot.version;
    return snapshot;
  }

  /** The name's addresses in canonical text, or a 502 when it has no usable one. */
  async function resolveTarget(host: string): Promise<string[] | Refusal> {
    const t0 = performance.now();
    let addresses: string[];
    try {
      const answer = await opts.resolve(host);
      metrics?.dnsLookup.observe((performance.now() - t0) / 1000);
      // Canonical text only: a resolver answer we cannot parse strictly is not connected to.
      addresses = [...new Set(answer.map((a) => canonicalAddress(a)?.ip ?? ''))];
    } catch (err) {
      metrics?.dnsLookup.observe((performance.now() - t0) / 1000);
      const code = err instanceof Error && 'code' in err ? String(err.code) : 'error';
      return { status: 502, reason: 'dns-failure', text: `Cannot resolve ${host} (${code}).` };
    }
    if (addresses.length === 0 || addresses.includes('')) {
      return { status: 502, reason: 'dns-failure', text: `${host} has no usable address.` };
    }
    return addresses;
  }

  /** Decides every address of the target on `snapshot`. */
  function decideAddresses(
    entry: LogEntry,
    snapshot: Snapshot,
    identity: string,
    target: Authority,
    addresses: readonly string[],
  ): string[] | Refusal {
    const name = target.host.kind === 'name' ? target.host.name : undefined;
    const now = opts.now();
    const allowed: string[] = [];
    let first: Decision | undefined;
    let firstDenied: Decision | undefined;
    for (const ip of addresses) {
      const d = snapshot.decide(
        {
          identity,
          ...(name !== undefined ? { host: name } : {}),
          ip,
          port: target.port,
          protocol: 'tcp',
          now,
        },
        true,
      );
      // A guardrail-denied address (a name that also resolves to 169.254.169.254 or 127.0.0.1)
      // is never used, whatever the other addresses allow.
      if (d.allow) {
        allowed.push(ip);
        first ??= d;
      } else {
        firstDenied ??= d;
      }
    }
    const shown = first ?? firstDenied;
    if (shown) record(entry, shown);
    if (first === undefined) {
      entry.ip = addresses[0] ?? '';
      const d = firstDenied as Decision;
      return { status: 403, reason: d.reason, text: `Denied by Weir: ${d.reason}.`, decision: d };
    }
    return allowed;
  }

  /** `connectFirst` as a promise, for the plain-HTTP paths. */
  function connectChecked(
    entry: LogEntry,
    allowed: readonly string[],
    port: number,
    reads?: UpstreamReads,
  ): Promise<Socket | Refusal> {
    return new Promise((res) => connectFirst(entry, allowed, port, reads, res));
  }

  /**
   * Connects to the first allowed address that answers (every one was checked) and calls `done`
   * with the socket or a refusal. A callback, not a promise: a CONNECT makes no promise at all.
   */
  function connectFirst(
    entry: LogEntry,
    allowed: readonly string[],
    port: number,
    reads: UpstreamReads | undefined,
    done: (result: Socket | Refusal) => void,
  ): void {
    const started = opts.now();
    const t0 = performance.now();
    const finish = (result: Socket | Refusal): void => {
      entry.connectMs = opts.now() - started;
      metrics?.connect.observe((performance.now() - t0) / 1000);
      done(result);
    };
    const attempt = (i: number, last: string): void => {
      const ip = allowed[i];
      if (ip === undefined) return finish(connectRefusal(last));
      entry.ip = ip;
      const sock = opts.connect(ip, port, reads?.onread);
      // With `onread` every read goes straight to the relay: read nothing before it starts.
      if (reads?.inUse === true) sock.pause();
      const onConnect = (): void => settle('ok');
      const onError = (err: NodeJS.ErrnoException): void => settle(err.code ?? 'error');
      const settle = (outcome: string): void => {
        connecting.delete(sock);
        sock.off('connect', onConnect);
        sock.off('error', onError);
        if (outcome !== 'ok') {
          sock.destroy();
          return attempt(i + 1, outcome);
        }
        // A relay must not add Nagle's delay to small writes the endpoints already sent.
        sock.setNoDelay(true);
        // The upstream's FIN ends only its direction: the client's may still be sending.
        sock.allowHalfOpen = true;
        sock.on('error', ignore);
        finish(sock);
      };
      // The sweep settles it as `timeout` at the deadline.
      connecting.set(sock, { deadline: performance.now() + limits.connectTimeoutMs, settle });
      // `on`, not `once`: settle removes both, so once's wrappers would only add garbage.
      sock.on('connect', onConnect);
      sock.on('error', onError);
    };
    attempt(0, 'error');
  }

  function refusalHeaders(entry: LogEntry, r: Refusal): Record<string, string> {
    const h: Record<string, string> = {
      'Content-Type': 'text/plain; charset=utf-8',
      'Weir-Decision': refusalDecision(r.status),
      'Weir-Reason': r.reason,
      'Weir-Decision-Id': entry.decisionId,
      ...r.headers,
    };
    if (r.decision?.matched) h['Weir-Rule'] = r.decision.matched.ruleId;
    return h;
  }

  function logRefusal(entry: LogEntry, r: Refusal): void {
    entry.status = r.status;
    entry.reason = r.reason;
    entry.decision = refusalDecision(r.status);
    logDecision(entry);
  }

  /** Answers a refused CONNECT on the raw socket and closes it. */
  function refuseRaw(socket: Duplex, entry: LogEntry, r: Refusal): void {
    logRefusal(entry, r);
    const body = `${r.text}\n`;
    const headers = {
      ...refusalHeaders(entry, r),
      'Content-Length': `${Buffer.byteLength(body)}`,
      Connection: 'close',
    };
    const head = Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.end(`HTTP/1.1 ${r.status} ${statusText(r.status)}\r\n${head}\r\n${body}`);
  }

  function refuseHttp(res: ServerResponse, entry: LogEntry, r: Refusal): void {
    logRefusal(entry, r);
    const body = `${r.text}\n`;
    const headers: Record<string, string | number> = {
      ...refusalHeaders(entry, r),
      'Content-Length': Buffer.byteLength(body),
    };
    // A request refused for its form (two Host headers, too many fields, a bad target) is one
    // whose framing the gateway does not trust: what follows it on the connection is not read as
    // another request. Policy refusals (403, 407, 429) keep the connection for the next one.
    if (r.status === 400 || r.status === 431) headers.Connection = 'close';
    res.writeHead(r.status, headers);
    res.end(body);
  }

  function isRefusal(v: unknown): v is Refusal {
    return typeof v === 'object' && v !== null && 'status' in v && 'reason' in v;
  }

  /**
   * A CONNECT: checks, decision, upstream connect, `200`, relay. An IP-literal target goes
   * through without a promise (callbacks only); a name waits for its lookup.
   */
  function onConnect(req: RequestHead, client: Socket, head: Buffer): void {
    // Hold client bytes until the tunnel is decided and the first bytes are inspected.
    client.pause();
    client.setNoDelay(true);
    client.on('error', ignore);
    tunnels.add(client);
    client.once('close', () => tunnels.delete(client));
    const entry = start(req, 'connect');
    const tooMany = headerCount(req);
    if (tooMany !== undefined) return refuseRaw(client, entry, tooMany);
    const target = parseAuthority(req.url ?? '');
    if (!target.ok) {
      return refuseRaw(client, entry, { status: 400, reason: 'invalid-target', text: target.problem });
    }
    entry.host = formatHost(target.value.host);
    entry.port = target.value.port;
    const auth = authenticate(req);
    if ('status' in auth) return refuseRaw(client, entry, auth);
    entry.identity = auth.identity;
    entry.identitySource = auth.source;
    const release = acquire(auth.identity);
    if (isRefusal(release)) return refuseRaw(client, entry, release);
    client.once('close', release);
    const to = target.value;
    if (to.host.kind === 'ip') {
      return openTunnel(entry, to, client, head, decideAddress(entry, auth.identity, to, to.host.ip));
    }
    decide(entry, auth.identity, to)
      .then((allowed) => openTunnel(entry, to, client, head, allowed))
      .catch((err: unknown) => connectFailed(client, err));
  }

  /** Runs `onConnect`, logging and closing the socket if it throws. */
  function handleConnect(req: RequestHead, client: Socket, head: Buffer): void {
    try {
      onConnect(req, client, head);
    } catch (err) {
      connectFailed(client, err);
    }
  }

  function connectFailed(client: Socket, err: unknown): void {
    log.error({ err }, 'CONNECT failed');
    client.destroy();
  }

  /** Connects a decided CONNECT to its upstream, answers `200` and starts the relay. */
  function openTunnel(
    entry: LogEntry,
    target: Authority,
    client: Socket,
    head: Buffer,
    allowed: string[] | Refusal,
  ): void {
    if (client.destroyed) return;
    if (isRefusal(allowed)) return refuseRaw(client, entry, allowed);
    const reads = new UpstreamReads();
    connectFirst(entry, allowed, target.port, reads, (connected) => {
      try {
        const upstream = adoptUpstream(client, entry, connected);
        if (upstream === undefined) return;
        client.write(ESTABLISHED);
        tunnel(entry, target, client, upstream, head, EMPTY, reads);
      } catch (err) {
        connectFailed(client, err);
      }
    });
  }

  /**
   * The upstream a decided request connected to, its decision logged and the socket counted
   * as a tunnel; undefined when the connect was refused (answered here) or the client left in
   * the meantime (the upstream is closed).
   */
  function adoptUpstream(client: Socket, entry: LogEntry, connected: Socket | Refusal): Socket | undefined {
    if (isRefusal(connected)) {
      refuseRaw(client, entry, connected);
      return undefined;
    }
    if (client.destroyed) {
      connected.destroy();
      return undefined;
    }
    logDecision(entry);
    tunnels.add(connected);
    return connected;
  }

  /**
   * Relays an open tunnel both ways. Each direction ends on its own (half-close: a client may
   * send its request and FIN, then read the whole answer); the tunnel is closed and logged once
   * both directions are done, or at once on an error, a timeout, its lifetime or an SNI refusal.
   * `head` is what the client sent beyond its request head; with `sniTarget` (CONNECT) the
   * client's first bytes must not be a ClientHello naming another host. `toClient` is what the
   * upstream sent beyond its `101` (an upgraded plain-HTTP connection). `reads`: the upstream
   * was connected with its `onread`.
   */
  function tunnel(
    entry: LogEntry,
    sniTarget: Authority | undefined,
    client: Socket,
    upstream: Socket,
    head: Buffer,
    toClient: Buffer = EMPTY,
    reads?: UpstreamReads,
  ): void {
    const opened = opts.now();
    let bytesIn = 0;
    let bytesOut = 0;
    let closed = false;
    let sidesClosed = 0;
    hot.activeTunnels++;
    const finish = (reason: string): void => {
      if (closed) return;
      closed = true;
      openTunnels.delete(open);
      hot.activeTunnels--;
      client.destroy();
      upstream.destroy();
      reads?.release();
      tunnels.delete(upstream);
      lines.closed('tunnel closed', {
        decisionId: entry.decisionId,
        identity: entry.identity,
        close: reason,
        bytesIn,
        bytesOut,
        durationMs: opts.now() - opened,
      });
    };
    const open: OpenTunnel = { expires: performance.now() + limits.tunnelMaxLifetimeMs, finish };
    openTunnels.add(open);
    const onIdle = (): void => finish('idle-timeout');
    const onClose = (s: Socket): void => {
      // A side that closed after sending its FIN and receiving ours is done; one that closed
      // any other way (reset, error) takes the other side down with it.
      if (s.errored !== null || !s.readableEnded)
        return finish(s === client ? 'client-reset' : 'upstream-reset');
      if (++sidesClosed === 2) finish('closed');
    };
    client.setTimeout(limits.idleTimeoutMs, onIdle);
    upstream.setTimeout(limits.idleTimeoutMs, onIdle);
    client.once('close', () => onClose(client));
    upstream.once('close', () => onClose(upstream));
    const countIn = (n: number): void => {
      bytesIn += n;
      hot.bytesIn += n;
    };
    if (reads?.inUse === true) reads.start(upstream, { to: client, count: countIn });
    else relay(upstream, client, countIn);
    const countOut = (n: number): void => {
      bytesOut += n;
      hot.bytesOut += n;
    };
    if (toClient.length > 0) {
      bytesIn += toClient.length;
      hot.bytesIn += toClient.length;
      client.write(toClient);
    }
    if (sniTarget === undefined) {
      if (head.length > 0) {
        countOut(head.length);
        upstream.write(head);
      }
      relay(client, upstream, countOut);
      client.resume();
      return;
    }
    const target = sniTarget;

    // The client's first bytes are held until they are known not to be a ClientHello with a
    // foreign SNI; only then does the client-to-upstream relay start.
    let first: Buffer = Buffer.alloc(0);
    const startRelay = (): void => {
      client.off('data', inspect);
      client.off('end', endBeforeInspected);
      relay(client, upstream, countOut);
    };
    const judge = (final: boolean): void => {
      const hello = parseClientHello(first);
      if (hello.kind === 'incomplete' && !final && first.length <= MAX_HELLO_BYTES + 5 * 8) return;
      if (hello.kind === 'malformed' || hello.kind === 'incomplete') {
        log.warn(
          {
            decisionId: entry.decisionId,
            why: hello.kind === 'malformed' ? hello.why : 'incomplete or too long',
          },
          'malformed TLS ClientHello',
        );
        return finish('malformed-client-hello');
      }
      if (hello.kind === 'client-hello' && hello.sni !== undefined) {
        const sni = parseAuthority(hello.sni, 443);
        // Domain fronting: the tunnel goes to an address checked for the CONNECT host, but the
        // TLS server (a shared CDN edge) routes by SNI to whatever name the client put there.
        if (!sni.ok || !sameHost(sni.value.host, target.host)) {
          logDecision({
            ...entry,
            sni: hello.sni,
            decision: 'deny',
            reason: 'sni-mismatch',
            at: new Date(opts.now()).toISOString(),
          });
          return finish('sni-mismatch');
        }
      }
      countOut(first.length);
      upstream.write(first);
      // After the client's FIN the relay ends the upstream at once (it sees the end has been).
      startRelay();
    };
    const inspect = (chunk: Buffer): void => {
      first = first.length === 0 ? chunk : Buffer.concat([first, chunk]);
      judge(false);
    };
    // FIN before the first bytes were judged: nothing sent is passed on as a half-close; a
    // partial ClientHello is judged as it is (and refused).
    const endBeforeInspected = (): void => {
      if (first.length > 0) return judge(true);
      client.off('data', inspect);
      upstream.end();
    };
    // A client may send its head and FIN together (`printf … | nc -N`): its `end` has then been
    // emitted while the tunnel was being decided, and will not come again.
    if (client.readableEnded) {
      first = head;
      return endBeforeInspected();
    }
    client.on('data', inspect);
    client.once('end', endBeforeInspected);
    if (head.length > 0) inspect(head);
    if (!closed) client.resume();
  }

  /**
   * The checks every plain-HTTP request (upgrades included) passes before a byte goes upstream:
   * header count, absolute URI, Host against the URI, token, connection limits, then the decision
   * on the current snapshot. `hold` gets the connection slot's release, to call when the exchange ends.
   */
  async function admit(
    req: IncomingMessage,
    entry: LogEntry,
    hold: (release: () => void) => void,
  ): Promise<Admitted | Refusal> {
    const tooMany = headerCount(req);
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
    const auth = authenticate(req);
    if ('status' in auth) return auth;
    entry.identity = auth.identity;
    entry.identitySource = auth.source;
    const release = acquire(auth.identity);
    if (isRefusal(release)) return release;
    hold(release);
    const allowed = await decide(entry, auth.identity, uri.value);
    if (isRefusal(allowed)) return allowed;
    return {
      uri: uri.value,
      host: hostHeader ?? uri.value.authority,
      identity: auth.identity,
      allowed,
    };
  }

  /** The `request closed` line of a plain-HTTP exchange. */
  function logRequestClosed(
    entry: LogEntry,
    opened: number,
    close: string,
    bytesIn: number,
    bytesOut: number,
  ): void {
    lines.closed('request closed', {
      decisionId: entry.decisionId,
      identity: entry.identity,
      close,
      bytesIn,
      bytesOut,
      durationMs: opts.now() - opened,
    });
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const entry = start(req, 'http');
    const opened = opts.now();
    const admitted = await admit(req, entry, (release) => res.once('close', release));
    if (isRefusal(admitted)) return refuseHttp(res, entry, admitted);
    const { uri, host } = admitted;
    // Reuse only a connection to an address this request's own decision allowed: the pool is
    // keyed by checked address, port and Host, so neither a policy change nor a new DNS answer
    // (rebinding) can inherit a socket that an earlier decision opened.
    const idle = pool.take(admitted.allowed, uri.port, host);
    let sock: Socket;
    if (idle !== undefined) {
      sock = idle.socket;
      entry.ip = idle.ip;
      entry.reused = true;
    } else {
      const fresh = await connectChecked(entry, admitted.allowed, uri.port);
      if (isRefusal(fresh)) return refuseHttp(res, entry, fresh);
      sock = fresh;
    }
    const ip = entry.ip as string;
    logDecision(entry);
    if (req.socket.destroyed) {
      // The client left while the gateway connected: nothing to send; the connection stays clean.
      pool.offer(ip, uri.port, host, sock);
      return;
    }

    let bytesOut = 0;
    let bytesIn = 0;
    let closeLogged = false;
    const closed = (close: string): void => {
      if (closeLogged) return;
      closeLogged = true;
      logRequestClosed(entry, opened, close, bytesIn, bytesOut);
    };
    const upstream = requestOver(sock, req, uri.path, ['Host', host], true, limits.idleTimeoutMs);
    // Node emits `free` once request and response are complete and the upstream allows keep-alive.
    sock.once('free', () => pool.offer(ip, uri.port, host, sock));
    upstream.on('response', (pres) => {
      res.writeHead(
        pres.statusCode ?? 502,
        pres.statusMessage,
        forwardable(pres.rawHeaders, pres.headers.connection),
      );
      pres.on('data', (c: Buffer) => {
        bytesIn += c.length;
        hot.bytesIn += c.length;
      });
      pres.pipe(res);
      pres.once('end', () => closed('complete'));
      pres.once('error', () => res.destroy());
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (closeLogged) return;
      if (res.headersSent) {
        res.destroy();
      } else {
        res.writeHead(502, { 'Content-Type': 'text/plain', 'Weir-Decision-Id': entry.decisionId });
        res.end(`Upstream failed (${err.code ?? 'error'}).\n`);
      }
      closed(`upstream-error ${err.code ?? ''}`.trim());
    });
    req.on('data', (c: Buffer) => {
      bytesOut += c.length;
      hot.bytesOut += c.length;
    });
    req.pipe(upstream);
    // The client closed before its answer was out (a half-close counts: Node's server aborts
    // the request then, as Squid does by default): the upstream is cut, and the close is the
    // client's, not an upstream error.
    res.once('close', () => {
      if (res.writableFinished) return;
      closed('client-closed');
      upstream.destroy();
    });
  }

  /**
   * A plain-HTTP request with `Upgrade` (WebSocket, h2c): admitted like any plain request, sent
   * on a fresh connection to a checked address with `Connection: Upgrade` kept; a `101` turns
   * both sides into a relayed tunnel (counted, idle and lifetime limits, cut on close), any other
   * answer goes back as a normal response and the connection closes.
   */
  async function onUpgrade(req: IncomingMessage, client: Socket, head: Buffer): Promise<void> {
    client.on('error', () => undefined);
    tunnels.add(client);
    client.once('close', () => tunnels.delete(client));
    const entry = start(req, 'http');
    const opened = opts.now();
    entry.upgrade = req.headers.upgrade ?? '';
    const admitted = await admit(req, entry, (release) => client.once('close', release));
    if (isRefusal(admitted)) return refuseRaw(client, entry, admitted);
    const { uri, host } = admitted;
    // Never from the pool: after a 101 the connection belongs to the new protocol.
    const sock = adoptUpstream(client, entry, await connectChecked(entry, admitted.allowed, uri.port));
    if (sock === undefined) return;
    sock.once('close', () => tunnels.delete(sock));
    const upgrade = ['Host', host, 'Connection', 'Upgrade', 'Upgrade', entry.upgrade];
    const upstream = requestOver(sock, req, uri.path, upgrade, false, limits.idleTimeoutMs);
    let answered = false;
    client.once('close', () => {
      if (!answered) upstream.destroy();
    });
    upstream.on('upgrade', (pres: IncomingMessage, upSock: Socket, upHead: Buffer) => {
      answered = true;
      upSock.setTimeout(0);
      const lines = [`HTTP/1.1 101 ${pres.statusMessage || 'Switching Protocols'}`];
      for (let i = 0; i + 1 < pres.rawHeaders.length; i += 2) {
        lines.push(`${pres.rawHeaders[i] ?? ''}: ${pres.rawHeaders[i + 1] ?? ''}`);
      }
      client.write(`${lines.join('\r\n')}\r\n\r\n`);
      tunnel(entry, undefined, client, upSock, head, upHead);
    });
    upstream.on('response', (pres: IncomingMessage) => {
      answered = true;
      // Not switched: a normal response (a 4xx from a server that refused the upgrade), after
      // which the connection closes; its body is delimited by that close.
      const kept = forwardable(pres.rawHeaders, pres.headers.connection);
      const lines = [`HTTP/1.1 ${pres.statusCode ?? 502} ${pres.statusMessage ?? ''}`];
      for (let i = 0; i + 1 < kept.length; i += 2) lines.push(`${kept[i] ?? ''}: ${kept[i + 1] ?? ''}`);
      lines.push('Connection: close');
      client.write(`${lines.join('\r\n')}\r\n\r\n`);
      let bytesIn = 0;
      pres.on('data', (c: Buffer) => {
        bytesIn += c.length;
        hot.bytesIn += c.length;
      });
      pres.pipe(client);
      pres.once('end', () => {
        sock.destroy();
        logRequestClosed(entry, opened, 'not-upgraded', bytesIn, 0);
      });
      pres.once('error', () => client.destroy());
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (!answered) {
        answered = true;
        const body = `Upstream failed (${err.code ?? 'error'}).\n`;
        client.end(
          `HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nWeir-Decision-Id: ${entry.decisionId}\r\n` +
            `Connection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
      }
      logRequestClosed(entry, opened, `upstream-error ${err.code ?? ''}`.trim(), 0, 0);
    });
    upstream.end();
  }

  /** Settles what is past its deadline: slow request heads (408), connects, tunnel lifetimes. */
  function sweep(): void {
    const now = performance.now();
    for (const [socket, deadline] of heads) {
      if (socket.destroyed) heads.delete(socket);
      else if (deadline <= now) {
        heads.delete(socket);
        socket.end(REQUEST_TIMEOUT, () => socket.destroy());
      }
    }
    for (const [, pending] of connecting) if (pending.deadline <= now) pending.settle('timeout');
    for (const t of openTunnels) if (t.expires <= now) t.finish('max-lifetime');
  }

  // Node's handler of new connections (its HTTP parser). A connection that opens with `CONNECT `
  // is read by the gateway's own strict head parser instead, without an HTTP parser, request
  // and response objects per tunnel; any other is handed back to Node with its bytes unread.
  // On the TLS listener the same holds for the decrypted stream: Node's HTTP handler listens to
  // `secureConnection` there, `connection` being the TLS handshake's own.
  const connectionEvent = tls === undefined ? 'connection' : 'secureConnection';
  const httpConnection = server.listeners(connectionEvent)[0] as ((socket: Socket) => void) | undefined;
  if (httpConnection === undefined || server.listenerCount(connectionEvent) !== 1) {
    throw new Error(`unexpected http.Server ${connectionEvent} listeners: cannot route CONNECT heads`);
  }
  server.removeAllListeners(connectionEvent);
  server.on(connectionEvent, accept);

  /** Routes a new client connection by its first bytes and reads a CONNECT head. */
  function accept(socket: Socket): void {
    // As Node's HTTP server sets it on the plain listener: a client's FIN (over TLS, its
    // close_notify) ends only its direction, so a tunnel relays a half-close, also when it came
    // with the CONNECT head. Set here, after the TLS handshake, not as a server option: a FIN in
    // the middle of a handshake must still close the connection at once.
    socket.allowHalfOpen = true;
    heads.set(socket, performance.now() + headersTimeout);
    socket.on('error', ignore);
    const reader = createHeadReader(headLimits);
    let sniffed: Buffer | undefined = EMPTY;
    /** Answers a head that cannot become a request, and closes. */
    const refuseHead = (r: Refusal): void =>
      refuseRaw(socket, start(connectRequest(socket, '', []), 'connect'), r);
    // A FIN before the head is complete: the request can never finish, so the connection is
    // closed now rather than at the head deadline (as Node's parser does for other requests).
    const onEnd = (): void => {
      heads.delete(socket);
      socket.off('data', onData);
      // Still sniffing and nothing kept: not a byte arrived.
      if (sniffed?.length === 0) return void socket.end();
      refuseHead({
        status: 400,
        reason: 'malformed-request',
        text: 'The connection was half-closed before the request head was complete.',
      });
    };
    const onData = (chunk: Buffer): void => {
      if (sniffed !== undefined) {
        const data = sniffed.length === 0 ? chunk : Buffer.concat([sniffed, chunk]);
        const kind = sniffConnect(data);
        if (kind === 'undecided') {
          sniffed = data;
          return;
        }
        if (kind === 'other') {
          heads.delete(socket);
          socket.off('data', onData);
          socket.off('end', onEnd);
          socket.off('error', ignore);
          // Put back what was read; Node's parser reads it first, then the socket's next bytes.
          socket.unshift(data);
          httpConnection?.call(server, socket);
          return;
        }
        sniffed = undefined;
        chunk = data;
      }
      const r = reader.push(chunk);
      if (r.kind === 'incomplete') return;
      heads.delete(socket);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.pause();
      if (r.kind === 'bad') return refuseHead(r);
      const req = connectRequest(socket, r.target, r.rawHeaders);
      handleConnect(req, socket, r.rest);
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
  }

  server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    handleConnect(req, socket, head);
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    onRequest(req, res).catch((err: unknown) => {
      log.error({ err }, 'proxy request failed');
      res.destroy();
    });
  });
  // A request head Node's parser refuses (both Content-Length and Transfer-Encoding, two
  // Content-Lengths, a Transfer-Encoding other than chunked, bare CR or LF, space before a colon,
  // control bytes in the target: the request-smuggling spellings) never reaches `admit`; it is answered here, with the parser's
  // code so the client can see what was wrong, and logged like any refusal.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    // Only the HTTP parser's errors get an HTTP answer; anything else (a reset, a TLS handshake
    // that failed or timed out on the TLS listener) has no HTTP peer to read it.
    const httpError = err.code?.startsWith('HPE_') === true || err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    if (!httpError || !socket.writable || inFlight?.headersSent === true) {
      socket.destroy();
      return;
    }
    const s = socket as Socket;
    const entry: LogEntry = {
      decisionId: opts.newId(),
      at: new Date(opts.now()).toISOString(),
      src: `${s.remoteAddress ?? '?'}:${s.remotePort ?? 0}`,
      protocol: 'http',
    };
    const code = err.code ?? 'error';
    const refusal: Refusal =
      code === 'HPE_HEADER_OVERFLOW'
        ? {
            status: 431,
            reason: 'header-too-large',
            text: `The request head is larger than ${limits.maxHeaderSize} bytes.`,
          }
        : code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? { status: 408, reason: 'request-timeout', text: 'The request head did not arrive in time.' }
          : {
              status: 400,
              reason: 'malformed-request',
              text: `Malformed HTTP request (${code}: ${err.message}); requests must be plain HTTP/1.1 with CRLF line ends.`,
            };
    refuseRaw(socket, entry, refusal);
  });
  // An upgrade arrives on the connection's socket (TCP or TLS): a `net.Socket`.
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    onUpgrade(req, socket, head).catch((err: unknown) => {
      log.error({ err }, 'proxy upgrade failed');
      socket.destroy();
    });
  });

  return {
    server,
    updateTls: (next) => {
      if (tls === undefined) throw new Error('updateTls: this gateway does not listen with TLS');
      if ((next.clientCa === undefined) !== (tls.clientCa === undefined)) {
        throw new Error('updateTls: client certificates can be rotated, not switched on or off');
      }
      (server as unknown as HttpsServer).setSecureContext({
        cert: next.cert,
        key: next.key,
        ...(next.clientCa !== undefined ? { ca: next.clientCa } : {}),
      });
    },
    listen: (host, port) =>
      new Promise<AddressInfo>((res, rej) => {
        server.once('error', rej);
        server.listen(port, host, () => {
          server.off('error', rej);
          sweeper ??= setInterval(sweep, sweepMs).unref();
          res(server.address() as AddressInfo);
        });
      }),
    close: async (graceMs = 10_000) => {
      if (!server.listening) return;
      const closed = new Promise<void>((res) => server.close(() => res()));
      clearInterval(sweeper);
      sweeper = undefined;
      for (const [socket] of heads) socket.destroy();
      heads.clear();
      for (const [, pending] of connecting) pending.settle('closing');
      for (const t of openTunnels) t.finish('shutdown');
      for (const t of tunnels) t.destroy();
      pool.close();
      server.closeIdleConnections();
      const force = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(force);
    },
  };
}

/**
 * 400 for a head Node's parser accepts but hops can read differently: more than one Host (Node
 * keeps the first, a server behind another proxy may use the last). Node's parser itself refuses
 * the other smuggling spellings (see the `clientError` handler).
 */
function ambiguousHead(req: IncomingMessage): Refusal | undefined {
  let hosts = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i] ?? '';
    if (k.length === 4 && k.toLowerCase() === 'host') hosts++;
  }
  if (hosts > 1) {
    return { status: 400, reason: 'invalid-request', text: 'More than one Host header: send exactly one.' };
  }
  return undefined;
}

function connectRefusal(last: string): Refusal {
  return last === 'timeout'
    ? { status: 504, reason: 'connect-timeout', text: 'Upstream connect timed out.' }
    : { status: 502, reason: 'connect-failed', text: `Upstream connect failed (${last}).` };
}

function refusalDecision(status: number): 'deny' | 'unauthenticated' | 'limit' | 'error' {
  return status === 403 ? 'deny' : status === 407 ? 'unauthenticated' : status === 429 ? 'limit' : 'error';
}

function statusText(status: number): string {
  return (
    {
      400: 'Bad Request',
      408: 'Request Timeout',
      403: 'Forbidden',
      407: 'Proxy Authentication Required',
      429: 'Too Many Requests',
      431: 'Request Header Fields Too Large',
      502: 'Bad Gateway',
      504: 'Gateway Timeout',
    }[status] ?? 'Error'
  );
}
