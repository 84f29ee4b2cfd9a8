/**
 * @module gateway/resolver — how the gateway turns a name into addresses: a static hosts file
 * (`--dns-hosts`) first, then the system resolver. The gateway resolves once per request and
 * connects only to an address it checked.
 */
import { lookup } from 'node:dns/promises';
import { canonicalAddress } from './host.js';

/** Resolves a normalised host name to addresses (IPv4/IPv6 text). */
export type Resolve = (host: string) => Promise<readonly string[]>;

/** Parses hosts-file text (`ADDRESS NAME [NAME…]`, `#` comments) into name → addresses. */
export function parseHostsFile(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const [addr, ...names] = raw.replace(/#.*/, '').trim().split(/\s+/);
    const a = addr === undefined ? undefined : canonicalAddress(addr);
    if (a === undefined) continue;
    for (const n of names) {
      const name = n.toLowerCase().replace(/\.$/, '');
      const list = out.get(name) ?? [];
      if (!list.includes(a.ip)) list.push(a.ip);
      out.set(name, list);
    }
  }
  return out;
}

/** The system resolver (`getaddrinfo`), every address in the order it gives them. */
export const systemResolve: Resolve = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** A resolver that answers from `hosts` when the name is there, else from `fallback`. */
export function createResolver(
  opts: { hosts?: ReadonlyMap<string, readonly string[]>; fallback?: Resolve } = {},
): Resolve {
  const fallback = opts.fallback ?? systemResolve;
  return async (host) => opts.hosts?.get(host) ?? fallback(host);
}
