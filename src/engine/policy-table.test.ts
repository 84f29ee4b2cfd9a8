/**
 * @module engine/policy-table.test — policy blocks: name sets matched by suffix hash (and never
 * by hash alone), packed port ranges at their edges, and the fallback for rules with more
 * ranges than a record holds, and the per-protocol port index agreeing with a scan of the rules.
 */
import { describe, expect, it } from 'vitest';
import type { PortRange } from '../policy-types/index.js';
import type { DomainEntry } from './domain-trie.js';
import { PORT_INDEX_NONE, PolicyTableBuilder, nameHash, suffixHashes } from './policy-table.js';

const none = { entries: [] };

function names(entries: readonly DomainEntry[]) {
  const b = new PolicyTableBuilder();
  const at = b.add({ ruleStart: 0, report: false, v4: none, v6: none, names: { entries }, rules: [] });
  const table = b.build();
  return (host: string): number[] => {
    const suf = new Int32Array(host.length + 1);
    suffixHashes(host, suf);
    const out = new Int32Array(entries.length);
    const n = table.lookupNames(table.nameAt(at), table.nameCount(at), host, suf, out, 0);
    return Array.from(out.subarray(0, n));
  };
}

describe('PolicyTable name sets', () => {
  // Two names with the same 32-bit hash (found by a search over random labels).
  const a = 'vplchjnmnt.example.com';
  const b = 'usbekkvphm.example.com';

  it('the colliding pair really collides', () => {
    expect(nameHash(a)).toBe(nameHash(b));
    expect(a).not.toBe(b);
  });

  it('a hash hit is confirmed against the name: exact', () => {
    const lookup = names([{ name: a, match: 'exact', value: 7 }]);
    expect(lookup(a)).toEqual([7]);
    expect(lookup(b)).toEqual([]);
  });

  it('a hash hit is confirmed against the name: wildcards', () => {
    const lookup = names([
      { name: a, match: 'any-depth', value: 1 },
      { name: a, match: 'one-label', value: 2 },
    ]);
    expect(lookup(`x.${a}`)).toEqual([1, 2]);
    expect(lookup(`y.x.${a}`)).toEqual([1]);
    expect(lookup(`x.${b}`)).toEqual([]);
    expect(lookup(`x${a}`)).toEqual([]);
  });

  it('names and hosts that are slices or ropes of other strings match as flat ones do', () => {
    const source = `name: api.example.com, other: pay.example.com`;
    const sliced = source.slice(6, 21);
    const rope = ['pay', '.example', '.com'].reduce((x, y) => `${x}${y}`);
    const lookup = names([
      { name: sliced, match: 'exact', value: 1 },
      { name: rope, match: 'any-depth', value: 2 },
      { name: 'api.example.com', match: 'one-label', value: 3 },
    ]);
    expect(lookup('api.example.com')).toEqual([1]);
    expect(lookup(['api', 'example', 'com'].join('.'))).toEqual([1]);
    expect(lookup(`x.${rope}`)).toEqual([2]);
    expect(lookup(`x.${sliced}`)).toEqual([3]);
  });

  it('suffix hashes cover every suffix length, the empty one included', () => {
    const host = 'a.b.example.com';
    const suf = new Int32Array(host.length + 1);
    suffixHashes(host, suf);
    for (let k = 0; k <= host.length; k++) expect(suf[k]).toBe(nameHash(host.slice(host.length - k)));
  });
});

describe('PolicyTable rule records', () => {
  function record(proto: number, ports: readonly PortRange[]) {
    const b = new PolicyTableBuilder();
    b.add({ ruleStart: 0, report: false, v4: none, v6: none, names: none, rules: [] });
    const at = b.add({
      ruleStart: 5,
      report: true,
      v4: none,
      v6: none,
      names: none,
      rules: [
        { proto: 17, expires: false, ports: [{ from: 53, to: 53 }] },
        { proto, expires: true, ports },
      ],
    });
    const t = b.build();
    return { t, at, rec: t.ruleRecord(at, 6) };
  }

  it('reads back its header and flags', () => {
    const { t, at, rec } = record(6, []);
    expect([t.ruleStart(at), t.ruleEnd(at), t.isReport(at)]).toEqual([5, 7, true]);
    expect([t.protocolAt(rec), t.expiresAt(rec)]).toEqual([6, true]);
    expect(t.expiresAt(t.ruleRecord(at, 5))).toBe(false);
  });

  it.each([
    [[], 0, 1],
    [[], 65535, 1],
    [[{ from: 0, to: 65535 }], 65535, 1],
    [[{ from: 65535, to: 65535 }], 65535, 1],
    [[{ from: 65535, to: 65535 }], 65534, 0],
    [[{ from: 0, to: 0 }], 0, 1],
    [[{ from: 0, to: 0 }], 1, 0],
    [
      [
        { from: 80, to: 80 },
        { from: 443, to: 443 },
      ],
      443,
      1,
    ],
    [
      [
        { from: 80, to: 80 },
        { from: 443, to: 443 },
      ],
      444,
      0,
    ],
  ])('ports %j, port %i → %i', (ports, port, want) => {
    const { t, rec } = record(6, ports);
    expect(t.protoPortMatch(rec, 6, port)).toBe(want);
    expect(t.protoPortMatch(rec, 17, port)).toBe(0);
  });

  it('any protocol matches everything; three ranges defer to the port table', () => {
    expect(record(-1, []).t.protoPortMatch(record(-1, []).rec, 58, 0)).toBe(1);
    const three = [
      { from: 1, to: 1 },
      { from: 3, to: 3 },
      { from: 5, to: 5 },
    ];
    const { t, rec } = record(6, three);
    expect(t.protoPortMatch(rec, 6, 2)).toBe(-1);
    expect(t.protoPortMatch(rec, 17, 2)).toBe(0);
  });
});

describe('PolicyTable port index', () => {
  type Rule = { proto: number; expires: boolean; ports: readonly PortRange[] };
  const r = (proto: number, ...ports: [number, number][]): Rule => ({
    proto,
    expires: false,
    ports: ports.map(([from, to]) => ({ from, to })),
  });
  // What the rule records say: the first rule allowing `proto` on `port`, or -1.
  const scan = (rules: readonly Rule[], start: number, proto: number, port: number): number => {
    const k = rules.findIndex(
      (x) =>
        x.proto === -1 ||
        (x.proto === proto && (x.ports.length === 0 || x.ports.some((p) => p.from <= port && port <= p.to))),
    );
    return k < 0 ? -1 : start + k;
  };
  // A seeded mix of overlapping ranges, edges, all-port and any-protocol rules.
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const random = Array.from({ length: 12 }, (): Rule => {
    const proto = [6, 6, 17, -1, 1][rnd(5)] ?? 6;
    if (proto !== 6 && proto !== 17) return r(proto);
    const ports: [number, number][] = Array.from({ length: rnd(4) }, () => {
      const from = [0, 53, 80, 443, 8000, 65535][rnd(6)] ?? 0;
      return [from, Math.min(65535, from + [0, 0, 1, 100][rnd(4)]!)];
    });
    return r(proto, ...ports);
  });

  it.each([
    ['no rules', []],
    ['one port, then a range over it', [r(6, [443, 443]), r(6, [400, 500])]],
    ['a later rule does not shadow an earlier one', [r(6, [400, 500]), r(6, [443, 443])]],
    ['edges of the port space', [r(6, [0, 0]), r(6, [65535, 65535]), r(17, [0, 65535])]],
    ['all ports, and any protocol', [r(17, [53, 53]), r(6), r(-1)]],
    ['several ranges per rule', [r(6, [1, 1], [3, 3], [5, 5]), r(6, [2, 4])]],
    ['a seeded mix', random],
  ])('%s: every TCP and UDP port agrees with a scan of the rules', (_, rules) => {
    const b = new PolicyTableBuilder();
    b.add({ ruleStart: 0, report: false, v4: none, v6: none, names: none, rules: [r(6)] });
    const at = b.add({ ruleStart: 9, report: false, v4: none, v6: none, names: none, rules });
    const t = b.build();
    for (const proto of [6, 17]) {
      for (let port = 0; port <= 65535; port++) {
        const want = scan(rules, 9, proto, port);
        const got = t.firstPortRule(at, proto, port);
        if (got !== want) expect({ proto, port, got }).toEqual({ proto, port, got: want });
      }
    }
  });

  it('other protocols are left to the rule records', () => {
    const b = new PolicyTableBuilder();
    const at = b.add({ ruleStart: 0, report: false, v4: none, v6: none, names: none, rules: [r(-1)] });
    expect(b.build().firstPortRule(at, 1, 0)).toBe(PORT_INDEX_NONE);
  });
});
