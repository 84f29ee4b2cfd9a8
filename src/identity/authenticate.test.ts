import { describe, expect, test } from 'vitest';
import { certificateIdentity, parseSubjectAltNames, spiffeIdProblem } from './authenticate.js';

describe('spiffeIdProblem', () => {
  test.each([
    ['spiffe://prod.example/ns/payments/sa/checkout', undefined],
    ['spiffe://a_b-c.d/x.y/Z_9-', undefined],
    ['SPIFFE://prod.example/ns/a', "it must start with 'spiffe://' (lower case)"],
    ['https://prod.example/ns/a', "it must start with 'spiffe://' (lower case)"],
    ['spiffe:///ns/a', 'the trust domain is empty'],
    [
      'spiffe://Prod.example/ns/a',
      "trust domain 'Prod.example' may hold only lower-case letters, digits, '.', '-' and '_'",
    ],
    [
      'spiffe://prod.example:443/ns/a',
      "trust domain 'prod.example:443' may hold only lower-case letters, digits, '.', '-' and '_'",
    ],
    [
      'spiffe://user@prod/ns/a',
      "trust domain 'user@prod' may hold only lower-case letters, digits, '.', '-' and '_'",
    ],
    ['spiffe://prod.example', 'it names no workload (the path is empty)'],
    ['spiffe://prod.example/', 'it names no workload (the path is empty)'],
    ['spiffe://prod.example/ns//a', 'the path has an empty segment (// or a trailing /)'],
    ['spiffe://prod.example/ns/a/', 'the path has an empty segment (// or a trailing /)'],
    ['spiffe://prod.example/ns/./a', "the path has a '.' segment"],
    ['spiffe://prod.example/ns/../a', "the path has a '..' segment"],
    [
      'spiffe://prod.example/ns/a%2Fb',
      "path segment 'a%2Fb' may hold only letters, digits, '.', '-' and '_'",
    ],
    [
      'spiffe://prod.example/ns/a?x=1',
      "path segment 'a?x=1' may hold only letters, digits, '.', '-' and '_'",
    ],
    [`spiffe://p/${'a'.repeat(2048)}`, 'longer than 2048 characters'],
  ])('%s', (id, problem) => {
    expect(spiffeIdProblem(id)).toBe(problem);
  });
});

describe('parseSubjectAltNames (Node subjectaltname text)', () => {
  test.each([
    ['', []],
    ['DNS:web.test', [{ type: 'DNS', value: 'web.test' }]],
    [
      'URI:spiffe://test/ns/app/sa/web, DNS:web.test, IP Address:127.0.0.1',
      [
        { type: 'URI', value: 'spiffe://test/ns/app/sa/web' },
        { type: 'DNS', value: 'web.test' },
        { type: 'IP Address', value: '127.0.0.1' },
      ],
    ],
    // One name holding ", URI:": Node quotes it; it must stay one name.
    [
      'URI:"spiffe://a/b, URI:spiffe://a/c", DNS:x',
      [
        { type: 'URI', value: 'spiffe://a/b, URI:spiffe://a/c' },
        { type: 'DNS', value: 'x' },
      ],
    ],
    ['URI:"say \\"hi\\""', [{ type: 'URI', value: 'say "hi"' }]],
    ['no colon here', undefined],
    ['URI:"unterminated', undefined],
    ['URI:"a"junk', undefined],
  ])('%j', (text, names) => {
    expect(parseSubjectAltNames(text)).toEqual(names);
  });
});

describe('certificateIdentity', () => {
  const verified = (identity: string) => ({ kind: 'verified', identity });
  test.each([
    [
      'the SPIFFE URI SAN wins over the CN',
      'URI:spiffe://t/ns/a, DNS:a.test',
      'cn',
      verified('spiffe://t/ns/a'),
    ],
    [
      'URIs of other schemes are ignored',
      'URI:https://t.example/a',
      'legacy-batch',
      verified('legacy-batch'),
    ],
    ['the CN when there is no SAN', undefined, 'legacy-batch', verified('legacy-batch')],
    ['two SPIFFE IDs', 'URI:spiffe://t/a, URI:spiffe://t/b', 'cn', 'certificate-spiffe-multiple'],
    [
      'a SPIFFE ID and an upper-case twin',
      'URI:spiffe://t/a, URI:SPIFFE://t/b',
      'cn',
      'certificate-spiffe-multiple',
    ],
    [
      'a malformed SPIFFE ID does not fall back to the CN',
      'URI:spiffe://t/../a',
      'cn',
      'certificate-spiffe-malformed',
    ],
    ['several CNs', undefined, ['a', 'b'], 'certificate-cn-multiple'],
    ['a CN with white space', undefined, 'web server', 'certificate-cn-invalid'],
    ['a CN with a control character', undefined, 'web\u0000', 'certificate-cn-invalid'],
    ['neither SAN nor CN', 'DNS:a.test', undefined, 'certificate-no-identity'],
    ['an empty CN', undefined, '', 'certificate-no-identity'],
    ['unreadable SANs', 'URI:"x', 'cn', 'certificate-malformed'],
  ] as const)('%s', (_name, san, cn, want) => {
    const got = certificateIdentity(san, cn);
    if (typeof want === 'string') {
      expect(got).toMatchObject({ kind: 'refused', reason: want });
      expect((got as { text: string }).text).toMatch(/\.$/);
    } else {
      expect(got).toEqual(want);
    }
  });
});
