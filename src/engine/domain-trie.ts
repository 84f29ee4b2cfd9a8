/**
 * @module engine/domain-trie — FQDN rule lookup. Exact names live in a hash map keyed by the
 * name itself; wildcard names (`*.` exactly one more label, `**.` one or more) live in a trie
 * of reversed labels (`com` → `stripe` → …). Children are keyed by a hash of the label's
 * characters and confirmed with `startsWith`, so a lookup walks the host text in place and
 * never slices it. Small sets (a few names per policy) skip the trie and are scanned from their
 * policy's block (`policy-table.ts`): with thousands of small sets, chasing map buckets and
 * trie nodes costs more cache misses than comparing a few hashes. Names arrive normalised
 * (lower case, no trailing dot); a host in any other form simply matches nothing.
 */

/** How a rule's name matches: the name itself, one more label, or one or more labels. */
export type DomainMatch = 'exact' | 'one-label' | 'any-depth';

interface Node {
  readonly label: string;
  readonly hash: number;
  children: Map<number, Node> | undefined;
  /** Next node with the same label hash under the same parent (hash collision chain). */
  next: Node | undefined;
  one: number[] | Int32Array | undefined;
  any: number[] | Int32Array | undefined;
}

function hashRange(s: string, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  // Kept within 30 bits so it stays a small integer: a larger one would be boxed (allocated)
  // every time it is passed to Map.get.
  return h & 0x3fffffff;
}

/** One name as a builder received it. */
export interface DomainEntry {
  readonly name: string;
  readonly match: DomainMatch;
  readonly value: number;
}

function newNode(label: string): Node {
  return {
    label,
    hash: hashRange(label, 0, label.length),
    children: undefined,
    next: undefined,
    one: undefined,
    any: undefined,
  };
}

function findChild(node: Node, s: string, from: number, to: number, hash: number): Node | undefined {
  let child = node.children?.get(hash);
  const len = to - from;
  while (child !== undefined && !(child.label.length === len && s.startsWith(child.label, from))) {
    child = child.next;
  }
  return child;
}

/** Collects names, then `build()`s the immutable `DomainTrie`. */
export class DomainTrieBuilder {
  readonly #exact = new Map<string, number[]>();
  readonly #entries: DomainEntry[] = [];
  readonly #root = newNode('');
  #wildcards = 0;
  #nodes = 0;
  #built = false;

  /** The names added so far, in insertion order. */
  get entries(): readonly DomainEntry[] {
    return this.#entries;
  }

  /** Number of names added. */
  get size(): number {
    return this.#entries.length;
  }

  /**
   * Adds `value` for `name` (normalised, without its `*.`/`**.` prefix).
   * @param match `exact`, `one-label` (`*.name`) or `any-depth` (`**.name`).
   */
  add(name: string, match: DomainMatch, value: number): void {
    if (this.#built) throw new Error('DomainTrieBuilder: add after build');
    this.#entries.push({ name, match, value });
    if (match === 'exact') {
      const list = this.#exact.get(name);
      if (list === undefined) this.#exact.set(name, [value]);
      else list.push(value);
      return;
    }
    this.#wildcards++;
    let node = this.#root;
    let end = name.length;
    for (;;) {
      // lastIndexOf clamps a negative start to 0, which would find a leading dot again.
      const start = end === 0 ? 0 : name.lastIndexOf('.', end - 1) + 1;
      const hash = hashRange(name, start, end);
      let child = findChild(node, name, start, end, hash);
      if (child === undefined) {
        child = newNode(name.slice(start, end));
        this.#nodes++;
        node.children ??= new Map();
        const head = node.children.get(hash);
        if (head !== undefined) child.next = head;
        node.children.set(hash, child);
      }
      node = child;
      if (start === 0) break;
      end = start - 1;
    }
    const key = match === 'one-label' ? 'one' : 'any';
    const list = node[key];
    if (list === undefined) node[key] = [value];
    else (list as number[]).push(value);
  }

  /** Freezes the names into a `DomainTrie`. */
  build(): DomainTrie {
    this.#built = true;
    const exact = new Map<string, Int32Array>();
    let maxExact = 0;
    for (const [name, values] of this.#exact) {
      exact.set(name, Int32Array.from(values.sort((a, b) => a - b)));
      maxExact = Math.max(maxExact, values.length);
    }
    let maxHits = 0;
    const freeze = (node: Node, depthHits: number): void => {
      if (node.one !== undefined) node.one = Int32Array.from((node.one as number[]).sort((a, b) => a - b));
      if (node.any !== undefined) node.any = Int32Array.from((node.any as number[]).sort((a, b) => a - b));
      const hits = depthHits + (node.one?.length ?? 0) + (node.any?.length ?? 0);
      maxHits = Math.max(maxHits, hits);
      for (const head of node.children?.values() ?? []) {
        for (let c: Node | undefined = head; c !== undefined; c = c.next) freeze(c, hits);
      }
    };
    freeze(this.#root, 0);
    return new DomainTrie(
      exact,
      this.#wildcards > 0 ? this.#root : undefined,
      this.#nodes,
      maxExact + maxHits,
    );
  }
}

/** An immutable FQDN index; see `DomainTrieBuilder`. */
export class DomainTrie {
  readonly #exact: Map<string, Int32Array>;
  readonly #root: Node | undefined;
  /** Wildcard trie nodes (for compile stats). */
  readonly nodes: number;
  /** The most hits one `lookup` can report. */
  readonly maxHits: number;

  /** @internal use `DomainTrieBuilder`. */
  constructor(exact: Map<string, Int32Array>, root: Node | undefined, nodes: number, maxHits: number) {
    this.#exact = exact;
    this.#root = root;
    this.nodes = nodes;
    this.maxHits = maxHits;
    Object.freeze(this);
  }

  /**
   * Writes the values of every entry matching `host` into `out` from `offset` and returns the
   * new end. `out` needs room for `maxHits`.
   */
  lookup(host: string, out: Int32Array, offset: number): number {
    let n = offset;
    const exact = this.#exact.get(host);
    if (exact !== undefined) for (let i = 0; i < exact.length; i++) out[n++] = exact[i] ?? 0;
    let node = this.#root;
    if (node === undefined) return n;
    let end = host.length;
    for (;;) {
      const start = end === 0 ? 0 : host.lastIndexOf('.', end - 1) + 1;
      const child: Node | undefined = findChild(node, host, start, end, hashRange(host, start, end));
      if (child === undefined) break;
      node = child;
      // No label left of this suffix: the host equals it, which only an exact entry matches.
      if (start === 0) break;
      const any = node.any;
      if (any !== undefined) for (let i = 0; i < any.length; i++) out[n++] = any[i] ?? 0;
      const one = node.one;
      // Exactly one label remains when no dot precedes the label just consumed.
      if (one !== undefined && (start === 1 || host.lastIndexOf('.', start - 2) < 0)) {
        for (let i = 0; i < one.length; i++) out[n++] = one[i] ?? 0;
      }
      end = start - 1;
    }
    return n;
  }
}
