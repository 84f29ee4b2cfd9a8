/**
 * @module server/explain — what `check` through the Weir API explains with: what the gateway
 * enforces. With a gateway, its own snapshot (the policy set and the attached groups of its
 * namespace). Without one: with `--policy`, the same directory watched here; otherwise the
 * bundle last applied through the API (empty, so denying everything, until one is).
 */
import type { Logger } from 'pino';
import type { CheckContext, WeirApiOptions } from '../api/index.js';
import type { TrustedKeys } from '../policy/index.js';
import { followStoredBundle, watchPolicyDir } from '../snapshot/index.js';
import type { ControlPlaneSource } from '../snapshot/index.js';
import type { Store } from '../store/index.js';
import type { CleanupStack } from './cleanup.js';
import type { PolicyConfig } from './config.js';

/** The API's explainer options. */
export type ExplainOptions = Pick<WeirApiOptions, 'explainer' | 'explainContext'>;

/** Explains with the gateway's own snapshot. */
function gatewayExplainer(source: ControlPlaneSource): ExplainOptions {
  return {
    explainer: (req) => source.current().explain(req),
    explainContext: (): CheckContext => {
      const snap = source.current();
      return {
        set: source.policySet(),
        unresolved: snap.stats.unresolved,
        source: `the gateway's snapshot (${snap.version})`,
      };
    },
  };
}

/**
 * The explainer of the API's `check`; a watch or feed it opens is registered on `cleanup`.
 * Resolves once the stored bundle (when that is what it explains with) has been read.
 */
export async function openExplainer(
  policy: PolicyConfig,
  deps: {
    readonly store: Store;
    readonly bundleKeys: TrustedKeys;
    readonly bundleAudience?: string;
    readonly gatewaySource: ControlPlaneSource | undefined;
    readonly logger: Logger;
  },
  cleanup: CleanupStack,
): Promise<ExplainOptions> {
  if (deps.gatewaySource !== undefined) return gatewayExplainer(deps.gatewaySource);
  if (policy.kind === 'dir') {
    const dir = policy.dir;
    const source = watchPolicyDir(dir, { logger: deps.logger.child({ component: 'check' }) });
    cleanup.defer('the policy directory watch of check', () => source.close());
    return {
      explainer: (req) => source.current().explain(req),
      explainContext: (): CheckContext => {
        const snap = source.current();
        return {
          // The set also says who may approve exceptions (spec.exceptions) without a gateway.
          set: source.policySet(),
          unresolved: snap.stats.unresolved,
          source: `policy directory ${dir} (version ${snap.version})`,
        };
      },
    };
  }
  const bundle = followStoredBundle(
    deps.store,
    deps.bundleKeys,
    deps.logger.child({ component: 'bundle' }),
    deps.bundleAudience,
  );
  cleanup.defer('the stored bundle feed of check', () => bundle.close());
  await bundle.ready;
  return {
    explainer: (req) => bundle.current().snapshot.explain(req),
    explainContext: (): CheckContext => {
      const b = bundle.current();
      return {
        unresolved: b.snapshot.stats.unresolved,
        ...(b.set !== undefined ? { set: b.set } : {}),
        source:
          b.version !== undefined
            ? `policy bundle version ${b.version}`
            : 'no policy (every request is denied)',
      };
    },
  };
}
