/**
 * @module gateway/host — reads the destination a client names (CONNECT authority, absolute URI,
 * Host header) into exactly one canonical form: an IP address (IPv4 in every spelling a resolver
 * or URL parser accepts, bracketed IPv6 with an optional zone ID) or a normalised host name.
 * Anything else is refused, so no text the gateway did not understand reaches a resolver or
 * `connect()`.
 */
import { checkHostName, formatIpv4, formatIpv6, numericHostIpv4, parseIpv6 } from '../model/index.js';

/** A parsed destination host. */
export type HostTarget =
  | { readonly kind: 'ip'; readonly family: 4 | 6; readonly ip: string }
  | { readonly kind: 'name'; readonly name: string };

/** A host and port, as the client asked for them. */
export interface Authority {
  readonly host: HostTarget;
  readonly port: number;
}

export type Parsed<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(problem: string): Parsed<T> => ({ ok: false, problem });

/** Dotted decimal with no leading zeros, each part 0–255: already the canonical spelling. */
const CANONICAL_IPV4 =
  /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$/;

/**
 * Parses a host as it appears in an authority (no port): `[v6]` or `[v6%zone]`, a literal IPv4
 * in any spelling, or a DNS name. A name whose last label looks numeric but is not a valid IPv4
 * spelling (`1.2.3.4.5`, `0x7g.1`) is refused rather than resolved: resolvers disagree about it.
 */
export function parseHost(text: string): Parsed<HostTarget> {
  if (text.startsWith('[')) {
    if (!text.endsWith(']')) return fail('unterminated [IPv6] literal');
    let inner = text.slice(1, -1);
    // The zone only picks an interface; the address is what the guardrails judge (fe80::/10).
    const zone = inner.indexOf('%');
    if (zone >= 0) inner = inner.slice(0, zone);
    const v6 = parseIpv6(inner);
    if (v6 === undefined) return fail(`'${inner}' is not an IPv6 address`);
    return ok({ kind: 'ip', family: 6, ip: formatIpv6(v6) });
  }
  // The common case, read as the loose parser would read it (the test holds the two together).
  if (CANONICAL_IPV4.test(text)) return ok({ kind: 'ip', family: 4, ip: text });
  if (text.includes(':')) return fail('an IPv6 address must be in brackets');
  let s = text.toLowerCase();
  if (s.endsWith('.')) s = s.slice(0, -1);
  if (s === '') return fail('empty host');
  const v4 = numericHostIpv4(s);
  if (v4 === null) return fail(`'${text}' is neither a host name nor an IPv4 address`);
  if (v4 !== undefined) return ok({ kind: 'ip', family: 4, ip: formatIpv4(v4) });
  const name = checkHostName(s);
  if (!name.ok) return fail(`'${text}': ${name.message}`);
  return ok({ kind: 'name', name: name.name });
}

/** Parses `host:port` (CONNECT) or `host[:port]` with a default port (URI, Host header). */
export function parseAuthority(text: string, defaultPort?: number): Parsed<Authority> {
  const m = /^(\[[^\]]*\]|[^:[\]]*)(?::([0-9]{1,5}))?$/.exec(text);
  if (!m) return fail(`'${text}' is not HOST:PORT`);
  const portText = m[2];
  const port = portText === undefined ? defaultPort : Number(portText);
  if (port === undefined) return fail(`'${text}' has no port`);
  if (port < 1 || port > 65535) return fail(`port ${port} is out of range`);
  const host = parseHost(m[1] ?? '');
  return host.ok ? ok({ host: host.value, port }) : host;
}

/** The request target of a proxied plain-HTTP request. */
export interface AbsoluteUri extends Authority {
  /** `host[:port]` as the client wrote it. */
  readonly authority: string;
  /** Path and query (the fragment is dropped), at least `/`. */
  readonly path: string;
}

/**
 * Parses an absolute `http://` request target. Userinfo is refused: in
 * `http://allowed.example@evil.example/` people and parsers disagree about which host is meant.
 */
export function parseAbsoluteUri(url: string): Parsed<AbsoluteUri> {
  const m = /^http:\/\/([^/?#]*)([/?][^#]*)?(#.*)?$/i.exec(url);
  if (!m) return fail('a proxy request needs an absolute http:// URI');
  const authority = m[1] ?? '';
  if (authority.includes('@')) return fail('userinfo (user@host) is not allowed in the URI');
  const a = parseAuthority(authority, 80);
  if (!a.ok) return a;
  let path = m[2] ?? '/';
  if (path.startsWith('?')) path = `/${path}`;
  return ok({ ...a.value, authority, path });
}

/** Whether two hosts are the same destination. */
export function sameHost(a: HostTarget, b: HostTarget): boolean {
  return a.kind === 'ip' ? b.kind === 'ip' && a.ip === b.ip : b.kind === 'name' && a.name === b.name;
}

/** The host as text (IPv6 bracketed), for logs and messages. */
export function formatHost(h: HostTarget): string {
  if (h.kind === 'name') return h.name;
  return h.family === 6 ? `[${h.ip}]` : h.ip;
}

// Moved to the model (the policy layer needs it too); re-exported for the gateway's callers.
export { canonicalAddress } from '../model/index.js';
