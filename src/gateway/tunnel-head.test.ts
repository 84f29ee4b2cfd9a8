import { describe, expect, test } from 'vitest';
import { createHeadReader } from './connect-head.js';
import { parseAuthority } from './host.js';
import type { Authority } from './host.js';
import { RequestLineSniffer, tunnelHeadProblem } from './tunnel-head.js';

const sniff = (text: string | Buffer, split = 0): string => {
  const s = new RequestLineSniffer(64);
  const b = Buffer.isBuffer(text) ? text : Buffer.from(text, 'latin1');
  if (split === 0) return s.push(b);
  let last = 'undecided';
  for (let i = 0; i < b.length; i += split) last = s.push(b.subarray(i, i + split));
  return last;
};

describe('RequestLineSniffer', () => {
  test.each([
    ['GET / HTTP/1.1\r\n', 'request-line'],
    ['PROPFIND /x?y=1 HTTP/1.0\r\nHost: a\r\n', 'request-line'],
    ['GET / HTTP/1.1', 'undecided'],
    ['GE', 'undecided'],
    ['EHLO other.test\r\n', 'other'],
    ['GET  / HTTP/1.1\r\n', 'other'],
    ['GET / HTTP/2.0\r\n', 'other'],
    ['GET / HTTP/1.1\n', 'other'],
    ['GET / HTTP/1.1 \r\n', 'other'],
    [' GET / HTTP/1.1\r\n', 'other'],
    ['SSH-2.0-OpenSSH_9.6\r\n', 'other'],
    [Buffer.from([0, 0, 0, 8, 4, 210, 22, 47]), 'other'],
    ['GET /' + 'a'.repeat(100), 'other'],
  ])('%j is %s, whole and byte by byte', (text, want) => {
    expect(sniff(text)).toBe(want);
    expect(sniff(text, 1)).toBe(want);
  });
});

describe('tunnelHeadProblem', () => {
  const to = (a: string): Authority => {
    const p = parseAuthority(a);
    if (!p.ok) throw new Error(p.problem);
    return p.value;
  };
  const head = (text: string): { target: string; raw: string[] } => {
    const r = createHeadReader({ maxHeaderSize: 4096, maxHeadersCount: 20 }, true).push(Buffer.from(text));
    if (r.kind !== 'head') throw new Error(JSON.stringify(r));
    return { target: r.target, raw: r.rawHeaders };
  };
  test.each([
    ['name.test:80', 'GET / HTTP/1.1\r\nHost: name.test\r\n\r\n', true],
    ['name.test:80', 'GET / HTTP/1.1\r\nhost: NAME.test.:80\r\n\r\n', true],
    ['name.test:8080', 'GET / HTTP/1.1\r\nHost: name.test:8080\r\n\r\n', true],
    ['name.test:8080', 'GET / HTTP/1.1\r\nHost: name.test\r\n\r\n', false],
    ['name.test:80', 'GET / HTTP/1.1\r\nHost: other.test\r\n\r\n', false],
    ['name.test:80', 'GET / HTTP/1.0\r\n\r\n', false],
    ['name.test:80', 'GET / HTTP/1.1\r\nHost: name.test\r\nHost: other.test\r\n\r\n', false],
    ['name.test:80', 'OPTIONS * HTTP/1.1\r\nHost: name.test\r\n\r\n', true],
    ['name.test:80', 'GET http://name.test/x HTTP/1.1\r\nHost: name.test\r\n\r\n', true],
    ['name.test:80', 'GET http://other.test/ HTTP/1.1\r\nHost: name.test\r\n\r\n', false],
    ['name.test:443', 'GET https://name.test/ HTTP/1.1\r\nHost: name.test:443\r\n\r\n', true],
    ['name.test:80', 'GET http://name.test@other.test/ HTTP/1.1\r\nHost: name.test\r\n\r\n', false],
    ['name.test:80', 'GET gopher://name.test/ HTTP/1.1\r\nHost: name.test\r\n\r\n', false],
    ['name.test:80', 'CONNECT other.test:80 HTTP/1.1\r\nHost: name.test\r\n\r\n', false],
    ['198.51.100.20:80', 'GET / HTTP/1.1\r\nHost: 198.51.100.20\r\n\r\n', true],
    ['198.51.100.20:80', 'GET / HTTP/1.1\r\nHost: name.test\r\n\r\n', false],
  ])('CONNECT %s then %j: allowed %s', (connect, text, ok) => {
    const h = head(text);
    expect(tunnelHeadProblem(h.target, h.raw, to(connect)) === undefined).toBe(ok);
  });
});
