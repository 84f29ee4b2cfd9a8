/**
 * @module dns — how names become addresses for the gateway, `weir check --resolve` and `weir
 * policy plan/resolve`: the hosts file, the DNS server and the system resolver, and the one
 * factory that builds the resolver from `--dns-hosts` / `--dns-server`.
 */
export {
  createResolver,
  dnsServerResolve,
  parseDnsServer,
  parseHostsFile,
  systemResolve,
} from './resolver.js';
export type { HostsFileProblem, Resolve } from './resolver.js';
export { createDnsResolver, hostsProblemLines, loadDnsSettings } from './settings.js';
export type { DnsFlags, DnsSettings } from './settings.js';
