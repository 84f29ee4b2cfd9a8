/**
 * @module test/security/preauth-connection-flood — the red team's descriptor exhaustion: idle TCP
 * connections that never authenticate, opened faster than the head deadline closes them, against
 * `weir serve` under a low `ulimit -n`. Connections beyond the pre-authentication caps (in all,
 * per source address) are closed at accept, the process keeps descriptors in reserve, and
 * `/healthz`, the API and an authenticated request through the proxy still answer.
 *
 * Sources are loopback addresses (127.0.0.2, 127.0.0.3, …): Linux routes all of 127.0.0.0/8 to
 * lo, so one test process can be many clients.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, get as httpGet, request as httpRequest } from 'node:http';
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { issueToken, loadTokenKey } from '../../src/identity/index.js';
import { spawnServe } from '../helpers/serve-process.js';
import type { ServeProcess } from '../helpers/serve-process.js';

const WEB = 'spiffe://test/ns/app/sa/web';

/** One client connection and what became of it. */
interface Probe {
  readonly socket: Socket;
  /** Resolves once connected, closed or failed. */
  readonly settled: Promise<void>;
  closed: boolean;
}

function open(port: number, localAddress: string): Probe {
  const socket = netConnect({ host: '127.0.0.1', port, localAddress });
  const probe: Probe = {
    socket,
    closed: false,
    settled: new Promise<void>((resolve) => {
      socket.once('connect', () => resolve());
      socket.once('close', () => {
        probe.closed = true;
        resolve();
      });
    }),
  };
  socket.on('error', () => undefined);
  // Read (and drop) whatever the gateway answers, so its 503 cannot hold the close back.
  socket.on('data', () => undefined);
  return probe;
}

/** Opens `perSource` connections from each of `sources`, `batch` at a time, and waits for each. */
async function flood(
  port: number,
  sources: readonly string[],
  perSource: number,
  batch = 100,
): Promise<Probe[]> {
  const all: Probe[] = [];
  const pending: Probe[] = [];
  for (const src of sources) {
    for (let i = 0; i < perSource; i++) {
      const p = open(port, src);
      all.push(p);
      pending.push(p);
      if (pending.length >= batch) await Promise.all(pending.splice(0).map((q) => q.settled));
    }
  }
  await Promise.all(pending.map((q) => q.settled));
  return all;
}

/** Waits, a step at a time (no clock), until `cond` holds; fails after `steps`. */
async function until(cond: () => boolean, what: string, steps = 600): Promise<void> {
  for (let i = 0; !cond(); i++) {
    if (i >= steps) throw new Error(`never: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function sources(from: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `127.0.0.${from + i}`);
}

function healthz(apiPort: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpGet({ host: '127.0.0.1', port: apiPort, path: '/healthz', agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', reject);
  });
}

/** An unsigned EC2 call: any HTTP answer (an auth error) shows the API still serves. */
function apiAnswers(apiPort: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = 'Action=DescribeSecurityGroups&Version=2016-11-15';
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: apiPort,
        method: 'POST',
        path: '/',
        agent: false,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': body.length },
      },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}

/** A plain-HTTP GET of the API's /healthz through the gateway, with a token (own connection unless `agent`). */
function viaProxy(
  proxyPort: number,
  apiPort: number,
  token: string,
  agent: Agent | false = false,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpGet(
      {
        host: '127.0.0.1',
        port: proxyPort,
        path: `http://127.0.0.1:${apiPort}/healthz`,
        agent,
        setHost: false,
        headers: { Host: `127.0.0.1:${apiPort}`, 'Proxy-Authorization': `Bearer ${token}` },
      },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.once('error', reject);
  });
}

describe('idle unauthenticated connections cannot exhaust the descriptors of weir serve', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-preauth-flood-'));
  const policyDir = join(dir, 'policies');
  mkdirSync(policyDir);
  writeFileSync(
    join(policyDir, 'loopback.yaml'),
    `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: loopback, owner: test@example.com }
spec:
  workloads: [{ identity: '${WEB}' }]
  rules:
    - id: loopback
      to: [{ cidr: 127.0.0.0/8 }]
      ports: ['1-65535']
`,
  );
  let serve: ServeProcess | undefined;
  let probes: Probe[] = [];

  afterEach(() => {
    for (const p of probes) p.socket.destroy();
    probes = [];
    serve?.child.kill('SIGKILL');
    serve = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function start(
    name: string,
    args: string[],
  ): Promise<{ s: ServeProcess; apiPort: number; token: string }> {
    const dataDir = join(dir, name);
    // The head deadline is long, so only the caps can close an idle connection during the test.
    const s = await spawnServe(dataDir, ['--policy', policyDir, '--proxy-headers-timeout', '5m', ...args], {
      ulimitNofile: 256,
    });
    serve = s;
    const apiPort = Number(new URL(readFileSync(join(dataDir, 'endpoint'), 'utf8').trim()).port);
    const token = issueToken(loadTokenKey(dataDir), {
      identity: WEB,
      ttlMs: 3_600_000,
      now: Date.now(),
      account: '123456789012',
    });
    return { s, apiPort, token };
  }

  test('1,100 idle connections from 11 sources under ulimit -n 256: beyond the caps they are closed; /healthz, the API and the proxy survive', async () => {
    const { s, apiPort, token } = await start('many', []);
    probes = await flood(s.proxyPort, sources(2, 11), 100);
    expect(await healthz(apiPort)).toBe(200);
    expect(await apiAnswers(apiPort)).toBeGreaterThanOrEqual(400);
    // 256 descriptors less the default reserve of 128: 16 idle upstreams, 56 client
    // connections, of which 28 may be unauthenticated.
    await until(() => probes.filter((p) => !p.closed).length <= 28, 'the flood is cut to the cap');
    expect(s.listening.admission).toMatchObject({
      descriptorLimit: 256,
      fdReserve: 128,
      maxClientConns: 56,
      maxPreauthConns: 28,
    });
    expect(await healthz(apiPort)).toBe(200);
    // The flood holds every unauthenticated place: a new connection is closed (with a 503 when
    // the answer is read before the reset), even one that would bring a token.
    expect([0, 503]).toContain(await viaProxy(s.proxyPort, apiPort, token).catch(() => 0));
    // Once it leaves, the proxy serves again.
    for (const p of probes) p.socket.destroy();
    await until(() => probes.every((p) => p.closed), 'the flood is gone');
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 50));
      status = await viaProxy(s.proxyPort, apiPort, token).catch(() => 0);
    }
    expect(status).toBe(200);
    expect(s.exited()).toBeUndefined();
  }, 120_000);

  test('per source: one address is cut at its cap while other clients, /healthz and authenticated requests go on', async () => {
    const { s, apiPort, token } = await start('per-source', [
      '--proxy-max-preauth-conns',
      '20',
      '--proxy-max-preauth-conns-per-source',
      '8',
    ]);
    expect(s.listening.admission).toMatchObject({ maxPreauthConns: 20, maxPreauthConnsPerSource: 8 });
    probes = await flood(s.proxyPort, ['127.0.0.2'], 50);
    await until(() => probes.filter((p) => !p.closed).length === 8, 'one source is cut to 8');
    expect(await viaProxy(s.proxyPort, apiPort, token)).toBe(200);
    expect(await healthz(apiPort)).toBe(200);
    // A connection leaves the count once a request on it proves an identity: with one kept-alive
    // authenticated connection from 127.0.0.6, eight more unauthenticated ones from there fit,
    // and the ninth (accepted after them, in order) is closed.
    const agent = new Agent({ keepAlive: true, maxSockets: 1, localAddress: '127.0.0.6' });
    expect(await viaProxy(s.proxyPort, apiPort, token, agent)).toBe(200);
    const six = await flood(s.proxyPort, ['127.0.0.6'], 9);
    probes.push(...six);
    await until(() => six[8]!.closed, 'the ninth from 127.0.0.6 is closed');
    expect(six.slice(0, 8).filter((p) => p.closed)).toHaveLength(0);
    // One more source fills the total (8 + 8 + 4 of 20); the next gets nothing.
    probes.push(...(await flood(s.proxyPort, ['127.0.0.3'], 8)));
    await until(() => probes.filter((p) => !p.closed).length === 20, 'the total is at its cap');
    const late = await flood(s.proxyPort, ['127.0.0.5'], 3);
    probes.push(...late);
    await until(() => late.every((p) => p.closed), 'a new source is closed at the total cap');
    expect(await healthz(apiPort)).toBe(200);
    agent.destroy();
    expect(s.exited()).toBeUndefined();
  }, 120_000);
});
