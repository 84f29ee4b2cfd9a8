/**
 * @module model/guardrails — built-in deny ranges that no broad rule can open: loopback,
 * link-local (cloud metadata), unspecified, multicast and broadcast, and every IPv6 form that
 * smuggles one of those IPv4 addresses (IPv4-mapped, -translated, -compatible, NAT64, 6to4,
 * Teredo). A guardrail yields only to a rule that names its range explicitly: a rule CIDR
 * inside or equal to the range the address hit (so `0.0.0.0/0` or `169.254.0.0/16` never
 * opens `169.254.169.254`). Two implementations of one table: `guardrailIndex` on parsed words
 * for the hot path, `guardrailFor` on text (BigInt, any time) for the linter and the oracle.
 */
import { formatIpv4, formatIpv6, parseIpv4, parseIpv4Cidr, parseIpv6, parseIpv6Cidr } from './cidr.js';

/** One guarded range. */
export interface Guardrail {
  /** Canonical CIDR. */
  readonly cidr: string;
  readonly family: 4 | 6;
  readonly prefixLength: number;
  /** Short name, e.g. `link-local`, `cloud metadata (IMDS)`. */
  readonly label: string;
  /** The attack this range stops. */
  readonly stops: string;
  /** `cidr label`, as a denial reports it (`Decision.guardrail`). */
  readonly text: string;
}

/** What `guardrailFor` found. */
export interface GuardrailMatch {
  readonly guardrail: Guardrail;
  /**
   * True when the whole address or CIDR lies inside the guardrail range: an address is blocked,
   * and a rule with that CIDR names the range explicitly (so the engine lets that rule through).
   * False when a wider CIDR merely overlaps it: that part of the rule stays blocked.
   */
  readonly inside: boolean;
}

function guard(family: 4 | 6, net: bigint, prefixLength: number, label: string, stops: string): Guardrail {
  const cidr = `${family === 4 ? formatIpv4(Number(net)) : formatIpv6(net)}/${prefixLength}`;
  return Object.freeze({ cidr, family, prefixLength, label, stops, text: `${cidr} ${label}` });
}

const v4 = (s: string): bigint => BigInt(parseIpv4(s) ?? 0);
const v6 = (s: string): bigint => parseIpv6(s) ?? 0n;

// Most specific first: the metadata address must report (and be exempted) as itself, not as
// link-local, so a rule opening 169.254.0.0/16 for some link-local service does not open IMDS.
const V4_GUARDS: readonly Guardrail[] = [
  guard(
    4,
    v4('169.254.169.254'),
    32,
    'cloud metadata (IMDS)',
    'SSRF to the instance metadata service, which hands out the instance role credentials',
  ),
  guard(
    4,
    v4('169.254.0.0'),
    16,
    'link-local',
    'reaching host-local services (metadata, DNS, time) that trust anything on the link',
  ),
  guard(
    4,
    v4('127.0.0.0'),
    8,
    'loopback',
    "SSRF into services bound to the gateway's own loopback (admin ports, sidecars, agents)",
  ),
  guard(
    4,
    v4('0.0.0.0'),
    8,
    'unspecified / this network',
    'connecting to 0.0.0.0, which Linux routes to the local host, bypassing loopback blocks',
  ),
  guard(
    4,
    v4('224.0.0.0'),
    4,
    'multicast',
    'spraying or amplifying traffic to multicast groups on the network',
  ),
  guard(4, v4('255.255.255.255'), 32, 'broadcast', 'broadcasting to every host on the local segment'),
];

const V6_GUARDS: readonly Guardrail[] = [
  guard(6, 0n, 128, 'unspecified', 'connecting to ::, which reaches the local host as 0.0.0.0 does'),
  guard(6, 1n, 128, 'loopback', "SSRF into services bound to the gateway's own loopback"),
  guard(
    6,
    v6('fd00:ec2::254'),
    128,
    'cloud metadata (IMDS, IPv6)',
    'SSRF to the IPv6 instance metadata endpoint and the instance role credentials',
  ),
  guard(6, v6('fe80::'), 10, 'link-local', 'reaching host-local services on the link'),
  guard(6, v6('ff00::'), 8, 'multicast', 'spraying or amplifying traffic to multicast groups'),
];

const EMBED_STOPS =
  'hiding a blocked IPv4 address inside an IPv6 address that the host stack or a NAT64, 6to4 or ' +
  'Teredo relay turns back into that IPv4 address, bypassing the IPv4 guardrails';

interface Embedding {
  readonly name: string;
  /** The IPv6 range whose addresses carry an IPv4 address. */
  readonly prefix: bigint;
  readonly prefixLength: number;
  /** The embedded IPv4 address (BigInt form; the word form is in `embeddedV4`). */
  readonly extract: (n: bigint) => bigint;
  /** Bit offset (from the top) where the IPv4 address sits contiguously, or -1 if it does not. */
  readonly v4At: number;
}

const M32 = 0xffffffffn;
const EMBEDDINGS: readonly Embedding[] = [
  { name: 'IPv4-mapped', prefix: v6('::ffff:0:0'), prefixLength: 96, extract: (n) => n & M32, v4At: 96 },
  {
    name: 'IPv4-translated',
    prefix: v6('::ffff:0:0:0'),
    prefixLength: 96,
    extract: (n) => n & M32,
    v4At: 96,
  },
  { name: 'IPv4-compatible', prefix: 0n, prefixLength: 96, extract: (n) => n & M32, v4At: 96 },
  { name: 'NAT64', prefix: v6('64:ff9b::'), prefixLength: 96, extract: (n) => n & M32, v4At: 96 },
  {
    name: 'NAT64 local-use',
    prefix: v6('64:ff9b:1::'),
    prefixLength: 48,
    // RFC 6052 /48: IPv4 bits 0–15 at 48–63, then the u-octet, bits 16–31 at 72–87.
    extract: (n) => (((n >> 64n) & 0xffffn) << 16n) | ((n >> 40n) & 0xffffn),
    v4At: -1,
  },
  { name: '6to4', prefix: v6('2002::'), prefixLength: 16, extract: (n) => (n >> 80n) & M32, v4At: 16 },
  // Teredo: the client's IPv4 address is stored inverted ("obfuscated") in the last 32 bits.
  { name: 'Teredo client', prefix: v6('2001::'), prefixLength: 32, extract: (n) => ~n & M32, v4At: -1 },
  {
    name: 'Teredo server',
    prefix: v6('2001::'),
    prefixLength: 32,
    extract: (n) => (n >> 64n) & M32,
    v4At: -1,
  },
];

/** For an embedding and an IPv4 guardrail: the IPv6 range a rule must lie in to be explicit. */
function embeddedGuard(e: Embedding, g: Guardrail): Guardrail {
  const label = `${g.label} ${g.cidr} as ${e.name}`;
  if (e.v4At < 0) return guard(6, e.prefix, e.prefixLength, label, EMBED_STOPS);
  const net = BigInt(parseIpv4(g.cidr.slice(0, g.cidr.indexOf('/'))) ?? 0);
  return guard(6, e.prefix | (net << BigInt(96 - e.v4At)), e.v4At + g.prefixLength, label, EMBED_STOPS);
}

const V6_BASE = V4_GUARDS.length;
const EMBED_BASE = V6_BASE + V6_GUARDS.length;

/**
 * Every range a decision can report, indexed as `guardrailIndex` answers: the IPv4 ranges, the
 * IPv6 ranges, then one entry per (embedding, IPv4 range).
 */
export const GUARDRAIL_HITS: readonly Guardrail[] = Object.freeze([
  ...V4_GUARDS,
  ...V6_GUARDS,
  ...EMBEDDINGS.flatMap((e) => V4_GUARDS.map((g) => embeddedGuard(e, g))),
]);

/**
 * The built-in guardrails as a list (IPv4 ranges, IPv6 ranges, and the IPv6 embedding
 * prefixes inside which the embedded IPv4 address is checked), for docs and the linter.
 */
export const GUARDRAILS: readonly Guardrail[] = Object.freeze([
  ...V4_GUARDS,
  ...V6_GUARDS,
  ...EMBEDDINGS.filter((e, i) => EMBEDDINGS.findIndex((o) => o.prefix === e.prefix) === i).map((e) =>
    guard(
      6,
      e.prefix,
      e.prefixLength,
      `${e.name.replace(/ client$/, '')} (embedded IPv4 checked)`,
      EMBED_STOPS,
    ),
  ),
]);

// Hot-path tables: IPv4 guard networks and masks as unsigned 32-bit numbers.
const V4_NET = Uint32Array.from(V4_GUARDS.map((g) => parseIpv4(g.cidr.slice(0, g.cidr.indexOf('/'))) ?? 0));
const V4_MASK = Uint32Array.from(
  V4_GUARDS.map((g) => (g.prefixLength === 0 ? 0 : (~0 << (32 - g.prefixLength)) >>> 0)),
);

/**
 * Per first octet, whether some IPv4 guardrail can contain an address starting with it: most
 * addresses are public and leave after this one read instead of testing every range.
 */
const V4_FIRST_OCTET = Uint8Array.from({ length: 256 }, (_, octet) =>
  V4_NET.some((net, i) => {
    const top = (V4_MASK[i] ?? 0) >>> 24;
    return (octet & top) >>> 0 === ((net >>> 24) & top);
  })
    ? 1
    : 0,
);

function v4Index(a: number): number {
  if (V4_FIRST_OCTET[a >>> 24] === 0) return -1;
  for (let i = 0; i < V4_NET.length; i++) {
    if ((a & (V4_MASK[i] ?? 0)) >>> 0 === V4_NET[i]) return i;
  }
  return -1;
}

function embedded(e: number, a: number): number {
  const i = v4Index(a >>> 0);
  return i < 0 ? -1 : EMBED_BASE + e * V4_GUARDS.length + i;
}

/**
 * The guardrail an address hits, as an index into `GUARDRAIL_HITS`, or -1. Allocation-free.
 * @param words the address as `parseAddressInto` writes it.
 */
export function guardrailIndex(family: 4 | 6, words: Uint32Array): number {
  const w0 = words[0] ?? 0;
  if (family === 4) return v4Index(w0);
  const w1 = words[1] ?? 0;
  const w2 = words[2] ?? 0;
  const w3 = words[3] ?? 0;
  if (w0 === 0 && w1 === 0 && w2 === 0) {
    if (w3 === 0) return V6_BASE;
    if (w3 === 1) return V6_BASE + 1;
  }
  if (w0 === 0xfd000ec2 && w1 === 0 && w2 === 0 && w3 === 0x254) return V6_BASE + 2;
  if (w0 >>> 22 === 0x3fa) return V6_BASE + 3;
  if (w0 >>> 24 === 0xff) return V6_BASE + 4;
  // Each form below is turned back into its IPv4 address by someone on the path (the
  // dual-stack socket API, a SIIT/NAT64 translator, a 6to4 or Teredo relay), so the embedded
  // address must face the IPv4 guardrails or `::ffff:169.254.169.254` walks past them.
  if (w0 === 0 && w1 === 0) {
    if (w2 === 0xffff) return embedded(0, w3);
    if (w2 === 0xffff0000) return embedded(1, w3);
    if (w2 === 0) return embedded(2, w3);
  }
  if (w0 === 0x0064ff9b) {
    if (w1 === 0 && w2 === 0) return embedded(3, w3);
    if (w1 >>> 16 === 1) return embedded(4, ((w1 & 0xffff) << 16) | ((w2 >>> 8) & 0xffff));
  }
  if (w0 >>> 16 === 0x2002) return embedded(5, ((w0 & 0xffff) << 16) | (w1 >>> 16));
  if (w0 === 0x20010000) {
    const client = embedded(6, ~w3);
    return client >= 0 ? client : embedded(7, w1);
  }
  return -1;
}

function mask(bits: number, len: number): bigint {
  return len === 0 ? 0n : ((1n << BigInt(len)) - 1n) << BigInt(bits - len);
}

function netOf(g: Guardrail): bigint {
  const slash = g.cidr.indexOf('/');
  return g.family === 4
    ? BigInt(parseIpv4(g.cidr.slice(0, slash)) ?? 0)
    : (parseIpv6(g.cidr.slice(0, slash)) ?? 0n);
}

function hitFor(family: 4 | 6, n: bigint): Guardrail | undefined {
  if (family === 4) return V4_GUARDS.find((g) => (n & mask(32, g.prefixLength)) === netOf(g));
  const native = V6_GUARDS.find((g) => (n & mask(128, g.prefixLength)) === netOf(g));
  if (native !== undefined) return native;
  for (const [e, emb] of EMBEDDINGS.entries()) {
    if ((n & mask(128, emb.prefixLength)) !== emb.prefix) continue;
    const i = V4_GUARDS.findIndex((g) => (emb.extract(n) & mask(32, g.prefixLength)) === netOf(g));
    if (i >= 0) return GUARDRAIL_HITS[EMBED_BASE + e * V4_GUARDS.length + i];
    // Both Teredo entries share a prefix: the server address gets its own check.
    if (emb.name !== 'Teredo client') return undefined;
  }
  return undefined;
}

function overlaps(aNet: bigint, aLen: number, bNet: bigint, bLen: number, bits: number): boolean {
  const len = Math.min(aLen, bLen);
  return (aNet & mask(bits, len)) === (bNet & mask(bits, len));
}

/**
 * Which guardrail concerns an address or CIDR (text). An address: the guardrail that blocks
 * it. A CIDR: the guardrail it lies inside (`inside: true`, a rule naming it is exempt), or
 * else the first it overlaps (`inside: false`: that part of the rule will stay blocked, e.g.
 * `0.0.0.0/0`). Undefined when none does or the text is not an address.
 */
export function guardrailFor(cidrOrIp: string): GuardrailMatch | undefined {
  let family: 4 | 6;
  let net: bigint;
  let len: number;
  if (cidrOrIp.includes('/')) {
    const c4 = parseIpv4Cidr(cidrOrIp);
    const c6 = c4 === undefined ? parseIpv6Cidr(cidrOrIp) : undefined;
    if (c4 !== undefined) [family, net, len] = [4, BigInt(c4.address), c4.prefix];
    else if (c6 !== undefined) [family, net, len] = [6, c6.address, c6.prefix];
    else return undefined;
  } else {
    const a4 = parseIpv4(cidrOrIp);
    const a6 = a4 === undefined ? parseIpv6(cidrOrIp) : undefined;
    if (a4 !== undefined) [family, net, len] = [4, BigInt(a4), 32];
    else if (a6 !== undefined) [family, net, len] = [6, a6, 128];
    else return undefined;
  }
  const bits = family === 4 ? 32 : 128;
  net &= mask(bits, len);
  const hit = hitFor(family, net);
  if (hit !== undefined && len >= hit.prefixLength) return { guardrail: hit, inside: true };
  if (!cidrOrIp.includes('/')) return undefined;
  const wider = GUARDRAIL_HITS.find(
    (g) => g.family === family && overlaps(net, len, netOf(g), g.prefixLength, bits),
  );
  return wider === undefined ? undefined : { guardrail: wider, inside: false };
}
