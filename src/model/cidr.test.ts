import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  canonicalCidr,
  canonicalIpv4Cidr,
  canonicalIpv6Cidr,
  formatIpv4,
  formatIpv6,
  ipv4Mask,
  ipv6Mask,
  parseIpv4,
  parseIpv4Cidr,
  parseIpv6,
  parseIpv6Cidr,
} from './cidr.js';
import { Ec2Error } from './errors.js';

function ec2ErrorOf(fn: () => unknown): Ec2Error {
  try {
    fn();
  } catch (e) {
    if (e instanceof Ec2Error) return e;
    throw e;
  }
  throw new Error('expected an Ec2Error');
}

const groupsToBigint = (groups: readonly number[]): bigint =>
  groups.reduce((n, g) => (n << 16n) | BigInt(g), 0n);
const fullIpv6 = (groups: readonly number[]): string =>
  groups.map((g) => g.toString(16).padStart(4, '0')).join(':');
// Zero-heavy groups, so runs of zeros (and their compression) are common.
const ipv6Groups = fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), {
  minLength: 8,
  maxLength: 8,
});

describe('parseIpv4 / formatIpv4', () => {
  it.each([
    ['0.0.0.0', 0],
    ['255.255.255.255', 0xffffffff],
    ['192.0.2.1', 0xc0000201],
    ['10.0.0.0', 0x0a000000],
  ])('parses %s', (s, n) => {
    expect(parseIpv4(s)).toBe(n);
    expect(formatIpv4(n)).toBe(s);
  });

  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.0.0.0',
    '01.2.3.4',
    '1.2.3.04',
    '1.2.3.-4',
    '1.2.3.4 ',
    '0x1.2.3.4',
    '1..3.4',
    '1.2.3.1e1',
    '١.2.3.4',
  ])('rejects %j', (s) => {
    expect(parseIpv4(s)).toBeUndefined();
  });

  it('round-trips every 32-bit value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
        expect(parseIpv4(formatIpv4(n))).toBe(n);
      }),
    );
  });
});

describe('parseIpv6 / formatIpv6', () => {
  it.each([
    ['::', '::'],
    ['::1', '::1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['2001:DB8:1234:1A00:0:0:0:1', '2001:db8:1234:1a00::1'],
    ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8'],
    ['::ffff:1.2.3.4', '::ffff:102:304'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ['fe80::', 'fe80::'],
  ])('parses %s and formats it as %s', (s, canonical) => {
    const n = parseIpv6(s);
    expect(n).toBeDefined();
    expect(formatIpv6(n ?? 0n)).toBe(canonical);
  });

  it.each([
    '',
    ':',
    ':::',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7:8::',
    '::1:2:3:4:5:6:7:8',
    '2001::db8::1',
    '12345::',
    'g::',
    ':1::',
    '1::2:',
    ':1:2:3:4:5:6:7:8',
    'fe80::1%eth0',
    '[::1]',
    '::ffff:01.2.3.4',
    '::1.2.3.4:5',
    '::1.2.3',
    '1.2.3.4',
    ' ::1',
  ])('rejects %j', (s) => {
    expect(parseIpv6(s)).toBeUndefined();
  });

  it('formats like the WHATWG URL serializer (RFC 5952 compression) and round-trips', () => {
    fc.assert(
      fc.property(ipv6Groups, (groups) => {
        const n = groupsToBigint(groups);
        const text = formatIpv6(n);
        expect(text).toBe(new URL(`http://[${fullIpv6(groups)}]/`).hostname.slice(1, -1));
        expect(parseIpv6(text)).toBe(n);
        expect(parseIpv6(fullIpv6(groups).toUpperCase())).toBe(n);
      }),
    );
  });
});

describe('canonicalIpv4Cidr', () => {
  it.each([
    ['100.68.0.18/18', '100.68.0.0/18'],
    ['192.0.2.0/24', '192.0.2.0/24'],
    ['198.51.100.7/24', '198.51.100.0/24'],
    ['10.1.2.3/0', '0.0.0.0/0'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['255.255.255.255/32', '255.255.255.255/32'],
    ['10.0.0.255/31', '10.0.0.254/31'],
    ['172.31.255.255/12', '172.16.0.0/12'],
    ['128.0.0.1/1', '128.0.0.0/1'],
  ])('%s -> %s', (input, canonical) => {
    expect(canonicalIpv4Cidr(input)).toBe(canonical);
  });

  it.each([
    '10.0.0.0/33',
    '10.0.0.0',
    '10.0.0.0/',
    '10.0.0/8',
    '10.0.0.0.0/8',
    '256.0.0.0/8',
    '010.0.0.0/8',
    '10.0.0.0/08',
    '10.0.0.0/-1',
    '10.0.0.0/8/8',
    ' 10.0.0.0/8',
    '10.0.0.0/8 ',
    '0x0a.0.0.0/8',
    '::/0',
    '',
  ])('rejects %j', (input) => {
    const err = ec2ErrorOf(() => canonicalIpv4Cidr(input));
    expect(err.code).toBe('InvalidParameterValue');
    expect(err.status).toBe(400);
    expect(err.message).toBe(
      `Value (${input}) for parameter cidrIp is invalid. This is not a valid CIDR block.`,
    );
  });

  it('names the parameter it is given', () => {
    expect(ec2ErrorOf(() => canonicalIpv4Cidr('x', 'Cidr')).message).toContain('parameter Cidr ');
  });

  it('is idempotent, zeroes host bits and keeps the address inside the block', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 32 }),
        (addr, prefix) => {
          const canonical = canonicalIpv4Cidr(`${formatIpv4(addr)}/${prefix}`);
          expect(canonicalIpv4Cidr(canonical)).toBe(canonical);
          const parsed = parseIpv4Cidr(canonical);
          expect(parsed?.prefix).toBe(prefix);
          const network = parsed?.address ?? -1;
          expect((network & ~ipv4Mask(prefix)) >>> 0).toBe(0);
          expect((addr & ipv4Mask(prefix)) >>> 0).toBe(network);
        },
      ),
    );
  });
});

describe('canonicalIpv6Cidr', () => {
  it.each([
    ['2001:DB8:1234:1A00:0:0:0:1/64', '2001:db8:1234:1a00::/64'],
    ['2001:db8:1234:1a00::/64', '2001:db8:1234:1a00::/64'],
    ['::/0', '::/0'],
    ['ffff::1/0', '::/0'],
    ['::1/128', '::1/128'],
    ['::ffff:1.2.3.4/128', '::ffff:102:304/128'],
    ['::ffff:1.2.3.4/96', '::ffff:0:0/96'],
    ['fe80::1/10', 'fe80::/10'],
    ['2001:db8:0:0:1:0:0:1/128', '2001:db8::1:0:0:1/128'],
  ])('%s -> %s', (input, canonical) => {
    expect(canonicalIpv6Cidr(input)).toBe(canonical);
  });

  it.each([
    '2001:db8::/129',
    '2001:db8::',
    '2001:db8:::/64',
    '2001::db8::1/64',
    '::/01',
    '10.0.0.0/8',
    'fe80::1%eth0/64',
    '',
  ])('rejects %j', (input) => {
    const err = ec2ErrorOf(() => canonicalIpv6Cidr(input));
    expect(err.code).toBe('InvalidParameterValue');
    expect(err.message).toBe(
      `Value (${input}) for parameter cidrIpv6 is invalid. This is not a valid CIDR block.`,
    );
  });

  it('is idempotent and zeroes host bits, whatever the input spelling', () => {
    fc.assert(
      fc.property(ipv6Groups, fc.integer({ min: 0, max: 128 }), fc.boolean(), (groups, prefix, upper) => {
        const addr = groupsToBigint(groups);
        const text = upper ? fullIpv6(groups).toUpperCase() : formatIpv6(addr);
        const canonical = canonicalIpv6Cidr(`${text}/${prefix}`);
        expect(canonicalIpv6Cidr(canonical)).toBe(canonical);
        expect(canonical).toBe(canonical.toLowerCase());
        const parsed = parseIpv6Cidr(canonical);
        expect(parsed?.prefix).toBe(prefix);
        const network = parsed?.address ?? -1n;
        expect(network & ~ipv6Mask(prefix) & ((1n << 128n) - 1n)).toBe(0n);
        expect(addr & ipv6Mask(prefix)).toBe(network);
      }),
    );
  });
});

describe('canonicalCidr', () => {
  it.each([
    ['10.1.2.3/8', 'ipv4', '10.0.0.0/8'],
    ['2001:DB8::1/32', 'ipv6', '2001:db8::/32'],
  ])('%s is %s %s', (input, family, cidr) => {
    expect(canonicalCidr(input)).toEqual({ family, cidr });
  });

  it('rejects what is neither', () => {
    expect(ec2ErrorOf(() => canonicalCidr('example.com/8')).message).toBe(
      'Value (example.com/8) for parameter cidr is invalid. This is not a valid CIDR block.',
    );
  });
});
