/**
 * @module engine/grants.test — grants on top of a composed snapshot: asked only when the policy
 * set denies, only inside `from`/`until`, guardrails as for rules (property, against a rule with
 * the same destinations), break-glass `everything` never opening link-local or metadata.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalIpv4Cidr, canonicalIpv6Cidr, parseAddress } from '../model/index.js';
import type { Grant, PolicyRule } from '../policy-types/index.js';
import { compilePolicySet } from './compile.js';
import { GrantedSnapshot, compileGrants, liveGrants, nextGrantBoundary, withGrants } from './grants.js';
import { NOW, cidr, fqdn, policy, policySet, req, rule, selector } from './matcher.suite.js';
import type { RuleDraft } from './matcher.suite.js';

const ID = 'spiffe://prod.example/ns/payments/sa/checkout';
const OTHER = 'spiffe://prod.example/ns/search/sa/api';
const HOUR = 3_600_000;

const base = compilePolicySet(
  policySet([
    policy('payments', [selector(ID), selector(OTHER)], [rule('stripe', [fqdn('api.stripe.com')])]),
  ]),
);

function grantRules(kind: string, id: string, drafts: readonly RuleDraft[]): PolicyRule[] {
  return drafts.map((d) => ({ ...d, id, policy: `${kind}/${id}` }));
}

function grant(over: Partial<Grant> & { drafts?: readonly RuleDraft[] } = {}): Grant {
  const kind = over.kind ?? 'exception';
  const id = over.id ?? 'exc-1';
  const { drafts, ...rest } = over;
  return {
    kind,
    id,
    identity: ID,
    rules: grantRules(kind, id, drafts ?? [rule('x', [fqdn('files.example.org')])]),
    everything: false,
    from: NOW - HOUR,
    until: NOW + HOUR,
    requester: 'dev@example.com',
    approver: 'lead@example.com',
    reason: 'migrate the bucket',
    expires: NOW + HOUR,
    ...rest,
  };
}

const at = (snap: ReturnType<typeof withGrants>, over: Parameters<typeof req>[0]) => snap.decide(req(over));

describe('grants on a snapshot', () => {
  it('allows what the policy set denies, as an exception naming the grant', () => {
    const snap = withGrants(base, compileGrants([grant()]));
    const d = at(snap, { host: 'files.example.org', ip: '192.0.2.10' });
    expect(d).toMatchObject({ allow: true, mode: 'enforce', reason: 'exception' });
    expect(d.grant).toEqual({
      kind: 'exception',
      id: 'exc-1',
      requester: 'dev@example.com',
      approver: 'lead@example.com',
      reason: 'migrate the bucket',
      expires: new Date(NOW + HOUR).toISOString(),
    });
    expect(d.matched?.policy).toBe('exception/exc-1');
    expect(snap.explain(req({ host: 'files.example.org', ip: '192.0.2.10' })).decision.grant?.id).toBe(
      'exc-1',
    );
  });

  it('lets an allowing rule win and name the rule', () => {
    const snap = withGrants(base, compileGrants([grant({ drafts: [rule('x', [fqdn('api.stripe.com')])] })]));
    const d = at(snap, { host: 'api.stripe.com', ip: '192.0.2.10' });
    expect(d).toMatchObject({
      allow: true,
      reason: 'matched',
      matched: { policy: 'payments', ruleId: 'stripe' },
    });
    expect(d.grant).toBeUndefined();
  });

  it.each([
    ['before from', NOW + HOUR, NOW + 2 * HOUR, NOW],
    ['at until', NOW - HOUR, NOW, NOW],
    ['after until', NOW - 2 * HOUR, NOW - HOUR, NOW],
  ])('denies %s', (_l, from, until, now) => {
    const snap = withGrants(base, compileGrants([grant({ from, until })]));
    const d = at(snap, { host: 'files.example.org', ip: '192.0.2.10', now });
    expect(d).toMatchObject({ allow: false, reason: 'no-match' });
    expect(d.grant).toBeUndefined();
  });

  it('allows from `from` on, inclusive', () => {
    const snap = withGrants(base, compileGrants([grant({ from: NOW, until: NOW + 1 })]));
    expect(at(snap, { host: 'files.example.org', ip: '192.0.2.10' }).allow).toBe(true);
  });

  it("is asked only for its identity; other identities' decisions are the base's own objects", () => {
    const snap = withGrants(base, compileGrants([grant()]));
    expect(at(snap, { identity: OTHER, host: 'files.example.org', ip: '192.0.2.10' }).allow).toBe(false);
    const r = req({ identity: OTHER, host: 'api.stripe.com', ip: '192.0.2.10' });
    expect(snap.decide(r)).toBe(base.decide(r));
  });

  it('is the base snapshot itself when there are no grants', () => {
    expect(withGrants(base, compileGrants([]))).toBe(base);
  });

  it('keeps guardrails for a grant rule as for a policy rule (0.0.0.0/0 never opens IMDS)', () => {
    const snap = withGrants(base, compileGrants([grant({ drafts: [rule('x', [cidr('0.0.0.0/0')])] })]));
    expect(at(snap, { ip: '192.0.2.10' }).reason).toBe('exception');
    expect(at(snap, { ip: '169.254.169.254' })).toMatchObject({ allow: false, reason: 'guardrail' });
    expect(at(snap, { ip: '127.0.0.1' })).toMatchObject({ allow: false, reason: 'guardrail' });
  });

  it('returns frozen decisions shared across calls', () => {
    const snap = withGrants(base, compileGrants([grant()]));
    const a = at(snap, { host: 'files.example.org', ip: '192.0.2.10' });
    expect(Object.isFrozen(a)).toBe(true);
    expect(at(snap, { host: 'files.example.org', ip: '192.0.2.11' })).toBe(a);
    expect(snap.decide(req({ host: 'files.example.org', ip: '192.0.2.11' }), true).evalNs).toBeGreaterThan(0);
  });

  it('decides alike with a pre-parsed address', () => {
    const snap = withGrants(base, compileGrants([grant({ drafts: [rule('x', [cidr('192.0.2.0/24')])] })]));
    const r = req({ ip: '192.0.2.10' });
    expect(snap.decideParsed(r, parseAddress('192.0.2.10'))).toBe(snap.decide(r));
  });
});

describe('break-glass with everything', () => {
  const bg = grant({ kind: 'breakglass', id: 'bg-1', everything: true, rules: [] });
  const { approver: _none, ...noApprover } = bg;
  const snap = withGrants(base, compileGrants([noApprover]));

  it('allows any ordinary destination with reason breakglass', () => {
    const d = at(snap, { host: 'anything.example.net', ip: '198.51.100.7', port: 5432 });
    expect(d).toMatchObject({ allow: true, reason: 'breakglass', grant: { kind: 'breakglass', id: 'bg-1' } });
    expect(d.grant?.approver).toBeUndefined();
  });

  it.each([
    '169.254.169.254',
    '169.254.1.1',
    'fd00:ec2::254',
    'fe80::1',
    '::ffff:169.254.169.254',
    '64:ff9b::a9fe:a9fe',
  ])('still denies %s (link-local, metadata and their IPv6 forms)', (ip) => {
    expect(at(snap, { ip })).toMatchObject({ allow: false, reason: 'guardrail' });
    expect(snap.decideParsed(req({ ip }), parseAddress(ip)).allow).toBe(false);
  });

  it('may pass the other guardrails (loopback)', () => {
    expect(at(snap, { ip: '127.0.0.1' }).reason).toBe('breakglass');
  });

  it('denies after until', () => {
    expect(at(snap, { ip: '198.51.100.7', now: NOW + HOUR }).allow).toBe(false);
  });
});

describe('grant refs', () => {
  it('names an expiry past what a Date holds without throwing', () => {
    const g = grant({ expires: Number.MAX_VALUE });
    expect([...compileGrants([g]).values()][0]?.[0]?.ref.expires).toBe(String(Number.MAX_VALUE));
  });
});

describe('grant timing helpers', () => {
  const grants = compileGrants([
    grant({ id: 'a', from: NOW + 10, until: NOW + 50 }),
    grant({ id: 'b', from: NOW - 10, until: NOW + 20 }),
  ]);
  it('finds the nearest future from or until', () => {
    expect(nextGrantBoundary(grants, NOW)).toBe(NOW + 10);
    expect(nextGrantBoundary(grants, NOW + 10)).toBe(NOW + 20);
    expect(nextGrantBoundary(grants, NOW + 50)).toBe(Infinity);
  });
  it('drops grants past until', () => {
    expect([...liveGrants(grants, NOW + 20).values()].flat().map((c) => c.grant.id)).toEqual(['a']);
    expect(liveGrants(grants, NOW + 50).size).toBe(0);
  });
});

const V4 = [
  '169.254.169.254',
  '169.254.1.1',
  '127.0.0.1',
  '0.0.0.0',
  '224.0.0.5',
  '255.255.255.255',
  '192.0.2.200',
];
const V6 = [
  'fd00:ec2::254',
  'fe80::1',
  '::1',
  '::ffff:a9fe:a9fe',
  '64:ff9b::a9fe:a9fe',
  '2002:a9fe:a9fe::',
  '2001:db8::1',
];
const v4Cidr = fc
  .tuple(fc.constantFrom(...V4), fc.integer({ min: 0, max: 32 }))
  .map(([a, l]) => canonicalIpv4Cidr(`${a}/${l}`));
const v6Cidr = fc
  .tuple(fc.constantFrom(...V6), fc.integer({ min: 0, max: 128 }))
  .map(([a, l]) => canonicalIpv6Cidr(`${a}/${l}`));

describe('property: a grant opens no guarded address a rule could not', () => {
  it('allows exactly where a policy rule with the same destinations would', () => {
    const nothing = compilePolicySet(policySet([policy('p', [selector(ID)], [])]));
    fc.assert(
      fc.property(
        fc.array(fc.oneof(v4Cidr, v6Cidr), { minLength: 1, maxLength: 3 }),
        fc.oneof(
          fc.constantFrom(...V4, ...V6),
          fc
            .tuple(fc.constantFrom(...V4), fc.integer({ min: 0, max: 255 }))
            .map(([a, o]) => a.replace(/\d+$/, `${o}`)),
        ),
        (cidrs, ip) => {
          const drafts = [rule('x', cidrs.map(cidr))];
          const asRule = compilePolicySet(policySet([policy('p', [selector(ID)], drafts)]));
          const granted = new GrantedSnapshot(nothing, compileGrants([grant({ drafts })]));
          const r = req({ ip });
          expect(granted.decide(r).allow).toBe(asRule.decide(r).allow);
        },
      ),
      { numRuns: 400 },
    );
  });
});
