/**
 * @module model/address.test — the allocation-free address parser, by table and against the
 * model's parsers on generated and mangled text.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addressToBigInt, canonicalAddress, parseAddress, parseAddressInto } from './address.js';
import { parseIpv4, parseIpv6 } from './cidr.js';

/** What the model's (allocating, BigInt) parsers say, as the engine parser should. */
function reference(s: string): { family: 4 | 6; value: bigint } | undefined {
  if (s.includes(':')) {
    const v = parseIpv6(s);
    return v === undefined ? undefined : { family: 6, value: v };
  }
  const v = parseIpv4(s);
  return v === undefined ? undefined : { family: 4, value: BigInt(v) };
}

function engine(s: string): { family: 4 | 6; value: bigint } | undefined {
  const words = new Uint32Array(4);
  const family = parseAddressInto(s, words);
  return family === 0 ? undefined : { family, value: addressToBigInt(family, words) };
}

describe('parseAddressInto', () => {
  it.each([
    ['0.0.0.0', 4, 0n],
    ['255.255.255.255', 4, 0xffffffffn],
    ['10.1.2.3', 4, 0x0a010203n],
    ['::', 6, 0n],
    ['::1', 6, 1n],
    ['1::', 6, 1n << 112n],
    ['2001:DB8::A', 6, 0x20010db800000000000000000000000an],
    ['::ffff:127.0.0.1', 6, 0xffff7f000001n],
    ['1:2:3:4:5:6:7:8', 6, 0x00010002000300040005000600070008n],
    ['1:2:3:4:5:6:1.2.3.4', 6, 0x00010002000300040005000601020304n],
  ] as const)('parses %s', (s, family, value) => {
    expect(engine(s)).toEqual({ family, value });
  });

  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.0.0.1',
    '01.2.3.4',
    '1.2.3.04',
    '1.2.3.00',
    '1.2.3.',
    '.1.2.3',
    '1.2.3.1000',
    '1.2.3.4a',
    '\uff11.2.3.4',
    '1::\uff41',
    '1::\u0100',
    '1.2.3.4 ',
    ' 1.2.3.4',
    '1..2.3',
    '-1.2.3.4',
    ':',
    ':::',
    '1:::2',
    '::1::',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '12345::',
    'g::',
    '1:',
    ':1',
    '::1.2.3',
    '1.2.3.4::',
    '::1.2.3.4:5',
    '1:2:3:4:5:6:7:1.2.3.4',
    'fe80::1%eth0',
    '[::1]',
    '1::2:3:4:5:6:7:8',
  ])('refuses %j', (s) => {
    expect(engine(s)).toBeUndefined();
    expect(reference(s)).toBeUndefined();
  });

  it('agrees with the model parsers on generated and mangled addresses', () => {
    const address = fc.oneof(
      fc.ipV4(),
      fc.ipV6(),
      fc.ipV4Extended(),
      fc.constantFrom('::', '::1', '1::', '::ffff:1.2.3.4'),
    );
    const mangled = fc
      .tuple(address, fc.nat(), fc.constantFrom('', ':', '.', '0', 'a', '::', 'G', '00'))
      .map(([s, at, insert]) => s.slice(0, at % (s.length + 1)) + insert + s.slice(at % (s.length + 1)));
    fc.assert(
      fc.property(
        fc.oneof(address, mangled, fc.string({ unit: fc.constantFrom(...'0123456789abcdef:.'.split('')) })),
        (s) => {
          expect(engine(s)).toEqual(reference(s));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('parseAddress returns a reusable parsed form', () => {
    expect(parseAddress('10.0.0.1')).toEqual({ family: 4, words: Uint32Array.from([0x0a000001, 0, 0, 0]) });
    expect(parseAddress('nope')).toBeUndefined();
  });
});

describe('canonicalAddress', () => {
  it.each([
    ['192.0.2.1', { family: 4, ip: '192.0.2.1' }],
    ['2001:DB8:0:0::1', { family: 6, ip: '2001:db8::1' }],
    ['::ffff:192.0.2.1', { family: 6, ip: '::ffff:c000:201' }],
    ['0x7f.1', undefined],
    ['192.0.2.01', undefined],
    ['fe80::1%eth0', undefined],
    ['example.com', undefined],
  ])('%s → %j', (text, want) => {
    expect(canonicalAddress(text)).toEqual(want);
  });
});
