/**
 * @module onramp/destination — one destination of an exception request, written as `weir check`
 * writes one (`host[:port][/proto]`, `CIDR:port[/proto]` with an IPv6 CIDR in brackets, or a
 * prefix-list ID `pl-…[:port][/proto]`), parsed into what a policy rule would hold and a
 * canonical text that is stored and parsed back the same. Refuses what only reviewed policy
 * files may open: `*`, wildcards over a public suffix, and the guardrail ranges.
 */
import {
  canonicalIpv4Cidr,
  canonicalIpv6Cidr,
  guardrailFor,
  isPrefixListId,
  parseIpv4,
  parseIpv6,
} from '../model/index.js';
import {
  formatFqdnPattern,
  guardedNameAddress,
  normalizeCidr,
  normalizeFqdn,
  normalizeProtocol,
  spansPublicSuffix,
} from '../policy/index.js';
import type { Destination, PortRange } from '../policy-types/index.js';

/** A destination without a source position (an exception has no file). */
export type ExceptionDestinationTarget =
  | { readonly kind: 'fqdn'; readonly name: string; readonly match: 'exact' | 'one-label' | 'any-depth' }
  | { readonly kind: 'cidr'; readonly family: 4 | 6; readonly cidr: string }
  | { readonly kind: 'prefixList'; readonly ref: string };

/** One parsed destination. */
export interface ExceptionDestination {
  /** Canonical text: what is stored, shown and parsed back the same. */
  readonly text: string;
  readonly target: ExceptionDestinationTarget;
  /** The one port, for tcp and udp; absent for protocols without ports. */
  readonly port?: number;
  /** EC2's canonical protocol (`tcp`, `udp`, `icmp`, `icmpv6` or a number). */
  readonly protocol: string;
}

/** Why a destination is refused, for people. */
export type DestinationCheck =
  | { readonly ok: true; readonly value: ExceptionDestination }
  | { readonly ok: false; readonly message: string };

const USAGE =
  'write host[:port][/proto] (api.stripe.com:443), CIDR:port (203.0.113.0/24:443, [2001:db8::/32]:443) or a prefix-list ID (pl-0123456789abcdef0:443)';

const refuse = (message: string): DestinationCheck => ({ ok: false, message });

/** Splits `rest[/proto]` where the protocol is a name or number (never a CIDR length: callers strip those). */
function splitProtocol(text: string): { rest: string; protocol?: string } | string {
  const slash = text.lastIndexOf('/');
  if (slash < 0) return { rest: text };
  const p = normalizeProtocol(text.slice(slash + 1));
  if (!p.ok) return `${p.problem.message}${p.problem.hint !== undefined ? ` (${p.problem.hint})` : ''}`;
  return { rest: text.slice(0, slash), protocol: p.value };
}

function parsePortText(text: string | undefined): number | undefined | string {
  if (text === undefined) return undefined;
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 65535) return `port '${text}' is not 0-65535`;
  return Number(text);
}

/** The CIDR and port of `[v6]:port…`, `[v6/len]:port…` or `a.b.c.d/len:port…`, else undefined. */
function addressForm(input: string): { host: string; port?: string; protocol?: string } | undefined {
  const bracket = /^\[([0-9A-Fa-f:.]+(?:\/[0-9]{1,3})?)\](?::([0-9]*))?(?:\/([A-Za-z0-9-]+))?$/.exec(input);
  if (bracket !== null) return pick(bracket);
  const v4cidr = /^([0-9.]+\/[0-9]{1,2})(?::([0-9]*))?(?:\/([A-Za-z0-9-]+))?$/.exec(input);
  if (v4cidr !== null) return pick(v4cidr);
  return undefined;
}

function pick(m: RegExpExecArray): { host: string; port?: string; protocol?: string } {
  return {
    host: m[1] ?? '',
    ...(m[2] !== undefined ? { port: m[2] } : {}),
    ...(m[3] !== undefined ? { protocol: m[3] } : {}),
  };
}

function cidrTarget(host: string): ExceptionDestinationTarget | string {
  // An IP literal means exactly that one address: /32 or /128, never its network.
  if (parseIpv4(host) !== undefined)
    return { kind: 'cidr', family: 4, cidr: canonicalIpv4Cidr(`${host}/32`) };
  if (parseIpv6(host) !== undefined)
    return { kind: 'cidr', family: 6, cidr: canonicalIpv6Cidr(`${host}/128`) };
  const c = normalizeCidr(host);
  if (!c.ok) return `'${host}': ${c.problem.message}`;
  if (c.warning !== undefined) return `'${host}': ${c.warning.message}; ${c.warning.hint ?? ''}`.trim();
  return { kind: 'cidr', family: c.value.family, cidr: c.value.cidr };
}

function hostTarget(host: string): ExceptionDestinationTarget | string {
  if (host === '*' || host === '**') return 'a wildcard over every name is not an exception; name the hosts';
  if (isPrefixListId(host)) return { kind: 'prefixList', ref: host };
  if (parseIpv4(host) !== undefined || parseIpv6(host) !== undefined) return cidrTarget(host);
  const f = normalizeFqdn(host, true);
  if (!f.ok)
    return `'${host}': ${f.problem.message}${f.problem.hint !== undefined ? ` (${f.problem.hint})` : ''}`;
  if (f.value.match !== 'exact' && spansPublicSuffix(f.value.name)) {
    return `'${host}' spans the public suffix '${f.value.name}': anyone can register a name under it; wildcard below a domain the vendor owns (e.g. *.stripe.network)`;
  }
  return { kind: 'fqdn', name: f.value.name, match: f.value.match };
}

/** Why `t` reaches a guardrail range (loopback, link-local, metadata …), if it does. */
function guarded(t: ExceptionDestinationTarget): string | undefined {
  if (t.kind === 'fqdn') {
    const address = guardedNameAddress(t.name);
    if (address === undefined) return undefined;
    const g = guardrailFor(address);
    return `'${formatFqdnPattern(t)}' is ${g?.guardrail.text ?? address}`;
  }
  if (t.kind !== 'cidr') return undefined;
  const g = guardrailFor(t.cidr);
  if (g === undefined) return undefined;
  return `${t.cidr} ${g.inside ? 'lies in' : 'overlaps'} the guardrail range ${g.guardrail.text}`;
}

function canonical(t: ExceptionDestinationTarget, port: number | undefined, protocol: string): string {
  const where =
    t.kind === 'fqdn'
      ? formatFqdnPattern(t)
      : t.kind === 'prefixList'
        ? t.ref
        : t.family === 6
          ? `[${t.cidr}]`
          : t.cidr;
  return `${where}${port !== undefined ? `:${port}` : ''}/${protocol}`;
}

/**
 * Parses one destination of an exception request. The protocol is `tcp` unless given; tcp and
 * udp need exactly one port (an exception is as narrow as what was asked for); `all` is refused.
 */
export function parseExceptionDestination(input: string): DestinationCheck {
  if (input.length === 0 || input.length > 300 || /[\s\p{Cc}]/u.test(input)) {
    return refuse(`${JSON.stringify(input.slice(0, 80))} is not a destination; ${USAGE}`);
  }
  let host: string;
  let portText: string | undefined;
  let protocol: string | undefined;
  const addr = addressForm(input);
  if (addr !== undefined) {
    host = addr.host;
    portText = addr.port;
    if (addr.protocol !== undefined) {
      const p = normalizeProtocol(addr.protocol);
      if (!p.ok) return refuse(`${p.problem.message}; ${USAGE}`);
      protocol = p.value;
    }
  } else {
    const split = splitProtocol(input);
    if (typeof split === 'string') return refuse(`${split}; ${USAGE}`);
    protocol = split.protocol;
    const colon = split.rest.lastIndexOf(':');
    if (parseIpv6(split.rest) !== undefined)
      return refuse(`write an IPv6 address in brackets with its port: [${split.rest}]:443`);
    host = colon >= 0 ? split.rest.slice(0, colon) : split.rest;
    portText = colon >= 0 ? split.rest.slice(colon + 1) : undefined;
  }
  // Before the port: `*` alone is refused for what it is, not for lacking a port.
  if (host === '*' || host === '**')
    return refuse('a wildcard over every name is not an exception; name the hosts');
  const proto = protocol ?? 'tcp';
  if (proto === '-1') return refuse('an exception names one protocol; all (-1) is for reviewed rules only');
  const port = parsePortText(portText);
  if (typeof port === 'string') return refuse(`${port}; ${USAGE}`);
  const ported = proto === 'tcp' || proto === 'udp';
  if (ported && port === undefined)
    return refuse(`'${input}' has no port: ${proto} needs one (e.g. ${host}:443)`);
  if (!ported && port !== undefined) return refuse(`${proto} has no ports: write ${host}/${proto}`);
  const target = addr !== undefined ? cidrTarget(host) : hostTarget(host);
  if (typeof target === 'string') return refuse(target);
  const g = guarded(target);
  if (g !== undefined) {
    // An exception never opens loopback, link-local or the metadata service: that is how a
    // request slipped past review would reach the instance's credentials (SSRF). Only a
    // reviewed policy file may name such a range.
    return refuse(`${g}: only policy files open the guardrail ranges (link-local, metadata, loopback …)`);
  }
  const value: ExceptionDestination = {
    text: canonical(target, port, proto),
    target,
    protocol: proto,
    ...(port !== undefined ? { port } : {}),
  };
  return { ok: true, value };
}

/** The destination as a policy rule holds it, placed at `file` (decisions and logs show it). */
export function ruleDestination(
  d: ExceptionDestination,
  file: string,
): { destination: Destination; ports: PortRange[] } {
  const loc = { file, line: 1, col: 1 };
  return {
    destination: { ...d.target, loc } as Destination,
    ports: d.port !== undefined ? [{ from: d.port, to: d.port }] : [],
  };
}
