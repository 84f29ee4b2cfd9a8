/**
 * @module snapshot/revoked-tokens — keeps the gateway's in-memory list of revoked tokens in step
 * with the store: one read in flight, and a change during it asks for exactly one more, so the
 * list never lags behind the last revocation committed. After each read its listener is told
 * (the gateway then cuts open connections of a revoked token).
 */
import type { Logger } from 'pino';
import type { TokenRevocations } from '../identity/index.js';
import type { Store } from '../store/index.js';

/** Re-reads the store's revoked tokens into `list` on `refresh()`. */
export class RevokedTokensFollower {
  #inFlight = false;
  #again = false;
  #closed = false;

  constructor(
    private readonly store: Store,
    private readonly list: TokenRevocations,
    private readonly now: () => number,
    private readonly log: Logger,
    /** Called after each read that replaced the list (the gateway re-checks open connections). */
    private readonly onChange: () => void = () => undefined,
  ) {}

  /** Reads the revoked tokens now (or once more after the read in flight). Never rejects. */
  async refresh(): Promise<void> {
    if (this.#inFlight) {
      this.#again = true;
      return;
    }
    this.#inFlight = true;
    do {
      this.#again = false;
      try {
        const now = this.now();
        const revoked = await this.store.transaction(undefined, (tx) => tx.listRevokedTokens(new Date(now)), {
          readOnly: true,
        });
        this.list.replace(
          revoked.map((r) => ({ id: r.id, expires: r.expires.getTime() })),
          now,
        );
        this.onChange();
      } catch (err) {
        this.log.error({ err }, 'reading revoked tokens failed; the previous list stays');
      }
    } while (this.#again && !this.#closed);
    this.#inFlight = false;
  }

  /** No read is repeated after this. */
  close(): void {
    this.#closed = true;
  }
}
