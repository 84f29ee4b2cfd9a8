/**
 * @module api/request.test — the bounded body read both API servers use, over real HTTP.
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBody } from './request.js';

describe('readBody', () => {
  const server = createServer((req, res) => {
    readBody(req, 10, (max) => new Error(`over ${max}`)).then(
      (b) => res.end(`got ${b.toString()}`),
      (err: Error) => res.end(err.message),
    );
  });
  let port = 0;
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const post = (body: string): Promise<string> =>
    new Promise((resolve) => {
      const req = request({ port, host: '127.0.0.1', method: 'POST' }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(text));
      });
      // The server may cut the request once it is over the limit.
      req.on('error', () => resolve('reset'));
      req.end(body);
    });

  it('returns a body up to the limit, whole', async () => {
    expect(await post('0123456789')).toBe('got 0123456789');
  });

  it('refuses a longer one with the error the caller names', async () => {
    expect(['over 10', 'reset']).toContain(await post('0123456789x'));
  });
});
