import { describe, expect, test } from 'vitest';
import { parseIdentityMap } from './identity-map.js';
import type { IdentityMap } from './identity-map.js';

const HEAD = 'apiVersion: weir.dev/v1\nkind: IdentityMap\n';

function load(entries: string): IdentityMap {
  const r = parseIdentityMap(`${HEAD}entries:\n${entries}`, 'map.yaml');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.map;
}

describe('identity map lookup', () => {
  const map = load(`  - { source: 10.0.0.0/8, identity: wide }
  - { source: 10.20.0.0/16, identity: subnet }
  - { source: 10.20.3.7, identity: host }
  - { source: '2001:DB8::/32', identity: v6-wide }
  - { source: '2001:db8:0:1::/64', identity: v6-subnet }
  - { source: '::ffff:192.168.0.0/112', identity: mapped-entry }
  - { source: 'fe80::/10', identity: link-local }
`);

  test.each([
    ['10.1.2.3', 'wide'],
    ['10.20.9.9', 'subnet'],
    ['10.20.3.7', 'host'],
    ['10.20.3.8', 'subnet'],
    ['11.0.0.1', undefined],
    // A dual-stack socket reports IPv4 clients as IPv4-mapped IPv6: the same host.
    ['::ffff:10.20.3.7', 'host'],
    ['::FFFF:10.20.9.9', 'subnet'],
    ['192.168.4.4', 'mapped-entry'],
    ['2001:db8:0:1::5', 'v6-subnet'],
    ['2001:db8:ffff::1', 'v6-wide'],
    ['2001:db9::1', undefined],
    ['fe80::1%eth0', 'link-local'],
    ['', undefined],
    ['not an address', undefined],
  ])('%s → %s', (address, identity) => {
    expect(map.lookup(address)).toBe(identity);
  });

  test('entries are canonical, with their lines; /0 and an empty list work', () => {
    expect(map.entries.slice(2, 6)).toEqual([
      { source: '10.20.3.7/32', identity: 'host', line: 6 },
      { source: '2001:db8::/32', identity: 'v6-wide', line: 7 },
      { source: '2001:db8:0:1::/64', identity: 'v6-subnet', line: 8 },
      { source: '192.168.0.0/16', identity: 'mapped-entry', line: 9 },
    ]);
    const all = load(`  - { source: 0.0.0.0/0, identity: everyone }\n`);
    expect(all.lookup('203.0.113.9')).toBe('everyone');
    expect(all.lookup('::1')).toBeUndefined();
    expect(load('').entries).toEqual([]);
    expect(parseIdentityMap(`${HEAD}entries: []\n`, 'map.yaml')).toMatchObject({
      ok: true,
      map: { entries: [] },
    });
  });
});

describe('identity map errors: file:line:col, message and hint', () => {
  const entry = (s: string): string => `${HEAD}entries:\n  - ${s}\n`;
  test.each([
    ['YAML syntax', `${HEAD}entries: [\n`, /^map\.yaml:4:1: /],
    ['duplicate key', `${HEAD}kind: IdentityMap\nentries: []\n`, /^map\.yaml:3:1: Map keys must be unique/],
    [
      'two documents',
      `${HEAD}entries: []\n---\n${HEAD}entries: []\n`,
      /^map\.yaml:4:1: an identity map file holds one YAML document; hint: remove the ---$/,
    ],
    [
      'not a mapping',
      '- 10.0.0.0/8\n',
      /^map\.yaml:1:1: an identity map is a mapping with apiVersion, kind and entries; hint: /,
    ],
    [
      'wrong apiVersion',
      'apiVersion: v1\nkind: IdentityMap\nentries: []\n',
      /^map\.yaml:1:13: apiVersion must be 'weir\.dev\/v1'; hint: apiVersion: weir\.dev\/v1$/,
    ],
    [
      'missing kind',
      'apiVersion: weir.dev/v1\nentries: []\n',
      /^map\.yaml:1:1: missing kind; hint: kind: IdentityMap$/,
    ],
    [
      'unknown key',
      `${HEAD}entries: []\nentry: []\n`,
      /^map\.yaml:4:1: unknown key 'entry'; hint: allowed: apiVersion, kind, entries$/,
    ],
    ['missing entries', HEAD, /^map\.yaml:1:1: missing entries; hint: entries: \[/],
    ['entries not a list', `${HEAD}entries: 10.0.0.0/8\n`, /^map\.yaml:3:10: entries must be a list; hint: /],
    [
      'entry not a mapping',
      entry('10.0.0.0/8'),
      /^map\.yaml:4:5: an entry is a mapping with source and identity/,
    ],
    [
      'unknown entry key',
      entry('{ source: 10.0.0.0/8, identity: a, ident: b }'),
      /^map\.yaml:4:40: unknown key 'ident'; hint: allowed: source, identity, description$/,
    ],
    ['no identity', entry('{ source: 10.0.0.0/8 }'), /^map\.yaml:4:5: entry has no identity; hint: /],
    ['source not a string', entry('{ source: 10, identity: a }'), /^map\.yaml:4:15: source must be a string/],
    [
      'not an address',
      entry('{ source: db.internal, identity: a }'),
      /^map\.yaml:4:15: 'db\.internal' is not an IP address or CIDR; hint: e\.g\. 10\.20\.0\.0\/16/,
    ],
    [
      'leading zeros',
      entry('{ source: 010.0.0.1, identity: a }'),
      /^map\.yaml:4:15: '010\.0\.0\.1': octets with leading zeros are ambiguous \(octal or decimal\); hint: remove leading zeros$/,
    ],
    [
      'IPv4 host bits',
      entry('{ source: 10.1.2.3/16, identity: a }'),
      /^map\.yaml:4:15: '10\.1\.2\.3\/16' has host bits set; hint: write 10\.1\.0\.0\/16, or 10\.1\.2\.3\/32 for one host$/,
    ],
    [
      'IPv6 host bits',
      entry("{ source: '2001:db8::1/64', identity: a }"),
      /has host bits set; hint: write 2001:db8::\/64, or 2001:db8::1\/128 for one host$/,
    ],
    [
      'prefix too long',
      entry('{ source: 10.0.0.0/33, identity: a }'),
      /'10\.0\.0\.0\/33': prefix length 33 is over 32; hint: write \/0 to \/32$/,
    ],
    ['bad prefix', entry('{ source: 10.0.0.0/08, identity: a }'), /'\/08' is not a prefix length/],
    ['zone ID', entry("{ source: 'fe80::1%eth0', identity: a }"), /a zone ID has no place in a source/],
    [
      'wildcard identity',
      entry("{ source: 10.0.0.0/8, identity: 'spiffe://p/ns/*' }"),
      /^map\.yaml:4:37: identity 'spiffe:\/\/p\/ns\/\*' is a pattern; hint: a source maps to one exact identity/,
    ],
    [
      'identity with space',
      entry("{ source: 10.0.0.0/8, identity: 'a b' }"),
      /identity 'a b' contains white space/,
    ],
    [
      'bad SPIFFE identity',
      entry("{ source: 10.0.0.0/8, identity: 'spiffe://P/x' }"),
      /is not a valid SPIFFE ID: trust domain 'P'/,
    ],
    [
      'description not a string',
      entry('{ source: 10.0.0.0/8, identity: a, description: [x] }'),
      /description must be a string/,
    ],
  ])('%s', (_name, text, want) => {
    const r = parseIdentityMap(text, 'map.yaml');
    expect(r.ok).toBe(false);
    expect(r.ok ? [] : r.errors).toEqual(expect.arrayContaining([expect.stringMatching(want)]));
  });

  test('the same source written twice, in two spellings, names the first line', () => {
    const r = parseIdentityMap(
      `${HEAD}entries:\n  - { source: 10.0.0.1, identity: a }\n  - { source: 10.0.0.1/32, identity: b }\n`,
      'map.yaml',
    );
    expect(r).toEqual({
      ok: false,
      errors: [
        'map.yaml:5:15: 10.0.0.1/32 is already mapped at line 4; hint: a source maps to one identity: remove one of the entries',
      ],
    });
  });

  test('every problem is reported, not only the first', () => {
    const r = parseIdentityMap(
      `${HEAD}entries:\n  - { source: 10.0.0.1/8, identity: a }\n  - { source: x, identity: b }\n`,
      'map.yaml',
    );
    expect(r.ok ? 0 : r.errors.length).toBe(2);
  });
});
