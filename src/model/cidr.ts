/**
 * @module model/cidr — strict IPv4/IPv6 address and CIDR parsing, and the canonical text form
 * Weir stores and compares (host bits zeroed, IPv6 lower-cased and RFC 5952 compressed).
 */

import { Ec2Error } from './errors.js';

/** An IPv4 CIDR as numbers: `address` is an unsigned 32-bit integer. */
export interface Ipv4Cidr {
  readonly address: number;
  readonly prefix: number;
}

/** An IPv6 CIDR as numbers: `address` is an unsigned 128-bit integer. */
export interface Ipv6Cidr {
  readonly address: bigint;
  readonly prefix: number;
}

const DECIMAL_OCTET = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const PREFIX = /^(0|[1-9][0-9]{0,2})$/;
const IPV6_ALL_ONES = (1n << 128n) - 1n;

/**
 * Parses a dotted-quad IPv4 address into an unsigned 32-bit integer. Strict: exactly four
 * decimal octets 0–255 and no leading zeros, because `010.0.0.1` means octal to some parsers
 * and decimal to others, and an allow rule must not mean two things.
 */
export function parseIpv4(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const part of parts) {
    if (!DECIMAL_OCTET.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    n = n * 256 + octet;
  }
  return n;
}

/**
 * One IPv4 part as `inet_aton` and the WHATWG URL parser read it: `0x` hex, leading-zero
 * octal, else decimal. Returns undefined for anything else.
 */
function ipv4Part(part: string): number | undefined {
  if (/^0x[0-9a-f]*$/i.test(part)) return part.length === 2 ? 0 : parseInt(part.slice(2), 16);
  if (/^0[0-7]+$/.test(part)) return parseInt(part.slice(1), 8);
  if (/^(0|[1-9][0-9]*)$/.test(part)) return Number(part);
  return undefined;
}

/**
 * Reads `2130706433`, `0177.0.0.1`, `0x7f.1`, `127.1` and friends as the address a resolver
 * would connect to. Every spelling that some library turns into an address must be read as that
 * address here: otherwise `0x7f.1` is "a host name" to us and 127.0.0.1 to the libc that
 * connects, and the loopback guardrail is walked around.
 */
function parseLooseIpv4(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length > 4) return undefined;
  const values: number[] = [];
  for (const part of parts) {
    const v = ipv4Part(part);
    if (v === undefined || !Number.isSafeInteger(v)) return undefined;
    values.push(v);
  }
  const last = values.pop() ?? 0;
  if (values.some((v) => v > 255)) return undefined;
  if (last >= 256 ** (4 - values.length)) return undefined;
  let n = 0;
  for (const v of values) n = n * 256 + v;
  return n * 256 ** (4 - values.length) + last;
}

/**
 * A host whose last label is numeric (`127.1`, `0x7f.1`, `2130706433`, `1.2.3.4.5`) is never a
 * name: returns the IPv4 address libc and URL parsers read it as, or `null` when no IPv4
 * spelling fits (neither a name nor an address). `undefined`: the last label is not numeric, so
 * the host is a name. The gateway and `weir check`/`test` read targets through this one rule.
 */
export function numericHostIpv4(host: string): number | null | undefined {
  let s = host.toLowerCase();
  if (s.endsWith('.')) s = s.slice(0, -1);
  if (!/^(0x[0-9a-f]*|[0-9]+)$/.test(s.slice(s.lastIndexOf('.') + 1))) return undefined;
  return parseLooseIpv4(s) ?? null;
}

/** Formats an unsigned 32-bit integer as a dotted-quad IPv4 address. */
export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
}

/** Parses the groups on one side of `::` into 16-bit values; IPv4 tail allowed when `last`. */
function parseIpv6Groups(side: string, last: boolean): number[] | undefined {
  if (side === '') return [];
  const parts = side.split(':');
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? '';
    if (last && i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIpv4(part);
      if (v4 === undefined) return undefined;
      groups.push(v4 >>> 16, v4 & 0xffff);
    } else if (HEX_GROUP.test(part)) {
      groups.push(parseInt(part, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}

/**
 * Parses an IPv6 address (RFC 4291 text: hex groups, at most one `::`, optional dotted IPv4
 * tail) into an unsigned 128-bit integer. Zone IDs (`%eth0`) and brackets are rejected.
 */
export function parseIpv6(s: string): bigint | undefined {
  const halves = s.split('::');
  let groups: number[];
  if (halves.length === 1) {
    const all = parseIpv6Groups(s, true);
    if (all?.length !== 8) return undefined;
    groups = all;
  } else if (halves.length === 2) {
    const head = parseIpv6Groups(halves[0] ?? '', false);
    const tail = parseIpv6Groups(halves[1] ?? '', true);
    if (head === undefined || tail === undefined) return undefined;
    // `::` stands for at least one zero group.
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    return undefined;
  }
  let n = 0n;
  for (const g of groups) n = (n << 16n) | BigInt(g);
  return n;
}

/**
 * Formats an unsigned 128-bit integer as RFC 5952 text: lower-case hex, no leading zeros, the
 * first longest run of two or more zero groups compressed to `::`. IPv4-mapped addresses are
 * written in hex too (`::ffff:102:304`), so every address has exactly one spelling.
 */
export function formatIpv6(n: bigint): string {
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((n >> shift) & 0xffffn));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

/** The network mask of an IPv4 prefix length, as an unsigned 32-bit integer. */
export function ipv4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** The network mask of an IPv6 prefix length, as an unsigned 128-bit integer. */
export function ipv6Mask(prefix: number): bigint {
  return IPV6_ALL_ONES ^ ((1n << BigInt(128 - prefix)) - 1n);
}

function splitCidr(s: string, maxPrefix: number): [string, number] | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const prefixText = s.slice(slash + 1);
  if (!PREFIX.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > maxPrefix) return undefined;
  return [s.slice(0, slash), prefix];
}

/** Parses `a.b.c.d/p` without canonicalising (host bits may be set). Prefix is required. */
export function parseIpv4Cidr(s: string): Ipv4Cidr | undefined {
  const split = splitCidr(s, 32);
  if (split === undefined) return undefined;
  const address = parseIpv4(split[0]);
  return address === undefined ? undefined : { address, prefix: split[1] };
}

/** Parses `x:y::z/p` without canonicalising (host bits may be set). Prefix is required. */
export function parseIpv6Cidr(s: string): Ipv6Cidr | undefined {
  const split = splitCidr(s, 128);
  if (split === undefined) return undefined;
  const address = parseIpv6(split[0]);
  return address === undefined ? undefined : { address, prefix: split[1] };
}

function invalidCidr(s: string, param: string): Ec2Error {
  return new Ec2Error(
    'InvalidParameterValue',
    `Value (${s}) for parameter ${param} is invalid. This is not a valid CIDR block.`,
  );
}

/**
 * Returns the canonical form of an IPv4 CIDR (`100.68.0.18/18` → `100.68.0.0/18`).
 * @param param the EC2 parameter name used in the error message.
 * @throws Ec2Error InvalidParameterValue when `s` is not a strict IPv4 CIDR.
 */
export function canonicalIpv4Cidr(s: string, param = 'cidrIp'): string {
  const cidr = parseIpv4Cidr(s);
  if (cidr === undefined) throw invalidCidr(s, param);
  return `${formatIpv4((cidr.address & ipv4Mask(cidr.prefix)) >>> 0)}/${cidr.prefix}`;
}

/**
 * Returns the canonical form of an IPv6 CIDR
 * (`2001:DB8:1234:1A00:0:0:0:1/64` → `2001:db8:1234:1a00::/64`).
 * @param param the EC2 parameter name used in the error message.
 * @throws Ec2Error InvalidParameterValue when `s` is not a strict IPv6 CIDR.
 */
export function canonicalIpv6Cidr(s: string, param = 'cidrIpv6'): string {
  const cidr = parseIpv6Cidr(s);
  if (cidr === undefined) throw invalidCidr(s, param);
  return `${formatIpv6(cidr.address & ipv6Mask(cidr.prefix))}/${cidr.prefix}`;
}

/**
 * Canonicalises a CIDR of either family, telling which it was.
 * @throws Ec2Error InvalidParameterValue when `s` is neither.
 */
export function canonicalCidr(s: string, param = 'cidr'): { family: 'ipv4' | 'ipv6'; cidr: string } {
  if (parseIpv4Cidr(s) !== undefined) return { family: 'ipv4', cidr: canonicalIpv4Cidr(s, param) };
  if (parseIpv6Cidr(s) !== undefined) return { family: 'ipv6', cidr: canonicalIpv6Cidr(s, param) };
  throw invalidCidr(s, param);
}
