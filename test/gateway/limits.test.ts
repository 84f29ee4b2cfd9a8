/**
 * @module test/gateway-limits — the gateway's limits over real sockets, each with a small bound:
 * concurrent connections per identity and in total (429), header count (431), tunnel lifetime,
 * idle and connect timeouts, and slow clients that never finish their request head (cut off
 * while others are served).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, Socket } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { compilePolicySet } from '../../src/engine/index.js';
import type { Snapshot } from '../../src/engine/index.js';
import { createGateway } from '../../src/gateway/index.js';
import { issueToken, loadTokenKey } from '../../src/identity/index.js';
import { createResolver } from '../../src/dns/index.js';
import type { Gateway, GatewayLimits } from '../../src/gateway/index.js';
import { loadPolicySet } from '../../src/policy/index.js';
import { connectVia, echo, startEchoServer } from '../helpers/gateway-client.js';

const A = 'spiffe://test/ns/app/sa/a';
const B = 'spiffe://test/ns/app/sa/b';

type LogLine = Record<string, unknown>;

const closed = (s: Socket): Promise<void> =>
  new Promise((r) => (s.destroyed && s.readyState === 'closed' ? r() : s.once('close', () => r())));

describe('gateway limits', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-gw-limits-'));
  let echoServer: Server;
  let echoPort = 0;
  let snapshot: Snapshot;
  let key: Buffer;
  const running: Gateway[] = [];

  beforeAll(async () => {
    ({ server: echoServer, port: echoPort } = await startEchoServer());
    mkdirSync(join(dir, 'policies'));
    writeFileSync(
      join(dir, 'policies', 'limits.yaml'),
      `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: limits, owner: test@example.com }
spec:
  workloads: [{ identity: '${A}' }, { identity: '${B}' }]
  rules:
    - id: loopback-echo
      to: [{ cidr: 127.0.0.0/8 }, { cidr: 198.51.100.0/24 }]
      ports: [${echoPort}]
`,
    );
    const loaded = loadPolicySet(join(dir, 'policies'));
    expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    snapshot = compilePolicySet(loaded.set, { skipUnresolved: true });
    key = loadTokenKey(dir);
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((g) => g.close(0)));
  });

  afterAll(async () => {
    await new Promise((r) => echoServer.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  /** A gateway with `limits`; 198.51.100.99 is a black hole (connect never completes). */
  async function start(limits: Partial<GatewayLimits>): Promise<{ port: number; lines: LogLine[] }> {
    const lines: LogLine[] = [];
    const gateway = createGateway({
      getSnapshot: () => snapshot,
      resolve: createResolver({ hosts: new Map([['blackhole.test', ['198.51.100.99']]]) }),
      connect: (ip, port, onread) =>
        ip === '198.51.100.99' ? new Socket() : netConnect({ host: ip, port, onread }),
      now: Date.now,
      newId: (() => {
        let n = 0;
        return () => `d${++n}`;
      })(),
      logger: pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) }),
      tokenKey: key,
      limits,
    });
    running.push(gateway);
    return { port: (await gateway.listen('127.0.0.1', 0)).port, lines };
  }

  const token = (identity: string): string =>
    issueToken(key, { identity, ttlMs: 3_600_000, now: Date.now() });
  const closeLine = (lines: LogLine[], n: number): LogLine | undefined =>
    lines.filter((l) => l.msg === 'tunnel closed')[n];

  test('per identity and in total: 429 limit-identity / limit-total; a closed tunnel frees its slot', async () => {
    const { port, lines } = await start({ maxConnsPerIdentity: 2, maxConns: 3 });
    const target = `127.0.0.1:${echoPort}`;
    const a1 = await connectVia(port, target, { token: token(A) });
    const a2 = await connectVia(port, target, { token: token(A) });
    expect([a1.status, a2.status]).toEqual([200, 200]);
    const a3 = await connectVia(port, target, { token: token(A) });
    expect(a3.status).toBe(429);
    expect(a3.head).toContain('Weir-Reason: limit-identity');
    expect(a3.head).toContain('Weir-Decision: limit');
    const b1 = await connectVia(port, target, { token: token(B) });
    expect(b1.status).toBe(200);
    const b2 = await connectVia(port, target, { token: token(B) });
    expect(b2.status).toBe(429);
    expect(b2.head).toContain('Weir-Reason: limit-total');
    expect(await echo(a1.socket, 'still served')).toBe('still served');

    a1.socket.destroy();
    await expect.poll(() => closeLine(lines, 0)).toBeDefined();
    const a4 = await connectVia(port, target, { token: token(A) });
    expect(a4.status).toBe(200);
    expect(lines.find((l) => l.reason === 'limit-identity')).toMatchObject({
      decision: 'limit',
      status: 429,
    });
    for (const r of [a2, a3, a4, b1, b2]) r.socket.destroy();
  });

  test('more header fields than allowed: 431 too-many-headers; at the limit: served', async () => {
    const { port } = await start({ maxHeadersCount: 6 });
    // Proxy-Authorization is one field: 5 more make 6.
    const fields = (n: number): string =>
      Array.from({ length: n }, (_, i) => `X-Pad-${i}: ${i}\r\n`).join('');
    const ok = await connectVia(port, `127.0.0.1:${echoPort}`, { token: token(A), extra: fields(5) });
    expect(ok.status).toBe(200);
    const tooMany = await connectVia(port, `127.0.0.1:${echoPort}`, { token: token(A), extra: fields(6) });
    expect(tooMany.status).toBe(431);
    expect(tooMany.head).toContain('Weir-Reason: too-many-headers');
    const many = await connectVia(port, `127.0.0.1:${echoPort}`, { token: token(A), extra: fields(500) });
    expect(many.status).toBe(431);
    for (const r of [ok, tooMany, many]) r.socket.destroy();
  });

  test('a busy tunnel is closed at its maximum lifetime (Node request timeout does not cut it)', async () => {
    const { port, lines } = await start({
      tunnelMaxLifetimeMs: 300,
      requestTimeoutMs: 30,
      headersTimeoutMs: 30,
    });
    const r = await connectVia(port, `127.0.0.1:${echoPort}`, { token: token(A) });
    expect(r.status).toBe(200);
    expect(await echo(r.socket, 'x')).toBe('x');
    const keepBusy = setInterval(() => r.socket.write('.'), 10);
    await closed(r.socket);
    clearInterval(keepBusy);
    await expect.poll(() => closeLine(lines, 0)).toMatchObject({ close: 'max-lifetime' });
  });

  test('an idle tunnel is closed after the idle timeout', async () => {
    const { port, lines } = await start({ idleTimeoutMs: 50 });
    const r = await connectVia(port, `127.0.0.1:${echoPort}`, { token: token(A) });
    expect(await echo(r.socket, 'x')).toBe('x');
    await closed(r.socket);
    await expect.poll(() => closeLine(lines, 0)).toMatchObject({ close: 'idle-timeout' });
  });

  test('a tunnel that keeps moving bytes within the idle timeout stays open past it', async () => {
    const { port, lines } = await start({ idleTimeoutMs: 100 });
    const r = await connectVia(port, `127.0.0.1:${echoPort}`, { token: token(A) });
    for (let i = 0; i < 8; i++) {
      expect(await echo(r.socket, `${i}`)).toBe(`${i}`);
      await new Promise((res) => setTimeout(res, 40));
    }
    expect(closeLine(lines, 0)).toBeUndefined();
    r.socket.end();
    await closed(r.socket);
    await expect.poll(() => closeLine(lines, 0)).toMatchObject({ close: 'closed' });
  });

  test('an upstream that never answers the TCP handshake: 504 connect-timeout', async () => {
    const { port } = await start({ connectTimeoutMs: 50 });
    const r = await connectVia(port, `blackhole.test:${echoPort}`, { token: token(A) });
    r.socket.destroy();
    expect(r.status).toBe(504);
    expect(r.head).toContain('Weir-Reason: connect-timeout');
  });

  test('clients that never finish their request head are cut off (408) while others are served', async () => {
    const { port } = await start({ headersTimeoutMs: 100 });
    const slow = await Promise.all(
      Array.from(
        { length: 20 },
        () =>
          new Promise<{ socket: Socket; got: () => string }>((resolve) => {
            let got = '';
            const socket = netConnect({ host: '127.0.0.1', port }, () => {
              socket.write(`CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\nX-Slow: 1\r\n`);
              resolve({ socket, got: () => got });
            });
            socket.on('data', (c: Buffer) => (got += c.toString('latin1')));
            socket.on('error', () => undefined);
          }),
      ),
    );
    const ok = await connectVia(port, `127.0.0.1:${echoPort}`, { token: token(A) });
    expect(ok.status).toBe(200);
    expect(await echo(ok.socket, 'served')).toBe('served');
    await Promise.all(slow.map((s) => closed(s.socket)));
    for (const s of slow) expect(s.got()).toMatch(/^HTTP\/1.1 408/);
    ok.socket.destroy();
  });
});
