/**
 * @module gateway/proxy/options — what a gateway is made from and what it offers: its limits and
 * their defaults, the options (all I/O passed in: resolver, connect, clock, ids, logger, snapshot)
 * and the running `Gateway`.
 */
import type { LogEntry } from '../decision-line.js';
import type { Server } from 'node:http';
import type { AddressInfo, OnReadOpts, Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Snapshot } from '../../engine/index.js';
import type { IdentityMap } from '../../identity/index.js';
import type { GatewayTls } from '../../identity/index.js';
import type { GatewayMetrics } from '../metrics.js';
import type { Resolve } from '../../dns/index.js';
import type { AdmissionCaps } from './descriptors.js';

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
  /**
   * Client connections that have not yet proven an identity, in all; more are closed at accept.
   * Fitted to the descriptor budget (`descriptors.ts`).
   */
  readonly maxPreauthConns: number;
  /** The same, per source address (IPv6: per /64); more from that source are closed at accept. */
  readonly maxPreauthConnsPerSource: number;
  /** File descriptors kept for the rest of the process (API, `/healthz`, store, logs). */
  readonly fdReserve: number;
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
  maxPreauthConns: 1_000,
  // A whole node behind one address (SNAT) opens its connections through here; each stays
  // unauthenticated only for the time its first head takes to arrive.
  maxPreauthConnsPerSource: 100,
  fdReserve: 128,
};

/** What the gateway needs from outside. */
export interface GatewayOptions {
  /**
   * The snapshot to enforce; read once per request. Open connections are re-decided on it when
   * `Gateway.recheck()` is called.
   */
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
  /**
   * Hears each decision as its line is written (`weir serve` keeps the recent ones for
   * `weir decisions`); the entry is the live one, so a listener copies what it keeps.
   */
  readonly onDecision?: (entry: Readonly<LogEntry>) => void;
  /** The token signing key (`loadTokenKey`). */
  readonly tokenKey: Buffer;
  /** Listen with TLS (`loadGatewayTls`); with `clientCa`, client certificates prove identity. */
  readonly tls?: GatewayTls;
  /** The source-address identity map in force (`watchIdentityMap`), read once per request. */
  readonly identityMap?: () => IdentityMap;
  /**
   * Token IDs revoked (`TokenRevocations`): such a token is refused with 407 `token-revoked`, and
   * connections admitted with it are cut at the next `Gateway.recheck()`.
   */
  readonly revokedTokens?: { has(id: string): boolean };
  /** The account tokens must be issued for (`--gateway-account`); absent: any account. */
  readonly tokenAccount?: string;
  readonly limits?: Partial<GatewayLimits>;
  /** Prometheus instruments (`createGatewayMetrics`); none when absent. */
  readonly metrics?: GatewayMetrics;
  /**
   * The process's soft `RLIMIT_NOFILE`, which the connection caps are fitted to; default: read
   * from `/proc/self/limits` (undefined where there is none: caps are then not fitted).
   */
  readonly descriptorLimit?: () => number | undefined;
}

/** A running gateway. */
export interface Gateway {
  readonly server: Server;
  /** The connection caps in force (configured limits fitted to the descriptor budget). */
  readonly admission: AdmissionCaps;
  /** Listens; resolves to `host:port` actually bound. */
  listen(host: string, port: number): Promise<AddressInfo>;
  /** Stops accepting, cuts open tunnels, lets in-flight plain requests finish (bounded). */
  close(graceMs?: number): Promise<void>;
  /**
   * Replaces the certificate, key and client CA for new handshakes (rotation); open connections
   * keep theirs. Only for a gateway created with `tls`, and the client CA only when it had one.
   */
  updateTls(tls: GatewayTls): void;
  /**
   * Re-checks open tunnels and keep-alive client connections: each one whose token is revoked or
   * expired, or whose destination the current snapshot no longer allows, is cut at once. Call
   * after every snapshot swap and every change of the revocation list.
   */
  recheck(): void;
}
