/**
 * @module model/address — allocation-free IPv4/IPv6 text parsing for the decision engine's hot
 * path, and the canonical text of a resolver's answer (`canonicalAddress`). An address
 * becomes one (IPv4) or four (IPv6) unsigned 32-bit words written into a caller's buffer. It
 * accepts exactly what `model/cidr` accepts (strict dotted quads without leading zeros, RFC 4291
 * IPv6 with at most one `::` and an optional dotted tail, no zone IDs), so the address a rule was
 * written for and the address a request names can never be read two ways.
 */
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from './cidr.js';

/** An address family as the engine stores it: 4, 6, or 0 for "not an address". */
export type Family = 0 | 4 | 6;

/** A pre-parsed address (see `parseAddress`), for callers that parse once and decide many times. */
export interface ParsedAddress {
  readonly family: 4 | 6;
  /** IPv4: `words[0]`; IPv6: `words[0..3]`, most significant first. Unsigned 32-bit values. */
  readonly words: Uint32Array;
}

const groups = new Int32Array(8);

/**
 * Parses a strict dotted quad in `s[from, to)`. Returns the unsigned 32-bit value, or -1.
 * Leading zeros are refused: `010.0.0.1` is octal to some resolvers and decimal to others.
 * One pass, one `charCodeAt` per character: this runs on nearly every decision.
 */
function parseV4Range(s: string, from: number, to: number): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      dots++;
      octet = 0;
      digits = 0;
      continue;
    }
    const d = c - 48;
    // A second digit after a leading 0 is a leading zero; four digits exceed 255 below.
    if (d < 0 || d > 9 || (digits === 1 && octet === 0)) return -1;
    octet = octet * 10 + d;
    digits++;
    if (octet > 255) return -1;
  }
  return dots === 3 && digits > 0 ? value * 256 + octet : -1;
}

/** Per ASCII code, its hex digit's value, or -1. */
const HEX = Int8Array.from({ length: 128 }, (_, c) =>
  c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1,
);

function hexValue(c: number): number {
  return c < 128 ? (HEX[c] ?? -1) : -1;
}

/** Parses IPv6 text into `out[0..3]`; returns false when it is not strict RFC 4291 text. */
function parseV6(s: string, out: Uint32Array): boolean {
  const n = s.length;
  let i = 0;
  let g = 0;
  let gap = -1;
  if (n >= 2 && s.charCodeAt(0) === 58 && s.charCodeAt(1) === 58) {
    gap = 0;
    i = 2;
  } else if (n === 0 || s.charCodeAt(0) === 58) {
    return false;
  }
  while (i < n) {
    const start = i;
    let value = 0;
    while (i < n) {
      const h = hexValue(s.charCodeAt(i));
      if (h < 0) break;
      value = value * 16 + h;
      i++;
    }
    if (i < n && s.charCodeAt(i) === 46) {
      // A dotted IPv4 tail is only allowed as the last two groups.
      if (g > 6) return false;
      const v4 = parseV4Range(s, start, n);
      if (v4 < 0) return false;
      groups[g++] = v4 >>> 16;
      groups[g++] = v4 & 0xffff;
      i = n;
      break;
    }
    const digits = i - start;
    if (digits === 0 || digits > 4 || g >= 8) return false;
    groups[g++] = value;
    if (i === n) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i < n && s.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = g;
      i++;
    } else if (i === n) {
      return false;
    }
  }
  if (gap < 0) {
    if (g !== 8) return false;
  } else {
    // `::` stands for at least one zero group.
    if (g > 7) return false;
    const tail = g - gap;
    for (let k = 0; k < tail; k++) groups[7 - k] = groups[g - 1 - k] ?? 0;
    for (let k = gap; k < 8 - tail; k++) groups[k] = 0;
  }
  for (let w = 0; w < 4; w++) out[w] = (((groups[2 * w] ?? 0) << 16) | (groups[2 * w + 1] ?? 0)) >>> 0;
  return true;
}

/**
 * Parses an IPv4 or IPv6 address into `out` without allocating. Returns the family, or 0 when
 * `s` is not a strict address (so the caller denies rather than guesses).
 * @param out at least four words; IPv4 uses `out[0]`.
 */
export function parseAddressInto(s: string, out: Uint32Array): Family {
  const v4 = parseV4Range(s, 0, s.length);
  if (v4 >= 0) {
    out[0] = v4;
    return 4;
  }
  // Dotted quads fail fast on the first ':' or hex letter; only then try IPv6.
  return parseV6(s, out) ? 6 : 0;
}

/** Parses an address once, for `Snapshot.decideParsed`. Returns undefined when invalid. */
export function parseAddress(s: string): ParsedAddress | undefined {
  const words = new Uint32Array(4);
  const family = parseAddressInto(s, words);
  return family === 0 ? undefined : { family, words };
}

/** The words of an address as one unsigned 128-bit (IPv6) or 32-bit (IPv4) integer; for tests and messages. */
export function addressToBigInt(family: 4 | 6, words: Uint32Array): bigint {
  if (family === 4) return BigInt(words[0] ?? 0);
  let n = 0n;
  for (let w = 0; w < 4; w++) n = (n << 32n) | BigInt(words[w] ?? 0);
  return n;
}

/** Splits an unsigned 128-bit integer into four 32-bit words (compile time only). */
export function bigIntToWords(n: bigint, out: Uint32Array = new Uint32Array(4)): Uint32Array {
  for (let w = 3; w >= 0; w--) {
    out[w] = Number(n & 0xffffffffn);
    n >>= 32n;
  }
  return out;
}

/**
 * Canonical text of a resolver's answer (the gateway's and `weir policy resolve`'s), or
 * undefined when it is not a strict address.
 */
export function canonicalAddress(text: string): { family: 4 | 6; ip: string } | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { family: 4, ip: formatIpv4(v4) };
  const v6 = parseIpv6(text);
  return v6 === undefined ? undefined : { family: 6, ip: formatIpv6(v6) };
}
