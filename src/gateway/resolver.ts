/**
 * @module gateway/resolver — how the gateway turns a name into addresses: a static hosts file
 * (`--dns-hosts`) first, then the system resolver. The gateway resolves once per request and
 * connects only to an address it checked.
 */
import { lookup, Resolver } from 'node:dns/promises';
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

const NO_ANSWER = new Set(['ENODATA', 'ENOTFOUND', 'NOTFOUND', 'NODATA']);

/**
 * A resolver that asks one DNS server (`IP:PORT`, `[IPv6]:PORT` or a bare IP for port 53)
 * for A and AAAA records, bypassing the system configuration. A family with no records is
 * empty; a name with none in either fails like the system resolver (`ENOTFOUND`).
 */
export function dnsServerResolve(server: string, opts: { timeoutMs?: number; tries?: number } = {}): Resolve {
  const resolver = new Resolver({ timeout: opts.timeoutMs ?? 2000, tries: opts.tries ?? 2 });
  resolver.setServers([server]);
  const family = async (query: Promise<string[]>): Promise<string[]> => {
    try {
      return await query;
    } catch (err) {
      // One family missing is normal (many names have no AAAA); other errors propagate.
      if (NO_ANSWER.has((err as NodeJS.ErrnoException).code ?? '')) return [];
      throw err;
    }
  };
  return async (host) => {
    const [v4, v6] = await Promise.all([family(resolver.resolve4(host)), family(resolver.resolve6(host))]);
    const all = [...v4, ...v6];
    if (all.length === 0) {
      throw Object.assign(new Error(`queryA ENOTFOUND ${host}`), { code: 'ENOTFOUND', hostname: host });
    }
    return all;
  };
}
