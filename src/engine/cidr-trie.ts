/**
 * @module engine/cidr-trie — path-compressed binary (Patricia) tries mapping IPv4 or IPv6
 * prefixes to rule indices. A lookup reports *every* stored prefix containing the address, not
 * only the longest: allow rules are order-free, so each matching rule counts (and the guardrail
 * check needs the prefix length of each). Built once with `CidrTrieBuilder`, then frozen into
 * typed arrays; IPv6 keys are four unsigned 32-bit words, so nothing on the lookup path touches
 * BigInt or allocates. Small sets (a few prefixes per policy) skip the trie and are scanned
 * from their policy's block (`policy-table.ts`): a scan of a few adjacent words beats a walk
 * through scattered nodes, and a snapshot of 100k rules has thousands of such sets.
 */

/**
 * Up to this many entries a set is cheaper to scan from a flat table than to walk as a trie
 * (measured on the engine benchmark: 16 beat 8 and 32). The compiler uses it for name sets too.
 */
export const LINEAR_MAX = 16;

/** One (prefix, value) entry as a builder received it (key masked to the prefix). */
export interface CidrEntry {
  readonly key: Uint32Array;
  readonly len: number;
  readonly value: number;
}

/** Where a lookup writes its hits: rule indices and the prefix length each was stored under. */
export class CidrHits {
  ids: Int32Array;
  lens: Uint8Array;
  count = 0;
  constructor(capacity: number) {
    this.ids = new Int32Array(Math.max(1, capacity));
    this.lens = new Uint8Array(Math.max(1, capacity));
  }
}

interface BuildNode {
  key: Uint32Array;
  len: number;
  zero: BuildNode | undefined;
  one: BuildNode | undefined;
  values: number[];
}

function maskWord(len: number, w: number): number {
  const bits = len - 32 * w;
  if (bits <= 0) return 0;
  if (bits >= 32) return 0xffffffff;
  return (0xffffffff << (32 - bits)) >>> 0;
}

/** Bit `i` (0 = most significant) of a key. */
function bitAt(key: Uint32Array, i: number): number {
  return ((key[i >>> 5] ?? 0) >>> (31 - (i & 31))) & 1;
}

function masked(key: Uint32Array, len: number, words: number): Uint32Array {
  const out = new Uint32Array(words);
  for (let w = 0; w < words; w++) out[w] = ((key[w] ?? 0) & maskWord(len, w)) >>> 0;
  return out;
}

/** Length of the common prefix of two keys, at most `limit` bits. */
function commonPrefix(a: Uint32Array, b: Uint32Array, limit: number, words: number): number {
  for (let w = 0; w < words; w++) {
    const diff = ((a[w] ?? 0) ^ (b[w] ?? 0)) >>> 0;
    if (diff !== 0) return Math.min(limit, 32 * w + Math.clz32(diff));
  }
  return limit;
}

/** Collects prefixes, then `build()`s the immutable trie. Not usable after `build()`. */
export class CidrTrieBuilder {
  readonly #words: number;
  readonly #bits: number;
  #root: BuildNode | undefined;
  readonly #entries: CidrEntry[] = [];
  #size = 0;
  #built = false;

  /** @param family 4 or 6. */
  constructor(family: 4 | 6) {
    this.#words = family === 4 ? 1 : 4;
    this.#bits = family === 4 ? 32 : 128;
  }

  /** The entries added so far, in insertion order. */
  get entries(): readonly CidrEntry[] {
    return this.#entries;
  }

  /** Number of (prefix, value) entries added. */
  get size(): number {
    return this.#size;
  }

  /**
   * Adds `value` under the prefix `key/len` (host bits are ignored).
   * @param key one word (IPv4) or four words (IPv6), most significant first.
   */
  insert(key: Uint32Array, len: number, value: number): void {
    if (this.#built) throw new Error('CidrTrieBuilder: insert after build');
    if (!Number.isInteger(len) || len < 0 || len > this.#bits)
      throw new RangeError(`bad prefix length ${len}`);
    const words = this.#words;
    const k = masked(key, len, words);
    this.#size++;
    this.#entries.push({ key: k, len, value });
    const leaf = (): BuildNode => ({ key: k, len, zero: undefined, one: undefined, values: [value] });
    if (this.#root === undefined) {
      this.#root = leaf();
      return;
    }
    let node: BuildNode = this.#root;
    let parent: BuildNode | undefined;
    let side = 0;
    const replace = (n: BuildNode): void => {
      if (parent === undefined) this.#root = n;
      else if (side === 0) parent.zero = n;
      else parent.one = n;
    };
    for (;;) {
      const common = commonPrefix(k, node.key, Math.min(len, node.len), words);
      if (common < node.len) {
        if (common === len) {
          const n: BuildNode = { key: k, len, zero: undefined, one: undefined, values: [value] };
          if (bitAt(node.key, len) === 0) n.zero = node;
          else n.one = node;
          replace(n);
        } else {
          const branch: BuildNode = {
            key: masked(k, common, words),
            len: common,
            zero: undefined,
            one: undefined,
            values: [],
          };
          const fresh = leaf();
          if (bitAt(k, common) === 0) {
            branch.zero = fresh;
            branch.one = node;
          } else {
            branch.zero = node;
            branch.one = fresh;
          }
          replace(branch);
        }
        return;
      }
      if (len === node.len) {
        node.values.push(value);
        return;
      }
      const b = bitAt(k, node.len);
      const child = b === 0 ? node.zero : node.one;
      if (child === undefined) {
        if (b === 0) node.zero = leaf();
        else node.one = leaf();
        return;
      }
      parent = node;
      side = b;
      node = child;
    }
  }

  /** Freezes the entries into a `CidrTrie`. */
  build(): CidrTrie {
    this.#built = true;
    const nodes: BuildNode[] = [];
    const walk = (n: BuildNode | undefined): void => {
      if (n === undefined) return;
      nodes.push(n);
      walk(n.zero);
      walk(n.one);
    };
    walk(this.#root);
    const index = new Map<BuildNode, number>();
    nodes.forEach((n, i) => index.set(n, i));
    const words = this.#words;
    const keys = new Uint32Array(Math.max(1, nodes.length * words));
    const lens = new Uint8Array(Math.max(1, nodes.length));
    const zero = new Int32Array(Math.max(1, nodes.length)).fill(-1);
    const one = new Int32Array(Math.max(1, nodes.length)).fill(-1);
    const valStart = new Int32Array(nodes.length + 1);
    const vals = new Int32Array(Math.max(1, this.#size));
    let v = 0;
    nodes.forEach((n, i) => {
      keys.set(n.key, i * words);
      lens[i] = n.len;
      zero[i] = n.zero === undefined ? -1 : (index.get(n.zero) ?? -1);
      one[i] = n.one === undefined ? -1 : (index.get(n.one) ?? -1);
      valStart[i] = v;
      // Ascending values let callers stop at the first (lowest) rule that qualifies.
      for (const value of n.values.sort((a, b) => a - b)) vals[v++] = value;
    });
    valStart[nodes.length] = v;
    return new CidrTrie(words, nodes.length, keys, lens, zero, one, valStart, vals);
  }
}

/** An immutable prefix trie; see `CidrTrieBuilder`. */
export class CidrTrie {
  readonly #words: number;
  readonly #root: number;
  readonly #keys: Uint32Array;
  readonly #lens: Uint8Array;
  readonly #zero: Int32Array;
  readonly #one: Int32Array;
  readonly #valStart: Int32Array;
  readonly #vals: Int32Array;
  /** Number of trie nodes (for compile stats). */
  readonly nodes: number;
  /** Number of stored entries: the most hits one lookup can report. */
  readonly entries: number;

  /** @internal use `CidrTrieBuilder`. */
  constructor(
    words: number,
    nodes: number,
    keys: Uint32Array,
    lens: Uint8Array,
    zero: Int32Array,
    one: Int32Array,
    valStart: Int32Array,
    vals: Int32Array,
  ) {
    this.#words = words;
    this.#root = nodes > 0 ? 0 : -1;
    this.#keys = keys;
    this.#lens = lens;
    this.#zero = zero;
    this.#one = one;
    this.#valStart = valStart;
    this.#vals = vals;
    this.nodes = nodes;
    this.entries = valStart[nodes] ?? 0;
    Object.freeze(this);
  }

  /**
   * Appends every entry whose prefix contains `addr` to `out` (after `out.count`), shortest
   * prefix first. `out` must have room for `entries` more hits.
   */
  lookup(addr: Uint32Array, out: CidrHits): void {
    if (this.#words === 1) this.#lookup4(addr[0] ?? 0, out);
    else this.#lookup6(addr, out);
  }

  #lookup4(a: number, out: CidrHits): void {
    const keys = this.#keys;
    const lens = this.#lens;
    const valStart = this.#valStart;
    const vals = this.#vals;
    const zero = this.#zero;
    const one = this.#one;
    const ids = out.ids;
    const hitLens = out.lens;
    let count = out.count;
    let n = this.#root;
    while (n >= 0) {
      const len = lens[n] ?? 0;
      if (len > 0 && (a ^ (keys[n] ?? 0)) >>> (32 - len) !== 0) break;
      const end = valStart[n + 1] ?? 0;
      for (let v = valStart[n] ?? 0; v < end; v++) {
        ids[count] = vals[v] ?? 0;
        hitLens[count++] = len;
      }
      if (len >= 32) break;
      n = ((a >>> (31 - len)) & 1) === 0 ? (zero[n] ?? -1) : (one[n] ?? -1);
    }
    out.count = count;
  }

  #lookup6(addr: Uint32Array, out: CidrHits): void {
    const keys = this.#keys;
    const lens = this.#lens;
    const valStart = this.#valStart;
    const vals = this.#vals;
    const zero = this.#zero;
    const one = this.#one;
    const ids = out.ids;
    const hitLens = out.lens;
    let count = out.count;
    let n = this.#root;
    while (n >= 0) {
      const len = lens[n] ?? 0;
      const base = n * 4;
      // Compare whole words, then the partial word's top bits.
      const full = len >>> 5;
      let w = 0;
      for (; w < full; w++) if ((addr[w] ?? 0) !== (keys[base + w] ?? 0)) break;
      if (w < full) break;
      const rest = len & 31;
      if (rest > 0 && ((addr[w] ?? 0) ^ (keys[base + w] ?? 0)) >>> (32 - rest) !== 0) break;
      const end = valStart[n + 1] ?? 0;
      for (let v = valStart[n] ?? 0; v < end; v++) {
        ids[count] = vals[v] ?? 0;
        hitLens[count++] = len;
      }
      if (len >= 128) break;
      n = (((addr[len >>> 5] ?? 0) >>> (31 - (len & 31))) & 1) === 0 ? (zero[n] ?? -1) : (one[n] ?? -1);
    }
    out.count = count;
  }
}
