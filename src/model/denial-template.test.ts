/** @module model/denial-template.test — a denied destination → the request command and the rule. */
import { execFileSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import {
  adviceJson,
  denialAdvice,
  denialTemplate,
  destinationText,
  MAX_TEMPLATE_IDENTITY,
  templateRuleId,
} from './denial-template.js';
import type { DeniedTarget } from './denial-template.js';
import { printable, shellWord } from './rule-template.js';

const WEB = 'spiffe://prod.example/ns/app/sa/web';

/** The arguments bash hands `weir` when `command` is pasted as printed (`weir` a function here). */
function argvOf(command: string): string[] {
  const out = execFileSync('bash', ['-c', `weir() { printf '%s\\0' "$@"; }\n${command}`]);
  return out.toString('utf8').split('\0').slice(0, -1);
}

const PLACEHOLDERS = {
  justification: '<fill in: why this workload needs it>',
  owner: '<fill in: owning team or person>',
  dataClass: '<fill in: data class, e.g. internal>',
  expires: '<fill in: YYYY-MM-DD>',
};

describe('destination → --to text, rule ID and rule', () => {
  test.each<[string, DeniedTarget, string, string, Record<string, unknown>]>([
    [
      'a name: host:port, fqdn',
      { host: 'api.example.com', port: 443, protocol: 'tcp' },
      'api.example.com:443',
      'api-example-com-443',
      { to: [{ fqdn: 'api.example.com' }], ports: [443] },
    ],
    [
      'an IPv4 address: ip:port, cidr /32',
      { ip: '203.0.113.7', port: 8443, protocol: 'tcp' },
      '203.0.113.7:8443',
      '203-0-113-7-8443',
      { to: [{ cidr: '203.0.113.7/32' }], ports: [8443] },
    ],
    [
      'an IPv6 address: [v6]:port, cidr /128',
      { ip: '2001:db8::1', port: 443, protocol: 'tcp' },
      '[2001:db8::1]:443',
      '2001-db8-1-443',
      { to: [{ cidr: '2001:db8::1/128' }], ports: [443] },
    ],
    [
      'udp: /udp added, protocol in the rule',
      { host: 'ntp.example.com', port: 123, protocol: 'udp' },
      'ntp.example.com:123/udp',
      'ntp-example-com-123-udp',
      { to: [{ fqdn: 'ntp.example.com' }], ports: [123], protocol: 'udp' },
    ],
    [
      'IPv6 and udp',
      { ip: 'fd00::53', port: 53, protocol: 'udp' },
      '[fd00::53]:53/udp',
      'fd00-53-53-udp',
      { to: [{ cidr: 'fd00::53/128' }], ports: [53], protocol: 'udp' },
    ],
    [
      'icmp: no port anywhere',
      { ip: '10.0.0.1', port: 0, protocol: 'icmp' },
      '10.0.0.1/icmp',
      '10-0-0-1-icmp',
      { to: [{ cidr: '10.0.0.1/32' }], protocol: 'icmp' },
    ],
  ])('%s', (_, t, to, id, rule) => {
    expect(destinationText(t)).toBe(to);
    expect(templateRuleId(t)).toBe(id);
    const { command, rule: yaml } = denialTemplate(WEB, t);
    expect(argvOf(command)).toEqual([
      'exception',
      'request',
      '--identity',
      WEB,
      '--to',
      to,
      '--reason',
      '<why you need it>',
      '--ttl',
      '24h',
    ]);
    expect(parse(yaml)).toEqual([{ id, ...rule, ...PLACEHOLDERS }]);
  });

  test('a long name keeps its end and fits a rule ID (64 characters, starting with a letter or digit)', () => {
    const host = `${'a'.repeat(60)}.${'b'.repeat(60)}.example.com`;
    const id = templateRuleId({ host, port: 443, protocol: 'tcp' });
    expect(id.length).toBeLessThanOrEqual(64);
    expect(id).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/);
    expect(id.endsWith('-example-com-443')).toBe(true);
  });
});

describe('hostile identities', () => {
  test.each([
    "o'brien",
    'svc;$(touch /tmp/pwned)`id`',
    'a"b\\c$HOME*?[x]{y,z}~',
    '=ls',
    '-rf',
    'spiffe://prod.example/ns/a b',
  ])('%s is one shell word, read back exactly', (identity) => {
    const t: DeniedTarget = { host: 'api.example.com', port: 443, protocol: 'tcp' };
    const a = denialAdvice('no-match', identity, t);
    expect(a?.kind).toBe('template');
    if (a?.kind !== 'template') return;
    expect(argvOf(a.template.command).slice(2, 4)).toEqual(['--identity', identity]);
    // The comment line names the identity; the YAML still holds exactly one rule.
    expect(parse(a.template.rule)).toHaveLength(1);
  });

  test('zsh would expand a leading =: it is quoted', () => {
    expect(shellWord('=ls')).toBe("'=ls'");
  });

  test('a control character or an over-long identity gets a note, not a command', () => {
    const t: DeniedTarget = { host: 'api.example.com', port: 443, protocol: 'tcp' };
    for (const identity of [
      'svc\nX-Injected: 1',
      'svc\u202egnp.exe',
      'x'.repeat(MAX_TEMPLATE_IDENTITY + 1),
    ]) {
      const a = denialAdvice('no-match', identity, t);
      expect(a?.kind).toBe('unprintable');
      expect(a?.lines.join('\n')).not.toContain(identity);
    }
    expect(denialAdvice('no-match', 'x'.repeat(MAX_TEMPLATE_IDENTITY), t)?.kind).toBe('template');
  });

  test('the rule comment escapes a line break, so no key can be smuggled into the YAML', () => {
    const { rule } = denialTemplate('svc\n- id: smuggled\n  to: [{ cidr: 0.0.0.0/0 }]', {
      host: 'api.example.com',
      port: 443,
      protocol: 'tcp',
    });
    const doc = parse(rule) as Record<string, unknown>[];
    expect(doc).toHaveLength(1);
    expect(doc[0]?.id).toBe('api-example-com-443');
    expect(printable('a\u0000b\u2028c')).toBe('a\\u0000b\\u2028c');
  });
});

describe('which denials get which advice', () => {
  const t: DeniedTarget = { ip: '169.254.169.254', port: 80, protocol: 'tcp' };

  test.each(['no-match', 'expired', 'unknown-identity'])('%s: the command and the rule', (reason) => {
    const a = denialAdvice(reason, WEB, { host: 'api.example.com', port: 443, protocol: 'tcp' });
    expect(a?.kind).toBe('template');
    expect(a?.lines[0]).toMatch(/^Ask for access with an exception/);
    expect(a?.lines[1]).toBe(
      "  weir exception request --identity spiffe://prod.example/ns/app/sa/web --to api.example.com:443 --reason '<why you need it>' --ttl 24h",
    );
    expect(a === undefined ? {} : adviceJson(a)).toHaveProperty('rule');
  });

  test('a guardrail: no command, only a reviewed rule naming the range', () => {
    const a = denialAdvice('guardrail', WEB, t);
    expect(a?.kind).toBe('guardrail');
    const text = a?.lines.join('\n') ?? '';
    expect(text).not.toContain('weir exception request');
    expect(text).toContain('to: [{ cidr: 169.254.169.254/32 }]');
    expect(a === undefined ? {} : adviceJson(a)).toEqual({ note: text });
  });

  test.each(['unknown-identity', 'no-match'])(
    '%s at a guarded address (decided before the guardrails, or a name resolved there): the guardrail note',
    (reason) => {
      expect(denialAdvice(reason, WEB, { ip: '127.0.0.1', port: 8080, protocol: 'tcp' })?.kind).toBe(
        'guardrail',
      );
      const byName = denialAdvice(
        reason,
        WEB,
        { host: 'evil.example', port: 80, protocol: 'tcp' },
        '169.254.169.254',
      );
      expect(byName?.kind).toBe('guardrail');
      expect(byName?.lines.join('\n')).toContain('to: [{ cidr: 169.254.169.254/32 }]');
    },
  );

  test.each(['error', 'matched', 'exception', 'breakglass'])('%s: nothing', (reason) => {
    expect(denialAdvice(reason, WEB, t)).toBeUndefined();
  });
});
