/**
 * @module engine/policy-table — every policy of a snapshot as one contiguous block of an
 * `Int32Array`: a header, a port index per protocol (TCP, UDP: disjoint port intervals, each
 * with the first rule allowing it, for the nearest rule of a `no-match`), its small name set,
 * its small IPv4 and IPv6 prefix sets, and a four-word record per rule (protocol, expiry flag
 * and range count, two port ranges packed `to << 16 | from`), then its names' characters. A
 * decision for an identity reads its one or two blocks front to back, so a cold policy costs a
 * run of adjacent cache lines (which the prefetcher streams) instead of a miss per scattered
 * table. Names are matched by a hash of the host's suffix (computed once per decision, right to
 * left, so every suffix's hash is at hand) and, on a hash hit, confirmed against the name's
 * characters, which the block holds packed two UTF-16 units per word at its end (after the rule
 * records, so that what every decision reads stays close). Comparing there instead of against a
 * string elsewhere in the heap saves two dependent cache misses (the name list's slot, then the
 * string) on a decision for a cold policy; see docs/benchmarks.md. Sets larger than
 * `smallSetMax` live in their own tries; their block slot then holds the trie's index with count
 * `BIG`.
 */
import type { PortRange } from '../policy-types/index.js';
import type { CidrEntry, CidrHits } from './cidr-trie.js';
import type { DomainEntry } from './domain-trie.js';

/** `PolicyTable.firstPortRule` for a protocol the port index does not cover. */
export const PORT_INDEX_NONE = -2;

/** Count of a set kept in its own trie; the offset slot then holds the trie's index. */
export const BIG = -1;

// Header words.
const H_RULE_START = 0;
const H_RULE_END = 1;
const H_REPORT = 2;
const H_V4_COUNT = 3;
const H_V4_AT = 4;
const H_V6_COUNT = 5;
const H_V6_AT = 6;
const H_NAME_COUNT = 7;
const H_NAME_AT = 8;
const H_RULES_AT = 9;
const H_TCP_COUNT = 10;
const H_UDP_COUNT = 11;
const HEADER = 12;
/** Words per port-index interval: `to << 16 | from`, then the rule's offset in the policy. */
const PORT_STRIDE = 2;
const TCP = 6;
const UDP = 17;

const NAME_STRIDE = 4;
const V4_STRIDE = 3;
const V6_STRIDE = 6;
/** Words per rule record: protocol, flags (bit 0 expires, bits 1+ range count), two ranges. */
export const RULE_STRIDE = 4;
const INLINE_RANGES = 2;

const KIND_EXACT = 0;
const KIND_ONE = 1;
const KIND_ANY = 2;
const KIND_CODE = { exact: KIND_EXACT, 'one-label': KIND_ONE, 'any-depth': KIND_ANY } as const;

const FNV_BASIS = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

/** The hash of a name as `suffixHashes` computes it for a host suffix of the same text. */
export function nameHash(name: string): number {
  let h = FNV_BASIS;
  for (let i = name.length - 1; i >= 0; i--) h = Math.imul(h ^ name.charCodeAt(i), FNV_PRIME);
  return h;
}

/**
 * Fills `out[k]` with the hash of the last `k` characters of `host`, for k = 0…length.
 * `out` must have room for `host.length + 1` entries.
 */
export function suffixHashes(host: string, out: Int32Array): void {
  let h = FNV_BASIS;
  const n = host.length;
  out[0] = h;
  for (let k = 1; k <= n; k++) {
    h = Math.imul(h ^ host.charCodeAt(n - k), FNV_PRIME);
    out[k] = h;
  }
}

/** A set given to the builder: its entries when small, or the index of its trie. */
export type SetSlot<E> = { readonly entries: readonly E[] } | { readonly trie: number };

/** What the builder needs of one policy. */
export interface PolicyBlockInput {
  readonly ruleStart: number;
  readonly report: boolean;
  readonly v4: SetSlot<CidrEntry>;
  readonly v6: SetSlot<CidrEntry>;
  readonly names: SetSlot<DomainEntry>;
  /** Per rule in order: protocol number, whether it expires, merged port ranges (empty: all). */
  readonly rules: readonly {
    readonly proto: number;
    readonly expires: boolean;
    readonly ports: readonly PortRange[];
  }[];
}

/**
 * Appends the port index of one protocol: the ports where some rule of the policy allows
 * `proto`, as sorted disjoint intervals, each with the first such rule (its offset in the
 * policy). Returns the interval count.
 */
function pushPortIndex(w: number[], rules: PolicyBlockInput['rules'], proto: number): number {
  const spans: { from: number; to: number; rule: number }[] = [];
  rules.forEach((r, rule) => {
    if (r.proto !== proto && r.proto !== -1) return;
    if (r.proto === -1 || r.ports.length === 0) spans.push({ from: 0, to: 65535, rule });
    else for (const x of r.ports) spans.push({ from: x.from, to: x.to, rule });
  });
  const cuts = [...new Set(spans.flatMap((x) => [x.from, x.to + 1]))].sort((a, b) => a - b);
  let count = 0;
  let last: { to: number; rule: number } | undefined;
  for (let i = 0; i + 1 < cuts.length; i++) {
    const from = cuts[i] ?? 0;
    const to = (cuts[i + 1] ?? 0) - 1;
    let rule = -1;
    for (const x of spans) if (x.from <= from && to <= x.to && (rule < 0 || x.rule < rule)) rule = x.rule;
    if (rule < 0) continue;
    if (last !== undefined && last.rule === rule && last.to + 1 === from) {
      // Extend the previous interval (its packed word is the second-to-last one pushed).
      w[w.length - PORT_STRIDE] = (to << 16) | ((w[w.length - PORT_STRIDE] ?? 0) & 0xffff);
      last.to = to;
      continue;
    }
    w.push((to << 16) | from, rule);
    last = { to, rule };
    count++;
  }
  return count;
}

/** Appends `text` two UTF-16 units per word (`first | second << 16`), the last half-word 0. */
function pushPackedChars(w: number[], text: string): void {
  for (let i = 0; i < text.length; i += 2)
    w.push(text.charCodeAt(i) | ((i + 1 < text.length ? text.charCodeAt(i + 1) : 0) << 16));
}

/** Lays policies out one block after another, then `build()`s the `PolicyTable`. */
export class PolicyTableBuilder {
  readonly #words: number[] = [];

  /** Appends a policy's block; returns its offset (what `PolicyTable` methods take as `block`). */
  add(p: PolicyBlockInput): number {
    const w = this.#words;
    const block = w.length;
    for (let i = 0; i < HEADER; i++) w.push(0);
    w[block + H_RULE_START] = p.ruleStart;
    w[block + H_RULE_END] = p.ruleStart + p.rules.length;
    w[block + H_REPORT] = p.report ? 1 : 0;
    const place = <E>(slot: SetSlot<E>, countAt: number, write: (e: E) => void): void => {
      if ('trie' in slot) {
        w[block + countAt] = BIG;
        w[block + countAt + 1] = slot.trie;
        return;
      }
      w[block + countAt] = slot.entries.length;
      w[block + countAt + 1] = w.length;
      for (const e of slot.entries) write(e);
    };
    // The port indexes sit right after the header, so a `no-match` decision finds its nearest
    // rule in the line it has already loaded instead of walking every rule record.
    w[block + H_TCP_COUNT] = pushPortIndex(w, p.rules, TCP);
    w[block + H_UDP_COUNT] = pushPortIndex(w, p.rules, UDP);
    // Each name entry's last word will say where its characters start; they are laid out last.
    const charSlots: { slot: number; name: string }[] = [];
    place(p.names, H_NAME_COUNT, (e: DomainEntry) => {
      w.push((e.name.length << 2) | KIND_CODE[e.match], nameHash(e.name), e.value, 0);
      charSlots.push({ slot: w.length - 1, name: e.name });
    });
    place(p.v4, H_V4_COUNT, (e: CidrEntry) => w.push(e.key[0] ?? 0, e.len, e.value));
    place(p.v6, H_V6_COUNT, (e: CidrEntry) =>
      w.push(e.key[0] ?? 0, e.key[1] ?? 0, e.key[2] ?? 0, e.key[3] ?? 0, e.len, e.value),
    );
    w[block + H_RULES_AT] = w.length;
    for (const r of p.rules) {
      const n = r.ports.length;
      const packed = (k: number): number => {
        const range = n <= INLINE_RANGES ? r.ports[k] : undefined;
        return range === undefined ? 0 : (range.to << 16) | range.from;
      };
      w.push(r.proto, (n << 1) | (r.expires ? 1 : 0), packed(0), packed(1));
    }
    // Last, read only on a hash hit, so that the sets and records every decision reads stay close.
    for (const { slot, name } of charSlots) {
      w[slot] = w.length;
      pushPackedChars(w, name);
    }
    return block;
  }

  build(): PolicyTable {
    return new PolicyTable(Int32Array.from(this.#words));
  }
}

/**
 * The immutable blocks; see `PolicyTableBuilder`. Lookups write rule indices into caller-owned
 * scratch arrays and allocate nothing.
 */
export class PolicyTable {
  readonly #w: Int32Array;

  /** @internal use `PolicyTableBuilder`. */
  constructor(words: Int32Array) {
    this.#w = words;
    Object.freeze(this);
  }

  /** First rule index of the policy. */
  ruleStart(block: number): number {
    return this.#w[block + H_RULE_START] ?? 0;
  }

  /** One past its last rule index. */
  ruleEnd(block: number): number {
    return this.#w[block + H_RULE_END] ?? 0;
  }

  /** Whether the policy is in report mode. */
  isReport(block: number): boolean {
    return this.#w[block + H_REPORT] === 1;
  }

  /**
   * The first rule of the policy (its index) allowing TCP or UDP on `port`, -1 for none, from
   * the block's port index; `PORT_INDEX_NONE` for other protocols (scan the rule records).
   */
  firstPortRule(block: number, proto: number, port: number): number {
    const w = this.#w;
    let at = block + HEADER;
    let count: number;
    if (proto === TCP) {
      count = w[block + H_TCP_COUNT] ?? 0;
    } else if (proto === UDP) {
      at += (w[block + H_TCP_COUNT] ?? 0) * PORT_STRIDE;
      count = w[block + H_UDP_COUNT] ?? 0;
    } else {
      return PORT_INDEX_NONE;
    }
    const end = at + count * PORT_STRIDE;
    for (let i = at; i < end; i += PORT_STRIDE) {
      const range = w[i] ?? 0;
      if (port < (range & 0xffff)) break;
      if (port <= range >>> 16) return (w[block + H_RULE_START] ?? 0) + (w[i + 1] ?? 0);
    }
    return -1;
  }

  /** Count of the policy's name set (`BIG`: in a trie, see `nameAt`; 0: none). */
  nameCount(block: number): number {
    return this.#w[block + H_NAME_COUNT] ?? 0;
  }

  /** Where the name set starts, or its trie's index. */
  nameAt(block: number): number {
    return this.#w[block + H_NAME_AT] ?? 0;
  }

  /** Count of the policy's prefix set of a family (`BIG`: in a trie; 0: none). */
  cidrCount(block: number, family: 4 | 6): number {
    return this.#w[block + (family === 4 ? H_V4_COUNT : H_V6_COUNT)] ?? 0;
  }

  /** Where that set starts, or its trie's index. */
  cidrAt(block: number, family: 4 | 6): number {
    return this.#w[block + (family === 4 ? H_V4_AT : H_V6_AT)] ?? 0;
  }

  /**
   * Writes the rule of every entry of the small name set at `at` (`count` entries) matching
   * `host` into `out` from `n`; returns the new end. `suf` holds `suffixHashes(host)`.
   */
  lookupNames(at: number, count: number, host: string, suf: Int32Array, out: Int32Array, n: number): number {
    const w = this.#w;
    const hl = host.length;
    const end = at + count * NAME_STRIDE;
    for (let i = at; i < end; i += NAME_STRIDE) {
      const lenKind = w[i] ?? 0;
      const len = lenKind >>> 2;
      const kind = lenKind & 3;
      if (len > hl || suf[len] !== w[i + 1]) continue;
      // A hash hit is only a candidate: an attacker can pick a host whose suffix collides.
      const chars = w[i + 3] ?? 0;
      if (kind === KIND_EXACT) {
        if (len === hl && this.#sameChars(chars, len, host, 0)) out[n++] = w[i + 2] ?? 0;
        continue;
      }
      // A wildcard needs the dot right before the name, and the name itself.
      const dot = hl - len - 1;
      if (dot < 0 || host.charCodeAt(dot) !== 46 || !this.#sameChars(chars, len, host, dot + 1)) continue;
      if (kind === KIND_ANY || dot === 0 || host.lastIndexOf('.', dot - 1) < 0) out[n++] = w[i + 2] ?? 0;
    }
    return n;
  }

  /** Whether `host` from index `from` holds the `len` characters packed at `at`. */
  #sameChars(at: number, len: number, host: string, from: number): boolean {
    const w = this.#w;
    const pairs = len >>> 1;
    for (let k = 0; k < pairs; k++) {
      const i = from + 2 * k;
      if (w[at + k] !== (host.charCodeAt(i) | (host.charCodeAt(i + 1) << 16))) return false;
    }
    return (len & 1) === 0 || w[at + pairs] === host.charCodeAt(from + len - 1);
  }

  /** Appends every prefix of the small IPv4 set at `at` containing `a` to `out`. */
  lookupV4(at: number, count: number, a: number, out: CidrHits): void {
    const w = this.#w;
    const end = at + count * V4_STRIDE;
    let n = out.count;
    for (let i = at; i < end; i += V4_STRIDE) {
      const len = w[i + 1] ?? 0;
      if (len === 0 || (a ^ (w[i] ?? 0)) >>> (32 - len) === 0) {
        out.ids[n] = w[i + 2] ?? 0;
        out.lens[n++] = len;
      }
    }
    out.count = n;
  }

  /** Appends every prefix of the small IPv6 set at `at` containing `addr` to `out`. */
  lookupV6(at: number, count: number, addr: Uint32Array, out: CidrHits): void {
    const w = this.#w;
    const end = at + count * V6_STRIDE;
    let n = out.count;
    for (let i = at; i < end; i += V6_STRIDE) {
      const len = w[i + 4] ?? 0;
      let k = 0;
      let bits = len;
      for (; bits >= 32; k++, bits -= 32) if ((addr[k] ?? 0) !== (w[i + k] ?? 0) >>> 0) break;
      if (bits >= 32 || (bits > 0 && ((addr[k] ?? 0) ^ (w[i + k] ?? 0)) >>> (32 - bits) !== 0)) continue;
      out.ids[n] = w[i + 5] ?? 0;
      out.lens[n++] = len;
    }
    out.count = n;
  }

  /** Offset of rule `rule`'s record, given the block of its policy. */
  ruleRecord(block: number, rule: number): number {
    return (this.#w[block + H_RULES_AT] ?? 0) + (rule - (this.#w[block + H_RULE_START] ?? 0)) * RULE_STRIDE;
  }

  /** The rule's protocol number (-1: any). */
  protocolAt(rec: number): number {
    return this.#w[rec] ?? 0;
  }

  /** Whether the rule has an expiry. */
  expiresAt(rec: number): boolean {
    return ((this.#w[rec + 1] ?? 0) & 1) === 1;
  }

  /**
   * Whether the rule at `rec` allows protocol `proto` on `port`: `1` yes, `0` no, `-1` the
   * rule has more ranges than its record holds (ask the snapshot's `PortRangeTable`).
   */
  protoPortMatch(rec: number, proto: number, port: number): number {
    const w = this.#w;
    const rp = w[rec] ?? 0;
    if (rp === -1) return 1;
    if (rp !== proto) return 0;
    const ranges = (w[rec + 1] ?? 0) >>> 1;
    if (ranges === 0) return 1;
    const r0 = w[rec + 2] ?? 0;
    if (port >= (r0 & 0xffff) && port <= r0 >>> 16) return 1;
    if (ranges === 1) return 0;
    if (ranges > INLINE_RANGES) return -1;
    const r1 = w[rec + 3] ?? 0;
    return port >= (r1 & 0xffff) && port <= r1 >>> 16 ? 1 : 0;
  }
}
