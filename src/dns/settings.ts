/**
 * @module dns/settings — the one resolver factory behind `--dns-hosts FILE` and `--dns-server
 * IP:PORT`: `weir serve` (its gateway and the API's `check` with `resolve`) and `weir check
 * --resolve` build their resolver here, so that a check answers for a name as the gateway
 * would. The hosts file is read once; its names win over the DNS server (or the system resolver).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { WeirError } from '../model/index.js';
import { createResolver, dnsServerResolve, parseDnsServer, parseHostsFile } from './resolver.js';
import type { HostsFileProblem, Resolve } from './resolver.js';

/** The DNS flags as given (`--dns-hosts`, `--dns-server`). */
export interface DnsFlags {
  readonly hostsFile?: string;
  readonly server?: string;
}

/** The DNS flags checked, with the hosts file read. */
export interface DnsSettings {
  /** Absolute path of `--dns-hosts`. */
  readonly hostsFile?: string;
  /** Name → addresses of the hosts file. */
  readonly hosts?: ReadonlyMap<string, readonly string[]>;
  /** Lines of the hosts file that map nothing (the caller warns about each, `FILE:LINE:COL`). */
  readonly hostsProblems: readonly HostsFileProblem[];
  /** `--dns-server` in the form `Resolver.setServers` takes. */
  readonly server?: string;
}

/**
 * Checks the DNS flags and reads the hosts file.
 * @throws WeirError (`BAD_OPTION`) naming the flag: a hosts file that does not exist, a DNS
 * server that is not `IP:PORT`.
 */
export function loadDnsSettings(flags: DnsFlags): DnsSettings {
  let hostsFile: string | undefined;
  let hosts: Map<string, string[]> | undefined;
  const hostsProblems: HostsFileProblem[] = [];
  if (flags.hostsFile !== undefined) {
    hostsFile = resolvePath(flags.hostsFile);
    if (!existsSync(hostsFile))
      throw new WeirError('BAD_OPTION', `--dns-hosts: file ${hostsFile} does not exist`);
    hosts = parseHostsFile(readFileSync(hostsFile, 'utf8'), hostsProblems);
  }
  let server: string | undefined;
  if (flags.server !== undefined) {
    const checked = parseDnsServer(flags.server);
    if (!checked.ok) throw new WeirError('BAD_OPTION', `--dns-server: ${checked.problem}`);
    server = checked.server;
  }
  return {
    ...(hostsFile !== undefined ? { hostsFile } : {}),
    ...(hosts !== undefined ? { hosts } : {}),
    hostsProblems,
    ...(server !== undefined ? { server } : {}),
  };
}

/** The resolver of `settings`: the hosts file first, then the DNS server, else the system resolver. */
export function createDnsResolver(settings: DnsSettings): Resolve {
  return createResolver({
    ...(settings.hosts !== undefined ? { hosts: settings.hosts } : {}),
    ...(settings.server !== undefined ? { fallback: dnsServerResolve(settings.server) } : {}),
  });
}

/** `FILE:LINE:COL: message` of each line of the hosts file that maps nothing. */
export function hostsProblemLines(settings: DnsSettings): string[] {
  return settings.hostsProblems.map((p) => `${settings.hostsFile ?? ''}:${p.line}:${p.col}: ${p.message}`);
}
