/**
 * @module gateway/proxy/context — the state of a gateway, passed explicitly instead of closed
 * over: `GatewayContext` is what every connection of one gateway shares (options, limits, the
 * decision log, metrics, the authenticator, connection slots, deadlines, idle upstreams, sockets to
 * cut at close); `Exchange` is one client request from its head to its close (its decision line
 * and client socket), as smokescreen's per-request context struct.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { headersOf } from '../connect-head.js';
import type { HeadLimits } from '../connect-head.js';
import { createDecisionLines } from '../decision-line.js';
import type { ClosedMessage, DecisionLines, LogEntry, Protocol } from '../decision-line.js';
import { createUpstreamPool } from '../http-forward.js';
import type { UpstreamPool } from '../http-forward.js';
import { createAuthenticator } from '../../identity/index.js';
import type { GatewayMetrics, HotCounts } from '../metrics.js';
import type { Snapshot } from '../../engine/index.js';
import { ConnectionSlots, Deadlines, PreauthConnections } from './admission.js';
import { fitToDescriptors, softDescriptorLimit } from './descriptors.js';
import type { AdmissionCaps } from './descriptors.js';
import type { DecisionEnv } from './decide.js';
import { LiveConnections } from './live.js';
import { DEFAULT_GATEWAY_LIMITS } from './options.js';
import type { GatewayLimits, GatewayOptions } from './options.js';

/**
 * A no-op: an `error` listener (the socket's `close` handlers clean up), the decision count of a
 * gateway without metrics.
 */
export const ignore = (): void => undefined;
/** No bytes (shared, never written to). */
export const EMPTY = Buffer.alloc(0);

/**
 * What the CONNECT path reads of a request head: Node's `IncomingMessage` (a CONNECT that Node's
 * parser read) or the plain object `connectRequest` makes, without a stream per tunnel.
 */
export interface RequestHead {
  readonly url?: string | undefined;
  readonly rawHeaders: string[];
  readonly headers: IncomingHttpHeaders;
  readonly socket: Socket;
}

/** The request head of a CONNECT read by `connect-head`, with headers as Node's parser keys them. */
export function connectRequest(socket: Socket, target: string, raw: string[]): RequestHead {
  return { url: target, rawHeaders: raw, headers: headersOf(raw), socket };
}

/** What every connection of one gateway shares. Built once by `createGateway`. */
export class GatewayContext {
  readonly opts: GatewayOptions;
  readonly limits: GatewayLimits;
  readonly log: Logger;
  readonly lines: DecisionLines;
  readonly metrics: GatewayMetrics | undefined;
  /** Counted in plain numbers, added to the Prometheus instruments at each scrape. */
  readonly hot: HotCounts;
  readonly authenticate: ReturnType<typeof createAuthenticator>;
  /** The connection caps in force: the configured limits fitted to the descriptor budget. */
  readonly admission: AdmissionCaps;
  /** Connections that have not yet proven an identity (capped in all and per source). */
  readonly preauth: PreauthConnections;
  /** Client and upstream sockets of tunnels and CONNECTs in progress: cut at close. */
  readonly sockets = new Set<Duplex>();
  /** Idle keep-alive upstream connections of plain HTTP. */
  readonly pool: UpstreamPool;
  readonly slots: ConnectionSlots;
  readonly deadlines: Deadlines;
  /** Node's `headersTimeout` (never above the request timeout); also the TLS handshake's. */
  readonly headersTimeout: number;
  readonly headLimits: HeadLimits;
  /** What a decision reads besides the request and the snapshot. */
  readonly decisionEnv: DecisionEnv;
  /** Open tunnels and keep-alive client connections, cut when their right no longer holds. */
  readonly live: LiveConnections;

  constructor(opts: GatewayOptions) {
    this.opts = opts;
    const configured: GatewayLimits = { ...DEFAULT_GATEWAY_LIMITS, ...opts.limits };
    const admission = fitToDescriptors(configured, (opts.descriptorLimit ?? softDescriptorLimit)());
    this.admission = admission;
    // The caps fitted to the descriptor budget replace the configured ones where lower.
    const limits: GatewayLimits = {
      ...configured,
      maxConns: admission.maxConns,
      maxIdleUpstreams: admission.maxIdleUpstreams,
      maxPreauthConns: admission.maxPreauthConns,
      maxPreauthConnsPerSource: admission.maxPreauthConnsPerSource,
    };
    this.limits = limits;
    this.preauth = new PreauthConnections(limits);
    this.log = opts.logger;
    const lines = createDecisionLines(opts.logger);
    const onDecision = opts.onDecision;
    this.lines =
      onDecision === undefined
        ? lines
        : {
            ...lines,
            decision: (entry) => {
              lines.decision(entry);
              onDecision(entry);
            },
          };
    this.metrics = opts.metrics;
    this.hot = opts.metrics?.hot ?? { bytesIn: 0, bytesOut: 0, activeTunnels: 0, decision: ignore };
    const authenticate = createAuthenticator({
      tokenKey: opts.tokenKey,
      now: opts.now,
      ...(opts.identityMap !== undefined ? { identityMap: opts.identityMap } : {}),
      clientCertificates: opts.tls?.clientCa !== undefined,
      ...(opts.revokedTokens !== undefined ? { revokedTokens: opts.revokedTokens } : {}),
      ...(opts.tokenAccount !== undefined ? { tokenAccount: opts.tokenAccount } : {}),
    });
    const preauth = this.preauth;
    // A connection stops counting against the pre-authentication caps once a request on it
    // proves an identity; a refused one keeps counting until it is closed (after its 407).
    this.authenticate = (req) => {
      const auth = authenticate(req);
      if (!('status' in auth)) preauth.authenticated(req.socket);
      return auth;
    };
    this.headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
    this.pool = createUpstreamPool({
      idleTimeoutMs: limits.upstreamIdleTimeoutMs,
      maxIdlePerKey: limits.maxIdleUpstreamsPerHost,
      maxIdleTotal: limits.maxIdleUpstreams,
    });
    this.headLimits = { maxHeaderSize: limits.maxHeaderSize, maxHeadersCount: limits.maxHeadersCount };
    this.slots = new ConnectionSlots(limits);
    this.deadlines = new Deadlines(this.headersTimeout, limits);
    const cuts = opts.metrics?.connectionsCut;
    this.live = new LiveConnections({
      getSnapshot: opts.getSnapshot,
      now: opts.now,
      revokedTokens: opts.revokedTokens,
      counted: (reason) => cuts?.inc({ reason }),
    });
    this.decisionEnv = {
      resolve: opts.resolve,
      now: opts.now,
      dnsLookup: opts.metrics?.dnsLookup,
    };
  }

  /** A new decision line for a request that came in on `socket`. */
  startEntry(socket: Duplex, protocol: Protocol): LogEntry {
    const s = socket as Socket;
    return {
      decisionId: this.opts.newId(),
      at: new Date(this.opts.now()).toISOString(),
      src: `${s.remoteAddress ?? '?'}:${s.remotePort ?? 0}`,
      protocol,
    };
  }

  /** Writes the decision line and counts it. */
  logDecision(entry: LogEntry): void {
    this.lines.decision(entry);
    const metrics = this.metrics;
    if (metrics === undefined) return;
    // A grant's "policy" is per grant (`exception/exc-…`): counted by its kind, so labels stay bounded.
    const policy = entry.grant !== undefined ? entry.grant.kind : (entry.policyName ?? '');
    this.hot.decision(entry.decision ?? 'error', entry.reason ?? '', policy);
    if (entry.decision === 'would-deny') metrics.wouldDeny.inc({ policy });
    if (entry.decision === 'deny' && entry.guardrail !== undefined) {
      metrics.guardrailBlocks.inc({ range: entry.guardrail.split(' ')[0] ?? entry.guardrail });
    }
    // No rule anywhere near (neither its destination nor its port): a destination nobody named.
    if (entry.decision === 'deny' && entry.reason === 'no-match' && entry.ruleId === undefined) {
      metrics.unknownDestinations.inc();
    }
  }

  /** The `tunnel closed` or `request closed` line of an exchange opened at `opened` (epoch ms). */
  logClosed(
    msg: ClosedMessage,
    entry: LogEntry,
    opened: number,
    close: string,
    bytesIn: number,
    bytesOut: number,
  ): void {
    this.lines.closed(msg, {
      decisionId: entry.decisionId,
      identity: entry.identity,
      close,
      bytesIn,
      bytesOut,
      durationMs: this.opts.now() - opened,
    });
  }
}

/** What an admitted request rests on, besides the address it connected to (`entry.ip`). */
export interface Admission {
  readonly identity: string;
  /** The token presented (ID, expiry epoch ms), when one was. */
  readonly token: { readonly id: string; readonly expires: number } | undefined;
  /** The destination name; undefined for an IP literal. */
  readonly host: string | undefined;
  readonly port: number;
  /** The snapshot that decided. */
  readonly snapshot: Snapshot;
}

/**
 * One client request (a CONNECT, a plain-HTTP request, an upgrade) from its head to its close:
 * the gateway it came to, its client socket, and its decision line, filled as the request goes.
 */
export class Exchange {
  readonly entry: LogEntry;
  /** What the request was admitted on, once it was: the right its connection is watched for. */
  admitted: Admission | undefined;

  constructor(
    readonly gw: GatewayContext,
    readonly client: Socket,
    protocol: Protocol,
  ) {
    this.entry = gw.startEntry(client, protocol);
  }
}
