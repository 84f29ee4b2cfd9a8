/**
 * @module engine/cidr-trie.test — prefix tries and flat prefix-set tables, by table and against
 * a linear scan.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CidrHits, CidrTrieBuilder } from './cidr-trie.js';
import { PolicyTableBuilder } from './policy-table.js';
import { bigIntToWords } from '../model/index.js';
import { parseIpv4, parseIpv6 } from '../model/index.js';

function words(ip: string): Uint32Array {
  const v4 = parseIpv4(ip);
  if (v4 !== undefined) return Uint32Array.from([v4, 0, 0, 0]);
  return bigIntToWords(parseIpv6(ip) ?? 0n);
}

function build(family: 4 | 6, entries: readonly [string, number][]) {
  const b = new CidrTrieBuilder(family);
  for (const [c, v] of entries) {
    const [ip, len] = c.split('/');
    b.insert(words(ip ?? ''), Number(len), v);
  }
  return b.build();
}

function lookup(trie: ReturnType<typeof build>, ip: string): [number, number][] {
  const hits = new CidrHits(trie.entries);
  trie.lookup(words(ip), hits);
  return Array.from(
    hits.ids.subarray(0, hits.count),
    (id, i) => [id, hits.lens[i] ?? 0] as [number, number],
  ).sort((a, b) => a[0] - b[0]);
}

describe('CidrTrie (IPv4)', () => {
  const trie = build(4, [
    ['0.0.0.0/0', 0],
    ['10.0.0.0/8', 1],
    ['10.1.0.0/16', 2],
    ['10.1.2.0/24', 3],
    ['10.1.2.3/32', 4],
    ['10.1.0.0/16', 5],
    ['192.168.0.0/16', 6],
    ['10.128.0.0/9', 7],
  ]);
  it.each([
    [
      '10.1.2.3',
      [
        [0, 0],
        [1, 8],
        [2, 16],
        [3, 24],
        [4, 32],
        [5, 16],
      ],
    ],
    [
      '10.1.2.4',
      [
        [0, 0],
        [1, 8],
        [2, 16],
        [3, 24],
        [5, 16],
      ],
    ],
    [
      '10.200.0.1',
      [
        [0, 0],
        [1, 8],
        [7, 9],
      ],
    ],
    [
      '192.168.255.255',
      [
        [0, 0],
        [6, 16],
      ],
    ],
    ['8.8.8.8', [[0, 0]]],
  ] as const)('reports every prefix containing %s', (ip, expected) => {
    expect(lookup(trie, ip)).toEqual(expected);
  });

  it('descends through a branch one bit above the full length', () => {
    const t = build(4, [
      ['10.0.0.0/32', 1],
      ['10.0.0.1/32', 2],
      ['10.0.0.0/31', 3],
    ]);
    expect(lookup(t, '10.0.0.1')).toEqual([
      [2, 32],
      [3, 31],
    ]);
    expect(lookup(t, '10.0.0.0')).toEqual([
      [1, 32],
      [3, 31],
    ]);
    const t6 = build(6, [
      ['::/128', 1],
      ['::1/128', 2],
    ]);
    expect(lookup(t6, '::1')).toEqual([[2, 128]]);
  });

  it('stores host-bit-set keys by their network', () => {
    expect(lookup(build(4, [['10.1.2.3/8', 9]]), '10.250.0.0')).toEqual([[9, 8]]);
  });

  it('is empty when nothing was added', () => {
    expect(lookup(build(4, []), '1.2.3.4')).toEqual([]);
  });

  it('refuses inserts after build', () => {
    const b = new CidrTrieBuilder(4);
    b.build();
    expect(() => b.insert(Uint32Array.of(0), 0, 0)).toThrow(/after build/);
  });
});

describe('CidrTrie (IPv6)', () => {
  const trie = build(6, [
    ['::/0', 0],
    ['2001:db8::/32', 1],
    ['2001:db8:0:1::/64', 2],
    ['2001:db8:0:1::7/128', 3],
    ['fe80::/10', 4],
    ['2001:db8:8000::/33', 5],
  ]);
  it.each([
    [
      '2001:db8:0:1::7',
      [
        [0, 0],
        [1, 32],
        [2, 64],
        [3, 128],
      ],
    ],
    [
      '2001:db8:0:1::8',
      [
        [0, 0],
        [1, 32],
        [2, 64],
      ],
    ],
    [
      '2001:db8:ffff::',
      [
        [0, 0],
        [1, 32],
        [5, 33],
      ],
    ],
    [
      'febf::1',
      [
        [0, 0],
        [4, 10],
      ],
    ],
    ['fec0::1', [[0, 0]]],
  ] as const)('reports every prefix containing %s', (ip, expected) => {
    expect(lookup(trie, ip)).toEqual(expected);
  });
});

describe('CidrTrie against a linear scan', () => {
  const mask = (len: number, bits: number) =>
    len === 0 ? 0n : ((1n << BigInt(len)) - 1n) << BigInt(bits - len);
  for (const family of [4, 6] as const) {
    const bits = family === 4 ? 32 : 128;
    // Few distinct top bits so prefixes nest and collide often.
    const addr = fc
      .tuple(fc.integer({ min: 0, max: 7 }), fc.bigInt({ min: 0n, max: (1n << BigInt(bits - 3)) - 1n }))
      .map(([top, rest]) => (BigInt(top) << BigInt(bits - 3)) | rest);
    it(`IPv${family}: finds exactly the containing prefixes`, () => {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(addr, fc.integer({ min: 0, max: bits })), { maxLength: 40 }),
          fc.array(addr, { maxLength: 20 }),
          (entries, probes) => {
            const b = new CidrTrieBuilder(family);
            const key = (n: bigint) =>
              family === 4 ? Uint32Array.from([Number(n), 0, 0, 0]) : bigIntToWords(n);
            entries.forEach(([a, len], i) => b.insert(key(a), len, i));
            // The same entries, also as the small set of a policy block after another block.
            const table = new PolicyTableBuilder();
            const none = { entries: [] };
            const block = { ruleStart: 0, report: false, v4: none, v6: none, names: none, rules: [] };
            const other = { entries: [{ key: key(1n), len: bits, value: 999 }] };
            table.add(family === 4 ? { ...block, v4: other } : { ...block, v6: other });
            const mine = { entries: b.entries };
            const at = table.add(family === 4 ? { ...block, v4: mine } : { ...block, v6: mine });
            const flat = table.build();
            const trie = b.build();
            for (const p of [...probes, ...entries.map(([a]) => a)]) {
              const want = entries.flatMap(([a, len], i) =>
                (a & mask(len, bits)) === (p & mask(len, bits)) ? [i] : [],
              );
              const hits = new CidrHits(trie.entries);
              trie.lookup(key(p), hits);
              expect(Array.from(hits.ids.subarray(0, hits.count)).sort((x, y) => x - y)).toEqual(want);
              const lens = Array.from(hits.lens.subarray(0, hits.count)).sort((x, y) => x - y);
              const scan = new CidrHits(entries.length);
              const k = key(p);
              if (family === 4) flat.lookupV4(flat.cidrAt(at, 4), flat.cidrCount(at, 4), k[0] ?? 0, scan);
              else flat.lookupV6(flat.cidrAt(at, 6), flat.cidrCount(at, 6), k, scan);
              expect(Array.from(scan.ids.subarray(0, scan.count)).sort((x, y) => x - y)).toEqual(want);
              expect(Array.from(scan.lens.subarray(0, scan.count)).sort((x, y) => x - y)).toEqual(lens);
            }
          },
        ),
        { numRuns: 300 },
      );
    });
  }
});
