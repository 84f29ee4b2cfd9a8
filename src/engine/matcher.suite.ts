/**
 * @module engine/matcher.suite — the decision semantics of `matcher.ts` as one table-driven
 * suite, plus small builders for policy sets. The compiled snapshot and the naive evaluator
 * each run it in one line, so both are held to the same behaviour. Not a test file itself.
 */
import { describe, expect, it } from 'vitest';
import type {
  Destination,
  Mode,
  Policy,
  PolicyRule,
  PolicySet,
  RegisteredWorkload,
  WorkloadSelector,
} from '../policy-types/index.js';
import type { CompileOptions, Matcher } from './matcher.js';
import type { Decision, DecisionRequest } from './types.js';

const loc = (line = 1, file = 'policies/test.yaml') => ({ file, line, col: 3 });

/** An FQDN destination from `name`, `*.name` or `**.name`. */
export function fqdn(pattern: string): Destination {
  if (pattern.startsWith('**.'))
    return { kind: 'fqdn', name: pattern.slice(3), match: 'any-depth', loc: loc() };
  if (pattern.startsWith('*.'))
    return { kind: 'fqdn', name: pattern.slice(2), match: 'one-label', loc: loc() };
  return { kind: 'fqdn', name: pattern, match: 'exact', loc: loc() };
}

/** A CIDR destination (canonical text expected). */
export function cidr(c: string): Destination {
  return { kind: 'cidr', family: c.includes(':') ? 6 : 4, cidr: c, loc: loc() };
}

export const prefixList = (ref: string): Destination => ({ kind: 'prefixList', ref, loc: loc() });
export const group = (ref: string): Destination => ({ kind: 'group', ref, loc: loc() });

/** A rule without its policy name (the `policy` builder fills it in). */
export type RuleDraft = Omit<PolicyRule, 'policy'>;

export function rule(
  id: string,
  to: readonly Destination[],
  opts: {
    ports?: readonly (number | readonly [number, number])[];
    protocol?: string;
    expires?: number;
    owner?: string;
    line?: number;
  } = {},
): RuleDraft {
  return {
    id,
    destinations: to,
    ports: (opts.ports ?? []).map((p) =>
      typeof p === 'number' ? { from: p, to: p } : { from: p[0], to: p[1] },
    ),
    protocol: opts.protocol ?? 'tcp',
    ...(opts.owner === undefined ? {} : { owner: opts.owner }),
    ...(opts.expires === undefined
      ? {}
      : { expires: opts.expires, expiresText: new Date(opts.expires).toISOString().slice(0, 10) }),
    loc: loc(opts.line ?? 10),
  };
}

/** A selector: `identity` is a glob when it contains `*`. */
export function selector(identity?: string, labels?: Record<string, string>): WorkloadSelector {
  return {
    ...(identity === undefined
      ? {}
      : {
          identity: identity.includes('*')
            ? { kind: 'glob', value: identity }
            : { kind: 'exact', value: identity },
        }),
    ...(labels === undefined ? {} : { labels }),
    loc: loc(),
  };
}

export function policy(
  name: string,
  workloads: readonly WorkloadSelector[],
  rules: readonly RuleDraft[],
  mode: Mode = 'enforce',
): Policy {
  return {
    name,
    labels: {},
    mode,
    workloads,
    rules: rules.map((r) => ({ ...r, policy: name })),
    tests: [],
    loc: loc(1),
  };
}

export function policySet(
  policies: readonly Policy[],
  workloads: readonly RegisteredWorkload[] = [],
): PolicySet {
  return { policies, workloads };
}

export const NOW = Date.UTC(2026, 10, 23, 12);
const CHECKOUT = 'spiffe://prod.example/ns/payments/sa/checkout';

/** A request with defaults: the checkout identity, tcp/443, now. */
export function req(over: Partial<DecisionRequest> = {}): DecisionRequest {
  return { identity: CHECKOUT, port: 443, protocol: 'tcp', now: NOW, ...over };
}

/** The parts of a decision two matchers must agree on. */
export function essence(d: Decision): Record<string, unknown> {
  return {
    allow: d.allow,
    mode: d.mode,
    reason: d.reason,
    identity: d.identity,
    rule: d.matched === undefined ? undefined : `${d.matched.policy}/${d.matched.ruleId}`,
    guardrail: d.guardrail,
    missedBy: d.missedBy,
    policy: d.policy,
  };
}

/** Builds a matcher for a policy set. */
export type MakeMatcher = (set: PolicySet, opts?: CompileOptions) => Matcher;

/** The shared semantic suite. */
export function runMatcherTests(name: string, make: MakeMatcher): void {
  const one = (rules: readonly RuleDraft[], mode: Mode = 'enforce') =>
    make(policySet([policy('payments', [selector(CHECKOUT)], rules, mode)]));
  const expectDecision = (d: Decision, allow: boolean, reason: string, ruleId?: string) => {
    expect({ allow: d.allow, reason: d.reason, rule: d.matched?.ruleId }).toEqual({
      allow,
      reason,
      rule: ruleId,
    });
  };

  describe(`${name}: identities`, () => {
    it('denies an identity no policy selects, whatever the rules', () => {
      const m = one([rule('all', [cidr('0.0.0.0/0')], { protocol: '-1' })]);
      const d = m.decide(req({ identity: 'spiffe://prod.example/ns/other/sa/x', ip: '8.8.8.8' }));
      expect(d).toMatchObject({ allow: false, mode: 'enforce', reason: 'unknown-identity' });
      expect(d.matched).toBeUndefined();
    });

    const globs: [string, string, boolean][] = [
      ['spiffe://prod.example/ns/payments/sa/*', CHECKOUT, true],
      ['spiffe://prod.example/ns/payments/sa/*', `${CHECKOUT}/extra`, false],
      ['spiffe://prod.example/ns/*/sa/checkout', CHECKOUT, true],
      ['spiffe://prod.example/**', CHECKOUT, true],
      ['spiffe://prod.example/ns/payments/sa/checkout/**', CHECKOUT, true],
      ['spiffe://prod.example/**/checkout', CHECKOUT, true],
      ['spiffe://prod.example/**/sa', CHECKOUT, false],
      ['spiffe://prod.example/ns/payments/sa/check*', CHECKOUT, true],
      ['spiffe://prod.example/ns/payments/sa/*out', CHECKOUT, true],
      ['spiffe://prod.example/ns/payments/sa/cart*', CHECKOUT, false],
      ['spiffe://*/ns/payments/sa/checkout', CHECKOUT, true],
      ['spiffe://staging.example/**', CHECKOUT, false],
      ['**', CHECKOUT, true],
    ];
    it.each(globs)('glob %s on %s → %s', (glob, identity, selected) => {
      const m = make(policySet([policy('p', [selector(glob)], [rule('r', [fqdn('api.stripe.com')])])]));
      const d = m.decide(req({ identity, host: 'api.stripe.com' }));
      expect(d.reason).toBe(selected ? 'matched' : 'unknown-identity');
    });

    it('selects by registry labels; every label must hold; unregistered identities are unknown', () => {
      const workloads = [
        { identity: CHECKOUT, labels: { env: 'prod', team: 'payments' } },
        { identity: 'spiffe://prod.example/ns/search/sa/api', labels: { env: 'prod', team: 'search' } },
      ];
      const set = policySet(
        [
          policy(
            'prod-payments',
            [selector(undefined, { env: 'prod', team: 'payments' })],
            [rule('r', [fqdn('a.com')])],
          ),
        ],
        workloads,
      );
      const m = make(set);
      expect(m.decide(req({ host: 'a.com' })).reason).toBe('matched');
      expect(
        m.decide(req({ identity: 'spiffe://prod.example/ns/search/sa/api', host: 'a.com' })).reason,
      ).toBe('unknown-identity');
      expect(m.decide(req({ identity: 'spiffe://nowhere/x', host: 'a.com' })).reason).toBe(
        'unknown-identity',
      );
    });

    it('needs both the identity pattern and the labels when a selector has both', () => {
      const workloads = [
        { identity: CHECKOUT, labels: { env: 'prod' } },
        { identity: 'spiffe://prod.example/ns/payments/sa/refunds', labels: { env: 'dev' } },
      ];
      const set = policySet(
        [
          policy(
            'p',
            [selector('spiffe://prod.example/ns/payments/sa/*', { env: 'prod' })],
            [rule('r', [fqdn('a.com')])],
          ),
        ],
        workloads,
      );
      const m = make(set);
      expect(m.decide(req({ host: 'a.com' })).reason).toBe('matched');
      expect(
        m.decide(req({ identity: 'spiffe://prod.example/ns/payments/sa/refunds', host: 'a.com' })).reason,
      ).toBe('unknown-identity');
    });

    it('lets a selector with neither identity nor labels select nothing', () => {
      const m = make(policySet([policy('p', [selector(undefined, {})], [rule('r', [fqdn('a.com')])])]));
      expect(m.decide(req({ host: 'a.com' })).reason).toBe('unknown-identity');
    });
  });

  describe(`${name}: destinations`, () => {
    const names: [string, string, boolean][] = [
      ['api.stripe.com', 'api.stripe.com', true],
      ['api.stripe.com', 'x.api.stripe.com', false],
      ['*.stripe.network', 'm.stripe.network', true],
      ['*.stripe.network', 'a.b.stripe.network', false],
      ['*.stripe.network', 'stripe.network', false],
      ['*.stripe.network', 'mstripe.network', false],
      ['**.example.com', 'a.example.com', true],
      ['**.example.com', 'a.b.c.example.com', true],
      ['**.example.com', 'example.com', false],
      ['**.example.com', 'badexample.com', false],
      ['**.com', 'anything.com', true],
    ];
    it.each(names)('fqdn %s on host %s → %s', (pattern, host, allowed) => {
      const d = one([rule('r', [fqdn(pattern)], { ports: [443] })]).decide(req({ host }));
      // On a miss the rule is still the nearest: its protocol and port matched.
      expectDecision(d, allowed, allowed ? 'matched' : 'no-match', 'r');
    });

    const addresses: [string, string, boolean][] = [
      ['10.0.0.0/8', '10.200.3.4', true],
      ['10.0.0.0/8', '11.0.0.1', false],
      ['192.0.2.7/32', '192.0.2.7', true],
      ['0.0.0.0/0', '93.184.216.34', true],
      ['2001:db8::/32', '2001:db8:1::5', true],
      ['2001:db8::/32', '2001:db9::5', false],
      ['2001:db8::/32', '10.0.0.1', false],
      ['::/0', '2606:4700::1111', true],
      ['::/0', '8.8.8.8', false],
      ['0.0.0.0/0', '2606:4700::1111', false],
    ];
    it.each(addresses)('cidr %s on %s → %s', (c, ip, allowed) => {
      const d = one([rule('r', [cidr(c)])]).decide(req({ ip }));
      expect(d.allow).toBe(allowed);
    });

    it('matches fqdn rules by name only and address rules by address only', () => {
      const m = one([rule('name', [fqdn('api.stripe.com')]), rule('net', [cidr('10.0.0.0/8')])]);
      expectDecision(m.decide(req({ host: 'api.stripe.com', ip: '203.0.113.9' })), true, 'matched', 'name');
      expectDecision(m.decide(req({ host: 'evil.example', ip: '10.1.1.1' })), true, 'matched', 'net');
      expectDecision(m.decide(req({ host: '10.1.1.1' })), false, 'no-match', 'name');
      expectDecision(m.decide(req({ ip: '10.1.1.1' })), true, 'matched', 'net');
    });

    it('matches prefix lists and groups by the CIDRs they resolve to', () => {
      const set = policySet([
        policy('p', [selector(CHECKOUT)], [rule('pl', [prefixList('pl-123')]), rule('sg', [group('sg-9')])]),
      ]);
      const m = make(set, {
        prefixLists: new Map([['pl-123', ['198.51.100.0/24', '2001:db8:5::/48']]]),
        groups: new Map([['sg-9', ['172.16.4.10/32']]]),
      });
      expectDecision(m.decide(req({ ip: '198.51.100.77' })), true, 'matched', 'pl');
      expectDecision(m.decide(req({ ip: '2001:db8:5::1' })), true, 'matched', 'pl');
      expectDecision(m.decide(req({ ip: '172.16.4.10' })), true, 'matched', 'sg');
      expect(m.decide(req({ ip: '172.16.4.11' })).allow).toBe(false);
    });

    it('reports the first matching rule in policy order, then rule order', () => {
      const set = policySet([
        policy(
          'first',
          [selector(CHECKOUT)],
          [rule('a', [cidr('10.0.0.0/8')]), rule('b', [cidr('10.1.0.0/16')])],
        ),
        policy('second', [selector(CHECKOUT)], [rule('c', [cidr('10.1.2.0/24')])]),
      ]);
      const d = make(set).decide(req({ ip: '10.1.2.3' }));
      expect(d.matched).toMatchObject({ policy: 'first', ruleId: 'a' });
    });
  });

  describe(`${name}: protocols and ports`, () => {
    const cases: [string, readonly (number | readonly [number, number])[], string, number, boolean][] = [
      ['tcp', [443], 'tcp', 443, true],
      ['tcp', [443], 'tcp', 80, false],
      ['tcp', [443], 'udp', 443, false],
      ['tcp', [443], '6', 443, true],
      ['tcp', [[8000, 8100]], 'tcp', 8050, true],
      ['tcp', [[8000, 8100], 22], 'tcp', 22, true],
      ['tcp', [[8000, 8100], 22], 'tcp', 23, false],
      ['tcp', [], 'tcp', 1, true],
      ['udp', [53], 'udp', 53, true],
      ['udp', [53], '17', 53, true],
      ['-1', [443], 'udp', 9, true],
      ['-1', [], 'icmp', 0, true],
      ['icmp', [8], 'icmp', 3, true],
      ['icmp', [], 'icmpv6', 0, false],
      ['icmpv6', [], '58', 0, true],
      ['47', [], '47', 0, true],
      ['47', [], 'tcp', 443, false],
    ];
    it.each(cases)('rule %s %j, request %s/%d → %s', (protocol, ports, reqProto, port, allowed) => {
      const d = one([rule('r', [cidr('10.0.0.0/8')], { protocol, ports })]).decide(
        req({ ip: '10.0.0.1', protocol: reqProto, port }),
      );
      expect(d.allow).toBe(allowed);
      expect(d.reason).toBe(allowed ? 'matched' : 'no-match');
    });
  });

  describe(`${name}: expiry`, () => {
    it('never allows with an expired rule and says so, with owner and date', () => {
      const expires = NOW - 1;
      const d = one([rule('old', [fqdn('a.com')], { expires, owner: 'team-payments@example.com' })]).decide(
        req({ host: 'a.com' }),
      );
      expect(d).toMatchObject({ allow: false, mode: 'enforce', reason: 'expired' });
      expect(d.matched).toMatchObject({
        ruleId: 'old',
        owner: 'team-payments@example.com',
        expires: new Date(expires).toISOString().slice(0, 10),
        file: 'policies/test.yaml',
        line: 10,
        policy: 'payments',
      });
    });

    it('allows up to and including the expiry instant', () => {
      const d = one([rule('r', [fqdn('a.com')], { expires: NOW })]).decide(req({ host: 'a.com' }));
      expect(d.reason).toBe('matched');
    });

    it('prefers any unexpired match over an expired one', () => {
      const m = one([rule('old', [fqdn('a.com')], { expires: NOW - 1000 }), rule('new', [fqdn('**.com')])]);
      expectDecision(m.decide(req({ host: 'a.com' })), true, 'matched', 'new');
    });
  });

  describe(`${name}: nearest rule on no-match`, () => {
    it('prefers a rule whose destination matched over one whose port matched', () => {
      const m = one([
        rule('port-only', [fqdn('b.com')], { ports: [443] }),
        rule('dest-only', [fqdn('a.com')], { ports: [80] }),
      ]);
      expectDecision(m.decide(req({ host: 'a.com' })), false, 'no-match', 'dest-only');
    });
    it('falls back to a rule whose protocol and port matched', () => {
      const m = one([
        rule('udp', [fqdn('b.com')], { protocol: 'udp' }),
        rule('tcp', [fqdn('c.com')], { ports: [443] }),
      ]);
      expectDecision(m.decide(req({ host: 'a.com' })), false, 'no-match', 'tcp');
    });
    it('names no rule when none is near', () => {
      const m = one([rule('udp', [fqdn('b.com')], { protocol: 'udp' })]);
      expectDecision(m.decide(req({ host: 'a.com' })), false, 'no-match', undefined);
    });
  });

  describe(`${name}: report mode`, () => {
    it('allows what an all-report identity would be denied, keeping the deny reason', () => {
      const d = one([rule('r', [fqdn('a.com')])], 'report').decide(req({ host: 'b.com' }));
      expect(d).toMatchObject({ allow: true, mode: 'report', reason: 'no-match' });
    });
    it('keeps the expired reason in report mode', () => {
      const d = one([rule('r', [fqdn('a.com')], { expires: NOW - 5 })], 'report').decide(
        req({ host: 'a.com' }),
      );
      expect(d).toMatchObject({ allow: true, mode: 'report', reason: 'expired' });
    });
    it('reports mode report on an allow by a report policy', () => {
      const d = one([rule('r', [fqdn('a.com')])], 'report').decide(req({ host: 'a.com' }));
      expect(d).toMatchObject({ allow: true, mode: 'report', reason: 'matched' });
    });
    it('lets an enforcing policy’s denial stand', () => {
      const set = policySet([
        policy('dry', [selector(CHECKOUT)], [rule('r', [fqdn('a.com')])], 'report'),
        policy('live', [selector(CHECKOUT)], [rule('s', [fqdn('b.com')])], 'enforce'),
      ]);
      const m = make(set);
      expect(m.decide(req({ host: 'c.com' }))).toMatchObject({
        allow: false,
        mode: 'enforce',
        reason: 'no-match',
      });
      expect(m.decide(req({ host: 'a.com' }))).toMatchObject({
        allow: true,
        mode: 'report',
        reason: 'matched',
      });
      expect(m.decide(req({ host: 'b.com' }))).toMatchObject({
        allow: true,
        mode: 'enforce',
        reason: 'matched',
      });
    });
    it('does not dry-run guardrails', () => {
      const d = one([rule('r', [fqdn('a.com')])], 'report').decide(
        req({ host: 'a.com', ip: '169.254.169.254' }),
      );
      expect(d).toMatchObject({ allow: false, mode: 'enforce', reason: 'guardrail' });
    });
  });

  describe(`${name}: guardrails`, () => {
    const blocked: [string, string][] = [
      ['127.0.0.1', '127.0.0.0/8 loopback'],
      ['169.254.169.254', '169.254.169.254/32 cloud metadata (IMDS)'],
      ['169.254.10.1', '169.254.0.0/16 link-local'],
      ['0.0.0.0', '0.0.0.0/8 unspecified / this network'],
      ['239.1.2.3', '224.0.0.0/4 multicast'],
      ['255.255.255.255', '255.255.255.255/32 broadcast'],
      ['::1', '::1/128 loopback'],
      ['::', '::/128 unspecified'],
      ['fe80::1', 'fe80::/10 link-local'],
      ['ff02::1', 'ff00::/8 multicast'],
      ['fd00:ec2::254', 'fd00:ec2::254/128 cloud metadata (IMDS, IPv6)'],
      ['::ffff:127.0.0.1', '::ffff:7f00:0/104 loopback 127.0.0.0/8 as IPv4-mapped'],
      ['::ffff:a9fe:a9fe', '::ffff:a9fe:a9fe/128 cloud metadata (IMDS) 169.254.169.254/32 as IPv4-mapped'],
      ['::ffff:0:127.0.0.1', '::ffff:0:7f00:0/104 loopback 127.0.0.0/8 as IPv4-translated'],
      ['::127.0.0.1', '::7f00:0/104 loopback 127.0.0.0/8 as IPv4-compatible'],
      ['64:ff9b::a9fe:a9fe', '64:ff9b::a9fe:a9fe/128 cloud metadata (IMDS) 169.254.169.254/32 as NAT64'],
      [
        '64:ff9b:1:a9fe:a9:fe00::',
        '64:ff9b:1::/48 cloud metadata (IMDS) 169.254.169.254/32 as NAT64 local-use',
      ],
      ['2002:7f00:1::', '2002:7f00::/24 loopback 127.0.0.0/8 as 6to4'],
      ['2002:a9fe:a9fe::1', '2002:a9fe:a9fe::/48 cloud metadata (IMDS) 169.254.169.254/32 as 6to4'],
      // Teredo, client 127.0.0.1 stored inverted: ~0x7f000001 = 0x80fffffe.
      ['2001:0:4136:e378:8000:63bf:80ff:fffe', '2001::/32 loopback 127.0.0.0/8 as Teredo client'],
      ['2001:0:a9fe:a9fe::f7f7:f7f7', '2001::/32 cloud metadata (IMDS) 169.254.169.254/32 as Teredo server'],
    ];
    it.each(blocked)('denies %s (%s) even with an allow-all rule and a matching name', (ip, text) => {
      const m = one([
        rule('name', [fqdn('rebind.example')], { protocol: '-1' }),
        rule('all4', [cidr('0.0.0.0/0')], { protocol: '-1' }),
        rule('all6', [cidr('::/0')], { protocol: '-1' }),
      ]);
      const d = m.decide(req({ host: 'rebind.example', ip }));
      expect(d).toMatchObject({ allow: false, mode: 'enforce', reason: 'guardrail', guardrail: text });
      expect(d.matched?.ruleId).toBe('name');
    });

    const passes = [
      '8.8.8.8',
      '10.0.0.1',
      '::ffff:8.8.8.8',
      '2002:808:808::',
      '64:ff9b::808:808',
      '2001:db8::1',
    ];
    it.each(passes)('lets %s through to an allow-all rule', (ip) => {
      const m = one([
        rule('all4', [cidr('0.0.0.0/0')], { protocol: '-1' }),
        rule('all6', [cidr('::/0')], { protocol: '-1' }),
      ]);
      expect(m.decide(req({ ip })).reason).toBe('matched');
    });

    it('yields only to a rule naming the hit range or a part of it', () => {
      const m = one([
        rule('linklocal', [cidr('169.254.0.0/16')]),
        rule('imds', [cidr('169.254.169.254/32')], { ports: [80] }),
        rule('lo', [cidr('127.0.0.1/32')]),
      ]);
      expectDecision(m.decide(req({ ip: '169.254.1.1' })), true, 'matched', 'linklocal');
      expectDecision(m.decide(req({ ip: '169.254.169.254' })), false, 'guardrail', 'linklocal');
      expectDecision(m.decide(req({ ip: '169.254.169.254', port: 80 })), true, 'matched', 'imds');
      expectDecision(m.decide(req({ ip: '127.0.0.1' })), true, 'matched', 'lo');
      expectDecision(m.decide(req({ ip: '127.0.0.2' })), false, 'guardrail', undefined);
    });

    it('needs the IPv6 form named for an embedded address', () => {
      const m = one([
        rule('v4', [cidr('127.0.0.0/8')]),
        rule('mapped', [cidr('::ffff:7f00:0/104')], { ports: [80] }),
      ]);
      expectDecision(m.decide(req({ ip: '::ffff:127.0.0.1' })), false, 'guardrail', undefined);
      expectDecision(m.decide(req({ ip: '::ffff:127.0.0.1', port: 80 })), true, 'matched', 'mapped');
    });

    it('keeps the guardrail reason when the explicit rule has expired', () => {
      const m = one([rule('lo', [cidr('127.0.0.0/8')], { expires: NOW - 1 })]);
      expect(m.decide(req({ ip: '127.0.0.1' })).reason).toBe('guardrail');
    });
  });

  describe(`${name}: errors deny`, () => {
    const m = one([rule('all', [cidr('0.0.0.0/0'), fqdn('**.com')], { protocol: '-1' })]);
    const bad: [string, Partial<DecisionRequest>][] = [
      ['bad ip', { ip: '10.0.0.256' }],
      ['leading-zero ip', { ip: '010.0.0.1' }],
      ['ip with zone', { ip: 'fe80::1%eth0' }],
      ['bad protocol', { ip: '10.0.0.1', protocol: 'sctp' }],
      ['protocol -1 in a request', { ip: '10.0.0.1', protocol: '-1' }],
      ['port out of range', { ip: '10.0.0.1', port: 70000 }],
      ['fractional port', { ip: '10.0.0.1', port: 1.5 }],
      ['no destination', {}],
    ];
    it.each(bad)('%s → error', (_label, over) => {
      expect(m.decide(req(over))).toMatchObject({ allow: false, mode: 'enforce', reason: 'error' });
    });
    it('ignores the port of an icmp request', () => {
      expect(m.decide(req({ ip: '10.0.0.1', protocol: 'icmp', port: -1 })).reason).toBe('matched');
    });
    it('denies a request that is not a request', () => {
      expect(m.decide(null as unknown as DecisionRequest)).toMatchObject({ allow: false, reason: 'error' });
      expect(m.decide({ identity: 42 } as unknown as DecisionRequest)).toMatchObject({
        allow: false,
        reason: 'error',
      });
    });
  });
}
