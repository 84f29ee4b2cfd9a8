import { describe, expect, test } from 'vitest';
import { createHeadReader, headersOf, sniffConnect } from './connect-head.js';
import type { HeadLimits, HeadParse } from './connect-head.js';

const LIMITS: HeadLimits = { maxHeaderSize: 1024, maxHeadersCount: 5 };
const HEAD =
  'CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\nProxy-Authorization: Bearer t0k\r\n\r\n';

/** Feeds `text` to a fresh reader in the given pieces; returns every answer. */
function feed(pieces: readonly string[], limits: HeadLimits = LIMITS): HeadParse[] {
  const reader = createHeadReader(limits);
  return pieces.map((p) => reader.push(Buffer.from(p, 'latin1')));
}

const last = (pieces: readonly string[], limits?: HeadLimits): HeadParse => feed(pieces, limits).at(-1)!;

describe('sniffConnect', () => {
  test.each([
    ['CONNECT ', 'connect'],
    ['CONNECT a:1 HTTP/1.1\r\n', 'connect'],
    ['', 'undecided'],
    ['C', 'undecided'],
    ['CONNEC', 'undecided'],
    ['CONNECT', 'undecided'],
    ['GET http://a/ HTTP/1.1\r\n', 'other'],
    ['connect a:1 HTTP/1.1\r\n', 'other'],
    ['CONNECTX', 'other'],
    ['\x16\x03\x01', 'other'],
  ])('%j is %s', (text, kind) => {
    expect(sniffConnect(Buffer.from(text, 'latin1'))).toBe(kind);
  });
});

describe('createHeadReader', () => {
  test('a whole head in one chunk: target, version, raw headers as sent', () => {
    expect(last([HEAD])).toEqual({
      kind: 'head',
      target: 'api.example.com:443',
      version: '1.1',
      rawHeaders: ['Host', 'api.example.com:443', 'Proxy-Authorization', 'Bearer t0k'],
      rest: Buffer.alloc(0),
    });
  });

  test('HTTP/1.0, no header fields, and trimmed values', () => {
    expect(last(['CONNECT [::1]:22 HTTP/1.0\r\n\r\n'])).toMatchObject({
      kind: 'head',
      target: '[::1]:22',
      version: '1.0',
      rawHeaders: [],
    });
    expect(last(['CONNECT a:1 HTTP/1.1\r\nX-A: \t v a l \t\r\nX-B:\r\n\r\n'])).toMatchObject({
      rawHeaders: ['X-A', 'v a l', 'X-B', ''],
    });
  });

  test('bytes pipelined after the head are returned as the rest, untouched', () => {
    const hello = '\x16\x03\x01\x00\x05hello';
    const r = last([HEAD + hello]);
    expect(r.kind).toBe('head');
    expect(r.kind === 'head' && r.rest.toString('latin1')).toBe(hello);
  });

  test('a head split at every position, then one byte at a time, reads the same', () => {
    const whole = HEAD + 'tail';
    const expected = last([whole]);
    for (let cut = 1; cut < whole.length; cut++) {
      const answers = feed([whole.slice(0, cut), whole.slice(cut)]);
      if (cut < HEAD.length) {
        expect(answers[0]).toEqual({ kind: 'incomplete' });
        expect(answers[1]).toEqual(expected);
      } else {
        // Done with the first piece: its bytes past the head are the rest; later ones are not.
        expect(answers[0]).toEqual({ ...expected, rest: Buffer.from(whole.slice(HEAD.length, cut)) });
        expect(answers[1]).toBe(answers[0]);
      }
    }
    const bytes = feed([...whole]);
    expect(bytes.slice(0, HEAD.length - 1).every((a) => a.kind === 'incomplete')).toBe(true);
    const done = bytes[HEAD.length - 1];
    expect(done).toMatchObject({ kind: 'head', target: 'api.example.com:443' });
    // The bytes after the blank line come in later pushes, which the caller reads itself.
    expect(done?.kind === 'head' && done.rest.length).toBe(0);
  });

  test('an answer is final: later pushes return it again', () => {
    const reader = createHeadReader(LIMITS);
    const first = reader.push(Buffer.from('CONNECT a:1 HTTP/1.1\n'));
    expect(first.kind).toBe('bad');
    expect(reader.push(Buffer.from('\r\n\r\n'))).toBe(first);
  });

  test.each([
    ['two spaces after the method', 'CONNECT  a:1 HTTP/1.1\r\n\r\n'],
    ['no version', 'CONNECT a:1\r\n\r\n'],
    ['two spaces before the version', 'CONNECT a:1  HTTP/1.1\r\n\r\n'],
    ['an unknown version', 'CONNECT a:1 HTTP/2.0\r\n\r\n'],
    ['a lower-case version', 'CONNECT a:1 http/1.1\r\n\r\n'],
    ['a control byte in the target', 'CONNECT a\x01:1 HTTP/1.1\r\n\r\n'],
    ['a non-ASCII target', 'CONNECT \xe9.example:1 HTTP/1.1\r\n\r\n'],
    ['a bare LF ending the request line', 'CONNECT a:1 HTTP/1.1\n\r\n'],
    ['a bare LF ending a header', 'CONNECT a:1 HTTP/1.1\r\nX-A: 1\n\r\n'],
    ['a bare LF ending the head', 'CONNECT a:1 HTTP/1.1\r\nX-A: 1\r\n\n'],
    ['a bare CR inside a value', 'CONNECT a:1 HTTP/1.1\r\nX-A: 1\r2\r\n\r\n'],
    ['a bare CR inside the request line', 'CONNECT a:1\rHTTP/1.1\r\n\r\n'],
    ['obs-fold (space)', 'CONNECT a:1 HTTP/1.1\r\nX-A: 1\r\n 2\r\n\r\n'],
    ['obs-fold (tab)', 'CONNECT a:1 HTTP/1.1\r\nX-A: 1\r\n\t2\r\n\r\n'],
    ['a field without a colon', 'CONNECT a:1 HTTP/1.1\r\nX-A 1\r\n\r\n'],
    ['whitespace before the colon', 'CONNECT a:1 HTTP/1.1\r\nX-A : 1\r\n\r\n'],
    ['an empty field name', 'CONNECT a:1 HTTP/1.1\r\n: 1\r\n\r\n'],
    ['a separator in the field name', 'CONNECT a:1 HTTP/1.1\r\nX(A): 1\r\n\r\n'],
    ['NUL in a value', 'CONNECT a:1 HTTP/1.1\r\nX-A: 1\x002\r\n\r\n'],
    ['DEL in a value', 'CONNECT a:1 HTTP/1.1\r\nX-A: 1\x7f\r\n\r\n'],
    ['not a CONNECT at all', 'GET / HTTP/1.1\r\n\r\n'],
  ])('400 for %s', (_what, text) => {
    expect(last([text])).toMatchObject({ kind: 'bad', status: 400, reason: 'malformed-request' });
    // The same, one byte at a time.
    const answers = feed([...text]);
    expect(answers.find((a) => a.kind !== 'incomplete')).toMatchObject({ kind: 'bad', status: 400 });
  });

  test('a bare CR is refused before the line ends', () => {
    const answers = feed(['CONNECT a:1 HTTP/1.1\r\nX-A: 1\rx', 'more bytes that never end the line']);
    expect(answers[0]).toMatchObject({ kind: 'bad', status: 400 });
  });

  test('obs-text in a value is kept, as Node keeps it', () => {
    expect(last(['CONNECT a:1 HTTP/1.1\r\nX-A: caf\xe9\r\n\r\n'])).toMatchObject({
      rawHeaders: ['X-A', 'caf\xe9'],
    });
  });

  test('header count: at the limit read, one more 431 too-many-headers', () => {
    const fields = (n: number): string => Array.from({ length: n }, (_, i) => `X-${i}: ${i}\r\n`).join('');
    expect(last([`CONNECT a:1 HTTP/1.1\r\n${fields(5)}\r\n`]).kind).toBe('head');
    expect(last([`CONNECT a:1 HTTP/1.1\r\n${fields(6)}\r\n`])).toMatchObject({
      kind: 'bad',
      status: 431,
      reason: 'too-many-headers',
    });
  });

  test('head size: exactly the limit is read; one byte more is 431, complete or not', () => {
    const pad = (total: number): string => {
      const start = 'CONNECT a:1 HTTP/1.1\r\nX-Pad: ';
      return `${start}${'p'.repeat(total - start.length - 4)}\r\n\r\n`;
    };
    expect(pad(1024)).toHaveLength(1024);
    expect(last([pad(1024)]).kind).toBe('head');
    expect(last([pad(1025)])).toMatchObject({ kind: 'bad', status: 431, reason: 'header-too-large' });
    // A head that never ends is refused once it passes the limit, not when it is finished.
    const endless = feed(['CONNECT a:1 HTTP/1.1\r\nX-Pad: ', 'p'.repeat(900), 'p'.repeat(200)]);
    expect(endless.map((a) => a.kind)).toEqual(['incomplete', 'incomplete', 'bad']);
    expect(endless[2]).toMatchObject({ status: 431 });
    // Many short lines count as much as one long one.
    const lines = feed(['CONNECT a:1 HTTP/1.1\r\n', ...Array.from({ length: 200 }, () => 'X: 1\r\n')], {
      maxHeaderSize: 1024,
      maxHeadersCount: 1_000,
    });
    expect(lines.find((a) => a.kind !== 'incomplete')).toMatchObject({
      status: 431,
      reason: 'header-too-large',
    });
  });

  test('the answer does not depend on how the head was split (cases the property test found)', () => {
    // A bare CR within the size limit, on a line that ends past it: 400 whole or in pieces
    // (the whole head used to get 431, a head cut after the CR 400).
    const crossing = `CONNECT a:1 HTTP/1.1\r\nX-A: ab\rcd${'e'.repeat(80)}\r\n\r\n`;
    const small = { maxHeaderSize: 60, maxHeadersCount: 5 };
    const cut = crossing.indexOf('\r', 25) + 2;
    for (const pieces of [[crossing], [crossing.slice(0, cut), crossing.slice(cut)]]) {
      expect(last(pieces, small)).toMatchObject({ status: 400, text: 'Bare CR in the request head.' });
    }
    // A line with a bare CR and then a bare LF: the CR is named, whole or in pieces.
    const both = 'CONNECT a:1 HTTP/1.1\r\nX-A: a\rb \n\r\n';
    const at = both.indexOf('\rb') + 2;
    for (const pieces of [[both], [both.slice(0, at), both.slice(at)]]) {
      expect(last(pieces)).toMatchObject({ status: 400, text: 'Bare CR in the request head.' });
    }
  });
});

describe('headersOf', () => {
  test('lower-cased names; repeats joined, or dropped where Node keeps the first', () => {
    const h = headersOf([
      'Proxy-Authorization',
      'Bearer first',
      'proxy-authorization',
      'Bearer second',
      'X-A',
      '1',
      'x-a',
      '2',
      'Cookie',
      'a=1',
      'Cookie',
      'b=2',
      'Set-Cookie',
      'c=3',
      'Host',
      'a:1',
      'HOST',
      'b:2',
    ]);
    expect({ ...h }).toEqual({
      'proxy-authorization': 'Bearer first',
      'x-a': '1, 2',
      cookie: 'a=1; b=2',
      'set-cookie': ['c=3'],
      host: 'a:1',
    });
  });

  test('a field named __proto__ is an ordinary field', () => {
    const h = headersOf(['__proto__', 'x']);
    expect(Object.getPrototypeOf(h)).toBe(null);
    expect(h['__proto__']).toBe('x');
  });
});
