/**
 * @module test/policy-normalize — table tests for the normalisers: host names (case, trailing
 * dot, IDNA, wildcard grammar), CIDRs, ports, protocols, times, identity patterns, test targets.
 */
import { describe, expect, it } from 'vitest';
import {
  matchIdentity,
  mergePorts,
  normalizeCidr,
  normalizeFqdn,
  normalizeProtocol,
  parseIdentityPattern,
  parsePort,
  parseTestTarget,
  parseTime,
} from '../../src/policy/index.js';
import type { Checked } from '../../src/policy/index.js';

function value<T>(c: Checked<T>): T {
  if (!c.ok) throw new Error(`expected ok, got ${c.problem.code}: ${c.problem.message}`);
  return c.value;
}

function code<T>(c: Checked<T>): string {
  return c.ok ? (c.warning?.code ?? 'ok') : c.problem.code;
}

describe('normalizeFqdn', () => {
  it.each([
    ['api.stripe.com', 'api.stripe.com', 'exact'],
    ['API.Stripe.COM', 'api.stripe.com', 'exact'],
    ['api.stripe.com.', 'api.stripe.com', 'exact'],
    ['bücher.example', 'xn--bcher-kva.example', 'exact'],
    ['BÜCHER.example.', 'xn--bcher-kva.example', 'exact'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example', 'exact'],
    ['*.stripe.network', 'stripe.network', 'one-label'],
    ['**.debian.org', 'debian.org', 'any-depth'],
    ['*.Bücher.example.', 'xn--bcher-kva.example', 'one-label'],
    ['_dmarc.example.com', '_dmarc.example.com', 'exact'],
    ['localhost', 'localhost', 'exact'],
  ])('%s → %s (%s)', (input, name, match) => {
    expect(value(normalizeFqdn(input))).toEqual({ name, match });
  });

  it.each([
    ['a.*.com', 'invalid-wildcard'],
    ['*foo.com', 'invalid-wildcard'],
    ['foo.*', 'invalid-wildcard'],
    ['***.com', 'invalid-wildcard'],
    ['*', 'invalid-wildcard'],
    ['**.', 'invalid-wildcard'],
    ['-api.example.com', 'invalid-fqdn'],
    ['a..b.com', 'invalid-fqdn'],
    ['.example.com', 'invalid-fqdn'],
    ['exa mple.com', 'invalid-fqdn'],
    ['xn--zz.com', 'invalid-fqdn'],
    ['10.0.0.1', 'invalid-fqdn'],
    ['2001:db8::1', 'invalid-fqdn'],
    ['example.123', 'invalid-fqdn'],
    [`${'a'.repeat(64)}.com`, 'invalid-fqdn'],
  ])('%s is refused (%s)', (input, expected) => {
    expect(code(normalizeFqdn(input))).toBe(expected);
  });

  it('refuses any wildcard where a concrete host is needed', () => {
    expect(code(normalizeFqdn('*.example.com', false))).toBe('invalid-fqdn');
  });

  it('suggests a cidr for an address', () => {
    const r = normalizeFqdn('10.1.2.3');
    expect(r.ok ? undefined : r.problem.hint).toBe('use { cidr: 10.1.2.3/32 }');
  });
});

describe('normalizeCidr', () => {
  it.each([
    ['10.0.0.0/8', 4, '10.0.0.0/8', 'ok'],
    ['10.0.0.1/8', 4, '10.0.0.0/8', 'cidr-not-canonical'],
    ['100.68.0.18/18', 4, '100.68.0.0/18', 'cidr-not-canonical'],
    ['0.0.0.0/0', 4, '0.0.0.0/0', 'ok'],
    ['2001:DB8::/32', 6, '2001:db8::/32', 'ok'],
    ['2001:db8:0:0:0:0:0:1/64', 6, '2001:db8::/64', 'cidr-not-canonical'],
    ['::/0', 6, '::/0', 'ok'],
  ] as const)('%s → %s', (input, family, cidr, warning) => {
    const r = normalizeCidr(input);
    expect(value(r)).toEqual({ family, cidr });
    expect(code(r)).toBe(warning);
  });

  it.each([
    ['10.0.0.300/32'],
    ['10.0.0.1'],
    ['10.0.0.0/33'],
    ['010.0.0.0/8'],
    ['2001:db8::/129'],
    ['example.com/24'],
    [''],
  ])('%s is refused', (input) => {
    expect(code(normalizeCidr(input))).toBe('invalid-cidr');
  });

  it('hints at the canonical form and the single host', () => {
    const r = normalizeCidr('10.0.0.1/8');
    expect(r.ok && r.warning?.hint).toBe(
      'write 10.0.0.0/8 for the network, or 10.0.0.1/32 for the single host',
    );
  });
});

describe('ports', () => {
  it.each([
    [443, { from: 443, to: 443 }],
    ['443', { from: 443, to: 443 }],
    ['8000-8100', { from: 8000, to: 8100 }],
    [' 1 - 2 ', { from: 1, to: 2 }],
    [0, { from: 0, to: 0 }],
    ['0-65535', { from: 0, to: 65535 }],
  ])('%j → %j', (input, range) => {
    expect(value(parsePort(input))).toEqual(range);
  });

  it.each([[70000], [-1], ['9000-80'], ['80-'], ['http'], ['1-65536'], [1.5]])('%j is refused', (input) => {
    expect(code(parsePort(input))).toBe('invalid-port');
  });

  it('merges overlapping and adjacent ranges', () => {
    expect(
      mergePorts([
        { from: 443, to: 443 },
        { from: 80, to: 80 },
        { from: 8000, to: 8100 },
        { from: 8101, to: 8200 },
        { from: 442, to: 444 },
      ]),
    ).toEqual([
      { from: 80, to: 80 },
      { from: 442, to: 444 },
      { from: 8000, to: 8200 },
    ]);
  });
});

describe('normalizeProtocol', () => {
  it.each([
    ['tcp', 'tcp'],
    ['udp', 'udp'],
    ['icmp', 'icmp'],
    ['icmpv6', 'icmpv6'],
    ['all', '-1'],
    ['-1', '-1'],
    [-1, '-1'],
    [6, 'tcp'],
    [17, 'udp'],
    [1, 'icmp'],
    [58, 'icmpv6'],
    [47, '47'],
    ['132', '132'],
  ])('%j → %s', (input, expected) => {
    expect(value(normalizeProtocol(input))).toBe(expected);
  });

  it.each([['TCP'], ['tpc'], [256], [-2], ['any']])('%j is refused', (input) => {
    expect(code(normalizeProtocol(input))).toBe('invalid-protocol');
  });
});

describe('parseTime', () => {
  it.each([
    ['2027-06-30', 'end', '2027-06-30T23:59:59.999Z'],
    ['2027-06-30', 'start', '2027-06-30T00:00:00.000Z'],
    ['2027-06-30T12:00:00Z', 'end', '2027-06-30T12:00:00.000Z'],
    ['2027-06-30T12:00Z', 'end', '2027-06-30T12:00:00.000Z'],
    ['2027-06-30T12:00:00+02:00', 'end', '2027-06-30T10:00:00.000Z'],
    ['2028-02-29', 'end', '2028-02-29T23:59:59.999Z'],
  ] as const)('%s (%s) → %s', (input, edge, iso) => {
    expect(new Date(value(parseTime(input, edge))).toISOString()).toBe(iso);
  });

  it.each([
    ['2027-02-30'],
    ['2027-13-01'],
    ['2027-06-30T12:00:00'],
    ['2027-06-30T25:00Z'],
    ['30/06/2027'],
    ['tomorrow'],
  ])('%s is refused', (input) => {
    expect(code(parseTime(input, 'end'))).toBe('invalid-date');
  });
});

describe('identity patterns', () => {
  it.each([
    ['spiffe://prod.example/ns/payments/sa/checkout', 'exact'],
    ['spiffe://prod.example/ns/payments/sa/*', 'glob'],
    ['spiffe://prod.example/**', 'glob'],
    ['system:serviceaccount:ci:builder', 'exact'],
  ])('%s is %s', (input, kind) => {
    expect(value(parseIdentityPattern(input)).kind).toBe(kind);
  });

  it.each([['spiffe://prod.example/ns/payments/sa/check*'], ['spiffe://prod.example/ns/*x/sa/a'], ['a b']])(
    '%s is refused',
    (input) => {
      expect(code(parseIdentityPattern(input))).toBe('invalid-identity');
    },
  );

  it.each([
    ['spiffe://prod.example/ns/payments/sa/*', 'spiffe://prod.example/ns/payments/sa/checkout', true],
    ['spiffe://prod.example/ns/payments/sa/*', 'spiffe://prod.example/ns/payments/sa/a/b', false],
    ['spiffe://prod.example/ns/payments/sa/*', 'spiffe://prod.example/ns/payments/sa', false],
    ['spiffe://prod.example/ns/*/sa/checkout', 'spiffe://prod.example/ns/payments/sa/checkout', true],
    ['spiffe://prod.example/**', 'spiffe://prod.example/ns/payments/sa/checkout', true],
    ['spiffe://prod.example/**/sa/checkout', 'spiffe://prod.example/ns/payments/sa/checkout', true],
    ['spiffe://prod.example/**/sa/checkout', 'spiffe://prod.example/sa/checkout', true],
    ['spiffe://prod.example/**', 'spiffe://staging.example/ns/x', false],
    ['spiffe://prod.example/ns/payments/sa/checkout', 'spiffe://prod.example/ns/payments/sa/checkout', true],
    [
      'spiffe://prod.example/ns/payments/sa/checkout',
      'spiffe://prod.example/ns/payments/sa/checkout2',
      false,
    ],
  ])('%s matches %s: %s', (pattern, identity, expected) => {
    expect(matchIdentity(value(parseIdentityPattern(pattern)), identity)).toBe(expected);
  });
});

describe('parseTestTarget', () => {
  it.each([
    ['api.stripe.com:443', { host: 'api.stripe.com', port: 443 }],
    ['API.Stripe.com.', { host: 'api.stripe.com' }],
    ['bücher.example:443/tcp', { host: 'xn--bcher-kva.example', port: 443, protocol: 'tcp' }],
    ['10.1.2.3:5432', { ip: '10.1.2.3', port: 5432 }],
    ['10.1.2.3/icmp', { ip: '10.1.2.3', protocol: 'icmp' }],
    ['[2001:DB8::1]:443', { ip: '2001:db8::1', port: 443 }],
    ['2001:db8::1', { ip: '2001:db8::1' }],
    ['dns.example:53/udp', { host: 'dns.example', port: 53, protocol: 'udp' }],
    // Every spelling the gateway reads as an address is that address here too (weir check 127.1).
    ['127.1:80', { ip: '127.0.0.1', port: 80 }],
    ['0x7f.1:80', { ip: '127.0.0.1', port: 80 }],
    ['2130706433:80', { ip: '127.0.0.1', port: 80 }],
    ['0177.0.0.1.:80', { ip: '127.0.0.1', port: 80 }],
    ['[fe80::1%eth0]:80', { ip: 'fe80::1', port: 80 }],
  ])('%s → %j', (input, target) => {
    expect(value(parseTestTarget(input))).toEqual(target);
  });

  it.each([
    ['api.stripe.com:https'],
    ['api.stripe.com:70000'],
    ['*.stripe.com:443'],
    ['[nope]:443'],
    ['a.com:443/tpc'],
    ['1.2.3.4.5:80'],
    ['0x7g.1:80'],
    [''],
  ])('%s is refused', (input) => {
    expect(code(parseTestTarget(input))).toBe('invalid-test-target');
  });
});
