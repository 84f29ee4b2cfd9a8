/** @module cli/decisions.test — the request command a denied row of `weir decisions` carries. */
import { describe, expect, test } from 'vitest';
import type { DecisionRecord } from '../api/index.js';
import { withRequestCommand } from './decisions.js';

const ID = 'spiffe://test/ns/app/sa/web';
const row = (over: Partial<DecisionRecord>): DecisionRecord => ({
  seq: 1,
  at: '2026-06-01T00:00:00.000Z',
  decisionId: 'dec-1',
  decision: 'deny',
  identity: ID,
  src: '127.0.0.1:5000',
  protocol: 'connect',
  reason: 'no-match',
  port: 443,
  ...over,
});
const cmd = (to: string): string =>
  `weir exception request --identity ${ID} --to ${to} --reason '<why you need it>' --ttl 24h`;

describe('withRequestCommand', () => {
  test.each<[string, Partial<DecisionRecord>, string]>([
    [
      'a name, by name (not its address)',
      { host: 'api.example.com', ip: '198.51.100.7' },
      cmd('api.example.com:443'),
    ],
    ['an IPv4 literal', { host: '203.0.113.7', ip: '203.0.113.7' }, cmd('203.0.113.7:443')],
    [
      'an IPv6 literal, as the log spells it',
      { host: '[2001:db8::1]', ip: '2001:db8::1' },
      cmd("'[2001:db8::1]:443'"),
    ],
  ])('%s', (_, over, expected) => {
    expect(withRequestCommand(row(over)).exceptionRequest).toBe(expected);
  });

  const { identity: _, ...anonymous } = row({ reason: 'no-identity', host: 'a.example' });
  test.each<[string, DecisionRecord]>([
    ['an allow', row({ decision: 'allow', reason: 'matched', host: 'api.example.com' })],
    ['a guardrail denial', row({ reason: 'guardrail', host: '169.254.169.254', ip: '169.254.169.254' })],
    ['a refusal before a decision (no identity)', anonymous],
    ['a denial without a destination', row({})],
  ])('none for %s', (_, r) => {
    expect(withRequestCommand(r)).not.toHaveProperty('exceptionRequest');
  });
});
