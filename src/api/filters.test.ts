import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Ec2Error } from '../model/index.js';
import {
  applyFilters,
  checkFilterLimits,
  compileGlob,
  matchGlob,
  MAX_FILTER_VALUE_LENGTH,
  MAX_FILTER_VALUES,
} from './filters.js';
import type { StepMeter } from './filters.js';

/**
 * The obvious matcher, straight from the definition and exponential in the worst case: the
 * oracle for short inputs. It reads the raw pattern itself (escapes included), so it shares no
 * code with `compileGlob`.
 */
function reference(pattern: readonly string[], text: readonly string[]): boolean {
  if (pattern.length === 0) return text.length === 0;
  const [c, next] = pattern;
  if (c === '\\' && (next === '*' || next === '?' || next === '\\')) {
    return text[0] === next && reference(pattern.slice(2), text.slice(1));
  }
  if (c === '*') {
    for (let k = 0; k <= text.length; k++) if (reference(pattern.slice(1), text.slice(k))) return true;
    return false;
  }
  if (c === '?') return text.length > 0 && reference(pattern.slice(1), text.slice(1));
  return text[0] === c && reference(pattern.slice(1), text.slice(1));
}

const glob = (pattern: string, text: string): boolean => matchGlob(compileGlob(pattern), text);

describe('matchGlob', () => {
  test.each([
    ['*', '', true],
    ['*', 'anything', true],
    ['?', '', false],
    ['?', 'a', true],
    ['a*c', 'abbbc', true],
    ['a*c', 'abbbd', false],
    ['*web*', 'my web group', true],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['\\*', '*', true],
    ['\\*', 'x', false],
    ['\\?*', '?abc', true],
    ['\\\\*', '\\x', true],
    ['a\\b*', 'a\\bc', true],
    ['**a**b**', 'xaybz', true],
    ['?', '😀', true],
  ])('%j against %j is %s', (pattern, text, expected) => {
    expect(glob(pattern, text)).toBe(expected);
  });

  test('agrees with the reference matcher on short patterns and texts', () => {
    const char = fc.constantFrom('a', 'b', '*', '?', '\\');
    fc.assert(
      fc.property(
        fc.array(char, { maxLength: 8 }),
        fc.array(fc.constantFrom('a', 'b', '*', '?', '\\'), { maxLength: 8 }),
        (p, t) => {
          expect(glob(p.join(''), t.join(''))).toBe(reference(p, t));
        },
      ),
      { numRuns: 5000 },
    );
  });

  test('stars followed by a missing character cost steps linear in the text, whatever the number of stars', () => {
    const steps = (stars: number, textLength: number): number => {
      const meter: StepMeter = { steps: 0 };
      matchGlob(compileGlob(`${'*'.repeat(stars)}x`), 'a'.repeat(textLength), meter);
      return meter.steps;
    };
    // A backtracking regex needs about 3^stars steps here; the matcher needs 2 per character.
    for (const stars of [1, 10, 30, 255]) {
      for (const n of [0, 10, 100, 1000]) expect(steps(stars, n)).toBeLessThanOrEqual(2 * n + 1);
    }
    expect(steps(30, 1000)).toBe(steps(1, 1000));
  });

  test('never costs more than (|text|+1)·(|pattern|+1) steps', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), (p, t) => {
        const meter: StepMeter = { steps: 0 };
        matchGlob(compileGlob(p), t, meter);
        expect(meter.steps).toBeLessThanOrEqual((t.length + 1) * (p.length + 1));
      }),
    );
    const meter: StepMeter = { steps: 0 };
    // The matcher's worst shape: a long literal after a star that almost matches everywhere.
    matchGlob(compileGlob(`*${'a'.repeat(127)}b`), 'a'.repeat(255), meter);
    expect(meter.steps).toBeLessThanOrEqual(256 * 130);
  });
});

describe('EC2 filter limits', () => {
  const code = (f: () => void): string | undefined => {
    try {
      f();
      return undefined;
    } catch (err) {
      return err instanceof Ec2Error ? `${err.code}: ${err.message}` : String(err);
    }
  };

  test(`${MAX_FILTER_VALUES} values in all pass; one more is FilterLimitExceeded naming the filter`, () => {
    const values = (n: number) => Array.from({ length: n }, (_, i) => `v${i}`);
    expect(
      code(() =>
        checkFilterLimits([
          { Name: 'a', Values: values(100) },
          { Name: 'b', Values: values(100) },
        ]),
      ),
    ).toBeUndefined();
    expect(
      code(() =>
        checkFilterLimits([
          { Name: 'a', Values: values(100) },
          { Name: 'b', Values: values(101) },
        ]),
      ),
    ).toBe(
      'FilterLimitExceeded: The maximum number of filter values specified on a single call is 200 (Filter.2 goes over it): split the request.',
    );
    // Filters without values count one each, so the number of filters is bounded too.
    const bare = Array.from({ length: MAX_FILTER_VALUES + 1 }, () => ({ Name: 'a' }));
    expect(code(() => checkFilterLimits(bare))).toMatch(/^FilterLimitExceeded: .*Filter\.201 /);
  });

  test(`a value of ${MAX_FILTER_VALUE_LENGTH} characters passes; longer is FilterLimitExceeded naming the value`, () => {
    expect(code(() => checkFilterLimits([{ Name: 'a', Values: ['*'.repeat(255)] }]))).toBeUndefined();
    expect(code(() => checkFilterLimits([{ Name: 'a', Values: ['x', '*'.repeat(256)] }]))).toBe(
      'FilterLimitExceeded: The maximum length for a filter value is 255 characters (Filter.1.Value.2 has 256).',
    );
  });

  test('applyFilters checks the limits before matching anything', () => {
    expect(code(() => applyFilters([], [{ Name: 'nope', Values: ['x'.repeat(300)] }], {}))).toMatch(
      /^FilterLimitExceeded/,
    );
  });
});
