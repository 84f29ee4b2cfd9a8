import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { describe, expect, test } from 'vitest';
import { parseClientHello } from './sni.js';

/** The first bytes a real Node TLS client sends for `servername`. */
async function realHello(servername: string | undefined): Promise<Buffer> {
  return new Promise((resolve) => {
    const server = createServer((s) => {
      let buf = Buffer.alloc(0);
      s.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        if (parseClientHello(buf).kind !== 'incomplete') {
          s.destroy();
          server.close();
          resolve(buf);
        }
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      const t = tlsConnect({ host: '127.0.0.1', port, ...(servername !== undefined ? { servername } : {}) });
      t.on('error', () => undefined);
    });
  });
}

describe('parseClientHello', () => {
  test('reads the SNI of a real ClientHello, byte by byte as well as whole', async () => {
    const hello = await realHello('API.Example.com');
    expect(parseClientHello(hello)).toEqual({ kind: 'client-hello', sni: 'api.example.com' });
    for (let n = 0; n < hello.length; n += 37)
      expect(parseClientHello(hello.subarray(0, n)).kind).toBe('incomplete');
  });

  test('a ClientHello split over two records is reassembled', async () => {
    const hello = await realHello('split.example');
    const body = hello.subarray(5);
    const rec = (b: Buffer): Buffer =>
      Buffer.concat([Buffer.from([0x16, 3, 1, b.length >> 8, b.length & 255]), b]);
    const split = Buffer.concat([rec(body.subarray(0, 50)), rec(body.subarray(50))]);
    expect(parseClientHello(split)).toEqual({ kind: 'client-hello', sni: 'split.example' });
  });

  test('no SNI, not TLS, and malformed input', async () => {
    expect(parseClientHello(await realHello(undefined))).toEqual({ kind: 'client-hello', sni: undefined });
    expect(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n')).kind).toBe('not-tls');
    expect(parseClientHello(Buffer.from([0x16, 3, 1, 0, 4, 2, 0, 0, 0])).kind).toBe('malformed');
    expect(parseClientHello(Buffer.from([0x16, 3, 1, 0, 6, 1, 0, 0, 2, 3, 3])).kind).toBe('malformed');
  });
});
