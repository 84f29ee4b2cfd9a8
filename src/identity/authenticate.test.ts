import { describe, expect, test } from 'vitest';
import type { Socket } from 'node:net';
import {
  certificateIdentity,
  createAuthenticator,
  parseSubjectAltNames,
  presentedCredentials,
  spiffeIdProblem,
} from './authenticate.js';
import type { IdentityMap } from './identity-map.js';
import { issueToken } from './token.js';

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

describe('Proxy-Authorization: Bearer, Basic with the token as the password, other schemes refused by name', () => {
  const key = Buffer.alloc(32, 7);
  const now = Date.parse('2026-06-01T00:00:00Z');
  const token = issueToken(key, { identity: 'spiffe://test/ns/a/sa/web', ttlMs: 60_000, now });
  const basic = (userPass: string): string => `Basic ${Buffer.from(userPass).toString('base64')}`;
  const socket = { remoteAddress: '10.0.0.9' } as Socket;
  const map = { lookup: () => 'spiffe://test/ns/legacy/sa/mapped' } as unknown as IdentityMap;
  const authenticate = createAuthenticator({ tokenKey: key, now: () => now, identityMap: () => map });
  const auth = (header: string | undefined) =>
    authenticate({ headers: header === undefined ? {} : { 'proxy-authorization': header }, socket });

  test.each([
    ['Bearer', `Bearer ${token}`],
    ['bearer, any case', `bEaReR   ${token}`],
    ['Basic weir:TOKEN', basic(`weir:${token}`)],
    ['Basic with any user name', basic(`anyone:${token}`)],
    ['Basic with an empty user name', basic(`:${token}`)],
  ])('%s proves the token identity', (_, header) => {
    expect(auth(header)).toEqual({
      identity: 'spiffe://test/ns/a/sa/web',
      source: 'token',
      // Its claims ride along: the gateway cuts the connection when the token is revoked or expires.
      token: expect.objectContaining({ identity: 'spiffe://test/ns/a/sa/web' }),
    });
  });

  test.each([
    ['Digest', 'Digest username="weir", realm="weir", nonce="x", uri="/", response="y"', "'Digest'"],
    ['NTLM', 'NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw==', "'NTLM'"],
    ['Negotiate', 'Negotiate YIIabc', "'Negotiate'"],
    ['an unreadable scheme', '\u00e9t\u00e9 x', 'an unreadable scheme'],
  ])('%s: 407 unsupported-scheme naming it, never the identity map', (_, header, named) => {
    const r = auth(header);
    expect(r).toMatchObject({ status: 407, reason: 'unsupported-scheme' });
    expect('text' in r && r.text).toContain(`uses ${named}`);
  });

  test.each([
    ['Basic without a password', basic('weir'), 'no password'],
    ['Basic with an empty password', basic(`${token}:`), 'no password'],
    ['Basic that is not base64', 'Basic not*base64', 'not base64'],
    ['Bearer without a token', 'Bearer', 'not one token'],
    ['Bearer with two words', `Bearer ${token} extra`, 'not one token'],
  ])('%s: 407 token-malformed with what is wrong', (_, header, what) => {
    const r = auth(header);
    expect(r).toMatchObject({ status: 407, reason: 'token-malformed' });
    expect('text' in r && r.text).toContain(what);
  });

  test('a forged password is refused as a forged token', () => {
    const forged = issueToken(Buffer.alloc(32, 8), {
      identity: 'spiffe://test/ns/a/sa/web',
      ttlMs: 60_000,
      now,
    });
    expect(auth(basic(`weir:${forged}`))).toMatchObject({ status: 407, reason: 'token-bad-signature' });
  });

  test('no header: the identity map; every 407 offers Bearer and Basic', () => {
    expect(auth(undefined)).toEqual({
      identity: 'spiffe://test/ns/legacy/sa/mapped',
      source: 'source-address',
    });
    const none = createAuthenticator({ tokenKey: key, now: () => now })({ headers: {}, socket });
    expect(none).toMatchObject({
      status: 407,
      reason: 'no-identity',
      headers: { 'Proxy-Authenticate': ['Bearer realm="weir"', 'Basic realm="weir"'] },
    });
    expect(auth('Digest x')).toMatchObject({
      headers: { 'Proxy-Authenticate': ['Bearer realm="weir"', 'Basic realm="weir"'] },
    });
    expect(auth('Bearer x.y.z')).toMatchObject({
      headers: { 'Proxy-Authenticate': ['Bearer realm="weir", error="invalid_token"', 'Basic realm="weir"'] },
    });
  });
});

describe('presentedCredentials', () => {
  test('a long header of one repeated character is read in one pass (no backtracking)', () => {
    expect(presentedCredentials(`Bearer ${'a'.repeat(16_000)}!`)).toMatchObject({
      reason: 'token-malformed',
    });
    expect(presentedCredentials(`Basic ${'='.repeat(16_000)}`)).toMatchObject({ reason: 'token-malformed' });
  });
});
