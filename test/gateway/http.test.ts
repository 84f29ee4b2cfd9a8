/**
 * @module test/gateway-http — plain-HTTP forwarding over real sockets: `Upgrade` relayed as a
 * tunnel after a real `101` (a raw WebSocket handshake and an echo upstream), refused or
 * not-switched upgrades, and upstream keep-alive reuse bounded by the decision of each request.
 *
 * 198.51.100.0/24 (TEST-NET-2) stands for public hosts: the test's `connect` routes it to
 * 127.0.0.1, as a NAT would.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server } from 'node:http';
import { connect as netConnect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { compilePolicySet } from '../../src/engine/index.js';
import type { Snapshot } from '../../src/engine/index.js';
import { createGateway, createGatewayMetrics } from '../../src/gateway/index.js';
import { issueToken, loadTokenKey } from '../../src/identity/index.js';
import { createResolver } from '../../src/dns/index.js';
import type { Gateway, GatewayLimits } from '../../src/gateway/index.js';
import { loadPolicySet } from '../../src/policy/index.js';
import { fqdnPolicy, natConnect } from '../helpers/gateway-client.js';

const WEB = 'spiffe://test/ns/app/sa/web';
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

type LogLine = Record<string, unknown>;

/** What the upstream saw. */
interface Seen {
  connections: number;
  requests: { url: string; headers: IncomingHttpHeaders }[];
  upgrades: { url: string; headers: IncomingHttpHeaders }[];
}

/** Sends `text` raw to the proxy and reads the reply head; the socket stays open. */
function raw(port: number, text: string): Promise<{ head: string; rest: Buffer; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.pause();
      resolve({ head: buf.subarray(0, end).toString('latin1'), rest: buf.subarray(end + 4), socket });
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(text);
  });
}

/** Reads until the socket closes. */
function readAll(socket: Socket, already: Buffer = Buffer.alloc(0)): Promise<string> {
  return new Promise((resolve) => {
    let got = already.toString('latin1');
    socket.on('data', (c: Buffer) => (got += c.toString('latin1')));
    socket.once('close', () => resolve(got));
    socket.resume();
  });
}

/** Writes `msg` and reads as many bytes back. */
function roundTrip(socket: Socket, msg: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const onData = (c: Buffer): void => {
      got += c.toString();
      if (got.length >= msg.length) {
        socket.off('data', onData);
        resolve(got);
      }
    };
    socket.on('data', onData);
    socket.resume();
    socket.write(msg);
  });
}

const closed = (s: Socket): Promise<void> =>
  new Promise((r) => (s.destroyed ? r() : s.once('close', () => r())));

describe('gateway plain HTTP: Upgrade and upstream keep-alive', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-gw-http-'));
  const seen: Seen = { connections: 0, requests: [], upgrades: [] };
  const held: IncomingMessage[] = [];
  let upstream: Server;
  let port = 0;
  let allow: Snapshot;
  let deny: Snapshot;
  let key: Buffer;
  const running: Gateway[] = [];

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      seen.requests.push({ url: req.url ?? '', headers: req.headers });
      // `/bye` answers, then closes the connection itself (an upstream's keep-alive timeout).
      if (req.url === '/bye') res.once('finish', () => req.socket.end());
      req.resume();
      // `/held` gets no answer: the test decides what happens to it.
      if (req.url === '/held') return void held.push(req);
      req.on('end', () => res.end(`hello ${req.url ?? ''}`));
    });
    upstream.on('connection', () => seen.connections++);
    upstream.on('upgrade', (req, socket: Socket, head: Buffer) => {
      seen.upgrades.push({ url: req.url ?? '', headers: req.headers });
      if (req.url === '/refuse') {
        socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nnope!');
        return;
      }
      // A WebSocket-style handshake, then every byte echoed (enough to prove a relayed stream).
      const accept = createHash('sha1')
        .update(`${String(req.headers['sec-websocket-key'])}${WS_GUID}`)
        .digest('base64');
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
      );
      if (head.length > 0) socket.write(head);
      socket.pipe(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    port = (upstream.address() as AddressInfo).port;
    const policy = (ports: string): string => fqdnPolicy('web', WEB, 'public.test', ports);
    for (const [name, ports] of [
      ['allow', String(port)],
      ['deny', '1'],
    ] as const) {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'web.yaml'), policy(ports));
    }
    allow = compilePolicySet(loadPolicySet(join(dir, 'allow')).set, { skipUnresolved: true });
    deny = compilePolicySet(loadPolicySet(join(dir, 'deny')).set, { skipUnresolved: true });
    key = loadTokenKey(dir);
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((g) => g.close(0)));
    seen.connections = 0;
    seen.requests.length = 0;
    seen.upgrades.length = 0;
    upstream.closeAllConnections();
  });

  afterAll(async () => {
    await new Promise((r) => upstream.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  /** A gateway enforcing `policy()` (read per request), with its log lines and metrics registry. */
  async function start(
    policy: () => Snapshot = () => allow,
    limits: Partial<GatewayLimits> = {},
  ): Promise<{ port: number; lines: LogLine[]; registry: Registry; gateway: Gateway }> {
    const lines: LogLine[] = [];
    const registry = new Registry();
    const gateway = createGateway({
      getSnapshot: policy,
      resolve: createResolver({ hosts: new Map([['public.test', ['198.51.100.10']]]) }),
      connect: natConnect,
      now: Date.now,
      newId: (() => {
        let n = 0;
        return () => `d${++n}`;
      })(),
      logger: pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) }),
      tokenKey: key,
      limits,
      metrics: createGatewayMetrics(registry, { getSnapshot: policy, loadedAt: () => 0, now: Date.now }),
    });
    running.push(gateway);
    const { port: p } = await gateway.listen('127.0.0.1', 0);
    return { port: p, lines, registry, gateway };
  }

  const token = (): string => issueToken(key, { identity: WEB, ttlMs: 60_000, now: Date.now() });

  const upgradeRequest = (path: string, tok = token()): string =>
    `GET http://public.test:${port}${path} HTTP/1.1\r\nHost: public.test:${port}\r\n` +
    `Proxy-Authorization: Bearer ${tok}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

  const gauge = async (registry: Registry, name: string): Promise<number | undefined> =>
    (await registry.getSingleMetric(name)?.get())?.values[0]?.value;

  test('WebSocket upgrade: 101 relayed, bytes echo both ways, counted, gauge, tunnel closed line', async () => {
    const gw = await start();
    const r = await raw(gw.port, upgradeRequest('/ws'));
    const [status, ...fields] = r.head.split('\r\n');
    expect(status).toBe('HTTP/1.1 101 Switching Protocols');
    expect(fields).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    expect(fields).toContain('Upgrade: websocket');
    expect(await roundTrip(r.socket, 'frame one')).toBe('frame one');
    expect(await gauge(gw.registry, 'weir_gateway_active_tunnels')).toBe(1);
    // The upstream got the handshake, without the workload's token.
    expect(seen.upgrades).toHaveLength(1);
    expect(seen.upgrades[0]?.url).toBe('/ws');
    expect(seen.upgrades[0]?.headers).toMatchObject({
      upgrade: 'websocket',
      connection: 'Upgrade',
      host: `public.test:${port}`,
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
    });
    expect(seen.upgrades[0]?.headers['proxy-authorization']).toBeUndefined();
    r.socket.end();
    await closed(r.socket);
    await expect
      .poll(() => gw.lines.find((l) => l.msg === 'tunnel closed'))
      .toMatchObject({
        decisionId: 'd1',
        identity: WEB,
        bytesIn: 9,
        bytesOut: 9,
      });
    expect(gw.lines.find((l) => l.msg === 'decision')).toMatchObject({
      decision: 'allow',
      upgrade: 'websocket',
      protocol: 'http',
    });
    await expect.poll(() => gauge(gw.registry, 'weir_gateway_active_tunnels')).toBe(0);
    const bytes = await gw.registry.getSingleMetric('weir_gateway_bytes_total')?.get();
    expect(bytes?.values.map((v) => [v.labels.direction, v.value]).sort()).toEqual([
      ['in', 9],
      ['out', 9],
    ]);
  });

  test('a denied upgrade is 403 with Weir headers and nothing reaches the upstream', async () => {
    const gw = await start(() => deny);
    const r = await raw(gw.port, upgradeRequest('/ws'));
    const body = await readAll(r.socket, r.rest);
    expect(r.head.split('\r\n')[0]).toMatch(/^HTTP\/1\.1 403 Forbidden by Weir: no-match \(/);
    expect(r.head).toContain('Weir-Decision: deny');
    expect(r.head).toContain('Weir-Reason: no-match');
    expect(body).toContain('no-match');
    expect(seen.connections).toBe(0);
    const unauth = await raw(gw.port, upgradeRequest('/ws', 'not-a-token'));
    unauth.socket.destroy();
    expect(unauth.head.split('\r\n')[0]).toMatch(
      /^HTTP\/1\.1 407 Proxy Authentication Required by Weir: token-malformed \(/,
    );
    expect(seen.upgrades).toHaveLength(0);
  });

  test('an upgrade the upstream does not accept comes back as a normal response', async () => {
    const gw = await start();
    const r = await raw(gw.port, upgradeRequest('/refuse'));
    const body = await readAll(r.socket, r.rest);
    expect(r.head.split('\r\n')[0]).toBe('HTTP/1.1 403 Forbidden');
    expect(r.head).toContain('Connection: close');
    expect(body).toBe('nope!');
    await expect
      .poll(() => gw.lines.find((l) => l.msg === 'request closed'))
      .toMatchObject({ close: 'not-upgraded', bytesIn: 5 });
  });

  test('an upgraded tunnel is closed when idle, at its maximum lifetime, and on gateway close', async () => {
    const idle = await start(() => allow, { idleTimeoutMs: 100 });
    const a = await raw(idle.port, upgradeRequest('/ws'));
    expect(a.head.split('\r\n')[0]).toBe('HTTP/1.1 101 Switching Protocols');
    await closed(a.socket.resume());
    await expect
      .poll(() => idle.lines.find((l) => l.msg === 'tunnel closed'))
      .toMatchObject({ close: 'idle-timeout' });

    const life = await start(() => allow, { tunnelMaxLifetimeMs: 150 });
    const b = await raw(life.port, upgradeRequest('/ws'));
    // Busy: traffic keeps flowing, and the lifetime still ends it.
    const busy = setInterval(() => b.socket.write('.'), 10);
    await closed(b.socket.resume());
    clearInterval(busy);
    await expect
      .poll(() => life.lines.find((l) => l.msg === 'tunnel closed'))
      .toMatchObject({ close: 'max-lifetime' });

    const cut = await start();
    const c = await raw(cut.port, upgradeRequest('/ws'));
    expect(await roundTrip(c.socket, 'x')).toBe('x');
    const gone = closed(c.socket);
    await cut.gateway.close(0);
    await gone;
  });

  /** GETs `path` through the proxy with `agent`; status, body and whether the client socket was reused. */
  function get(
    proxyPort: number,
    agent: Agent,
    path: string,
  ): Promise<{ status: number; body: string; reusedSocket: boolean }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: proxyPort,
          path: `http://public.test:${port}${path}`,
          headers: { Host: `public.test:${port}`, 'Proxy-Authorization': `Bearer ${token()}` },
          agent,
        },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, reusedSocket: req.reusedSocket }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  test('keep-alive: two requests on one client connection reuse one upstream connection', async () => {
    const gw = await start();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect(await get(gw.port, agent, '/one')).toMatchObject({ status: 200, body: 'hello /one' });
      const second = await get(gw.port, agent, '/two');
      expect(second).toEqual({ status: 200, body: 'hello /two', reusedSocket: true });
      expect(seen.connections).toBe(1);
      expect(seen.requests.map((r) => r.url)).toEqual(['/one', '/two']);
      // Many more on the same connection: still one upstream connection, and no listener piles up
      // on the reused socket (Node warns past 10 listeners of one event).
      const warnings: string[] = [];
      const onWarning = (w: Error): void => void warnings.push(w.name);
      process.on('warning', onWarning);
      for (let i = 0; i < 15; i++) expect((await get(gw.port, agent, `/n${i}`)).status).toBe(200);
      await new Promise((r) => setImmediate(r));
      process.off('warning', onWarning);
      expect(warnings).toEqual([]);
      expect(seen.connections).toBe(1);
      // Each request was decided on its own; the second names the reused connection.
      const decisions = gw.lines.filter((l) => l.msg === 'decision').slice(0, 2);
      expect(decisions.map((l) => [l.decision, l.ip, l.reused])).toEqual([
        ['allow', '198.51.100.10', undefined],
        ['allow', '198.51.100.10', true],
      ]);
    } finally {
      agent.destroy();
    }
  });

  test('a client that half-closes before its answer: the request is cut upstream and logged as the client’s close', async () => {
    const gw = await start();
    const s = netConnect({ host: '127.0.0.1', port: gw.port });
    s.on('error', () => undefined);
    const reply = readAll(s);
    // Node's server (like Squid's default) takes a FIN as the client leaving, so nothing is answered.
    s.end(
      `GET http://public.test:${port}/held HTTP/1.1\r\nHost: public.test:${port}\r\n` +
        `Proxy-Authorization: Bearer ${token()}\r\n\r\n`,
    );
    await expect.poll(() => held.length).toBe(1);
    expect(await reply).toBe('');
    // The held request's upstream connection is cut too.
    await expect.poll(() => held[0]?.socket.destroyed).toBe(true);
    await expect
      .poll(() => gw.lines.filter((l) => l.msg === 'request closed'))
      .toEqual([expect.objectContaining({ close: 'client-closed', bytesIn: 0, bytesOut: 0 })]);
    held.length = 0;
  });

  test.each(['GET', 'DELETE', 'OPTIONS', 'POST'])(
    'a %s body sent chunked reaches the upstream framed: a request hidden in it is not a second request',
    async (method) => {
      const gw = await start();
      const hidden = `GET /smuggled HTTP/1.1\r\nHost: public.test:${port}\r\n\r\n`;
      const r = await raw(
        gw.port,
        `${method} http://public.test:${port}/outer HTTP/1.1\r\nHost: public.test:${port}\r\n` +
          `Proxy-Authorization: Bearer ${token()}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n` +
          `${Buffer.byteLength(hidden).toString(16)}\r\n${hidden}\r\n0\r\n\r\n`,
      );
      const body = await readAll(r.socket, r.rest);
      expect(r.head.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
      expect(body).toBe('hello /outer');
      // Give a smuggled second request the time to arrive, were there one.
      await new Promise((res) => setTimeout(res, 100));
      expect(seen.requests.map((q) => q.url)).toEqual(['/outer']);
      expect(seen.requests[0]?.headers['transfer-encoding']).toBe('chunked');
    },
  );

  test('keep-alive: a policy change between two requests is enforced on the second', async () => {
    let current = allow;
    const gw = await start(() => current);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect((await get(gw.port, agent, '/one')).status).toBe(200);
      current = deny;
      const second = await get(gw.port, agent, '/two');
      expect(second.status).toBe(403);
      expect(seen.requests.map((r) => r.url)).toEqual(['/one']);
      current = allow;
      expect((await get(gw.port, agent, '/three')).status).toBe(200);
      expect(seen.connections).toBe(1);
    } finally {
      agent.destroy();
    }
  });

  test('keep-alive: a connection the upstream closed is not reused', async () => {
    const gw = await start();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const serverSide = new Promise<void>((r) =>
        upstream.once('connection', (s: Socket) => s.once('close', r)),
      );
      expect((await get(gw.port, agent, '/bye')).status).toBe(200);
      await serverSide;
      expect(await get(gw.port, agent, '/after')).toMatchObject({ status: 200, body: 'hello /after' });
      expect(seen.connections).toBe(2);
      expect(gw.lines.filter((l) => l.msg === 'decision').map((l) => l.reused)).toEqual([
        undefined,
        undefined,
      ]);
    } finally {
      agent.destroy();
    }
  });

  test('keep-alive: idle upstream connections are bounded per host', async () => {
    const gw = await start(() => allow, { maxIdleUpstreamsPerHost: 1 });
    // Two client connections in parallel open two upstream connections; one is kept.
    const a = new Agent({ keepAlive: true });
    const b = new Agent({ keepAlive: true });
    try {
      await Promise.all([get(gw.port, a, '/p1'), get(gw.port, b, '/p2')]);
      expect(seen.connections).toBe(2);
      const open = (): Promise<number> => new Promise((r) => upstream.getConnections((_e, n) => r(n)));
      await expect.poll(open).toBe(1);
    } finally {
      a.destroy();
      b.destroy();
    }
  });
});
