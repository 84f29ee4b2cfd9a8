/**
 * @module engine/identity-index — which policies apply to an identity. Exact identities are a
 * hash lookup; globs are compiled once into segment matchers; label selectors are indexed by
 * one of their `key=value` pairs and checked against the workload registry. `resolve` is the
 * cold path (it allocates); the snapshot caches its answer per identity.
 */
import type { Policy, RegisteredWorkload } from '../policy-types/index.js';

type Labels = Readonly<Record<string, string>>;

const ONE = 1;
const ANY = 2;
const LITERAL = 0;
const PARTIAL = 3;

interface Segment {
  readonly kind: typeof LITERAL | typeof ONE | typeof ANY | typeof PARTIAL;
  readonly text: string;
  readonly re: RegExp | undefined;
}

/** A compiled identity glob: `*` one `/`-segment, `**` zero or more, `*` within a segment any characters. */
export class IdentityGlob {
  readonly #segments: readonly Segment[];
  readonly pattern: string;

  constructor(pattern: string) {
    this.pattern = pattern;
    this.#segments = pattern.split('/').map((text): Segment => {
      if (text === '**') return { kind: ANY, text, re: undefined };
      if (text === '*') return { kind: ONE, text, re: undefined };
      if (!text.includes('*')) return { kind: LITERAL, text, re: undefined };
      const body = text
        .split('*')
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*');
      return { kind: PARTIAL, text, re: new RegExp(`^${body}$`, 's') };
    });
    Object.freeze(this);
  }

  /** Whether `identity` matches. */
  matches(identity: string): boolean {
    return this.matchSegments(identity.split('/'));
  }

  /** Whether the `/`-split identity matches (lets a caller split once for many globs). */
  matchSegments(parts: readonly string[]): boolean {
    const pat = this.#segments;
    let p = 0;
    let s = 0;
    let starP = -1;
    let starS = 0;
    // Classic wildcard matching with `**` as the star and whole segments as characters:
    // on a mismatch, let the last `**` swallow one more segment and retry.
    while (s < parts.length) {
      const seg = pat[p];
      if (seg !== undefined && seg.kind !== ANY && segmentMatches(seg, parts[s] ?? '')) {
        p++;
        s++;
      } else if (seg !== undefined && seg.kind === ANY) {
        starP = p++;
        starS = s;
      } else if (starP >= 0) {
        p = starP + 1;
        s = ++starS;
      } else {
        return false;
      }
    }
    while (pat[p]?.kind === ANY) p++;
    return p === pat.length;
  }
}

function segmentMatches(seg: Segment, part: string): boolean {
  switch (seg.kind) {
    case ONE:
      return true;
    case LITERAL:
      return seg.text === part;
    default:
      return seg.re?.test(part) ?? false;
  }
}

interface Selector {
  readonly policy: number;
  /** Undefined or empty: no label condition. */
  readonly labels: readonly (readonly [string, string])[];
}

function labelsHold(sel: Selector, registered: Labels | undefined): boolean {
  if (sel.labels.length === 0) return true;
  if (registered === undefined) return false;
  for (const [k, v] of sel.labels) if (!Object.hasOwn(registered, k) || registered[k] !== v) return false;
  return true;
}

/** Counts of what the index holds. */
export interface IdentityIndexStats {
  readonly exact: number;
  readonly globs: number;
  readonly labelOnly: number;
  readonly registered: number;
}

/** Resolves identities to the (ascending) indices of the policies that apply to them. */
export class IdentityIndex {
  readonly #exact = new Map<string, Selector[]>();
  readonly #globs: { readonly glob: IdentityGlob; readonly sel: Selector }[] = [];
  readonly #byLabel = new Map<string, Selector[]>();
  readonly #registry = new Map<string, Labels>();
  readonly stats: IdentityIndexStats;

  constructor(policies: readonly Policy[], workloads: readonly RegisteredWorkload[]) {
    for (const w of workloads) this.#registry.set(w.identity, w.labels);
    let labelOnly = 0;
    policies.forEach((policy, index) => {
      for (const ws of policy.workloads) {
        const labels = Object.entries(ws.labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        const sel: Selector = { policy: index, labels };
        const id = ws.identity;
        if (id?.kind === 'exact') {
          const list = this.#exact.get(id.value);
          if (list === undefined) this.#exact.set(id.value, [sel]);
          else list.push(sel);
        } else if (id?.kind === 'glob') {
          this.#globs.push({ glob: new IdentityGlob(id.value), sel });
        } else if (labels.length > 0) {
          const [k, v] = labels[0] ?? ['', ''];
          const key = `${k}=${v}`;
          const list = this.#byLabel.get(key);
          if (list === undefined) this.#byLabel.set(key, [sel]);
          else list.push(sel);
          labelOnly++;
        }
        // A selector with neither an identity nor labels selects nothing: fail closed.
      }
    });
    this.stats = Object.freeze({
      exact: this.#exact.size,
      globs: this.#globs.length,
      labelOnly,
      registered: this.#registry.size,
    });
    Object.freeze(this);
  }

  /** The registry labels of an identity, if registered. */
  labelsOf(identity: string): Labels | undefined {
    return this.#registry.get(identity);
  }

  /** Ascending indices of the policies applying to `identity` (allocates). */
  resolve(identity: string): Int32Array {
    const found = new Set<number>();
    const registered = this.#registry.get(identity);
    for (const sel of this.#exact.get(identity) ?? []) if (labelsHold(sel, registered)) found.add(sel.policy);
    if (this.#globs.length > 0) {
      const parts = identity.split('/');
      for (const { glob, sel } of this.#globs) {
        if (!found.has(sel.policy) && labelsHold(sel, registered) && glob.matchSegments(parts))
          found.add(sel.policy);
      }
    }
    if (registered !== undefined) {
      for (const [k, v] of Object.entries(registered)) {
        for (const sel of this.#byLabel.get(`${k}=${v}`) ?? []) {
          if (labelsHold(sel, registered)) found.add(sel.policy);
        }
      }
    }
    return Int32Array.from(found).sort();
  }
}
