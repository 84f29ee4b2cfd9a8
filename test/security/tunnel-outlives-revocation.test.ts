/**
 * @module test/security/tunnel-outlives-revocation — red team: keep what was granted once. A
 * workload opens a tunnel (or a keep-alive plain-HTTP connection) and keeps it after its token is
 * revoked, after its token expires, or after the rule that allowed it is taken away. Each is cut
 * (`revoked`, `expired`, `policy-changed`), logged and counted; a tunnel the new policy still
 * allows stays. Deterministic: each test waits for the close event (with a limit far beyond what
 * the gateway needs); the unfixed gateway never closes them (they would relay for 24 h). The time
 * from the trigger to the close is printed for the report, never asserted.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import type { Server as NetServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runTokenIssue } from '../../src/cli/token.js';
import { callWeirApi } from '../../src/cli/weir-api-client.js';
import { loadTokenKey } from '../../src/identity/index.js';
import { startServer } from '../../src/server/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { connectVia, echo, startEchoServer } from '../helpers/gateway-client.js';
import { closeOf, defaultRules, poll, startTunnelFixture } from '../helpers/tunnel-fixture.js';
import type { TunnelFixture } from '../helpers/tunnel-fixture.js';

describe('open connections outlive the right to them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-redteam-outlive-'));
  let f: TunnelFixture;
  let n = 0;

  beforeAll(async () => {
    f = await startTunnelFixture(loadTokenKey(dir));
  });

  afterAll(async () => {
    await f.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** An open tunnel to `target` (raw bytes echo), with the token `tok`. */
  async function tunnel(target: string, tok: string): Promise<Socket> {
    const r = await connectVia(f.proxyPort, target, { token: tok });
    expect(r.status).toBe(200);
    expect(await echo(r.socket, 'GET / HTTP/1.1\r\nHost: ' + target + '\r\n\r\n')).toContain('GET /');
    return r.socket;
  }

  /**
   * A plain-HTTP request through the gateway on a raw socket; resolves once `until` matches what
   * was received, with the socket and that text.
   */
  async function send(path: string, tok: string, until: RegExp): Promise<{ socket: Socket; got: string }> {
    const socket = netConnect({ host: '127.0.0.1', port: f.proxyPort });
    const authority = `cidr.test:${f.httpPort}`;
    socket.write(
      `GET http://${authority}${path} HTTP/1.1\r\nHost: ${authority}\r\nProxy-Authorization: Bearer ${tok}\r\n\r\n`,
    );
    let got = '';
    await new Promise<void>((res, rej) => {
      const onData = (c: Buffer): void => {
        got += c.toString();
        if (until.test(got)) {
          socket.off('data', onData);
          res();
        }
      };
      socket.on('data', onData);
      socket.once('error', rej);
    });
    return { socket, got };
  }

  const plain = async (path: string, tok: string, until: string): Promise<Socket> =>
    (await send(path, tok, new RegExp(until))).socket;

  /** Runs `trigger`, waits for `socket` to close; returns the ms it took (for the report). */
  async function cutBy(socket: Socket, trigger: () => void): Promise<number> {
    const closed = closeOf(socket);
    const t0 = performance.now();
    trigger();
    await closed;
    return performance.now() - t0;
  }

  const closeLine = (close: string, msg = 'tunnel closed'): unknown =>
    poll(() => f.lines.find((l) => l.msg === msg && l.close === close));

  const revoke =
    (id: string): (() => void) =>
    () => {
      f.revocations.add(id, Date.now() + 3_600_000);
      f.recheck();
    };

  test('a tunnel is cut when its token is revoked', async () => {
    const id = `rev-${++n}`;
    const s = await tunnel(`cidr.test:${f.upstreamPort}`, f.token(3_600_000, id));
    const ms = await cutBy(s, revoke(id));
    await closeLine('revoked');
    console.log(`revoke → tunnel closed: ${ms.toFixed(1)} ms`);
  });

  test('a tunnel is cut when its token expires (no call: the expiry timer)', async () => {
    // A token that lives long enough to open the tunnel on a slow machine, then runs out.
    let s: Socket | undefined;
    let expires = 0;
    for (let ttl = 1_500; s === undefined; ttl *= 2) {
      expires = Date.now() + ttl;
      const r = await connectVia(f.proxyPort, `cidr.test:${f.upstreamPort}`, { token: f.token(ttl) });
      if (r.status === 200) s = r.socket;
      else r.socket.destroy();
    }
    await closeOf(s);
    await closeLine('expired');
    console.log(`token expiry → tunnel closed: ${(Date.now() - expires).toFixed(0)} ms after expiry`);
  });

  test('a tunnel is cut when the policy no longer allows it; one still allowed stays', async () => {
    const byName = await tunnel(`name.test:${f.upstreamPort}`, f.token());
    const byAddress = await tunnel(`cidr.test:${f.upstreamPort}`, f.token());
    const ms = await cutBy(byName, () => {
      // The name rule goes; the address rule stays.
      f.setRules(`
    - id: by-address
      to: [{ cidr: 198.51.100.20/32 }]
      ports: [${f.upstreamPort}, ${f.httpPort}]`);
      f.recheck();
    });
    await closeLine('policy-changed');
    console.log(`policy swap → tunnel closed: ${ms.toFixed(1)} ms`);
    expect(await echo(byAddress, 'still here')).toBe('still here');
    byAddress.destroy();
    f.setRules(defaultRules([f.upstreamPort, f.httpPort]));
    f.recheck();
  });

  describe('keep-alive plain HTTP', () => {
    test('a request in flight is cut and logged when its token is revoked', async () => {
      const id = `rev-${++n}`;
      const s = await plain('/slow', f.token(3_600_000, id), 'first part');
      const ms = await cutBy(s, revoke(id));
      await closeLine('revoked', 'request closed');
      console.log(`revoke → plain-HTTP request closed: ${ms.toFixed(1)} ms`);
    });

    test('an idle keep-alive connection is closed when its token is revoked', async () => {
      const id = `rev-${++n}`;
      const s = await plain('/', f.token(3_600_000, id), 'hello');
      await cutBy(s, revoke(id));
      await closeLine('revoked', 'keep-alive connection closed');
    });

    test('a request in flight is cut when its token expires', async () => {
      let s: Socket | undefined;
      for (let ttl = 1_500; s === undefined; ttl *= 2) {
        const r = await send('/slow', f.token(ttl), /first part| 407 /);
        if (r.got.includes('first part')) s = r.socket;
        else r.socket.destroy();
      }
      await closeOf(s);
      await closeLine('expired', 'request closed');
    });

    test('a request in flight is cut when the policy no longer allows it', async () => {
      const s = await plain('/slow', f.token(), 'first part');
      await cutBy(s, () => {
        f.setRules(`
    - id: by-name
      to: [{ fqdn: name.test }]
      ports: [${f.upstreamPort}, ${f.httpPort}]`);
        f.recheck();
      });
      await closeLine('policy-changed', 'request closed');
      f.setRules(defaultRules([f.upstreamPort, f.httpPort]));
      f.recheck();
    });
  });
});

describe('weir serve: the revocation API and a policy edit reach open tunnels', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-redteam-outlive-serve-'));
  const dataDir = join(dir, 'data');
  const policyDir = join(dir, 'policies');
  const APP = 'spiffe://test/ns/app/sa/serve';
  const lines: Record<string, unknown>[] = [];
  let up: { server: NetServer; port: number };
  let server: RunningServer;

  const policy = (port: number): string => `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: app, owner: app@example.com }
spec:
  workloads: [{ identity: '${APP}' }]
  rules:
    - id: echo
      to: [{ cidr: 127.0.0.1/32 }]
      ports: [${port}]
`;

  beforeAll(async () => {
    up = await startEchoServer();
    mkdirSync(policyDir);
    writeFileSync(join(policyDir, 'app.yaml'), policy(up.port));
    server = await startServer({
      dataDir,
      apiListen: '127.0.0.1:0',
      proxyListen: '127.0.0.1:0',
      policyDir,
      policyDebounceMs: 20,
      logger: pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) }),
      print: () => undefined,
    });
  });

  afterAll(async () => {
    await server.close();
    await new Promise((r) => up.server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(tok: string): Promise<Socket> {
    const r = await connectVia(server.proxyAddress ?? '', `127.0.0.1:${up.port}`, { token: tok });
    expect(r.status).toBe(200);
    expect(await echo(r.socket, 'ping')).toBe('ping');
    return r.socket;
  }

  test('POST /weir/v1/tokens/revoke cuts the tunnel of that token (revoked)', async () => {
    const tok = runTokenIssue({ identity: APP, ttl: '1h', dataDir });
    const other = await open(runTokenIssue({ identity: APP, ttl: '1h', dataDir }));
    const s = await open(tok);
    const closed = closeOf(s);
    const t0 = performance.now();
    const key = [...server.keys.keys()][0]!;
    await callWeirApi(
      {
        endpoint: new URL(server.url),
        region: 'us-east-1',
        credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, method: 'test' },
      },
      { method: 'POST', resource: 'tokens/revoke', json: { token: tok } },
    );
    await closed;
    console.log(`weir serve: API revoke → tunnel closed: ${(performance.now() - t0).toFixed(1)} ms`);
    await poll(() => lines.find((l) => l.msg === 'tunnel closed' && l.close === 'revoked'));
    // Another token of the same identity keeps its tunnel.
    expect(await echo(other, 'pong')).toBe('pong');
    other.destroy();
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^weir_gateway_connections_cut_total\{reason="revoked"\} 1$/m);
  });

  test('a policy edit that drops the rule cuts the tunnel (policy-changed)', async () => {
    const s = await open(runTokenIssue({ identity: APP, ttl: '1h', dataDir }));
    const closed = closeOf(s);
    const t0 = performance.now();
    writeFileSync(join(policyDir, 'app.yaml'), policy(up.port + 1 > 65535 ? 1 : up.port + 1));
    await closed;
    console.log(
      `weir serve: policy edit → tunnel closed: ${(performance.now() - t0).toFixed(1)} ms (with the watch debounce)`,
    );
    await poll(() => lines.find((l) => l.msg === 'tunnel closed' && l.close === 'policy-changed'));
  });
});
