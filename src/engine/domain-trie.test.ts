/**
 * @module engine/domain-trie.test — FQDN tries and the small name sets of policy blocks, by table and against
 * the reference matcher.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DomainTrieBuilder } from './domain-trie.js';
import type { DomainMatch } from './domain-trie.js';
import { fqdnMatches } from './matcher.js';
import { PolicyTableBuilder, suffixHashes } from './policy-table.js';

function build(entries: readonly [string, DomainMatch][]) {
  const b = new DomainTrieBuilder();
  entries.forEach(([name, match], i) => b.add(name, match, i));
  return b.build();
}

/** The same entries as the name set of a policy block, after another policy's block. */
function flat(entries: readonly [string, DomainMatch][]) {
  const b = new PolicyTableBuilder();
  const none = { entries: [] };
  const block = { ruleStart: 0, report: false, v4: none, v6: none, rules: [] };
  b.add({ ...block, names: { entries: [{ name: 'zz', match: 'any-depth', value: 999 }] } });
  const at = b.add({
    ...block,
    names: { entries: entries.map(([name, match], value) => ({ name, match, value })) },
  });
  const table = b.build();
  return (host: string): number[] => {
    const out = new Int32Array(entries.length + 1).fill(-1);
    const suf = new Int32Array(host.length + 1);
    suffixHashes(host, suf);
    const n = table.lookupNames(table.nameAt(at), table.nameCount(at), host, suf, out, 0);
    return Array.from(out.subarray(0, n)).sort((a, c) => a - c);
  };
}

function lookup(trie: ReturnType<typeof build>, host: string): number[] {
  const out = new Int32Array(trie.maxHits + 1);
  out.fill(-1);
  const n = trie.lookup(host, out, 0);
  expect(out[n]).toBe(-1);
  return Array.from(out.subarray(0, n)).sort((a, b) => a - b);
}

describe('DomainTrie and PolicyTable name sets', () => {
  const entries: readonly [string, DomainMatch][] = [
    ['api.stripe.com', 'exact'], // 0
    ['stripe.network', 'one-label'], // 1  *.stripe.network
    ['example.com', 'any-depth'], // 2  **.example.com
    ['com', 'any-depth'], // 3  **.com
    ['b.example.com', 'one-label'], // 4  *.b.example.com
    ['api.stripe.com', 'exact'], // 5
    ['com', 'one-label'], // 6  *.com
  ];
  const trie = build(entries);
  const scan = flat(entries);
  it.each([
    ['api.stripe.com', [0, 3, 5]],
    ['m.stripe.network', [1]],
    ['a.m.stripe.network', []],
    ['stripe.network', []],
    ['example.com', [3, 6]],
    ['a.example.com', [2, 3]],
    ['x.b.example.com', [2, 3, 4]],
    ['y.x.b.example.com', [2, 3]],
    ['badexample.com', [3, 6]],
    ['com', []],
    ['org', []],
    ['', []],
  ] as const)('%s → %j', (host, expected) => {
    expect(lookup(trie, host)).toEqual(expected);
    expect(scan(host)).toEqual(expected);
  });

  it('agrees with the reference matcher on generated names', () => {
    const label = fc.constantFrom('a', 'b', 'ab', 'com', 'x', 'stripe', '');
    const name = fc.array(label, { minLength: 1, maxLength: 4 }).map((ls) => ls.join('.'));
    const match = fc.constantFrom<DomainMatch>('exact', 'one-label', 'any-depth');
    fc.assert(
      fc.property(
        fc.array(fc.tuple(name, match), { maxLength: 12 }),
        fc.array(name, { maxLength: 10 }),
        (entries, hosts) => {
          const t = build(entries);
          const f = flat(entries);
          for (const host of [...hosts, ...entries.map(([n]) => `q.${n}`)]) {
            const want = entries.flatMap(([n, m], i) => (fqdnMatches(host, n, m) ? [i] : []));
            expect(lookup(t, host)).toEqual(want);
            expect(f(host)).toEqual(want);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
