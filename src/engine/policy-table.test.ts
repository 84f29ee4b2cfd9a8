/**
 * @module engine/policy-table.test — policy blocks: name sets matched by suffix hash (and never
 * by hash alone), packed port ranges at their edges, and the fallback for rules with more
 * ranges than a record holds.
 */
import { describe, expect, it } from 'vitest';
import type { PortRange } from '../policy/index.js';
import type { DomainEntry } from './domain-trie.js';
import { PolicyTableBuilder, nameHash, suffixHashes } from './policy-table.js';

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
