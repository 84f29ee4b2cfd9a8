/**
 * @module dns/resolver — how a name becomes addresses for the gateway, `weir check --resolve`
 * and `weir policy plan/resolve`: a static hosts file (`--dns-hosts`) first, then one DNS server
 * (`--dns-server`) or the system resolver. The gateway resolves once per request and connects
 * only to an address it checked.
 */
import { lookup, Resolver } from 'node:dns/promises';
import { canonicalAddress } from '../model/index.js';

/** Resolves a normalised host name to addresses (IPv4/IPv6 text). */
export type Resolve = (host: string) => Promise<readonly string[]>;

/** A hosts-file line that maps nothing: where (1-based) and why it is skipped. */
export interface HostsFileProblem {
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

/**
 * Parses hosts-file text (`ADDRESS NAME [NAME…]`, `#` comments) into name → addresses. A line
 * that maps nothing is skipped, as libc skips it, and reported in `problems` when given: a
 * mistyped address would otherwise send its names to the system resolver without a word.
 */
export function parseHostsFile(text: string, problems?: HostsFileProblem[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  text.split('\n').forEach((raw, i) => {
    const [addr, ...names] = raw.replace(/#.*/, '').matchAll(/\S+/g);
    if (addr === undefined) return;
    const a = canonicalAddress(addr[0]);
    if (a === undefined || names.length === 0) {
      problems?.push({
        line: i + 1,
        col: addr.index + 1,
        message:
          a === undefined
            ? `'${addr[0]}' is not an IP address; the line is skipped`
            : `${addr[0]} is followed by no host name; the line is skipped`,
      });
      return;
    }
    for (const [n] of names) {
      const name = n.toLowerCase().replace(/\.$/, '');
      const list = out.get(name) ?? [];
      if (!list.includes(a.ip)) list.push(a.ip);
      out.set(name, list);
    }
  });
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

/**
 * Checks a DNS server address (`IP:PORT`, `[IPv6]:PORT` or a bare IP for port 53) and returns it
 * in the form `Resolver.setServers` takes, or a message naming what is wrong.
 */
export function parseDnsServer(text: string): { ok: true; server: string } | { ok: false; problem: string } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::([0-9]{1,5}))?$/.exec(text) ?? /^([0-9a-fA-F:]+)()$/.exec(text);
  const ip = m === null ? undefined : canonicalAddress(m[1] ?? m[2] ?? '');
  if (m === null || ip === undefined) {
    return { ok: false, problem: `'${text}' is not IP:PORT (e.g. 10.0.0.2:53 or [fd00::2]:53)` };
  }
  const port = m[3] === undefined || m[3] === '' ? 53 : Number(m[3]);
  if (port < 1 || port > 65535)
    return { ok: false, problem: `port ${port} of '${text}' is out of range 1-65535` };
  return { ok: true, server: ip.family === 6 ? `[${ip.ip}]:${port}` : `${ip.ip}:${port}` };
}

const NO_ANSWER = new Set(['ENODATA', 'ENOTFOUND', 'NOTFOUND', 'NODATA']);

/**
 * A resolver that asks one DNS server (`IP:PORT`, `[IPv6]:PORT` or a bare IP for port 53)
 * for A and AAAA records, bypassing the system configuration. A family with no records is
 * empty; a name with none in either fails like the system resolver (`ENOTFOUND`).
 */
export function dnsServerResolve(server: string, opts: { timeoutMs?: number; tries?: number } = {}): Resolve {
  const checked = parseDnsServer(server);
  if (!checked.ok) throw new Error(`DNS server ${checked.problem}`);
  const resolver = new Resolver({ timeout: opts.timeoutMs ?? 2000, tries: opts.tries ?? 2 });
  resolver.setServers([checked.server]);
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
