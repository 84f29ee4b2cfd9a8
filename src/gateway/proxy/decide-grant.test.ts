/**
 * @module gateway/proxy/decide-grant.test — a request a grant allowed is an `allow` on the
 * decision line and names the grant; the recent-decisions ring and `weir decisions` keep it.
 */
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { compileGrants, compilePolicySet, withGrants } from '../../engine/index.js';
import { NOW, policySet } from '../../engine/matcher.suite.js';
import type { Grant } from '../../policy-types/index.js';
import { createDecisionLines } from '../decision-line.js';
import type { LogEntry } from '../decision-line.js';
import { parseAuthority } from '../host.js';
import { decideLiteral } from './decide.js';

const ID = 'spiffe://prod.example/ns/payments/sa/checkout';
const bg: Grant = {
  kind: 'breakglass',
  id: 'bg-9',
  identity: ID,
  rules: [],
  everything: true,
  from: NOW - 1,
  until: NOW + 60_000,
  requester: 'oncall@example.com',
  reason: 'database failover',
  expires: NOW + 60_000,
};
const snapshot = withGrants(compilePolicySet(policySet([])), compileGrants([bg]));

function decide(ip: string): LogEntry {
  const t = parseAuthority(`${ip}:5432`);
  if (!t.ok) throw new Error(t.problem);
  const entry: LogEntry = {
    decisionId: 'd1',
    at: new Date(NOW).toISOString(),
    src: '10.0.0.9:1',
    protocol: 'connect',
  };
  decideLiteral(entry, snapshot, ID, t.value, ip, { resolve: async () => [], now: () => NOW });
  return entry;
}

describe('decisions a grant allowed', () => {
  test('are allow with reason breakglass and the grant on the line', () => {
    const e = decide('198.51.100.7');
    expect(e).toMatchObject({
      decision: 'allow',
      reason: 'breakglass',
      grant: { id: 'bg-9', kind: 'breakglass' },
    });
    expect(e.policyName).toBe('breakglass/bg-9');
  });

  test('the metadata address stays denied and names no grant', () => {
    const e = decide('169.254.169.254');
    expect(e).toMatchObject({ decision: 'deny', reason: 'unknown-identity' });
    expect(e.grant).toBeUndefined();
  });

  test('the decision log line carries the grant as an object', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const w = createDecisionLines(pino({ level: 'info' }, sink));
    expect(w.direct).toBe(true);
    w.decision(decide('198.51.100.7'));
    const o = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(o.grant).toEqual({
      kind: 'breakglass',
      id: 'bg-9',
      requester: 'oncall@example.com',
      reason: 'database failover',
      expires: new Date(NOW + 60_000).toISOString(),
    });
  });
});
