/**
 * @module gateway/outcome-metrics.test — the enforcement gauges read at scrape time: expired and
 * wildcard rules, grants in force and ended (a counter advanced to the source's totals), and the
 * change-to-enforcement histogram.
 */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { cidr, fqdn, rule } from '../engine/matcher.suite.js';
import type { PolicyRule } from '../policy-types/index.js';
import { createEnforcementMetrics } from './outcome-metrics.js';

const NOW = Date.UTC(2026, 11, 8);
const rules: PolicyRule[] = [
  { ...rule('a', [fqdn('*.example.com')]), policy: 'p' },
  { ...rule('b', [cidr('0.0.0.0/0'), fqdn('**.x.org')]), policy: 'p' },
  { ...rule('c', [fqdn('api.example.com')], { expires: NOW - 1 }), policy: 'p' },
  { ...rule('d', [cidr('10.0.0.0/8')], { expires: NOW + 1 }), policy: 'p' },
];

describe('enforcement metrics', () => {
  it('counts expired and wildcard rules, grants, and observes change-to-enforcement', async () => {
    const registry = new Registry();
    const ended = { exception: { expired: 2, withdrawn: 0 }, breakglass: { expired: 0, withdrawn: 1 } };
    const m = createEnforcementMetrics(registry, {
      rules: () => rules,
      grants: () => ({ active: { exception: 3, breakglass: 1 }, ended }),
      now: () => NOW,
    });
    m.enforcementLag.observe({ change: 'grants' }, 0.02);
    let text = await registry.metrics();
    expect(text).toContain('weir_gateway_rules_expired 1');
    expect(text).toContain('weir_gateway_rules_wildcard{wildcard="name"} 2');
    expect(text).toContain('weir_gateway_rules_wildcard{wildcard="any-address"} 1');
    expect(text).toContain('weir_gateway_grants_active{kind="exception"} 3');
    expect(text).toContain('weir_gateway_grants_active{kind="breakglass"} 1');
    expect(text).toContain('weir_gateway_grants_ended_total{kind="exception",why="expired"} 2');
    expect(text).toContain('weir_gateway_grants_ended_total{kind="exception",why="withdrawn"} 0');
    expect(text).toContain('weir_gateway_policy_enforcement_seconds_count{change="grants"} 1');
    ended.exception.expired = 5;
    text = await registry.metrics();
    expect(text).toContain('weir_gateway_grants_ended_total{kind="exception",why="expired"} 5');
    expect(text).toContain('weir_gateway_grants_ended_total{kind="breakglass",why="withdrawn"} 1');
  });
});
