import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parseAbsoluteUri, parseAuthority, parseHost } from './host.js';

describe('parseHost', () => {
  test('reads dotted-quad text exactly as the loose IPv4 parser does (the fast path agrees)', () => {
    // A trailing dot is stripped before the loose parser runs, so `t.` takes the slow path.
    const part = fc.oneof(
      fc.integer({ min: 0, max: 300 }).map(String),
      fc.integer({ min: 0, max: 300 }).map((n) => `0${n}`),
      fc.constantFrom('0x1f', '', '00', '1e1'),
    );
    fc.assert(
      fc.property(fc.array(part, { minLength: 4, maxLength: 4 }), (parts) => {
        const t = parts.join('.');
        fc.pre(!t.endsWith('.'));
        const fast = parseHost(t);
        const slow = parseHost(`${t}.`);
        expect(fast.ok).toBe(slow.ok);
        if (fast.ok && slow.ok) expect(fast.value).toEqual(slow.value);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (n) => {
        const text = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
        expect(parseHost(text)).toEqual({ ok: true, value: { kind: 'ip', family: 4, ip: text } });
      }),
    );
  });

  test.each([
    ['127.0.0.1', '127.0.0.1'],
    ['2130706433', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['0X7F.0.0.1', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['127.0.1', '127.0.0.1'],
    ['0', '0.0.0.0'],
    ['169.254.169.254.', '169.254.169.254'],
    ['0xa9.0xfe.0xa9.0xfe', '169.254.169.254'],
    ['[::1]', '::1'],
    ['[::FFFF:127.0.0.1]', '::ffff:7f00:1'],
    ['[fe80::1%eth0]', 'fe80::1'],
    ['[fe80::1%25eth0]', 'fe80::1'],
  ])('%s is the address %s', (text, ip) => {
    expect(parseHost(text)).toMatchObject({ ok: true, value: { kind: 'ip', ip } });
  });

  test.each([
    ['Example.COM.', 'example.com'],
    ['api.stripe.com', 'api.stripe.com'],
    ['bücher.de', 'xn--bcher-kva.de'],
  ])('%s is the name %s', (text, name) => {
    expect(parseHost(text)).toEqual({ ok: true, value: { kind: 'name', name } });
  });

  test.each([
    '',
    '1.2.3.4.5',
    '256.0.0.1',
    '4294967296',
    '0x7g.1',
    '09.0.0.1',
    '::1',
    '[127.0.0.1]',
    '[::1',
    'a b',
    'x%2f.com',
  ])('%j is refused', (text) => {
    expect(parseHost(text).ok).toBe(false);
  });
});

describe('authorities and URIs', () => {
  test('CONNECT needs a port in range', () => {
    expect(parseAuthority('a.example:443')).toMatchObject({ ok: true, value: { port: 443 } });
    expect(parseAuthority('a.example').ok).toBe(false);
    expect(parseAuthority('a.example:0').ok).toBe(false);
    expect(parseAuthority('a.example:65536').ok).toBe(false);
    expect(parseAuthority('[::1]:22')).toMatchObject({ ok: true, value: { host: { ip: '::1' }, port: 22 } });
  });

  test('absolute URIs: default port, path, no userinfo', () => {
    expect(parseAbsoluteUri('http://a.example/x?y#z')).toMatchObject({
      ok: true,
      value: { port: 80, path: '/x?y', authority: 'a.example' },
    });
    expect(parseAbsoluteUri('http://a.example')).toMatchObject({ ok: true, value: { path: '/' } });
    expect(parseAbsoluteUri('http://a.example@127.0.0.1/').ok).toBe(false);
    expect(parseAbsoluteUri('/relative').ok).toBe(false);
    expect(parseAbsoluteUri('https://a.example/').ok).toBe(false);
  });
});
