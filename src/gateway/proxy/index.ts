/**
 * @module gateway/proxy — the egress gateway: an HTTP/1.1 forward proxy for `CONNECT host:port`
 * tunnels and absolute-URI plain HTTP, over TCP or TLS. Each request is authenticated (client
 * certificate, bearer token or source address: `identity.ts`), its name resolved once, every
 * address decided by the current snapshot, and only an allowed address is connected to. Denials
 * answer 403 with `Weir-*` headers; every decision is one JSON log line. Plain HTTP keeps idle
 * upstream connections for reuse (per checked address, port and Host) and relays `Upgrade`
 * requests as tunnels after the upstream's `101`. All I/O (resolver, connect, clock, ids,
 * logger, snapshot) is passed in.
 */
export { createGateway } from './listener.js';
export { DEFAULT_GATEWAY_LIMITS } from './options.js';
export type { Gateway, GatewayLimits, GatewayOptions } from './options.js';
