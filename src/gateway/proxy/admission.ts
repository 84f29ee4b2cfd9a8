/**
 * @module gateway/proxy/admission — what bounds the gateway's connections: connection slots (open
 * tunnels and in-flight plain requests, in all and per identity: 429 beyond either) and the
 * deadlines of slow request heads, upstream connects and tunnel lifetimes, all settled by one
 * shared timer instead of a timer each.
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
