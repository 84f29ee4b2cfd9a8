/**
 * @module server — `weir serve` apart from its flags: options checked into one config
 * (`buildServerConfig`), the store, API, snapshot sources, gateway, metrics and logs wired from
 * it (`startServer`) with one cleanup stack, and the process's signal handling (`closeOnSignals`).
 */
export { CleanupStack } from './cleanup.js';
export { buildServerConfig } from './config.js';
export type { PolicyConfig, ServerConfig } from './config.js';
export type { DecisionLogConfig, GatewayConfig } from './config-gateway.js';
export { parseListen } from './options.js';
export type { ListenAddress, ServeOptions } from './options.js';
export { closeOnSignals } from './signals.js';
export { startServer } from './start.js';
export type { RunningServer } from './start.js';
