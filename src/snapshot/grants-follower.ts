/**
 * @module snapshot/grants-follower — the grants (approved exceptions, open break-glass sessions)
 * the gateway enforces on top of the composed snapshot, read through an injected loader (the
 * on-ramp owns the records; this only enforces what it is given). Re-read when the change feed
 * names exceptions or break-glass (coalesced: one read in flight, one more for any change during
 * it); a failed read keeps the grants in force and is logged. A grant starting or ending is a
 * change no write announces, so one unref'd timer is armed for the nearest future `from` or
 * `until`: when it fires the snapshot is composed again (dropping what has ended) and swapped,
 * and the gateway's re-check of open tunnels cuts those that only the ended grant allowed.
 */
import type { Logger } from 'pino';
import { compileGrants, liveGrants, nextGrantBoundary, withGrants } from '../engine/index.js';
import type { CompileOptions, CompiledGrants, Snapshot } from '../engine/index.js';
import type { Grant } from '../policy-types/index.js';
import type { Store, StoreTx } from '../store/index.js';

/** Reads the grants in force (or to come) from the store, in a read transaction. */
export type GrantLoader = (tx: StoreTx, now: Date) => Promise<Grant[]>;

/** What the follower reads and whom it tells. */
export interface GrantsFollowerOptions {
  readonly store: Store;
  readonly load: GrantLoader;
  /** Epoch ms (the gateway's clock). */
  readonly now: () => number;
  readonly logger: Logger;
  /** The options the policy set was last compiled with (prefix lists, group members). */
  readonly compileOptions: () => CompileOptions;
  /** The grants changed (read, or one started or ended): compose and swap the snapshot. */
  readonly changed: () => void;
}

/** The longest delay `setTimeout` takes; a later boundary re-arms on firing. */
const MAX_DELAY = 2 ** 31 - 1;

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** The grants in force, kept in step with the store and the clock. */
export class GrantsFollower {
  readonly #opts: GrantsFollowerOptions;
  #raw: readonly Grant[] = [];
  #compiled: CompiledGrants = new Map();
  /** The compile options `#compiled` was built with (a new prefix-list table recompiles). */
  #compiledWith: CompileOptions | undefined;
  #inFlight: Promise<void> | undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #closed = false;
  /**
   * Grants that stopped allowing since start, by kind and why: `expired` (their `until` passed
   * while enforced) or `withdrawn` (no longer read: revoked, closed).
   */
  readonly ended = { exception: { expired: 0, withdrawn: 0 }, breakglass: { expired: 0, withdrawn: 0 } };
  /** IDs of the grants last composed, to count those that end. */
  #composed = new Map<string, Grant>();

  constructor(opts: GrantsFollowerOptions) {
    this.#opts = opts;
  }

  /** Re-reads the grants (coalesced); resolves when the read that covers this call is done. */
  refresh(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#inFlight !== undefined) {
      this.#again = true;
      return this.#inFlight;
    }
    const run = async (): Promise<void> => {
      do {
        this.#again = false;
        await this.#read();
      } while (this.#again && !this.#closed);
      this.#inFlight = undefined;
    };
    this.#inFlight = run();
    return this.#inFlight;
  }

  /** The grants last read, as the loader gave them. */
  grants(): readonly Grant[] {
    return this.#raw;
  }

  /** Grants in force at `now`, by kind (metrics). */
  active(now: number): { exception: number; breakglass: number } {
    const out = { exception: 0, breakglass: 0 };
    for (const g of this.#raw) if (g.from <= now && now < g.until) out[g.kind]++;
    return out;
  }

  /**
   * `base` with the grants that have not ended at `now` on top, and the timer armed for the next
   * grant boundary. A grant whose rules do not compile is left out and logged.
   */
  compose(base: Snapshot, version: string): Snapshot {
    const now = this.#opts.now();
    const opts = this.#opts.compileOptions();
    if (opts !== this.#compiledWith) this.#compile(opts);
    const live = liveGrants(this.#compiled, now);
    const next = new Map<string, Grant>();
    for (const list of live.values()) for (const c of list) next.set(c.grant.id, c.grant);
    for (const [id, g] of this.#composed) {
      if (!next.has(id)) this.ended[g.kind][g.until <= now ? 'expired' : 'withdrawn']++;
    }
    this.#composed = next;
    this.#arm(nextGrantBoundary(live, now));
    return withGrants(base, live, live.size === 0 ? base.version : `${version}, grants ${next.size}`);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #read(): Promise<void> {
    let grants: Grant[];
    try {
      grants = await this.#opts.store.transaction(
        undefined,
        (tx) => this.#opts.load(tx, new Date(this.#opts.now())),
        { readOnly: true },
      );
    } catch (err) {
      this.#opts.logger.error({ err }, 'reading the grants failed; still enforcing the grants read before');
      return;
    }
    if (this.#closed) return;
    this.#raw = Object.freeze(grants);
    this.#compile(this.#opts.compileOptions());
    this.#opts.changed();
  }

  #compile(opts: CompileOptions): void {
    this.#compiledWith = opts;
    const ok: Grant[] = [];
    for (const g of this.#raw) {
      try {
        compileGrants([g], opts);
        ok.push(g);
      } catch (err) {
        this.#opts.logger.error(
          { grant: g.id, error: message(err) },
          'a grant does not compile; it is not enforced',
        );
      }
    }
    this.#compiled = compileGrants(ok, opts);
  }

  /** Arms the timer for `at` (epoch ms; Infinity disarms). */
  #arm(at: number): void {
    if (at === this.#timerAt && this.#timer !== undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = at;
    if (at === Infinity || this.#closed) return;
    const delay = Math.min(MAX_DELAY, Math.max(0, at - this.#opts.now()));
    this.#timer = setTimeout(() => this.#fire(), delay).unref();
  }

  #fire(): void {
    this.#timer = undefined;
    const at = this.#timerAt;
    this.#timerAt = Infinity;
    if (this.#closed) return;
    // The timer's clock is monotonic, the gateway's may not be: never compose early.
    if (this.#opts.now() < at) {
      this.#arm(at);
      return;
    }
    this.#opts.changed();
  }
}
