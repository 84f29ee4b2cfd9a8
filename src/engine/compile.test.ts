/**
 * @module engine/compile.test — the compiled snapshot: the shared semantic suite, compile errors
 * and stats, frozen shared decisions, timing, pre-parsed addresses, the identity cache bound,
 * explanations.
 */
import { describe, expect, it } from 'vitest';
import { EngineError, compilePolicySet } from './compile.js';
import { parseAddress } from '../model/index.js';
import {
  NOW,
  cidr,
  fqdn,
  group,
  policy,
  policySet,
  prefixList,
  req,
  rule,
  runMatcherTests,
  selector,
} from './matcher.suite.js';

runMatcherTests('compiled', (set, opts) => compilePolicySet(set, opts));

const ID = 'spiffe://prod.example/ns/payments/sa/checkout';

describe('compilePolicySet', () => {
  it('refuses an unresolvable prefix list with file:line:col and a hint', () => {
    const set = policySet([policy('p', [selector(ID)], [rule('r', [prefixList('pl-missing')])])]);
    let err: unknown;
    try {
      compilePolicySet(set);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe('EngineUnresolvedRef');
    expect((err as EngineError).message).toMatch(
      /^policies\/test\.yaml:1:3: rule r of policy p: prefix list "pl-missing" is unknown; pass its CIDRs in the prefixLists option/,
    );
  });

  it('lets unresolvable references match nothing when told to skip them', () => {
    const set = policySet([policy('p', [selector(ID)], [rule('r', [group('sg-gone'), cidr('10.0.0.0/8')])])]);
    const snap = compilePolicySet(set, { skipUnresolved: true });
    expect(snap.stats.unresolved).toEqual(['group:sg-gone']);
    expect(snap.decide(req({ ip: '10.0.0.1' })).allow).toBe(true);
  });

  it.each([
    ['an unknown protocol', rule('r', [cidr('10.0.0.0/8')], { protocol: 'sctp' }), /unknown protocol "sctp"/],
    ['a reversed port range', rule('r', [cidr('10.0.0.0/8')], { ports: [[90, 80]] }), /bad port range 90-80/],
    ['a bad CIDR', rule('r', [cidr('10.0.0.0/33')]), /"10\.0\.0\.0\/33" is not an IPv4 CIDR/],
    [
      'a wrong family',
      rule('r', [{ kind: 'cidr', family: 6, cidr: '10.0.0.0/8', loc: { file: 'f', line: 1, col: 1 } }]),
      /not an IPv6 CIDR/,
    ],
  ])('refuses %s', (_l, r, message) => {
    expect(() => compilePolicySet(policySet([policy('p', [selector(ID)], [r])]))).toThrow(message);
  });

  it('records what it compiled', () => {
    const set = policySet([
      policy(
        'p',
        [selector(ID)],
        [
          rule('a', [fqdn('a.com'), fqdn('*.b.com'), fqdn('**.c.com')]),
          rule('b', [cidr('10.0.0.0/8'), cidr('2001:db8::/32'), prefixList('pl-1')]),
        ],
      ),
    ]);
    const snap = compilePolicySet(set, {
      prefixLists: new Map([['pl-1', ['192.0.2.0/24', '198.51.100.0/24']]]),
      version: 'v7',
    });
    expect(snap.version).toBe('v7');
    expect(snap.stats).toMatchObject({
      policies: 1,
      rules: 2,
      fqdnExact: 1,
      fqdnWildcard: 2,
      cidrV4: 1,
      cidrV6: 1,
      resolvedCidrs: 2,
    });
    expect(Object.isFrozen(snap)).toBe(true);
    expect(Object.isFrozen(snap.stats)).toBe(true);
  });
});

describe('Snapshot.decide', () => {
  const set = policySet([
    policy(
      'p',
      [selector(ID)],
      [rule('web', [fqdn('api.stripe.com'), cidr('10.0.0.0/8')], { ports: [443] })],
    ),
  ]);
  const snap = compilePolicySet(set);

  it('returns one frozen decision per identity and outcome (no allocation once seen)', () => {
    const a = snap.decide(req({ host: 'api.stripe.com' }));
    const b = snap.decide(req({ ip: '10.9.9.9' }));
    expect(a).toBe(b);
    expect(Object.isFrozen(a)).toBe(true);
    expect(Object.isFrozen(a.matched)).toBe(true);
    expect(a.evalNs).toBe(0);
    expect(snap.decide(req({ host: 'x.com' }))).not.toBe(a);
  });

  it('fills evalNs when timed', () => {
    const d = snap.decide(req({ host: 'api.stripe.com' }), true);
    expect(d.reason).toBe('matched');
    expect(Number.isInteger(d.evalNs) && d.evalNs >= 0).toBe(true);
  });

  it('decides the same with a pre-parsed address', () => {
    for (const ip of ['10.1.2.3', '11.0.0.1', '::ffff:127.0.0.1']) {
      expect(snap.decideParsed(req(), parseAddress(ip))).toEqual(snap.decide(req({ ip })));
    }
    expect(snap.decideParsed(req({ host: 'api.stripe.com' }), undefined).reason).toBe('matched');
  });

  it('keeps one shared decision per outcome past the two held in the identity entry', () => {
    const outcomes = [
      req({ host: 'api.stripe.com' }),
      req({ host: 'x.com' }),
      req({ ip: '10.1.1.1', port: 80 }),
      req({ ip: '127.0.0.1' }),
      req({ ip: 'not-an-ip' }),
    ];
    const first = outcomes.map((r) => snap.decide(r));
    expect(new Set(first.map((d) => d.reason))).toEqual(
      new Set(['matched', 'no-match', 'guardrail', 'error']),
    );
    outcomes.forEach((r, i) => expect(snap.decide(r)).toBe(first[i]));
  });

  it('walks every policy of an identity that has more than two, in order', () => {
    const three = compilePolicySet(
      policySet([
        policy('a', [selector(ID)], [rule('ra', [fqdn('a.com')])]),
        policy('b', [selector('spiffe://prod.example/**')], [rule('rb', [cidr('10.0.0.0/8')])]),
        policy('c', [selector(ID)], [rule('rc', [fqdn('c.com'), cidr('192.0.2.0/24')])]),
      ]),
    );
    expect(three.decide(req({ host: 'c.com' })).matched?.ruleId).toBe('rc');
    expect(three.decide(req({ ip: '192.0.2.7' })).matched?.ruleId).toBe('rc');
    expect(three.decide(req({ ip: '10.0.0.1' })).matched?.ruleId).toBe('rb');
    expect(three.decide(req({ host: 'd.com', port: 80 })).matched?.ruleId).toBe('ra');
  });

  it('matches names on hosts longer than the suffix-hash scratch holds', () => {
    const long = `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(40)}.com`;
    const s = compilePolicySet(
      policySet([policy('p', [selector(ID)], [rule('exact', [fqdn(long)]), rule('any', [fqdn('**.com')])])]),
    );
    expect(long.length).toBeGreaterThan(255);
    expect(s.decide(req({ host: long })).matched?.ruleId).toBe('exact');
    expect(s.decide(req({ host: `x${long}` })).matched?.ruleId).toBe('any');
    expect(s.decide(req({ host: 'short.com' })).matched?.ruleId).toBe('any');
    expect(s.decide(req({ host: long.slice(0, -4) })).reason).toBe('no-match');
  });

  it('stays correct when the identity cache is smaller than the identities seen', () => {
    const small = compilePolicySet(
      policySet([policy('p', [selector('spiffe://x/*')], [rule('r', [fqdn('a.com')])])]),
      { identityCacheSize: 2 },
    );
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 5; i++) {
        const d = small.decide(req({ identity: `spiffe://x/w${i}`, host: 'a.com' }));
        expect(d).toMatchObject({ allow: true, identity: `spiffe://x/w${i}` });
      }
    }
  });
});

describe('Snapshot.explain', () => {
  const set = policySet([
    policy(
      'p',
      [selector(ID)],
      [
        rule('web', [fqdn('api.stripe.com')], { ports: [443] }),
        rule('old', [fqdn('legacy.example.com')], {
          expires: NOW - 86_400_000,
          owner: 'team-payments@example.com',
        }),
        rule('dns', [cidr('10.0.0.2/32')], { protocol: 'udp', ports: [53] }),
      ],
    ),
  ]);
  const snap = compilePolicySet(set);

  it('lists the nearest rules and why each missed', () => {
    const { decision, nearMisses } = snap.explain(req({ host: 'api.stripe.com', port: 80 }));
    expect(decision).toMatchObject({ allow: false, reason: 'no-match', matched: { ruleId: 'web' } });
    expect(nearMisses[0]).toMatchObject({ rule: { ruleId: 'web' }, why: ['port 80 not in 443'] });
    expect(nearMisses.map((m) => m.rule.ruleId)).toEqual(['web', 'old']);
    expect(nearMisses[1]?.why[0]).toBe('destination api.stripe.com is not legacy.example.com');
  });

  it('explains an expiry with owner and date', () => {
    const { decision, nearMisses } = snap.explain(req({ host: 'legacy.example.com' }));
    expect(decision.reason).toBe('expired');
    expect(nearMisses[0]?.why).toEqual([
      `expired ${new Date(NOW - 86_400_000).toISOString().slice(0, 10)} (owner team-payments@example.com)`,
    ]);
  });

  it('explains a guardrail', () => {
    const { decision, nearMisses } = snap.explain(req({ host: 'api.stripe.com', ip: '169.254.169.254' }));
    expect(decision.reason).toBe('guardrail');
    expect(nearMisses[0]?.why).toEqual([
      '169.254.169.254 is in guardrail 169.254.169.254/32 cloud metadata (IMDS), which the rule does not name',
    ]);
  });

  it('has nothing to add to an allow', () => {
    expect(snap.explain(req({ host: 'api.stripe.com' })).nearMisses).toEqual([]);
  });
});
