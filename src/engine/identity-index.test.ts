/**
 * @module engine/identity-index.test — identity globs (against a backtracking reference) and
 * policy resolution by identity and labels.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdentityGlob, IdentityIndex } from './identity-index.js';
import { policy, selector } from './matcher.suite.js';

describe('IdentityGlob', () => {
  it.each([
    ['spiffe://a/ns/*/sa/x', 'spiffe://a/ns/n1/sa/x', true],
    ['spiffe://a/ns/*/sa/x', 'spiffe://a/ns/n1/n2/sa/x', false],
    ['spiffe://a/**/x', 'spiffe://a/x', true],
    ['spiffe://a/**/x', 'spiffe://a/b/c/x', true],
    ['spiffe://a/**', 'spiffe://a', true],
    ['spiffe://a/**/**/x', 'spiffe://a/q/x', true],
    ['spiffe://a/sa/web-*', 'spiffe://a/sa/web-1', true],
    ['spiffe://a/sa/web-*', 'spiffe://a/sa/db-1', false],
    ['spiffe://a/sa/w*b', 'spiffe://a/sa/w/b', false],
    ['spiffe://a/sa/.x', 'spiffe://a/sa/ax', false],
    ['sa-*', 'sa-payments', true],
    ['*', 'a/b', false],
  ])('%s matches %s → %s', (pattern, identity, ok) => {
    expect(new IdentityGlob(pattern).matches(identity)).toBe(ok);
  });

  it('agrees with a backtracking reference', () => {
    const seg = fc.constantFrom('a', 'b', '', 'ab');
    const patSeg = fc.constantFrom('a', 'b', '', '*', '**', 'a*', '*b');
    const ref = (pat: string[], parts: string[]): boolean => {
      if (pat.length === 0) return parts.length === 0;
      const [head, ...rest] = pat as [string, ...string[]];
      if (head === '**') return parts.some((_, i) => ref(rest, parts.slice(i))) || ref(rest, []);
      if (parts.length === 0) return false;
      const re = new RegExp(`^${head.split('*').join('.*')}$`);
      return re.test(parts[0] ?? '') && ref(rest, parts.slice(1));
    };
    fc.assert(
      fc.property(
        fc.array(patSeg, { minLength: 1, maxLength: 5 }),
        fc.array(seg, { minLength: 1, maxLength: 5 }),
        (pat, parts) => {
          expect(new IdentityGlob(pat.join('/')).matches(parts.join('/'))).toBe(ref(pat, parts));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('IdentityIndex', () => {
  const policies = [
    policy('exact', [selector('spiffe://a/sa/x')], []),
    policy('glob', [selector('spiffe://a/sa/*')], []),
    policy('prod', [selector(undefined, { env: 'prod' })], []),
    policy('prod-x', [selector(undefined, { env: 'prod', team: 'x' })], []),
    policy('exact-dev', [selector('spiffe://a/sa/x', { env: 'dev' })], []),
    policy('nothing', [selector(undefined, {})], []),
  ];
  const index = new IdentityIndex(policies, [
    { identity: 'spiffe://a/sa/x', labels: { env: 'prod', team: 'x' } },
    { identity: 'spiffe://b/sa/y', labels: { env: 'prod', team: 'y' } },
  ]);
  it.each([
    ['spiffe://a/sa/x', [0, 1, 2, 3]],
    ['spiffe://b/sa/y', [2]],
    ['spiffe://a/sa/z', [1]],
    ['spiffe://c', []],
  ])('%s → %j', (identity, expected) => {
    expect(Array.from(index.resolve(identity))).toEqual(expected);
  });
  it('counts what it indexed', () => {
    expect(index.stats).toEqual({ exact: 1, globs: 1, labelOnly: 2, registered: 2 });
  });
});
