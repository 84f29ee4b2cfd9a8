/** @module api — the EC2 Query / STS API of the control plane. */
export { createApiHandler, DEFAULT_BODY_BUDGET, MAX_BODY_BYTES } from './server.js';
export type { ApiEdgeOptions, ApiHandlerOptions } from './server.js';
export { parseApiHosts } from './api-host.js';
export type { ApiHost } from './api-host.js';
export { DEFAULT_API_CONFIG, randomIds } from './context.js';
export type { ApiConfig, DeclaredAttachments, IdSource } from './context.js';
export { createApiMetrics } from './metrics.js';
export { AWS_REGIONS, REGION_NAME } from './regions.js';
export { ScopeRegistry } from './scope.js';
export type { ApiMetrics } from './metrics.js';
export {
  KeyRing,
  DEFAULT_ACCOUNT_ID,
  DEFAULT_PROFILE,
  generateAccessKey,
  parseCredentialsFile,
  renderCredentialsFile,
} from './credentials.js';
export type { AccessKey, Role } from './credentials.js';
export { checkExitCode, checkJson, checkText, runCheckQuestion } from './weir/check.js';
export type { CheckReport, CheckResolver, Checked } from './weir/check.js';
export { issueTokenInStore, MAX_TOKEN_TTL_MS, revokeTokenInStore } from './weir/operations.js';
export type { CheckContext, WeirApiOptions } from './weir/operations.js';
export { DECISION_KINDS, decisionJson, MAX_DECISIONS_LIMIT } from './weir/decisions.js';
export type { DecisionRecord } from './weir/decisions.js';
export { WEIR_API_PREFIX, WEIR_SIGNING_SERVICE } from './weir/handler.js';
export { createBreakglassMetrics } from './weir/breakglass.js';
export type { BreakglassApiOptions, BreakglassMetrics } from './weir/breakglass.js';
export { cookieValue, SESSION_COOKIE, usesConsoleSession } from './console-front.js';
export type { ConsoleCaller, ConsoleFront } from './console-front.js';
