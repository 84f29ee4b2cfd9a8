/**
 * @module gateway — the egress gateway: forward proxy (CONNECT and plain HTTP, over TCP or TLS)
 * with workload identity (authenticated by `identity`), its own DNS resolution and address
 * checks, SNI check, enforce/report modes and a decision log; plus the sources that feed it
 * snapshots (policy directory or applied bundle, and the security groups attached in the control
 * plane), revoked tokens, the identity map and TLS material (reloaded when their files change).
 */
export { createGateway, DEFAULT_GATEWAY_LIMITS } from './proxy.js';
export type { Gateway, GatewayLimits, GatewayOptions } from './proxy.js';
export { createGatewayMetrics, parseProcNetDev, readProcNetDev } from './metrics.js';
export type { EgressShareSource, GatewayMetrics, InterfaceCountersReader, SnapshotInfo } from './metrics.js';
export { DEFAULT_DECISION_LOG_KEEP, openDecisionLog, parseSize } from './decision-log.js';
export type { DecisionLogFile, DecisionLogOptions } from './decision-log.js';
export { BLOCK_BYTES, LineBlocks, bufferLines, handOverAtExit } from './line-blocks.js';
export type { BufferedLines, FlushableDestination } from './line-blocks.js';
export { loadPolicyDir, watchPolicyDir } from './policy-watch.js';
export { createControlPlaneSource } from './control-plane-source.js';
export type { ControlPlaneSource, ControlPlaneSourceOptions, PolicyOrigin } from './control-plane-source.js';
export type { PolicyWatcher, SnapshotSource } from './policy-watch.js';
export { randomIds } from './ids.js';
export {
  createResolver,
  dnsServerResolve,
  parseDnsServer,
  parseHostsFile,
  systemResolve,
} from './resolver.js';
export type { HostsFileProblem, Resolve } from './resolver.js';
export { watchIdentityMap } from './identity-map-watch.js';
export type { IdentityMapWatcher } from './identity-map-watch.js';
export { watchGatewayTls } from './identity-tls-watch.js';
export type { GatewayTlsWatcher } from './identity-tls-watch.js';
export { canonicalAddress, parseAbsoluteUri, parseAuthority, parseHost } from './host.js';
export type { Authority, HostTarget } from './host.js';
export { parseClientHello } from './sni.js';
export type { HelloResult } from './sni.js';
