/**
 * @module onramp/breakglass-dest — a break-glass destination as people write it (as in
 * `weir check`: `host[:port][/proto]`, `CIDR:port` with IPv6 CIDRs in brackets, or a prefix-list
 * ID), checked and turned into its canonical text and the rule parts a grant is made of. A part
 * left out means any: no port is every port, no protocol is every protocol (`/proto` alone
 * narrows the protocol, a port alone means tcp, as in `weir check`).
 */
import { canonicalCidr, guardrailFor, isPrefixListId } from '../model/index.js';
import { normalizeProtocol, parseTestTarget } from '../policy/index.js';
import type { Destination, PortRange, SourceLocation } from '../policy-types/index.js';

/** A checked destination: its canonical text, and what a grant's rule allows. */
export interface BreakglassDestination {
  /** What is stored and shown: `api.stripe.com:443/tcp`, `10.0.0.0/8:5432/tcp`, `pl-…`. */
  readonly text: string;
  readonly destination:
    | { kind: 'fqdn'; name: string }
    | { kind: 'cidr'; family: 4 | 6; cidr: string }
    | { kind: 'prefixList'; ref: string };
  readonly ports: readonly PortRange[];
  /** EC2's canonical protocol, `-1` for all. */
  readonly protocol: string;
}

type Parsed = { ok: true; value: BreakglassDestination } | { ok: false; message: string };

const USAGE =
  'write host[:port][/proto] (api.stripe.com:443), CIDR:port (10.0.0.0/8:5432, [2001:db8::/32]:443) or a prefix-list ID (pl-0123456789abcdef0)';
const V4_CIDR = /^([0-9.]{7,15}\/[0-9]{1,2})(?::([0-9]{1,5}))?(?:\/([a-z0-9]{1,8}))?$/i;
const V6_CIDR = /^\[([0-9a-f:.]{2,45}\/[0-9]{1,3})\](?::([0-9]{1,5}))?(?:\/([a-z0-9]{1,8}))?$/i;

/** Parses one break-glass destination (at most 300 characters). */
export function parseBreakglassDestination(input: string): Parsed {
  if (input.length === 0 || input.length > 300 || /[\s\p{Cc}]/u.test(input)) {
    return { ok: false, message: `'${input.slice(0, 80)}' is not a destination: ${USAGE}` };
  }
  if (input.includes('*')) {
    return {
      ok: false,
      message: `'${input}': a wildcard is no break-glass destination; name the hosts, or give no --to to open everything but the guardrails`,
    };
  }
  if (input.startsWith('pl-')) {
    if (!isPrefixListId(input)) return { ok: false, message: `'${input}' is not a prefix-list ID: ${USAGE}` };
    return {
      ok: true,
      value: { text: input, destination: { kind: 'prefixList', ref: input }, ports: [], protocol: '-1' },
    };
  }
  const cidr = V4_CIDR.exec(input) ?? V6_CIDR.exec(input);
  if (cidr !== null) return cidrDestination(input, cidr[1] ?? '', cidr[2], cidr[3]);
  const t = parseTestTarget(input);
  if (!t.ok) return { ok: false, message: `'${input}': ${t.problem.message}; ${USAGE}` };
  if (t.value.ip !== undefined) {
    // An IP literal means that one address, named explicitly as a /32 or /128.
    const bits = t.value.ip.includes(':') ? 128 : 32;
    return cidrDestination(input, `${t.value.ip}/${bits}`, portText(t.value.port), t.value.protocol);
  }
  const name = t.value.host ?? '';
  return withPorts({ kind: 'fqdn', name }, name, portText(t.value.port), t.value.protocol);
}

const portText = (p: number | undefined): string | undefined => (p === undefined ? undefined : String(p));

function cidrDestination(
  input: string,
  text: string,
  port: string | undefined,
  proto: string | undefined,
): Parsed {
  let c: { family: 'ipv4' | 'ipv6'; cidr: string };
  try {
    c = canonicalCidr(text, 'to');
  } catch {
    return { ok: false, message: `'${input}': '${text}' is not a CIDR; ${USAGE}` };
  }
  // Link-local and metadata ranges are opened only by policy files, reviewed: a stolen break-glass
  // code must not hand out the instance role's credentials (IMDS). A wider CIDR that merely
  // overlaps a guarded range is fine: the engine keeps that part closed.
  const guard = guardrailFor(c.cidr);
  if (guard?.inside === true) {
    return {
      ok: false,
      message: `'${input}' is inside the guardrail ${guard.guardrail.text}; break-glass never opens it (only a rule in the policy files that names it does)`,
    };
  }
  const shown = c.family === 'ipv6' ? `[${c.cidr}]` : c.cidr;
  return withPorts({ kind: 'cidr', family: c.family === 'ipv6' ? 6 : 4, cidr: c.cidr }, shown, port, proto);
}

function withPorts(
  destination: BreakglassDestination['destination'],
  shown: string,
  port: string | undefined,
  proto: string | undefined,
): Parsed {
  let protocol = port === undefined ? '-1' : 'tcp';
  if (proto !== undefined) {
    const p = normalizeProtocol(proto.toLowerCase());
    if (!p.ok) return { ok: false, message: `'${shown}': ${p.problem.message}` };
    protocol = p.value;
  }
  if (port !== undefined && (Number(port) > 65535 || (protocol !== 'tcp' && protocol !== 'udp'))) {
    return { ok: false, message: `'${shown}:${port}': a port is 0-65535, for tcp or udp only` };
  }
  const ports = port === undefined ? [] : [{ from: Number(port), to: Number(port) }];
  const text = `${shown}${port === undefined ? '' : `:${port}`}${protocol === '-1' ? '' : `/${protocol}`}`;
  return { ok: true, value: { text, destination, ports, protocol } };
}

/** The destination as a policy-rule destination, located at `loc`. */
export function ruleDestination(d: BreakglassDestination, loc: SourceLocation): Destination {
  const x = d.destination;
  if (x.kind === 'fqdn') return { kind: 'fqdn', name: x.name, match: 'exact', loc };
  if (x.kind === 'cidr') return { kind: 'cidr', family: x.family, cidr: x.cidr, loc };
  return { kind: 'prefixList', ref: x.ref, loc };
}
