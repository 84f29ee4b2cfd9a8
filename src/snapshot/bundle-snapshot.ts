/**
 * @module snapshot/bundle-snapshot — the policy bundle last applied through the API, compiled: read
 * from the store at start (re-verified against the keys the server trusts now) and recompiled
 * after every commit that wrote a bundle. `weir serve` explains `check` requests with it when
 * it runs without `--policy`.
 */
import type { Logger } from 'pino';
import { compilePolicySet } from '../engine/index.js';
import type { Snapshot } from '../engine/index.js';
import { openBundle } from '../policy/index.js';
import type { PolicySet, TrustedKeys } from '../policy/index.js';
import type { Store } from '../store/index.js';

/** What is compiled now. */
export interface CompiledBundle {
  readonly snapshot: Snapshot;
  /** Absent while no bundle is loaded (the snapshot is then empty: every decision denies). */
  readonly set?: PolicySet;
  readonly version?: string;
}

export interface BundleSnapshot {
  current(): CompiledBundle;
  /** Resolves once the stored bundle (if any) has been read at start. */
  readonly ready: Promise<void>;
  close(): void;
}

const EMPTY: CompiledBundle = {
  snapshot: compilePolicySet({ policies: [], workloads: [] }, { version: 'empty' }),
};

/** Follows the stored bundle of `store`. Never throws: a bundle that does not load is logged and skipped. */
export function followStoredBundle(
  store: Store,
  keys: TrustedKeys,
  logger: Logger,
  audience?: string,
): BundleSnapshot {
  let compiled = EMPTY;
  let loading = Promise.resolve();
  const load = async (): Promise<void> => {
    const stored = await store.transaction(undefined, (tx) => tx.getPolicyBundle(), { readOnly: true });
    if (stored === undefined || stored.version === compiled.version) return;
    // The API verified it when applied; verify again, as the trusted keys may have changed since.
    const opened = openBundle(stored.bytes, keys, audience !== undefined ? { audience } : {});
    if (!opened.ok) {
      logger.warn(
        { version: stored.version, code: opened.code, reason: opened.reason },
        'stored policy bundle not loaded',
      );
      return;
    }
    compiled = {
      snapshot: compilePolicySet(opened.set, { skipUnresolved: true, version: `bundle-${stored.version}` }),
      set: opened.set,
      version: stored.version,
    };
    logger.info({ version: stored.version, hash: stored.hash }, 'policy bundle loaded');
  };
  const reload = (): void => {
    loading = loading
      .then(load)
      .catch((err: unknown) => logger.error({ err }, 'policy bundle reload failed'));
  };
  reload();
  const unsubscribe = store.subscribe((e) => {
    if (e.kinds.includes('bundle')) reload();
  });
  return { current: () => compiled, ready: loading, close: unsubscribe };
}
