import { describe, expect, it } from 'vitest';
import type { SecurityGroupRule } from '../../model/index.js';
import {
  expiryFlags,
  groupRulePorts,
  limitQuery,
  madeByPolicy,
  portsText,
  textQuery,
} from './inventory-format.js';

const DAY = 86_400_000;
const now = Date.parse('2026-12-08T00:00:00Z');

const rule = (over: Partial<SecurityGroupRule>): SecurityGroupRule => ({
  ruleId: 'sgr-1',
  groupId: 'sg-1',
  groupOwnerId: '123456789012',
  direction: 'egress',
  ipProtocol: 'tcp',
  fromPort: 443,
  toPort: 443,
  target: { kind: 'ipv4', cidr: '10.0.0.0/8' },
  tags: [],
  ...over,
});

describe('inventory format', () => {
  it.each([
    [undefined, {}],
    [now - 1, { expired: true, expiring: false }],
    [now, { expired: true, expiring: false }],
    [now + 30 * DAY, { expired: false, expiring: true }],
    [now + 30 * DAY + 1, { expired: false, expiring: false }],
  ])('expiry %s → %j', (expires, flags) => {
    expect(expiryFlags(expires, now)).toMatchObject(flags);
  });

  it('writes ports as people do', () => {
    expect(portsText([])).toEqual(['all']);
    expect(
      portsText([
        { from: 443, to: 443 },
        { from: 8000, to: 8100 },
      ]),
    ).toEqual(['443', '8000-8100']);
    expect(groupRulePorts(rule({}))).toBe('443');
    expect(groupRulePorts(rule({ fromPort: 1, toPort: 65535 }))).toBe('1-65535');
    expect(groupRulePorts(rule({ ipProtocol: '-1', fromPort: -1, toPort: -1 }))).toBe('all');
    expect(groupRulePorts(rule({ ipProtocol: 'icmp', fromPort: 8, toPort: 0 }))).toBe('all');
  });

  it('finds the policy rule that made a group rule only when both origin tags are there', () => {
    expect(madeByPolicy(rule({}))).toBeUndefined();
    expect(madeByPolicy(rule({ tags: [{ key: 'weir:policy', value: 'p' }] }))).toBeUndefined();
    expect(
      madeByPolicy(
        rule({
          tags: [
            { key: 'weir:policy', value: 'p' },
            { key: 'weir:rule-id', value: 'r' },
          ],
        }),
      ),
    ).toEqual({ policy: 'p', ruleId: 'r' });
  });

  it('bounds limit and text, naming the parameter', () => {
    expect(limitQuery({}, 'Op', 10, 100)).toBe(10);
    expect(limitQuery({ limit: '100' }, 'Op', 10, 100)).toBe(100);
    for (const bad of ['0', '101', '-1', '1e2', ' 5', '99999999']) {
      expect(() => limitQuery({ limit: bad }, 'Op', 10, 100), bad).toThrow(/Op: 'limit' must be/);
    }
    expect(textQuery({ q: '' }, 'q', 'Op')).toBeUndefined();
    expect(textQuery({ q: 'stripe' }, 'q', 'Op')).toBe('stripe');
    expect(() => textQuery({ q: 'a\u0000b' }, 'q', 'Op')).toThrow(/'q'/);
    expect(() => textQuery({ q: 'x'.repeat(257) }, 'q', 'Op')).toThrow(/at most 256/);
  });
});
