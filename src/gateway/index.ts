/**
 * @module gateway — the egress gateway: forward proxy (CONNECT and plain HTTP, over TCP or TLS)
 * with workload identity (authenticated by `identity`: client certificate, bearer token,
 * source-address map), its own DNS resolution and address checks, SNI check, enforce/report modes
 * and a decision log. What feeds it snapshots, the identity map and reloaded TLS material is in
 * `snapshot`; how it resolves names, in `dns`.
 */
export { createGateway, DEFAULT_GATEWAY_LIMITS } from './proxy/index.js';
export type { Gateway, GatewayLimits, GatewayOptions } from './proxy/index.js';
export { createGatewayMetrics, parseProcNetDev, readProcNetDev } from './metrics.js';
export type { EgressShareSource, GatewayMetrics, InterfaceCountersReader, SnapshotInfo } from './metrics.js';
export { DEFAULT_DECISION_LOG_KEEP, openDecisionLog, parseSize } from './decision-log.js';
export type { DecisionLogFile, DecisionLogOptions } from './decision-log.js';
export { BLOCK_BYTES, LineBlocks, bufferLines, handOverAtExit } from './line-blocks.js';
export type { BufferedLines, FlushableDestination } from './line-blocks.js';
export { randomIds } from './ids.js';
export type { LogEntry } from './decision-line.js';
export { canonicalAddress, parseAbsoluteUri, parseAuthority, parseHost } from './host.js';
export type { Authority, HostTarget } from './host.js';
export { parseClientHello } from './sni.js';
export type { HelloResult } from './sni.js';
export { createEnforcementMetrics } from './outcome-metrics.js';
export type { EnforcementInfo, EnforcementMetrics } from './outcome-metrics.js';
