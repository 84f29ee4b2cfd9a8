import { pino } from 'pino';
import type { LoggerOptions } from 'pino';
import { describe, expect, it } from 'vitest';
import { createDecisionLines } from './decision-line.js';
import type { ClosedRecord, LogEntry } from './decision-line.js';

/** A logger on an in-memory destination, with a fixed time so that two writes compare equal. */
function capture(extra: LoggerOptions = {}): { logger: pino.Logger; out: string[] } {
  const out: string[] = [];
  const logger = pino(
    {
      level: 'info',
      base: { service: 'weir', component: 'gateway' },
      timestamp: () => ',"time":1700000000000',
      ...extra,
    },
    { write: (s: string) => void out.push(s) },
  );
  return { logger, out };
}

const ALLOW: LogEntry = {
  decisionId: 'f3a1c2',
  at: '2026-11-23T17:00:00.000Z',
  src: '127.0.0.1:50512',
  protocol: 'connect',
  host: 'api.example.com',
  port: 443,
  identity: 'spiffe://prod.example/ns/payments/sa/checkout',
  identitySource: 'token',
  snapshot: 'policy-3+store-12',
  mode: 'enforce',
  reason: 'matched',
  evalNs: 2150,
  decision: 'allow',
  policy: 'policies/payments.yaml:12',
  policyName: 'payments-checkout',
  ruleId: 'stripe-api',
  securityGroupRuleId: 'sgr-0123456789abcdef0',
  ip: '192.0.2.10',
  connectMs: 1,
};

const ENTRIES: [string, LogEntry][] = [
  ['an allowed tunnel', ALLOW],
  [
    'a refusal before identity',
    {
      decisionId: 'a1',
      at: '2026-11-23T17:00:00.000Z',
      src: '[::1]:1',
      protocol: 'connect',
      status: 400,
      reason: 'malformed-request',
      decision: 'error',
    },
  ],
  [
    'a guardrail denial with SNI',
    {
      ...ALLOW,
      decision: 'deny',
      reason: 'guardrail',
      guardrail: '169.254.169.254/32 metadata',
      sni: 'evil.example',
      status: 403,
    },
  ],
  [
    'plain HTTP, reused and upgraded',
    { ...ALLOW, protocol: 'http', reused: true, upgrade: 'websocket', port: 80 },
  ],
  ['reused false', { ...ALLOW, protocol: 'http', reused: false }],
  [
    'strings that need escaping, non-ASCII and a non-finite number',
    {
      ...ALLOW,
      identity: 'spiffe://x/"q"\\b\n\t\u0000\u007f',
      host: 'bücher.example',
      policy: 'pol "a".yaml:1',
      evalNs: Number.NaN,
      connectMs: Number.POSITIVE_INFINITY,
    },
  ],
];

const CLOSED: [string, ClosedRecord][] = [
  [
    'a closed tunnel',
    {
      decisionId: 'f3a1c2',
      identity: 'spiffe://a/b',
      close: 'closed',
      bytesIn: 1,
      bytesOut: 65536,
      durationMs: 12,
    },
  ],
  [
    'no identity, an error reason',
    {
      decisionId: 'x',
      identity: undefined,
      close: 'upstream-error ECONNRESET',
      bytesIn: 0,
      bytesOut: 0,
      durationMs: 0,
    },
  ],
];

const parsed = (out: string[]): unknown[] => out.map((line) => JSON.parse(line) as unknown);

describe('decision lines', () => {
  it.each(ENTRIES)('write %s as pino would', (_name, entry) => {
    const direct = capture();
    const lines = createDecisionLines(direct.logger);
    expect(lines.direct).toBe(true);
    lines.decision(entry);
    const viaPino = capture();
    viaPino.logger.info(entry, 'decision');
    expect(direct.out).toHaveLength(1);
    const line = direct.out[0] ?? '';
    expect(line.endsWith('\n')).toBe(true);
    expect(line.indexOf('\n')).toBe(line.length - 1);
    expect(parsed(direct.out)).toEqual(parsed(viaPino.out));
  });

  it.each(CLOSED)('write %s as pino would', (_name, record) => {
    for (const msg of ['tunnel closed', 'request closed'] as const) {
      const direct = capture();
      createDecisionLines(direct.logger).closed(msg, record);
      const viaPino = capture();
      viaPino.logger.info(record, msg);
      expect(direct.out).toHaveLength(1);
      expect(parsed(direct.out)).toEqual(parsed(viaPino.out));
    }
  });

  it('carries the documented fields with their types, pino time and child bindings', () => {
    const out: string[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void out.push(s) }).child({
      node: 'gw-1',
    });
    const lines = createDecisionLines(logger);
    expect(lines.direct).toBe(true);
    lines.decision(ALLOW);
    lines.closed('tunnel closed', {
      decisionId: ALLOW.decisionId,
      identity: ALLOW.identity,
      close: 'closed',
      bytesIn: 3,
      bytesOut: 4,
      durationMs: 5,
    });
    const [decision, closed] = parsed(out) as Record<string, unknown>[];
    expect(decision).toMatchObject({
      level: 30,
      node: 'gw-1',
      msg: 'decision',
      decisionId: 'f3a1c2',
      identity: ALLOW.identity,
      src: '127.0.0.1:50512',
      host: 'api.example.com',
      ip: '192.0.2.10',
      port: 443,
      protocol: 'connect',
      decision: 'allow',
      mode: 'enforce',
      reason: 'matched',
      policy: 'policies/payments.yaml:12',
      ruleId: 'stripe-api',
      securityGroupRuleId: 'sgr-0123456789abcdef0',
      snapshot: 'policy-3+store-12',
      evalNs: 2150,
      connectMs: 1,
    });
    expect(typeof decision?.time).toBe('number');
    expect(typeof decision?.pid).toBe('number');
    expect(closed).toMatchObject({
      msg: 'tunnel closed',
      close: 'closed',
      bytesIn: 3,
      bytesOut: 4,
      durationMs: 5,
    });
  });

  it('follows the logger level as it changes', () => {
    const { logger, out } = capture({ level: 'warn' });
    const lines = createDecisionLines(logger);
    lines.decision(ALLOW);
    expect(out).toHaveLength(0);
    logger.level = 'info';
    lines.decision(ALLOW);
    expect(out).toHaveLength(1);
  });

  it.each<[string, LoggerOptions]>([
    ['a mixin', { mixin: () => ({ extra: 1 }) }],
    ['a message prefix', { msgPrefix: '[gw] ' }],
    ['a serializer of a record field', { serializers: { identity: (v: string) => v.toUpperCase() } }],
    ['a log formatter', { formatters: { log: (o: Record<string, unknown>) => ({ ...o, redacted: true }) } }],
    ['a nested key', { nestedKey: 'payload' }],
    ['redaction', { redact: ['identity'] }],
  ])('leaves a logger with %s to pino, with the same output', (_name, extra) => {
    const direct = capture(extra);
    const lines = createDecisionLines(direct.logger);
    expect(lines.direct).toBe(false);
    lines.decision(ALLOW);
    const viaPino = capture(extra);
    viaPino.logger.info(ALLOW, 'decision');
    expect(direct.out).toEqual(viaPino.out);
  });
});
