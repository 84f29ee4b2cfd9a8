/**
 * @module identity/identity-map — the source-address identity map (`--proxy-identity-map FILE`)
 * for legacy hosts that can present neither a token nor a certificate: a YAML file mapping IPv4
 * and IPv6 addresses and CIDRs to identities, longest prefix first. Parsed strictly, with
 * `file:line:col` errors and a hint, because a mistyped prefix silently hands a workload's
 * egress rights to its neighbours.
 *
 * ```yaml
 * apiVersion: weir.dev/v1
 * kind: IdentityMap
 * entries:
 *   - source: 10.20.0.0/16
 *     identity: spiffe://prod.example/ns/legacy/sa/batch
 *   - source: 10.20.3.7            # one host: /32 (IPv6: /128)
 *     identity: spiffe://prod.example/ns/legacy/sa/reports
 *     description: the reporting box nobody can reinstall
 * ```
 */
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments } from 'yaml';
import type { Node, Pair, YAMLMap } from 'yaml';
import { formatIpv4, formatIpv6, ipv4Mask, ipv6Mask, parseIpv4, parseIpv6 } from '../model/index.js';
import { spiffeIdProblem } from './authenticate.js';

export const IDENTITY_MAP_API_VERSION = 'weir.dev/v1';
export const IDENTITY_MAP_KIND = 'IdentityMap';

/** One mapping, as written (source canonicalised). */
export interface IdentityMapEntry {
  /** Canonical CIDR (`10.20.3.7/32`, `2001:db8::/64`). */
  readonly source: string;
  readonly identity: string;
  readonly line: number;
}

/** A loaded map; immutable. */
export interface IdentityMap {
  readonly entries: readonly IdentityMapEntry[];
  /**
   * The identity of the longest prefix holding `address` (as a socket reports it: IPv4, IPv6,
   * IPv4-mapped IPv6 `::ffff:a.b.c.d`, with or without a zone), or undefined.
   */
  lookup(address: string): string | undefined;
}

/** The outcome of parsing a map file: the map, or every error as `file:line:col: message; hint: …`. */
export type IdentityMapLoad =
  | { readonly ok: true; readonly map: IdentityMap }
  | { readonly ok: false; readonly errors: readonly string[] };

type Source = { readonly family: 4; readonly n: number } | { readonly family: 6; readonly n: bigint };

const V4_MAPPED = 0xffffn;

/** Reads a socket's remote address; IPv4-mapped IPv6 becomes the IPv4 address it carries. */
function sourceOf(address: string): Source | undefined {
  const zone = address.indexOf('%');
  const text = zone >= 0 ? address.slice(0, zone) : address;
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { family: 4, n: v4 };
  const v6 = parseIpv6(text);
  if (v6 === undefined) return undefined;
  // A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d: the same host as a.b.c.d.
  if (v6 >> 32n === V4_MAPPED) return { family: 4, n: Number(v6 & 0xffffffffn) };
  return { family: 6, n: v6 };
}

/** An empty map: nothing is known by its source address. */
export const EMPTY_IDENTITY_MAP: IdentityMap = { entries: [], lookup: () => undefined };

/**
 * Builds the lookup: one hash table per prefix length present, tried longest first, so a lookup
 * costs one masked probe per distinct length (a handful), not a scan of every entry.
 */
function buildMap(
  entries: readonly (IdentityMapEntry & { readonly key: Source; readonly len: number })[],
): IdentityMap {
  const v4 = new Map<number, Map<number, string>>();
  const v6 = new Map<number, Map<bigint, string>>();
  for (const e of entries) {
    if (e.key.family === 4) {
      const t = v4.get(e.len) ?? new Map<number, string>();
      t.set(e.key.n, e.identity);
      v4.set(e.len, t);
    } else {
      const t = v6.get(e.len) ?? new Map<bigint, string>();
      t.set(e.key.n, e.identity);
      v6.set(e.len, t);
    }
  }
  const v4Tables = [...v4.entries()]
    .sort((a, b) => b[0] - a[0])
    .map(([len, t]) => [ipv4Mask(len), t] as const);
  const v6Tables = [...v6.entries()]
    .sort((a, b) => b[0] - a[0])
    .map(([len, t]) => [ipv6Mask(len), t] as const);
  return {
    entries: entries.map(({ source, identity, line }) => ({ source, identity, line })),
    lookup(address) {
      const s = sourceOf(address);
      if (s === undefined) return undefined;
      if (s.family === 4) {
        for (const [mask, t] of v4Tables) {
          const hit = t.get((s.n & mask) >>> 0);
          if (hit !== undefined) return hit;
        }
      } else {
        for (const [mask, t] of v6Tables) {
          const hit = t.get(s.n & mask);
          if (hit !== undefined) return hit;
        }
      }
      return undefined;
    },
  };
}

interface Problem {
  readonly message: string;
  readonly hint?: string;
}

/** Parses an entry's `source` into a canonical prefix; IPv4-mapped IPv6 prefixes become IPv4. */
function parseSource(text: string): { key: Source; len: number; canonical: string } | Problem {
  const example = 'e.g. 10.20.0.0/16, 10.20.3.7 or 2001:db8::/64';
  if (text.includes('%'))
    return { message: `'${text}': a zone ID has no place in a source`, hint: 'remove %…' };
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const lenText = slash < 0 ? undefined : text.slice(slash + 1);
  const v4 = parseIpv4(addr);
  const v6 = v4 === undefined ? parseIpv6(addr) : undefined;
  if (v4 === undefined && v6 === undefined) {
    if (/^[0-9.]+$/.test(addr) && addr.split('.').some((o) => /^0[0-9]/.test(o))) {
      return {
        message: `'${text}': octets with leading zeros are ambiguous (octal or decimal)`,
        hint: 'remove leading zeros',
      };
    }
    return { message: `'${text}' is not an IP address or CIDR`, hint: example };
  }
  const max = v4 !== undefined ? 32 : 128;
  if (lenText !== undefined && !/^(0|[1-9][0-9]{0,2})$/.test(lenText)) {
    return { message: `'${text}': '/${lenText}' is not a prefix length`, hint: `write /0 to /${max}` };
  }
  const len = lenText === undefined ? max : Number(lenText);
  if (len > max)
    return { message: `'${text}': prefix length ${len} is over ${max}`, hint: `write /0 to /${max}` };
  if (v4 !== undefined) {
    const net = (v4 & ipv4Mask(len)) >>> 0;
    if (net !== v4) {
      return {
        message: `'${text}' has host bits set`,
        hint: `write ${formatIpv4(net)}/${len}, or ${addr}/32 for one host`,
      };
    }
    return { key: { family: 4, n: net }, len, canonical: `${formatIpv4(net)}/${len}` };
  }
  const a = v6 as bigint;
  const net = a & ipv6Mask(len);
  if (net !== a) {
    return {
      message: `'${text}' has host bits set`,
      hint: `write ${formatIpv6(net)}/${len}, or ${formatIpv6(a)}/128 for one host`,
    };
  }
  // ::ffff:10.0.0.0/104 is 10.0.0.0/8 written as IPv6; store it where IPv4 sources look.
  if (len >= 96 && net >> 32n === V4_MAPPED) {
    const n = Number(net & 0xffffffffn);
    return { key: { family: 4, n }, len: len - 96, canonical: `${formatIpv4(n)}/${len - 96}` };
  }
  return { key: { family: 6, n: net }, len, canonical: `${formatIpv6(net)}/${len}` };
}

/** Checks an entry's identity: one exact identity, a well-formed SPIFFE ID when it is one. */
function identityProblem(identity: string): Problem | undefined {
  if (identity === '')
    return { message: 'identity is empty', hint: 'e.g. spiffe://prod.example/ns/legacy/sa/batch' };
  if (/\s/.test(identity)) return { message: `identity '${identity}' contains white space` };
  if (identity.includes('*')) {
    return {
      message: `identity '${identity}' is a pattern`,
      hint: 'a source maps to one exact identity; wildcards belong in policies',
    };
  }
  if (identity.toLowerCase().startsWith('spiffe:')) {
    const problem = spiffeIdProblem(identity);
    if (problem !== undefined)
      return { message: `identity '${identity}' is not a valid SPIFFE ID: ${problem}` };
  }
  return undefined;
}

/** Parses the text of an identity map file; `file` is only used in messages. */
export function parseIdentityMap(text: string, file: string): IdentityMapLoad {
  const lines = new LineCounter();
  const errors: string[] = [];
  const at = (offset: number | undefined, p: Problem): void => {
    const pos = lines.linePos(offset ?? 0);
    errors.push(
      `${file}:${pos.line}:${pos.col}: ${p.message}${p.hint !== undefined ? `; hint: ${p.hint}` : ''}`,
    );
  };
  const nodeAt = (node: unknown, p: Problem): void => at((node as Node | null)?.range?.[0], p);

  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [];
  for (const doc of list) for (const e of doc.errors) at(e.pos[0], { message: e.message });
  if (errors.length > 0) return { ok: false, errors };
  if (list.length !== 1) {
    at(list[1]?.range[0], {
      message: 'an identity map file holds one YAML document',
      hint: 'remove the ---',
    });
    return { ok: false, errors };
  }
  const root = list[0]?.contents;
  if (!isMap(root)) {
    nodeAt(root, {
      message: 'an identity map is a mapping with apiVersion, kind and entries',
      hint: `start with 'apiVersion: ${IDENTITY_MAP_API_VERSION}' and 'kind: ${IDENTITY_MAP_KIND}'`,
    });
    return { ok: false, errors };
  }

  const field = (map: YAMLMap, key: string): Pair | undefined =>
    map.items.find((p) => isScalar(p.key) && p.key.value === key);
  const knownKeys = (map: YAMLMap, allowed: readonly string[]): void => {
    for (const p of map.items) {
      const k = isScalar(p.key) ? String(p.key.value) : undefined;
      if (k === undefined || !allowed.includes(k)) {
        nodeAt(p.key, { message: `unknown key '${k ?? '?'}'`, hint: `allowed: ${allowed.join(', ')}` });
      }
    }
  };
  const requireValue = (map: YAMLMap, key: string, expected: string, hint: string): void => {
    const p = field(map, key);
    if (p === undefined) return nodeAt(map, { message: `missing ${key}`, hint });
    const v = isScalar(p.value) ? p.value.value : undefined;
    if (v !== expected) nodeAt(p.value ?? p.key, { message: `${key} must be '${expected}'`, hint });
  };
  knownKeys(root, ['apiVersion', 'kind', 'entries']);
  requireValue(root, 'apiVersion', IDENTITY_MAP_API_VERSION, `apiVersion: ${IDENTITY_MAP_API_VERSION}`);
  requireValue(root, 'kind', IDENTITY_MAP_KIND, `kind: ${IDENTITY_MAP_KIND}`);
  const entriesPair = field(root, 'entries');
  const entriesHint =
    'entries: [{ source: 10.20.0.0/16, identity: spiffe://prod.example/ns/legacy/sa/batch }]';
  const seq = entriesPair?.value;
  if (entriesPair === undefined) nodeAt(root, { message: 'missing entries', hint: entriesHint });
  else if (!isSeq(seq) && !(isScalar(seq) && seq.value === null)) {
    nodeAt(seq ?? entriesPair.key, { message: 'entries must be a list', hint: entriesHint });
  }

  const entries: (IdentityMapEntry & { key: Source; len: number })[] = [];
  const seen = new Map<string, number>();
  for (const item of isSeq(seq) ? seq.items : []) {
    if (!isMap(item)) {
      nodeAt(item, { message: 'an entry is a mapping with source and identity', hint: entriesHint });
      continue;
    }
    knownKeys(item, ['source', 'identity', 'description']);
    const text = (key: string): { value: string; node: unknown } | undefined => {
      const p = field(item, key);
      if (p === undefined) {
        nodeAt(item, { message: `entry has no ${key}`, hint: entriesHint });
        return undefined;
      }
      if (!isScalar(p.value) || typeof p.value.value !== 'string') {
        nodeAt(p.value ?? p.key, { message: `${key} must be a string`, hint: entriesHint });
        return undefined;
      }
      return { value: p.value.value, node: p.value };
    };
    const description = field(item, 'description');
    if (
      description !== undefined &&
      !(isScalar(description.value) && typeof description.value.value === 'string')
    ) {
      nodeAt(description.value ?? description.key, { message: 'description must be a string' });
    }
    const src = text('source');
    const id = text('identity');
    if (src === undefined || id === undefined) continue;
    const parsed = parseSource(src.value.trim());
    if ('message' in parsed) {
      nodeAt(src.node, parsed);
      continue;
    }
    const problem = identityProblem(id.value);
    if (problem !== undefined) {
      nodeAt(id.node, problem);
      continue;
    }
    const line = lines.linePos((src.node as Node).range?.[0] ?? 0).line;
    const before = seen.get(parsed.canonical);
    if (before !== undefined) {
      nodeAt(src.node, {
        message: `${parsed.canonical} is already mapped at line ${before}`,
        hint: 'a source maps to one identity: remove one of the entries',
      });
      continue;
    }
    seen.set(parsed.canonical, line);
    entries.push({ source: parsed.canonical, identity: id.value, line, key: parsed.key, len: parsed.len });
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, map: buildMap(entries) };
}
