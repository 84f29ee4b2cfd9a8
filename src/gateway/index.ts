/**
 * @module gateway — the egress gateway: forward proxy (CONNECT and plain HTTP) with bearer-token
 * identity, its own DNS resolution and address checks, SNI check, enforce/report modes and a
 * decision log; plus the policy-directory watcher that feeds it snapshots.
 */
export { createGateway, DEFAULT_GATEWAY_LIMITS } from './proxy.js';
export type { Gateway, GatewayLimits, GatewayOptions } from './proxy.js';
export { createGatewayMetrics, parseProcNetDev, readProcNetDev } from './metrics.js';
export type { EgressShareSource, GatewayMetrics, InterfaceCountersReader, SnapshotInfo } from './metrics.js';
export { DEFAULT_DECISION_LOG_KEEP, openDecisionLog, parseSize } from './decision-log.js';
export type { DecisionLogFile, DecisionLogOptions } from './decision-log.js';
export { emptySnapshotSource, watchPolicyDir } from './policy-watch.js';
export type { PolicyWatcher, SnapshotSource } from './policy-watch.js';
export { randomIds } from './ids.js';
export {
  createResolver,
  dnsServerResolve,
  parseDnsServer,
  parseHostsFile,
  systemResolve,
} from './resolver.js';
export type { Resolve } from './resolver.js';
export { issueToken, loadTokenKey, parseTtl, TOKEN_KEY_FILE, verifyToken } from './token.js';
export type { TokenCheck, TokenClaims, TokenProblem } from './token.js';
export { canonicalAddress, parseAbsoluteUri, parseAuthority, parseHost } from './host.js';
export type { Authority, HostTarget } from './host.js';
export { parseClientHello } from './sni.js';
export type { HelloResult } from './sni.js';
