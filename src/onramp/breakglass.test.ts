/**
 * @module onramp/breakglass.test — break-glass requests (destinations, reason, TTL cap), session
 * IDs, and the grants open sessions give the engine.
 */
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/index.js';
import type { BreakglassSession } from '../store/index.js';
import {
  breakglassGrant,
  checkBreakglassRequest,
  isBreakglassId,
  newBreakglassId,
  openBreakglassGrants,
  BREAKGLASS_DEFAULT_MAX_TTL_MS,
} from './breakglass.js';
import { parseBreakglassDestination } from './breakglass-dest.js';

const ID = 'spiffe://prod.example/ns/payments/sa/checkout';

describe('parseBreakglassDestination', () => {
  it.each([
    ['api.stripe.com:443', 'api.stripe.com:443/tcp'],
    ['API.Stripe.com', 'api.stripe.com'],
    ['dns.example/udp', 'dns.example/udp'],
    ['10.1.2.3:5432', '10.1.2.3/32:5432/tcp'],
    ['10.0.0.0/8:5432', '10.0.0.0/8:5432/tcp'],
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['[2001:db8::/32]:443', '[2001:db8::/32]:443/tcp'],
    ['[2001:db8::1]:443/udp', '[2001:db8::1/128]:443/udp'],
    ['pl-0123456789abcdef0', 'pl-0123456789abcdef0'],
  ])('%s is %s, and its canonical text parses to itself', (input, text) => {
    const d = parseBreakglassDestination(input);
    expect(d.ok && d.value.text).toBe(text);
    const again = parseBreakglassDestination(text);
    expect(again.ok && again.value).toEqual(d.ok && d.value);
  });

  it.each([
    ['*', /wildcard/],
    ['*.example.com:443', /wildcard/],
    ['169.254.169.254:80', /guardrail 169\.254\.169\.254\/32 cloud metadata/],
    ['169.254.0.0/16:80', /guardrail 169\.254\.0\.0\/16 link-local/],
    ['[fe80::/64]:443', /guardrail/],
    ['host:99999', /port/],
    ['host:443/icmp', /tcp or udp only/],
    ['host/nope', /unknown protocol/],
    ['pl-xyz', /not a prefix-list ID/],
    ['a b', /not a destination/],
    ['', /not a destination/],
  ])('%s is refused (%s)', (input, message) => {
    const d = parseBreakglassDestination(input);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.message).toMatch(message);
  });

  it('a CIDR that only overlaps a guardrail is accepted (the engine keeps that part closed)', () => {
    expect(parseBreakglassDestination('0.0.0.0/0:443').ok).toBe(true);
  });
});

describe('checkBreakglassRequest', () => {
  const req = (over: Partial<{ to: string[]; reason: string; ttl: string }> = {}) => ({
    identity: ID,
    to: ['api.stripe.com:443'],
    reason: 'INC-42 payments down',
    ttl: '30m',
    ...over,
  });

  it('accepts a request within the cap, dropping repeated destinations', () => {
    const r = checkBreakglassRequest(
      req({ to: ['api.stripe.com:443', 'API.stripe.com:443/tcp'] }),
      BREAKGLASS_DEFAULT_MAX_TTL_MS,
    );
    expect(r.ok && r.value.destinations.map((d) => d.text)).toEqual(['api.stripe.com:443/tcp']);
    expect(r.ok && r.value.ttlMs).toBe(1_800_000);
    expect(checkBreakglassRequest(req({ ttl: '1h' }), BREAKGLASS_DEFAULT_MAX_TTL_MS).ok).toBe(true);
  });

  it('refuses a TTL over the cap, naming the cap and that a session cannot be extended', () => {
    const r = checkBreakglassRequest(req({ ttl: '61m' }), BREAKGLASS_DEFAULT_MAX_TTL_MS);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.problem.field).toBe('ttl');
      expect(r.problem.message).toMatch(/61m is over this server's break-glass maximum of 1h/);
      expect(r.problem.message).toMatch(/cannot be extended/);
    }
    const r4 = checkBreakglassRequest(req({ ttl: '3h' }), 2 * 3_600_000);
    expect(!r4.ok && r4.problem.message).toMatch(/maximum of 2h/);
  });

  it.each([
    [{ ttl: '4s' }, 'ttl', /minimum of 5s/],
    [{ ttl: '1d' }, 'ttl', /no duration/],
    [{ ttl: '' }, 'ttl', /no duration/],
    [{ reason: '  ' }, 'reason', /say why/],
    [{ reason: 'a\nb' }, 'reason', /one line/],
    [{ to: ['169.254.169.254:80'] }, 'to', /guardrail/],
    [{ to: Array.from({ length: 33 }, (_, i) => `h${i}.example:443`) }, 'to', /at most 32/],
  ])('refuses %j (field %s)', (over, field, message) => {
    const r = checkBreakglassRequest(req(over), BREAKGLASS_DEFAULT_MAX_TTL_MS);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.problem.field).toBe(field);
      expect(r.problem.message).toMatch(message);
    }
  });
});

describe('session IDs', () => {
  it('are bg- and 17 hex digits, random', () => {
    const a = newBreakglassId();
    expect(a).toMatch(/^bg-[0-9a-f]{17}$/);
    expect(isBreakglassId(a)).toBe(true);
    expect(newBreakglassId()).not.toBe(a);
    expect(isBreakglassId('bg-123')).toBe(false);
  });
});

describe('grants', () => {
  const opened = new Date('2026-12-08T01:00:00.000Z');
  const session = (over: Partial<BreakglassSession> = {}): BreakglassSession => ({
    id: 'bg-0123456789abcdef0',
    identity: ID,
    destinations: ['api.stripe.com:443/tcp', '10.0.0.0/8'],
    reason: 'INC-42',
    principal: 'oncall@example.com',
    openedAt: opened,
    expires: new Date(opened.getTime() + 1_800_000),
    drill: false,
    ...over,
  });

  it('a session with destinations grants one rule per destination, under policy breakglass/<id>', () => {
    const g = breakglassGrant(session());
    expect(g).toMatchObject({
      id: 'bg-0123456789abcdef0',
      identity: ID,
      everything: false,
      from: opened.getTime(),
      until: opened.getTime() + 1_800_000,
      expires: opened.getTime() + 1_800_000,
      requester: 'oncall@example.com',
      reason: 'INC-42',
    });
    expect(g.rules.map((r) => [r.policy, r.id, r.destinations[0], r.ports, r.protocol, r.owner])).toEqual([
      [
        'breakglass/bg-0123456789abcdef0',
        'bg-0123456789abcdef0',
        expect.objectContaining({ kind: 'fqdn', name: 'api.stripe.com', match: 'exact' }),
        [{ from: 443, to: 443 }],
        'tcp',
        'oncall@example.com',
      ],
      [
        'breakglass/bg-0123456789abcdef0',
        'bg-0123456789abcdef0',
        expect.objectContaining({ kind: 'cidr', family: 4, cidr: '10.0.0.0/8' }),
        [],
        '-1',
        'oncall@example.com',
      ],
    ]);
  });

  it('a session without destinations grants everything (but the guardrails) and no rules', () => {
    const g = breakglassGrant(session({ destinations: [] }));
    expect(g.everything).toBe(true);
    expect(g.rules).toEqual([]);
  });

  it('openBreakglassGrants: open sessions only, never drills, closed or expired ones', async () => {
    const store = openSqliteStore({ file: ':memory:' });
    try {
      await store.transaction(undefined, async (tx) => {
        await tx.insertBreakglassSession(session({ id: 'bg-00000000000000001' }));
        await tx.insertBreakglassSession(session({ id: 'bg-00000000000000002', drill: true }));
        await tx.insertBreakglassSession(session({ id: 'bg-00000000000000003' }));
        await tx.closeBreakglassSession('bg-00000000000000003', { at: opened, by: 'x' });
        await tx.insertBreakglassSession(
          session({ id: 'bg-00000000000000004', expires: new Date(opened.getTime() + 1000) }),
        );
      });
      const at = new Date(opened.getTime() + 5000);
      const grants = await store.transaction(undefined, (tx) => openBreakglassGrants(tx, at), {
        readOnly: true,
      });
      expect(grants.map((g) => g.id)).toEqual(['bg-00000000000000001']);
    } finally {
      await store.close();
    }
  });
});
