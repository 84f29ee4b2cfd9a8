/**
 * @module gateway/proxy/live — the connections whose right is kept under watch after they were
 * admitted: open tunnels and keep-alive plain-HTTP client connections. Each holds the right it
 * was admitted on (identity, token, destination, snapshot); it is cut when its token is revoked
 * (on every change of the revocation list), when its token expires (one timer, armed for the
 * earliest expiry), or when the snapshot in force no longer allows its destination (on every
 * snapshot swap, re-decided with the same `decide()` as a new request). Without this a tunnel
 * opened with a token that is revoked a minute later keeps relaying for its whole lifetime.
 */
import type { Snapshot } from '../../engine/index.js';

/** Why a live connection was cut: what it was admitted on no longer holds. */
export type CutReason = 'revoked' | 'expired' | 'policy-changed';

/** What a connection was admitted on. */
export interface Right {
  readonly identity: string;
  /** The token presented, when one was: its ID (revocation) and expiry (epoch ms). */
  readonly token: { readonly id: string; readonly expires: number } | undefined;
  /** The destination name asked for; undefined for an IP literal. */
  readonly host: string | undefined;
  /** The address connected to (one the decision allowed). */
  readonly ip: string;
  readonly port: number;
}

/** A connection under watch. */
export interface LiveConnection {
  readonly right: Right;
  /** The snapshot `right` was last decided on. */
  decidedOn: Snapshot;
  /** Closes the connection and logs why; it leaves the registry itself (`delete`). */
  cut(reason: CutReason): void;
}

/** What the registry reads: the snapshot in force, the clock, the revocation list. */
export interface LiveEnv {
  readonly getSnapshot: () => Snapshot;
  /** Epoch ms (the gateway's injected clock). */
  readonly now: () => number;
  readonly revokedTokens: { has(id: string): boolean } | undefined;
  /** Counts a cut (metrics). */
  readonly counted: (reason: CutReason) => void;
}

/** The longest delay `setTimeout` takes (about 24.8 days); a later expiry re-arms on firing. */
const MAX_DELAY = 2 ** 31 - 1;

/** The live connections of one gateway. */
export class LiveConnections {
  readonly #all = new Set<LiveConnection>();
  #timer: NodeJS.Timeout | undefined;
  /** Epoch ms the expiry timer is armed for; Infinity: not armed. */
  #timerAt = Infinity;

  constructor(private readonly env: LiveEnv) {}

  get size(): number {
    return this.#all.size;
  }

  /**
   * Starts watching `c`. A snapshot swapped in while it was being connected is applied now, so a
   * swap between the decision and this call is not missed.
   */
  add(c: LiveConnection): void {
    this.#all.add(c);
    const token = c.right.token;
    if (token !== undefined && token.expires < this.#timerAt) this.#arm(token.expires);
    const snapshot = this.env.getSnapshot();
    if (c.decidedOn !== snapshot) this.#check(c, snapshot, this.env.now(), undefined);
  }

  delete(c: LiveConnection): void {
    this.#all.delete(c);
  }

  /**
   * Re-checks every connection: its token against the revocation list and the clock, and, where
   * the snapshot was swapped since its last decision, its destination. Decisions are shared by
   * connections with the same identity, name, address and port, so a swap costs one `decide()`
   * per distinct destination. Call after a snapshot swap and after a change of the revocation list.
   */
  recheck(): void {
    if (this.#all.size === 0) return;
    const snapshot = this.env.getSnapshot();
    const now = this.env.now();
    const decided = new Map<string, boolean>();
    for (const c of this.#all) this.#check(c, snapshot, now, decided);
  }

  /** Stops the expiry timer (the gateway closes). */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  /** Cuts `c` if its right no longer holds at `now` on `snapshot`; returns whether it did. */
  #check(
    c: LiveConnection,
    snapshot: Snapshot,
    now: number,
    decided: Map<string, boolean> | undefined,
  ): boolean {
    const { token } = c.right;
    if (token !== undefined) {
      if (this.env.revokedTokens?.has(token.id) === true) return this.#cut(c, 'revoked');
      if (token.expires <= now) return this.#cut(c, 'expired');
    }
    if (c.decidedOn === snapshot) return false;
    const r = c.right;
    const key = `${r.identity}\n${r.host ?? ''}\n${r.ip}\n${r.port}`;
    let allow = decided?.get(key);
    if (allow === undefined) {
      allow = snapshot.decide({
        identity: r.identity,
        ...(r.host !== undefined ? { host: r.host } : {}),
        ip: r.ip,
        port: r.port,
        protocol: 'tcp',
        now,
      }).allow;
      decided?.set(key, allow);
    }
    if (!allow) return this.#cut(c, 'policy-changed');
    c.decidedOn = snapshot;
    return false;
  }

  #cut(c: LiveConnection, reason: CutReason): true {
    this.#all.delete(c);
    this.env.counted(reason);
    c.cut(reason);
    return true;
  }

  /** Arms the expiry timer for `at` (epoch ms), replacing a later one. */
  #arm(at: number): void {
    clearTimeout(this.#timer);
    this.#timerAt = at;
    const delay = Math.min(MAX_DELAY, Math.max(0, at - this.env.now()));
    this.#timer = setTimeout(() => this.#expire(), delay).unref();
  }

  /** Cuts every connection whose token has expired, then arms for the next expiry. */
  #expire(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = this.env.now();
    let next = Infinity;
    for (const c of this.#all) {
      const token = c.right.token;
      if (token === undefined) continue;
      if (token.expires <= now) this.#cut(c, 'expired');
      else if (token.expires < next) next = token.expires;
    }
    if (next !== Infinity) this.#arm(next);
  }
}
