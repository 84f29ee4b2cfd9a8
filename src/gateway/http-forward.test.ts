import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createUpstreamPool } from './http-forward.js';

describe('upstream pool', () => {
  let server: Server;
  let port = 0;
  const serverSides: Socket[] = [];

  beforeAll(async () => {
    server = createServer((s) => {
      serverSides.push(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    for (const s of serverSides) s.destroy();
    await new Promise((r) => server.close(r));
  });

  const open = (): Promise<Socket> =>
    new Promise((res) => {
      const s = connect({ host: '127.0.0.1', port }, () => res(s));
      s.on('error', () => undefined);
    });
  const closed = (s: Socket): Promise<void> => new Promise((r) => (s.destroyed ? r() : s.once('close', r)));

  test('a socket is taken back only for its own address, port and Host (case-insensitive)', async () => {
    const pool = createUpstreamPool({ idleTimeoutMs: 10_000, maxIdlePerKey: 4, maxIdleTotal: 8 });
    const s = await open();
    pool.offer('198.51.100.1', port, 'a.test', s);
    expect(pool.take(['198.51.100.2'], port, 'a.test')).toBeUndefined();
    expect(pool.take(['198.51.100.1'], port + 1, 'a.test')).toBeUndefined();
    expect(pool.take(['198.51.100.1'], port, 'b.test')).toBeUndefined();
    expect(pool.take(['198.51.100.9', '198.51.100.1'], port, 'A.TEST')).toEqual({
      ip: '198.51.100.1',
      socket: s,
    });
    expect(pool.size).toBe(0);
    s.destroy();
  });

  test('bounded per key and in total: the surplus is closed', async () => {
    const pool = createUpstreamPool({ idleTimeoutMs: 10_000, maxIdlePerKey: 1, maxIdleTotal: 2 });
    const [a, b, c, d] = await Promise.all([open(), open(), open(), open()]);
    pool.offer('198.51.100.1', port, 'a.test', a as Socket);
    pool.offer('198.51.100.1', port, 'a.test', b as Socket);
    await closed(b as Socket);
    pool.offer('198.51.100.2', port, 'a.test', c as Socket);
    pool.offer('198.51.100.3', port, 'a.test', d as Socket);
    await closed(d as Socket);
    expect(pool.size).toBe(2);
    pool.close();
    await Promise.all([closed(a as Socket), closed(c as Socket)]);
    expect(pool.size).toBe(0);
  });

  test('an idle socket is closed after the idle timeout; one the upstream closes leaves the pool', async () => {
    const pool = createUpstreamPool({ idleTimeoutMs: 50, maxIdlePerKey: 4, maxIdleTotal: 8 });
    const idle = await open();
    pool.offer('198.51.100.1', port, 'a.test', idle);
    await closed(idle);
    expect(pool.size).toBe(0);

    const before = serverSides.length;
    const s = await open();
    await expect.poll(() => serverSides.length).toBe(before + 1);
    const pool2 = createUpstreamPool({ idleTimeoutMs: 10_000, maxIdlePerKey: 4, maxIdleTotal: 8 });
    pool2.offer('198.51.100.1', port, 'a.test', s);
    serverSides.at(-1)?.end();
    await closed(s);
    expect(pool2.size).toBe(0);
    expect(pool2.take(['198.51.100.1'], port, 'a.test')).toBeUndefined();
  });
});
