/**
 * @module gateway/proxy/admission — what bounds the gateway's connections: connections that have
 * not yet proven an identity (in all and per source address: closed at accept beyond either),
 * connection slots (open tunnels and in-flight plain requests, in all and per identity: 429
 * beyond either) and the deadlines of slow request heads, upstream connects and tunnel
 * lifetimes, all settled by one shared timer instead of a timer each.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { GatewayLimits } from './options.js';
import type { Refusal } from './refusals.js';

/** Node's own reply to a client that is too slow with its request head. */
const REQUEST_TIMEOUT = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n';

/**
 * Connection slots: a request takes one once it is authenticated, and gives it back when its
 * tunnel or exchange closes. Bounding them per identity keeps one workload (or one stolen token)
 * from holding every connection the gateway can have.
 */
export class ConnectionSlots {
  #active = 0;
  readonly #byIdentity = new Map<string, number>();

  constructor(private readonly limits: Pick<GatewayLimits, 'maxConns' | 'maxConnsPerIdentity'>) {}

  /** Takes a connection slot for `identity`; the returned release is idempotent. */
  acquire(identity: string): (() => void) | Refusal {
    const byIdentity = this.#byIdentity;
    const mine = byIdentity.get(identity) ?? 0;
    if (this.#active >= this.limits.maxConns) {
      return {
        status: 429,
        reason: 'limit-total',
        text: `The gateway has ${this.#active} open connections, its limit.`,
      };
    }
    if (mine >= this.limits.maxConnsPerIdentity) {
      return {
        status: 429,
        reason: 'limit-identity',
        text: `${identity} has ${mine} open connections, its limit.`,
      };
    }
    this.#active++;
    byIdentity.set(identity, mine + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.#active--;
      const n = (byIdentity.get(identity) ?? 1) - 1;
      if (n === 0) byIdentity.delete(identity);
      else byIdentity.set(identity, n);
    };
  }
}

/** An open CONNECT tunnel, as the shared lifetime sweep sees it. */
export interface OpenTunnel {
  /** `performance.now()` at which the tunnel reaches its maximum lifetime. */
  readonly expires: number;
  finish(reason: string): void;
}

/** An upstream connect in progress, as the shared sweep sees it. */
export interface PendingConnect {
  readonly deadline: number;
  settle(outcome: string): void;
}

/**
 * The deadlines of one gateway, swept by one timer: connections whose first request head is
 * still arriving (408 and closed at the deadline, so a client cannot hold a socket by sending
 * its head slowly), upstream connects (settled as `timeout`), open tunnels (finished at their
 * maximum lifetime).
 */
export class Deadlines {
  /** Connections whose first request head is still arriving, with their deadline. */
  readonly heads = new Map<Socket, number>();
  readonly connecting = new Map<Socket, PendingConnect>();
  readonly tunnels = new Set<OpenTunnel>();
  readonly #periodMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    headersTimeout: number,
    limits: Pick<GatewayLimits, 'connectTimeoutMs' | 'tunnelMaxLifetimeMs'>,
  ) {
    this.#periodMs = Math.max(
      10,
      Math.min(
        1_000,
        Math.floor(Math.min(headersTimeout, limits.connectTimeoutMs, limits.tunnelMaxLifetimeMs) / 4),
      ),
    );
  }

  /** Starts the sweep timer (once; it does not keep the process alive). */
  start(): void {
    this.#timer ??= setInterval(() => this.sweep(), this.#periodMs).unref();
  }

  /** Settles what is past its deadline: slow request heads (408), connects, tunnel lifetimes. */
  sweep(): void {
    const now = performance.now();
    const heads = this.heads;
    for (const [socket, deadline] of heads) {
      if (socket.destroyed) heads.delete(socket);
      else if (deadline <= now) {
        heads.delete(socket);
        socket.end(REQUEST_TIMEOUT, () => socket.destroy());
      }
    }
    for (const [, pending] of this.connecting) if (pending.deadline <= now) pending.settle('timeout');
    for (const t of this.tunnels) if (t.expires <= now) t.finish('max-lifetime');
  }

  /**
   * At close: stops the timer, closes connections still sending their head, settles connects as
   * `closing` and finishes tunnels as `shutdown`.
   */
  cancelAll(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    for (const [socket] of this.heads) socket.destroy();
    this.heads.clear();
    for (const [, pending] of this.connecting) pending.settle('closing');
    for (const t of this.tunnels) t.finish('shutdown');
  }
}

/**
 * The source a pre-authentication cap counts by: the address, an IPv4-mapped IPv6 address as its
 * IPv4 one, and an IPv6 address by its /64 (one host usually holds a whole /64, so counting
 * single addresses would give it 2^64 allowances).
 */
export function sourceKey(address: string): string {
  const a = address.toLowerCase();
  if (!a.includes(':')) return a;
  if (a.startsWith('::ffff:') && a.includes('.')) return a.slice('::ffff:'.length);
  const zone = a.indexOf('%');
  const bare = zone < 0 ? a : a.slice(0, zone);
  const gap = bare.indexOf('::');
  let groups: string[];
  if (gap < 0) groups = bare.split(':');
  else {
    const head = gap === 0 ? [] : bare.slice(0, gap).split(':');
    const tail = gap + 2 >= bare.length ? [] : bare.slice(gap + 2).split(':');
    groups = [...head, ...Array<string>(Math.max(0, 8 - head.length - tail.length)).fill('0'), ...tail];
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** Why a new connection was closed at accept: the total or the per-source cap. */
export type PreauthRefusal = 'limit-preauth' | 'limit-preauth-source';

/**
 * Connections that have not yet proven an identity: each one accepted is counted, in all and
 * per source, from accept until its first request authenticates or it closes. An unauthenticated
 * peer costs the gateway a descriptor and a little memory per connection and nothing proves who
 * it is, so without these caps idle connections alone could take every descriptor of the
 * process (and with them the API and `/healthz`).
 */
export class PreauthConnections {
  #total = 0;
  readonly #bySource = new Map<string, number>();
  /** Connections still unauthenticated, by `address port` (the same on a TLS socket and its TCP one). */
  readonly #pending = new Map<string, string>();

  constructor(
    private readonly caps: { readonly maxPreauthConns: number; readonly maxPreauthConnsPerSource: number },
  ) {}

  /** Connections counted now. */
  get size(): number {
    return this.#total;
  }

  /**
   * Counts a connection just accepted, or says which cap it is over (then it is not counted and
   * the caller closes it). The count is given back when `socket` closes.
   */
  admit(socket: Socket): PreauthRefusal | undefined {
    const address = socket.remoteAddress;
    if (address === undefined) return 'limit-preauth-source';
    const source = sourceKey(address);
    const mine = this.#bySource.get(source) ?? 0;
    if (this.#total >= this.caps.maxPreauthConns) return 'limit-preauth';
    if (mine >= this.caps.maxPreauthConnsPerSource) return 'limit-preauth-source';
    const key = `${address} ${socket.remotePort ?? 0}`;
    this.#total++;
    this.#bySource.set(source, mine + 1);
    this.#pending.set(key, source);
    socket.once('close', () => this.#release(key));
    return undefined;
  }

  /** The connection of `socket` (TCP or the TLS one over it) proved an identity: no longer counted. */
  authenticated(socket: {
    readonly remoteAddress?: string | undefined;
    readonly remotePort?: number | undefined;
  }): void {
    if (this.#pending.size === 0 || socket.remoteAddress === undefined) return;
    this.#release(`${socket.remoteAddress} ${socket.remotePort ?? 0}`);
  }

  #release(key: string): void {
    const source = this.#pending.get(key);
    if (source === undefined) return;
    this.#pending.delete(key);
    this.#total--;
    const n = (this.#bySource.get(source) ?? 1) - 1;
    if (n === 0) this.#bySource.delete(source);
    else this.#bySource.set(source, n);
  }
}
