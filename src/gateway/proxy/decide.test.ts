/**
 * @module gateway/proxy/decide.test — the decision for one request alone, with a compiled
 * snapshot and a stub resolver: no sockets, no gateway.
 */
import { describe, expect, test } from 'vitest';
import { compilePolicySet } from '../../engine/index.js';
import { NOW, cidr, fqdn, policy, policySet, rule, selector } from '../../engine/matcher.suite.js';
import type { LogEntry } from '../decision-line.js';
import { parseAuthority } from '../host.js';
import type { Authority } from '../host.js';
import { decideLiteral, decideTarget } from './decide.js';
import type { DecisionEnv } from './decide.js';

const ID = 'spiffe://prod.example/ns/payments/sa/checkout';
const snapshot = compilePolicySet(
  policySet([
    policy(
      'payments',
      [selector(ID)],
      [
        rule('api-by-name', [fqdn('api.example.com')], { ports: [443] }),
        rule('partner-range', [cidr('203.0.113.0/24')], { ports: [443] }),
      ],
    ),
  ]),
);

function target(text: string): Authority {
  const t = parseAuthority(text);
  if (!t.ok) throw new Error(t.problem);
  return t.value;
}

function entry(): LogEntry {
  return { decisionId: 'd1', at: new Date(NOW).toISOString(), src: '10.0.0.9:40000', protocol: 'connect' };
}

/** A resolver answering from a table (a missing name fails as `ENOTFOUND`), counting lookups. */
function env(answers: Record<string, string[]>): DecisionEnv & { lookups: string[]; observed: number } {
  const e = {
    lookups: [] as string[],
    observed: 0,
    now: () => NOW,
    resolve: (host: string): Promise<string[]> => {
      e.lookups.push(host);
      const a = answers[host];
      if (a !== undefined) return Promise.resolve(a);
      return Promise.reject(Object.assign(new Error(`no ${host}`), { code: 'ENOTFOUND' }));
    },
    dnsLookup: { observe: () => void e.observed++ },
  };
  return e;
}

describe('decideTarget', () => {
  test('a name resolving to an allowed and a guardrail address: only the allowed one is returned', async () => {
    const e = env({ 'api.example.com': ['169.254.169.254', '198.51.100.7'] });
    const line = entry();
    const allowed = await decideTarget(line, snapshot, ID, target('api.example.com:443'), e);
    expect(allowed).toEqual(['198.51.100.7']);
    expect(e.lookups).toEqual(['api.example.com']);
    expect(e.observed).toBe(1);
    expect(line).toMatchObject({
      snapshot: snapshot.version,
      decision: 'allow',
      reason: 'matched',
      policyName: 'payments',
      ruleId: 'api-by-name',
    });
    expect(line.guardrail).toBeUndefined();
  });

  test('a name resolving only to guardrail addresses is refused with 403 and the guardrail shown', async () => {
    const e = env({ 'api.example.com': ['127.0.0.1', '169.254.169.254'] });
    const line = entry();
    const refused = await decideTarget(line, snapshot, ID, target('api.example.com:443'), e);
    expect(refused).toMatchObject({ status: 403, reason: 'guardrail', text: 'Denied by Weir: guardrail.' });
    expect(line).toMatchObject({ decision: 'deny', reason: 'guardrail', ip: '127.0.0.1' });
    expect(line.guardrail).toMatch(/^127\.0\.0\.0\/8 /);
  });

  test('allowed addresses keep the resolver order, once each, in canonical text', async () => {
    const e = env({ 'api.example.com': ['198.51.100.9', '2001:DB8::1', '198.51.100.9', '198.51.100.2'] });
    const allowed = await decideTarget(entry(), snapshot, ID, target('api.example.com:443'), e);
    expect(allowed).toEqual(['198.51.100.9', '2001:db8::1', '198.51.100.2']);
  });

  test('an IP literal is decided without a lookup (and without a promise by decideLiteral)', async () => {
    const e = env({});
    const to = target('203.0.113.5:443');
    const line = entry();
    expect(decideLiteral(line, snapshot, ID, to, '203.0.113.5', e)).toEqual(['203.0.113.5']);
    expect(line).toMatchObject({ snapshot: snapshot.version, decision: 'allow', ruleId: 'partner-range' });
    expect(await decideTarget(entry(), snapshot, ID, to, e)).toEqual(['203.0.113.5']);
    const denied = entry();
    expect(decideLiteral(denied, snapshot, ID, target('192.0.2.1:443'), '192.0.2.1', e)).toMatchObject({
      status: 403,
      reason: 'no-match',
    });
    expect(denied).toMatchObject({ decision: 'deny', ip: '192.0.2.1' });
    expect(e.lookups).toEqual([]);
  });

  test('a resolver failure is a 502 dns-failure naming its code; the snapshot is still on the line', async () => {
    const e = env({});
    const line = entry();
    const refused = await decideTarget(line, snapshot, ID, target('gone.example.com:443'), e);
    expect(refused).toEqual({
      status: 502,
      reason: 'dns-failure',
      text: 'Cannot resolve gone.example.com (ENOTFOUND).',
    });
    expect(line.snapshot).toBe(snapshot.version);
    expect(line.decision).toBeUndefined();
    expect(e.observed).toBe(1);
  });

  test('an answer with no address, or one that is not strictly an address, is never connected to', async () => {
    const e = env({ 'empty.example.com': [], 'odd.example.com': ['198.51.100.7', '0x7f.1'] });
    for (const host of ['empty.example.com', 'odd.example.com']) {
      expect(await decideTarget(entry(), snapshot, ID, target(`${host}:443`), e)).toEqual({
        status: 502,
        reason: 'dns-failure',
        text: `${host} has no usable address.`,
      });
    }
  });
});
