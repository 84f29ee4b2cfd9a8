/**
 * @module policy/bundle-slot — the server-side slot of a policy bundle: verifies a new bundle
 * (policy/bundle.ts) and replaces the one in force only if everything holds.
 */
import type { KeyObject } from 'node:crypto';
import { openBundle, trustKeys } from './bundle.js';
import type { BundleFailure, LoadedBundle, TrustedKeys } from './bundle.js';

/** What {@link PolicyBundleSlot.load} answers. */
export type SlotLoadResult = ({ ok: true; version: number } & LoadedBundle) | BundleFailure;

/** Options of a {@link PolicyBundleSlot}. */
export interface SlotOptions {
  /** The clock for expiry, epoch ms; default `Date.now`. */
  readonly now?: () => number;
  /**
   * Refuse versions at or below this even while the slot is empty: persist the last accepted
   * version and pass it here, so rollback protection survives a restart.
   */
  readonly minVersion?: number;
}

/**
 * Holds the policy bundle in force. {@link load} verifies a new bundle and replaces the current
 * one only if everything holds; on any failure the current bundle stays and the result says why.
 */
export class PolicyBundleSlot {
  readonly #trusted: TrustedKeys;
  readonly #onChange: (next: LoadedBundle, previous: LoadedBundle | undefined) => void;
  readonly #now: () => number;
  readonly #minVersion: number | undefined;
  #current: LoadedBundle | undefined;

  /**
   * @param trustedKeys Ed25519 public keys (PEM or `KeyObject`) allowed to sign bundles.
   * @param onChange Called with the new bundle before it takes effect (compile it here); if it
   *   throws, the bundle is refused and the previous one stays.
   */
  constructor(
    trustedKeys: readonly (KeyObject | string)[] | TrustedKeys,
    onChange: (next: LoadedBundle, previous: LoadedBundle | undefined) => void,
    options: SlotOptions = {},
  ) {
    this.#trusted =
      trustedKeys instanceof Map ? trustedKeys : trustKeys(trustedKeys as (KeyObject | string)[]);
    if (this.#trusted.size === 0) throw new Error('a policy bundle slot needs at least one trusted key');
    this.#onChange = onChange;
    this.#now = options.now ?? Date.now;
    this.#minVersion = options.minVersion;
  }

  /** The bundle in force, or `undefined` before the first successful load. */
  current(): LoadedBundle | undefined {
    return this.#current;
  }

  /** Verifies and loads a bundle; see the class. */
  load(bytes: Uint8Array | string): SlotLoadResult {
    const floor = this.#current?.bundle.version ?? this.#minVersion;
    const opened = openBundle(bytes, this.#trusted, {
      ...(floor !== undefined ? { current: floor } : {}),
      now: this.#now(),
    });
    if (!opened.ok) return opened;
    const next: LoadedBundle = { bundle: opened.bundle, set: opened.set, diagnostics: opened.diagnostics };
    try {
      this.#onChange(next, this.#current);
    } catch (err) {
      return {
        ok: false,
        code: 'rejected-by-consumer',
        reason: `the consumer refused version ${next.bundle.version}: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
    this.#current = next;
    return { ok: true, version: next.bundle.version, ...next };
  }
}
