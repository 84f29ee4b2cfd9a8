/**
 * @module model/guardrails.test — every guardrail range and IPv6 embedding (mapped, translated,
 * compatible, NAT64, 6to4, Teredo), the linter's `guardrailFor`, and the hot path against the
 * BigInt path.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIpv4, formatIpv6 } from './cidr.js';
import { parseAddressInto } from './address.js';
import { GUARDRAILS, GUARDRAIL_HITS, guardrailFor, guardrailIndex } from './guardrails.js';

function fast(ip: string): string | undefined {
  const words = new Uint32Array(4);
  const family = parseAddressInto(ip, words);
  if (family === 0) throw new Error(ip);
  const i = guardrailIndex(family, words);
  return i < 0 ? undefined : GUARDRAIL_HITS[i]?.text;
}

describe('guardrails', () => {
  // Every form an attacker can write the metadata or loopback address in.
  it.each([
    ['169.254.169.254', '169.254.169.254/32 cloud metadata (IMDS)'],
    ['127.255.255.254', '127.0.0.0/8 loopback'],
    ['0.1.2.3', '0.0.0.0/8 unspecified / this network'],
    [
      '::ffff:169.254.169.254',
      '::ffff:a9fe:a9fe/128 cloud metadata (IMDS) 169.254.169.254/32 as IPv4-mapped',
    ],
    ['::ffff:7f00:1', '::ffff:7f00:0/104 loopback 127.0.0.0/8 as IPv4-mapped'],
    ['::ffff:0.0.0.0', '::ffff:0:0/104 unspecified / this network 0.0.0.0/8 as IPv4-mapped'],
    ['::169.254.169.254', '::a9fe:a9fe/128 cloud metadata (IMDS) 169.254.169.254/32 as IPv4-compatible'],
    ['64:ff9b::127.0.0.1', '64:ff9b::7f00:0/104 loopback 127.0.0.0/8 as NAT64'],
    ['64:ff9b::a9fe:a9fe', '64:ff9b::a9fe:a9fe/128 cloud metadata (IMDS) 169.254.169.254/32 as NAT64'],
    ['2002:7f00:1::', '2002:7f00::/24 loopback 127.0.0.0/8 as 6to4'],
    ['2002:e000:1::', '2002:e000::/20 multicast 224.0.0.0/4 as 6to4'],
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', '2001::/32 loopback 127.0.0.0/8 as Teredo client'],
    [
      '2001:0:4136:e378:8000:63bf:5601:5601',
      '2001::/32 cloud metadata (IMDS) 169.254.169.254/32 as Teredo client',
    ],
    ['2001:0:7f00:1:8000:63bf:f7f7:f7f7', '2001::/32 loopback 127.0.0.0/8 as Teredo server'],
    ['::', '::/128 unspecified'],
    ['::2', '::/104 unspecified / this network 0.0.0.0/8 as IPv4-compatible'],
    ['fe80::abcd', 'fe80::/10 link-local'],
    ['febf:ffff::', 'fe80::/10 link-local'],
    ['ff05::2', 'ff00::/8 multicast'],
    ['fd00:ec2::254', 'fd00:ec2::254/128 cloud metadata (IMDS, IPv6)'],
    ['8.8.8.8', undefined],
    ['223.255.255.255', undefined],
    ['fec0::1', undefined],
    ['fd00:ec2::253', undefined],
    ['2001:0:4136:e378:8000:63bf:f7f7:f7f7', undefined],
    ['2002:808:808::', undefined],
    ['64:ff9b::808:808', undefined],
  ] as const)('%s → %s', (ip, text) => {
    expect(fast(ip)).toBe(text);
    expect(guardrailFor(ip)?.guardrail.text).toBe(text);
  });

  it.each([
    ['169.254.169.254/32', '169.254.169.254/32', true],
    ['169.254.0.0/16', '169.254.0.0/16', true],
    ['169.254.169.0/24', '169.254.0.0/16', true],
    ['0.0.0.0/0', '169.254.169.254/32', false],
    ['224.0.0.0/3', '224.0.0.0/4', false],
    ['::ffff:7f00:0/104', '::ffff:7f00:0/104', true],
    ['2002::/16', '2002:a9fe:a9fe::/48', false],
    ['::/0', '::/128', false],
    ['8.8.8.0/24', undefined, undefined],
  ] as const)('guardrailFor(%s) → %s inside=%s', (c, cidr, inside) => {
    const m = guardrailFor(c);
    expect(m === undefined ? undefined : [m.guardrail.cidr, m.inside]).toEqual(
      cidr === undefined ? undefined : [cidr, inside],
    );
  });

  it('says what each range stops and exports the list', () => {
    expect(GUARDRAILS.length).toBeGreaterThan(10);
    for (const g of GUARDRAIL_HITS) expect(g.stops.length).toBeGreaterThan(20);
    expect(GUARDRAIL_HITS.length).toBeLessThan(127);
    expect(guardrailFor('not-an-ip')).toBeUndefined();
  });

  it('hot path and BigInt path agree at both ends of every first octet', () => {
    // The hot path rejects by first octet before testing ranges; each octet's lowest and
    // highest address, and the metadata address's tail under it, cover every range edge.
    for (let octet = 0; octet < 256; octet++) {
      for (const rest of [0, 0xffffff, 0xfea9fe, 0xa9fe00]) {
        const ip = formatIpv4(((octet << 24) | rest) >>> 0);
        expect(fast(ip)).toBe(guardrailFor(ip)?.guardrail.text);
      }
    }
  });

  it('hot path and BigInt path agree on embedded and random addresses', () => {
    const v4special = fc.oneof(
      fc.constantFrom(0xa9fea9fe, 0x7f000001, 0, 0xffffffff, 0xe0000001, 0xa9fe0101),
      fc.integer({ min: 0, max: 0xffffffff }),
    );
    const v6 = fc.oneof(
      fc
        .tuple(fc.constantFrom(0n, 0xffffn << 32n, 0xffff0000n << 32n, 0x64ff9bn << 96n), v4special)
        .map(([p, a]) => p | BigInt(a)),
      fc
        .tuple(v4special, fc.bigInt({ min: 0n, max: (1n << 80n) - 1n }))
        .map(([a, r]) => (0x2002n << 112n) | (BigInt(a) << 80n) | r),
      fc
        .tuple(v4special, v4special, fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }))
        .map(([s, c, f]) => (0x20010000n << 96n) | (BigInt(s) << 64n) | (f << 32n) | BigInt(~c >>> 0)),
      fc.tuple(v4special, fc.bigInt({ min: 0n, max: 255n })).map(([a, u]) => {
        const n = BigInt(a);
        return (0x64ff9b0001n << 80n) | ((n >> 16n) << 64n) | (u << 56n) | ((n & 0xffffn) << 40n);
      }),
      fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
      fc.constantFrom(0n, 1n, 0xfd000ec2000000000000000000000254n, 0xfe80n << 112n, 0xff02n << 112n),
    );
    fc.assert(
      fc.property(
        fc.oneof(
          v4special.map((a) => formatIpv4(a)),
          v6.map((n) => formatIpv6(n)),
        ),
        (ip) => {
          expect(fast(ip)).toBe(guardrailFor(ip)?.guardrail.text);
        },
      ),
      { numRuns: 5000 },
    );
  });
});
