/**
 * @module policy/normalize — turns values as written into the one spelling everything
 * downstream compares: host names (case, trailing dot, IDNA, wildcard grammar), CIDRs, ports,
 * protocols, times, identity patterns and security-group IDs. Each function is pure and says precisely what is
 * wrong, so the loader only has to attach a position.
 */
import {
  checkHostName,
  canonicalIpv4Cidr,
  canonicalIpv6Cidr,
  formatIpv4,
  ipv4Mask,
  isSecurityGroupId,
  ipv6Mask,
  parseIpv4,
  parseIpv4Cidr,
  parseIpv6,
  parseIpv6Cidr,
  numericHostIpv4,
} from '../model/index.js';
import { closest } from './diagnostics.js';
import type { DiagnosticCode } from './diagnostics.js';
import { PROTOCOL_NAMES } from './schema.js';
import type { IdentityPattern, PortRange } from './types.js';

/** What is wrong with a value, without a position. */
export interface Problem {
  readonly code: DiagnosticCode;
  readonly message: string;
  readonly hint?: string;
}

/** A normalised value (perhaps with a warning about how it was written), or why there is none. */
export type Checked<T> =
  | { readonly ok: true; readonly value: T; readonly warning?: Problem }
  | { readonly ok: false; readonly problem: Problem };

function ok<T>(value: T, warning?: Problem): Checked<T> {
  return warning === undefined ? { ok: true, value } : { ok: true, value, warning };
}

function fail<T>(code: DiagnosticCode, message: string, hint?: string): Checked<T> {
  return { ok: false, problem: hint === undefined ? { code, message } : { code, message, hint } };
}

/** A normalised FQDN pattern: `name` carries no wildcard; `match` says how it matches. */
export interface FqdnPattern {
  readonly name: string;
  readonly match: 'exact' | 'one-label' | 'any-depth';
}

/**
 * Normalises a host name: lower case, one trailing dot stripped, Unicode labels to IDNA
 * (`bücher.example` → `xn--bcher-kva.example`). Without `allowWildcard`, `*` is refused; with
 * it, a leftmost `*.` matches exactly one label and `**.` one or more. A wildcard anywhere else
 * (`a.*.com`, `*foo.com`) is refused rather than guessed at, because a guessed pattern is an
 * allow rule nobody wrote.
 */
export function normalizeFqdn(input: string, allowWildcard = true): Checked<FqdnPattern> {
  let s = input.toLowerCase();
  if (s.endsWith('.')) s = s.slice(0, -1);
  const labels = s.split('.');
  let match: FqdnPattern['match'] = 'exact';
  const first = labels[0];
  if (allowWildcard && (first === '*' || first === '**')) {
    match = first === '*' ? 'one-label' : 'any-depth';
    labels.shift();
    if (labels.length === 0 || (labels.length === 1 && labels[0] === '')) {
      return fail('invalid-wildcard', 'a wildcard needs a domain after it', `write ${first}.example.com`);
    }
  }
  const wild = allowWildcard ? labels.findIndex((l) => l.includes('*')) : -1;
  if (wild >= 0) {
    const label = labels[wild] ?? '';
    if (wild === 0 && label !== '*' && label !== '**') {
      return fail(
        'invalid-wildcard',
        `wildcard "${label}" is not a whole label`,
        `use *.${labels.slice(1).join('.')} (one label) or **.${labels.slice(1).join('.')} (any depth)`,
      );
    }
    return fail(
      'invalid-wildcard',
      'only the leftmost label may be a wildcard',
      'use *.example.com (one label) or **.example.com (any depth)',
    );
  }
  const checked = checkHostName(labels.join('.'));
  if (!checked.ok) return fail('invalid-fqdn', checked.message, checked.hint);
  return ok({ name: checked.name, match });
}

/** Writes an FQDN pattern back in the file syntax (`*.stripe.network`). */
export function formatFqdnPattern(p: FqdnPattern): string {
  return p.match === 'exact' ? p.name : `${p.match === 'one-label' ? '*' : '**'}.${p.name}`;
}

/** A canonical CIDR and its family. */
export interface CanonicalCidr {
  readonly family: 4 | 6;
  readonly cidr: string;
}

/**
 * Canonicalises a CIDR (`2001:DB8::/32` → `2001:db8::/32`). Host bits set (`10.0.0.1/8`) are
 * accepted with a warning: EC2 silently widens such a block to its network, and the author
 * usually meant either the network or the single host.
 */
export function normalizeCidr(input: string): Checked<CanonicalCidr> {
  try {
    const v4 = parseIpv4Cidr(input);
    if (v4 !== undefined) {
      const cidr = canonicalIpv4Cidr(input);
      const hostBits = (v4.address & ~ipv4Mask(v4.prefix)) >>> 0 !== 0;
      return ok({ family: 4, cidr }, hostBits ? hostBitsWarning(input, cidr, 32) : undefined);
    }
    const v6 = parseIpv6Cidr(input);
    if (v6 !== undefined) {
      const cidr = canonicalIpv6Cidr(input);
      const hostBits = (v6.address & ~ipv6Mask(v6.prefix)) !== 0n;
      return ok({ family: 6, cidr }, hostBits ? hostBitsWarning(input, cidr, 128) : undefined);
    }
  } catch {
    // The model's canonicalisers throw Ec2Error for what the parsers above already refused.
  }
  if (parseIpv4(input) !== undefined)
    return fail('invalid-cidr', 'a CIDR needs a prefix length', `write ${input}/32`);
  if (parseIpv6(input) !== undefined)
    return fail('invalid-cidr', 'a CIDR needs a prefix length', `write ${input}/128`);
  const addr = input.split('/')[0] ?? '';
  if (/^[0-9.]+$/.test(addr) && addr.split('.').some((o) => /^0[0-9]/.test(o))) {
    return fail(
      'invalid-cidr',
      'octets with leading zeros are ambiguous (octal or decimal)',
      'remove leading zeros',
    );
  }
  return fail(
    'invalid-cidr',
    'not an IPv4 or IPv6 CIDR block',
    'write a.b.c.d/len (len 0-32) or x:y::z/len (len 0-128)',
  );
}

function hostBitsWarning(input: string, cidr: string, hostLen: number): Problem {
  const host = `${input.split('/')[0] ?? ''}/${hostLen}`;
  return {
    code: 'cidr-not-canonical',
    message: `host bits are set: this block is ${cidr}`,
    hint: `write ${cidr} for the network, or ${host} for the single host`,
  };
}

/** Parses one port (`443`, `"443"`) or range (`"8000-8100"`). */
export function parsePort(input: number | string): Checked<PortRange> {
  let from: number;
  let to: number;
  if (typeof input === 'number') {
    from = input;
    to = input;
  } else {
    const m = /^\s*([0-9]+)\s*(?:-\s*([0-9]+)\s*)?$/.exec(input);
    if (m === null) {
      return fail(
        'invalid-port',
        'not a port or port range',
        'write 443, or a range in quotes as "8000-8100"',
      );
    }
    from = Number(m[1]);
    to = m[2] === undefined ? from : Number(m[2]);
  }
  for (const p of [from, to]) {
    if (!Number.isInteger(p) || p < 0 || p > 65535) {
      return fail('invalid-port', `port ${p} is out of range`, 'ports are 0-65535');
    }
  }
  if (from > to) return fail('invalid-port', `range ${from}-${to} is reversed`, `write "${to}-${from}"`);
  return ok({ from, to });
}

/** Sorts port ranges and merges the ones that overlap or touch. */
export function mergePorts(ranges: readonly PortRange[]): PortRange[] {
  const sorted = [...ranges].sort((a, b) => a.from - b.from || a.to - b.to);
  const out: { from: number; to: number }[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && r.from <= last.to + 1) last.to = Math.max(last.to, r.to);
    else out.push({ from: r.from, to: r.to });
  }
  return out;
}

const PROTOCOL_BY_NUMBER: ReadonlyMap<number, string> = new Map([
  [6, 'tcp'],
  [17, 'udp'],
  [1, 'icmp'],
  [58, 'icmpv6'],
]);

/**
 * EC2's canonical protocol: `tcp` `udp` `icmp` `icmpv6`, `-1` for all, or another number as
 * text. Numbers with a name (6, 17, 1, 58) become the name so two spellings compare equal.
 */
export function normalizeProtocol(input: string | number): Checked<string> {
  let n: number | undefined;
  if (typeof input === 'number') n = input;
  else if (/^-?[0-9]+$/.test(input)) n = Number(input);
  else if (input === 'all') return ok('-1');
  else if ((PROTOCOL_NAMES as readonly string[]).includes(input)) return ok(input);
  else {
    const guess = closest(input, PROTOCOL_NAMES);
    return fail(
      'invalid-protocol',
      `unknown protocol "${input}"`,
      guess !== undefined
        ? `did you mean '${guess}'?`
        : 'use tcp, udp, icmp, icmpv6, all, -1 or a number 0-255',
    );
  }
  if (n === -1) return ok('-1');
  if (!Number.isInteger(n) || n < 0 || n > 255) {
    return fail(
      'invalid-protocol',
      `protocol number ${n} is out of range`,
      'protocol numbers are 0-255, or -1 for all',
    );
  }
  return ok(PROTOCOL_BY_NUMBER.get(n) ?? String(n));
}

const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
const TIMESTAMP =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2})?$/i;

function validDate(y: number, m: number, d: number): boolean {
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

/**
 * Parses `YYYY-MM-DD` or an ISO 8601 timestamp with a zone into epoch ms. A date is the end of
 * that day, UTC, when `edge` is `end` (an expiry: the rule still allows on that day), and its
 * start when `start` (a test's evaluation time). A timestamp without a zone is refused: it would
 * mean a different instant on every machine.
 */
export function parseTime(input: string, edge: 'start' | 'end'): Checked<number> {
  const d = DATE.exec(input);
  if (d !== null) {
    const [y, m, day] = [Number(d[1]), Number(d[2]), Number(d[3])];
    if (!validDate(y, m, day))
      return fail('invalid-date', 'no such date', 'write a real calendar date as YYYY-MM-DD');
    return ok(edge === 'end' ? Date.UTC(y, m - 1, day, 23, 59, 59, 999) : Date.UTC(y, m - 1, day));
  }
  const t = TIMESTAMP.exec(input);
  if (t !== null) {
    const [y, m, day, hh, mm, ss] = [t[1], t[2], t[3], t[4], t[5], t[6] ?? '0'].map(Number) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    if (!validDate(y, m, day) || hh > 23 || mm > 59 || ss > 59) {
      return fail('invalid-date', 'no such date or time', 'write e.g. 2027-06-30T12:00:00Z');
    }
    if (t[7] === undefined) {
      return fail('invalid-date', 'a timestamp needs a time zone', `append Z for UTC: ${input}Z`);
    }
    const ms = Date.parse(input);
    if (Number.isNaN(ms))
      return fail('invalid-date', 'not a valid timestamp', 'write e.g. 2027-06-30T12:00:00Z');
    return ok(ms);
  }
  return fail(
    'invalid-date',
    'not a date or timestamp',
    'write YYYY-MM-DD (e.g. 2027-06-30) or an ISO 8601 timestamp such as 2027-06-30T12:00:00Z',
  );
}

/** Formats epoch ms for messages: the date alone when it is an end-of-day expiry. */
export function formatTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('T23:59:59.999Z') ? iso.slice(0, 10) : iso.replace('.000Z', 'Z');
}

/**
 * Parses a workload identity pattern. A pattern with `*` is a glob over `/`-separated segments:
 * `*` is exactly one segment, `**` any number (zero or more). `*` inside a segment
 * (`sa/check*`) is refused: prefix matching on identities is how a look-alike service account
 * slips into a policy.
 */
export function parseIdentityPattern(input: string): Checked<IdentityPattern> {
  if (/\s/.test(input)) return fail('invalid-identity', 'an identity cannot contain white space');
  if (!input.includes('*')) return ok({ kind: 'exact', value: input });
  const bad = input.split('/').find((seg) => seg.includes('*') && seg !== '*' && seg !== '**');
  if (bad !== undefined) {
    return fail(
      'invalid-identity',
      `"${bad}": a wildcard must be a whole path segment`,
      'use * for one segment or ** for any number, e.g. spiffe://prod.example/ns/payments/sa/*',
    );
  }
  return ok({ kind: 'glob', value: input });
}

/** True when `identity` matches `pattern` (see {@link parseIdentityPattern}). */
export function matchIdentity(pattern: IdentityPattern, identity: string): boolean {
  if (pattern.kind === 'exact') return pattern.value === identity;
  return matchSegments(pattern.value.split('/'), 0, identity.split('/'), 0);
}

function matchSegments(p: readonly string[], i: number, s: readonly string[], j: number): boolean {
  while (i < p.length) {
    const seg = p[i];
    if (seg === '**') {
      for (let k = j; k <= s.length; k++) if (matchSegments(p, i + 1, s, k)) return true;
      return false;
    }
    if (j >= s.length) return false;
    if (seg !== '*' && seg !== s[j]) return false;
    i++;
    j++;
  }
  return j === s.length;
}

/** A test's `to`, parsed: a host name or an IP address, with optional port and protocol. */
export interface TestTarget {
  readonly host?: string;
  readonly ip?: string;
  readonly port?: number;
  readonly protocol?: string;
}

/**
 * Parses a test's `to`: `host[:port][/proto]` or `ip[:port][/proto]`, IPv6 in brackets when a
 * port follows (`[2001:db8::1]:443`).
 */
export function parseTestTarget(input: string): Checked<TestTarget> {
  const usage = 'write host[:port][/proto], e.g. api.stripe.com:443 or [2001:db8::1]:443/tcp';
  let rest = input;
  let protocol: string | undefined;
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const p = normalizeProtocol(rest.slice(slash + 1));
    if (!p.ok) return fail('invalid-test-target', p.problem.message, p.problem.hint);
    protocol = p.value;
    rest = rest.slice(0, slash);
  }
  let hostText: string;
  let portText: string | undefined;
  const bracket = /^\[([^\]%]+)(?:%[^\]]*)?\](?::(.*))?$/.exec(rest);
  if (bracket !== null) {
    // A zone ID (`%eth0`) only picks an interface: the address is what is decided, as in the gateway.
    hostText = bracket[1] ?? '';
    portText = bracket[2];
    if (parseIpv6(hostText) === undefined)
      return fail('invalid-test-target', 'not an IPv6 address in brackets', usage);
  } else if (parseIpv6(rest) !== undefined) {
    hostText = rest;
  } else {
    const colon = rest.lastIndexOf(':');
    hostText = colon >= 0 ? rest.slice(0, colon) : rest;
    portText = colon >= 0 ? rest.slice(colon + 1) : undefined;
  }
  let port: number | undefined;
  if (portText !== undefined) {
    if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) > 65535) {
      return fail('invalid-test-target', `port "${portText}" is not 0-65535`, usage);
    }
    port = Number(portText);
  }
  const target: { host?: string; ip?: string; port?: number; protocol?: string } = {};
  // `127.1`, `0x7f.1`, `2130706433`: decided as the address the gateway (and libc) reads them as.
  const looseV4 = numericHostIpv4(hostText);
  if (parseIpv4(hostText) !== undefined) target.ip = hostText;
  else if (parseIpv6(hostText) !== undefined) target.ip = canonicalIpv6Cidr(`${hostText}/128`).slice(0, -4);
  else if (looseV4 === null) {
    return fail('invalid-test-target', `'${hostText}' is neither a host name nor an IPv4 address`, usage);
  } else if (looseV4 !== undefined) {
    target.ip = formatIpv4(looseV4);
  } else {
    const h = normalizeFqdn(hostText, false);
    if (!h.ok) return fail('invalid-test-target', h.problem.message, h.problem.hint ?? usage);
    target.host = h.value.name;
  }
  if (port !== undefined) target.port = port;
  if (protocol !== undefined) target.protocol = protocol;
  return ok(target);
}

/**
 * Checks a security-group ID a registry entry attaches its workload to. Only IDs: the gateway
 * serves one namespace, where names are not unique across VPCs and a rename would silently
 * detach the workload.
 */
export function parseSecurityGroupId(input: string): Checked<string> {
  if (isSecurityGroupId(input)) return ok(input);
  const lower = input.toLowerCase();
  return fail(
    'invalid-value',
    `'${input}' is not a security-group ID`,
    isSecurityGroupId(lower)
      ? `write it in lower case: ${lower}`
      : 'an ID is sg- and 8 or 17 lower-case hex digits (sg-0123456789abcdef0), as `weir ec2 describe-security-groups` prints it',
  );
}

/** The longest exception TTL any policy may allow, and the default maximum: 7 days. */
export const MAX_EXCEPTION_TTL_MS = 7 * 86_400_000;

/** A principal as `weir_principal` names one (api/credentials): 1–128 of letters, digits and `. _ @ + : / -`. */
const PRINCIPAL = /^[\w.@+:/-]{1,128}$/;

/** Checks one principal of `spec.exceptions.approvers`. */
export function parsePrincipal(input: string): Checked<string> {
  if (PRINCIPAL.test(input)) return ok(input);
  return fail(
    'invalid-approver',
    `'${input.slice(0, 60)}' is not a principal`,
    'write the weir_principal of an approver key, e.g. lead@example.com (letters, digits and . _ @ + : / -)',
  );
}

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Parses a duration such as `72h`, `30m`, `5s`, `7d` into ms. */
export function parseDuration(input: string): Checked<number> {
  const m = /^([1-9][0-9]{0,9})(s|m|h|d)$/.exec(input);
  if (m === null) {
    return fail(
      'invalid-duration',
      'not a duration',
      'write a whole number and a unit s, m, h or d, e.g. 72h',
    );
  }
  return ok(Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]);
}
