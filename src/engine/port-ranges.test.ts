/**
 * @module engine/port-ranges.test — merging, validation and the per-rule port table, by table
 * and against a linear check.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PortRangeTableBuilder, isValidPortRange, mergePortRanges } from './port-ranges.js';

describe('port ranges', () => {
  it.each([
    [[], []],
    [[{ from: 443, to: 443 }], [{ from: 443, to: 443 }]],
    [
      [
        { from: 80, to: 90 },
        { from: 85, to: 100 },
        { from: 101, to: 101 },
        { from: 22, to: 22 },
      ],
      [
        { from: 22, to: 22 },
        { from: 80, to: 101 },
      ],
    ],
  ])('merges %j', (input, merged) => {
    expect(mergePortRanges(input)).toEqual(merged);
  });

  it.each([
    [{ from: 0, to: 65535 }, true],
    [{ from: 1, to: 0 }, false],
    [{ from: -1, to: 2 }, false],
    [{ from: 1, to: 65536 }, false],
    [{ from: 1.5, to: 2 }, false],
  ])('validates %j → %s', (r, ok) => {
    expect(isValidPortRange(r)).toBe(ok);
  });

  const b = new PortRangeTableBuilder();
  b.add([]);
  b.add([{ from: 443, to: 443 }]);
  b.add([
    { from: 8000, to: 8100 },
    { from: 22, to: 22 },
  ]);
  const table = b.build();
  it.each([
    [0, 1, true],
    [0, 65535, true],
    [1, 443, true],
    [1, 444, false],
    [2, 22, true],
    [2, 8050, true],
    [2, 8101, false],
    [2, 23, false],
  ])('rule %d contains %d → %s', (rule, port, ok) => {
    expect(table.contains(rule, port)).toBe(ok);
  });
  it('knows all-port rules and gives back ranges', () => {
    expect([table.isAll(0), table.isAll(1)]).toEqual([true, false]);
    expect(table.ranges(2)).toEqual([
      { from: 22, to: 22 },
      { from: 8000, to: 8100 },
    ]);
    expect(table.size).toBe(3);
  });

  it('agrees with a linear check, short and long lists', () => {
    const range = fc
      .tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 20 }))
      .map(([f, w]) => ({ from: f, to: f + w }));
    fc.assert(
      fc.property(
        fc.array(fc.array(range, { maxLength: 40 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.integer({ min: 0, max: 330 })),
        (rules, ports) => {
          const tb = new PortRangeTableBuilder();
          for (const r of rules) tb.add(r);
          const t = tb.build();
          rules.forEach((r, i) => {
            for (const p of ports)
              expect(t.contains(i, p)).toBe(r.length === 0 || r.some((x) => p >= x.from && p <= x.to));
          });
        },
      ),
    );
  });
});
