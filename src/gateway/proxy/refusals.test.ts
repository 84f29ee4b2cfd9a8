import { describe, expect, test } from 'vitest';
import type { Decision } from '../../engine/index.js';
import type { LogEntry } from '../decision-line.js';
import { reasonPhrase, refusalBody } from './refusals.js';
import type { Refusal } from './refusals.js';

const WEB = 'spiffe://test/ns/app/sa/web';

function entry(over: Partial<LogEntry> = {}): LogEntry {
  return {
    decisionId: 'dec-0123456789abcdef',
    at: '2026-06-01T00:00:00.000Z',
    src: '127.0.0.1:5000',
    protocol: 'connect',
    identity: WEB,
    host: 'pypi.org',
    port: 443,
    ip: '151.101.0.223',
    ...over,
  };
}

function denial(d: Partial<Decision>): Refusal {
  const decision: Decision = {
    allow: false,
    mode: 'enforce',
    reason: 'no-match',
    identity: WEB,
    evalNs: 1,
    ...d,
  };
  return {
    status: 403,
    reason: decision.reason,
    text: `Denied by Weir: ${decision.reason}.`,
    decision,
    target: { host: 'pypi.org', port: 443, protocol: 'tcp' },
  };
}

describe('status line: the reason and the decision ID, for clients that print only that line', () => {
  test.each([
    [denial({}), 'Forbidden by Weir: no-match (dec-0123456789abcdef)'],
    [
      { status: 407, reason: 'no-identity', text: '' },
      'Proxy Authentication Required by Weir: no-identity (dec-0123456789abcdef)',
    ],
    [
      { status: 429, reason: 'limit-identity', text: '' },
      'Too Many Requests by Weir: limit-identity (dec-0123456789abcdef)',
    ],
    [
      { status: 502, reason: 'dns-failure', text: '' },
      'Bad Gateway by Weir: dns-failure (dec-0123456789abcdef)',
    ],
  ])('%#: %s', (r, phrase) => {
    expect(reasonPhrase(entry(), r as Refusal)).toBe(phrase);
  });
});

describe('the body of a denial', () => {
  test('no-match: identity, destination, address, reason, the nearest rule labelled as nearest, the command', () => {
    const body = refusalBody(
      entry(),
      denial({
        matched: { policy: 'builds', file: 'policies/builds.yaml', line: 12, ruleId: 'pypi-http' },
        missedBy: 'port',
      }),
    );
    expect(body.split('\n')).toEqual([
      'Denied by Weir: no-match.',
      `identity:     ${WEB}`,
      'destination:  pypi.org:443',
      'address:      151.101.0.223',
      'reason:       no-match: no rule of the policies that select this identity allows this destination and port',
      'nearest rule: pypi-http of policy builds (policies/builds.yaml:12); the nearest, not a match: its destination matches, its protocol or ports do not',
      `explain:      weir check --endpoint --from ${WEB} --to pypi.org:443`,
      'decision:     dec-0123456789abcdef',
      '',
      'Ask for access with an exception (replace the reason; another person approves it):',
      `  weir exception request --identity ${WEB} --to pypi.org:443 --reason '<why you need it>' --ttl 24h`,
      'Or propose a reviewed policy rule (fill in the <fill in: …> fields, then run weir policy lint):',
      `# Add under spec.rules of the policy for ${WEB}:`,
      '- id: pypi-org-443',
      '  to: [{ fqdn: pypi.org }]',
      '  ports: [443]',
      '  justification: "<fill in: why this workload needs it>"',
      '  owner: "<fill in: owning team or person>"',
      '  dataClass: "<fill in: data class, e.g. internal>"',
      '  expires: "<fill in: YYYY-MM-DD>"',
      '',
    ]);
  });

  test('an address is named as an address: [v6]:port and a /128 rule', () => {
    const r = {
      ...denial({ reason: 'unknown-identity' }),
      target: { ip: '2001:db8::1', port: 8443, protocol: 'tcp' },
    };
    const body = refusalBody(entry({ host: '[2001:db8::1]', port: 8443, ip: '2001:db8::1' }), r);
    expect(body).toContain(`--identity ${WEB} --to '[2001:db8::1]:8443' --reason`);
    expect(body).toContain('- id: 2001-db8-1-8443\n  to: [{ cidr: "2001:db8::1/128" }]\n  ports: [8443]\n');
    expect(body).toContain('in a policy whose spec.workloads select this identity (none does yet;');
  });

  test('a guardrail: no request command, only a reviewed rule naming the range', () => {
    const r = {
      ...denial({ reason: 'guardrail', guardrail: '169.254.169.254/32 cloud metadata (IMDS)' }),
      target: { ip: '169.254.169.254', port: 80, protocol: 'tcp' },
    };
    const body = refusalBody(entry({ host: '169.254.169.254', port: 80, ip: '169.254.169.254' }), r);
    expect(body).not.toContain('weir exception request');
    expect(body).toContain(
      '\nNo exception can open this: exceptions refuse guarded ranges. Only a reviewed policy rule that names the range itself (to: [{ cidr: 169.254.169.254/32 }]) can open it.\n',
    );
  });

  test('an error denial gets no template', () => {
    expect(refusalBody(entry(), denial({ reason: 'error' }))).not.toContain('weir exception request');
  });

  test('control characters of an identity are escaped, never reflected', () => {
    const odd = 'svc\r\nX-Evil: 1\u202e';
    const body = refusalBody(entry({ identity: odd }), denial({ identity: odd }));
    expect(body).toContain('identity:     svc\\u000d\\u000aX-Evil: 1\\u202e\n');
    // eslint-disable-next-line no-control-regex
    expect(body.replace(/\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    expect(body).toContain('so no command is printed for it');
  });

  test('no rule near: no nearest line; a guardrail names its range; an identity with a quote is shell-quoted', () => {
    const odd = "it's";
    const body = refusalBody(
      entry({ identity: odd, host: '[::1]', port: 80, ip: '::1' }),
      denial({ reason: 'guardrail', identity: odd, guardrail: '::1/128 loopback' }),
    );
    expect(body).not.toContain('nearest rule');
    expect(body).toContain('reason:       guardrail: the address is in a guarded range');
    expect(body).toContain('(::1/128 loopback)');
    expect(body).toContain(`explain:      weir check --endpoint --from 'it'\\''s' --to '[::1]:80'`);
  });

  test('a control-plane rule (line 0) is named by its ARN; an expired rule is labelled expired', () => {
    const arn = 'arn:aws:ec2:us-east-1:123456789012:security-group-rule/sgr-1';
    const body = refusalBody(
      entry(),
      denial({
        reason: 'expired',
        matched: { policy: 'sg-1/web', file: arn, line: 0, ruleId: 'r1', expires: '2026-01-31' },
      }),
    );
    expect(body).toContain(`expired rule: r1 of policy sg-1/web (${arn}), expired 2026-01-31`);
  });

  test('other refusals keep their one line', () => {
    expect(
      refusalBody(entry(), { status: 407, reason: 'no-identity', text: 'Proxy authentication required.' }),
    ).toBe('Proxy authentication required.\n');
  });
});
