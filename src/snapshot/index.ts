/**
 * @module snapshot — what feeds the gateway (and `check` through the API) the snapshot to enforce:
 * a policy directory under watch, the policy bundle last applied through the API, and the
 * control-plane source that composes either with the security groups attached in the store;
 * the source-address identity map and the gateway's TLS files under watch; and the one debounced file watch behind them.
 */
export { followStoredBundle } from './bundle-snapshot.js';
export type { BundleSnapshot, CompiledBundle } from './bundle-snapshot.js';
export { createControlPlaneSource } from './control-plane-source.js';
export type {
  ControlPlaneSource,
  ControlPlaneSourceOptions,
  EnforcedChange,
  PolicyOrigin,
} from './control-plane-source.js';
export type { GrantLoader } from './grants-follower.js';
export { watchDebounced } from './file-watch.js';
export type { DebouncedWatchOptions, WatchTarget } from './file-watch.js';
export { watchGatewayTls } from './identity-tls-watch.js';
export type { GatewayTlsWatcher } from './identity-tls-watch.js';
export { watchIdentityMap } from './identity-map-watch.js';
export type { IdentityMapWatcher } from './identity-map-watch.js';
export { loadPolicyDir, watchPolicyDir } from './policy-watch.js';
export type { PolicyWatcher, SnapshotSource } from './policy-watch.js';
