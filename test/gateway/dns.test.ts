/**
 * @module test/gateway-dns — the gateway's DNS through a real DNS server (`dnsServerResolve`, the
 * resolver behind `weir serve --dns-server`) answering from a tiny UDP server on 127.0.0.1:
 * DNS rebinding (first answer public, then loopback) and the `--dns-server` option of `weir serve`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startServer } from '../../src/server/index.js';
import { runTokenIssue } from '../../src/cli/token.js';
import { compilePolicySet } from '../../src/engine/index.js';
import { createGateway } from '../../src/gateway/index.js';
import { issueToken, loadTokenKey } from '../../src/identity/index.js';
import { createResolver, dnsServerResolve, parseDnsServer } from '../../src/dns/index.js';
import type { Gateway } from '../../src/gateway/index.js';
import { loadPolicySet } from '../../src/policy/index.js';
import { connectVia, echo, loopbackEchoPolicy, startEchoServer } from '../helpers/gateway-client.js';
import { startDnsServer } from '../helpers/dns-server.js';
import type { TestDnsServer } from '../helpers/dns-server.js';

const ID = 'spiffe://test/ns/app/sa/dns';

describe('gateway DNS through a DNS server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-gw-dns-'));
  let echoServer: Server;
  let echoPort = 0;
  let dns: TestDnsServer;
  let gateway: Gateway;
  let proxyPort = 0;
  let key: Buffer;
  const connected: string[] = [];

  beforeAll(async () => {
    ({ server: echoServer, port: echoPort } = await startEchoServer());
    dns = await startDnsServer();
    mkdirSync(join(dir, 'policies'));
    writeFileSync(
      join(dir, 'policies', 'dns.yaml'),
      `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: dns, owner: test@example.com }
spec:
  workloads: [{ identity: '${ID}' }]
  rules:
    - id: by-name
      to: [{ fqdn: rebind.test }, { fqdn: v6.test }]
      ports: [${echoPort}]
    - id: everything-public
      to: [{ cidr: 0.0.0.0/0 }]
      ports: [${echoPort}]
`,
    );
    const loaded = loadPolicySet(join(dir, 'policies'));
    expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const snapshot = compilePolicySet(loaded.set, { skipUnresolved: true });
    key = loadTokenKey(dir);
    gateway = createGateway({
      getSnapshot: () => snapshot,
      resolve: createResolver({ fallback: dnsServerResolve(dns.address, { timeoutMs: 1000, tries: 1 }) }),
      // 198.51.100.0/24 (TEST-NET-2) stands for public hosts, routed to the loopback echo server.
      connect: (ip, port, onread) => {
        connected.push(ip);
        return netConnect({ host: ip.startsWith('198.51.100.') ? '127.0.0.1' : ip, port, onread });
      },
      now: Date.now,
      newId: (() => {
        let n = 0;
        return () => `d${++n}`;
      })(),
      logger: pino({ level: 'silent' }),
      tokenKey: key,
    });
    proxyPort = (await gateway.listen('127.0.0.1', 0)).port;
  });

  afterAll(async () => {
    await gateway.close(0);
    await dns.close();
    await new Promise((r) => echoServer.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const token = (): string => issueToken(key, { identity: ID, ttlMs: 60_000, now: Date.now() });

  test('DNS rebinding: one lookup, the checked address is connected to; the rebound answer is blocked', async () => {
    dns.records.set('rebind.test', ['198.51.100.30']);
    dns.queries.length = 0;
    const before = connected.length;
    const r = await connectVia(proxyPort, `rebind.test:${echoPort}`, { token: token() });
    expect(r.status).toBe(200);
    // The attacker's server flips the name to loopback as soon as it has been answered once.
    dns.records.set('rebind.test', ['127.0.0.1']);
    expect(await echo(r.socket, 'pinned')).toBe('pinned');
    r.socket.destroy();
    // One lookup (an A and an AAAA query), one connect: to the address that was decided.
    expect(dns.queries.sort()).toEqual(['rebind.test A', 'rebind.test AAAA']);
    expect(connected.slice(before)).toEqual(['198.51.100.30']);

    const again = await connectVia(proxyPort, `rebind.test:${echoPort}`, { token: token() });
    again.socket.destroy();
    expect(again.status).toBe(403);
    expect(again.headers['weir-reason']).toBe('guardrail');
    expect(connected.slice(before)).toEqual(['198.51.100.30']);
  });

  test('an unknown name is 502 dns-failure (NXDOMAIN); AAAA answers are decided too', async () => {
    const r = await connectVia(proxyPort, `nowhere.test:${echoPort}`, { token: token() });
    r.socket.destroy();
    expect(r.status).toBe(502);
    expect(r.headers['weir-reason']).toBe('dns-failure');
    dns.records.set('v6.test', ['::1']);
    const v6 = await connectVia(proxyPort, `v6.test:${echoPort}`, { token: token() });
    v6.socket.destroy();
    expect(v6.status).toBe(403);
    expect(v6.headers['weir-reason']).toBe('guardrail');
  });

  test.each([
    ['10.0.0.2:53', '10.0.0.2:53'],
    ['10.0.0.2', '10.0.0.2:53'],
    ['[FD00::2]:5353', '[fd00::2]:5353'],
    ['fd00::2', '[fd00::2]:53'],
  ])('parseDnsServer(%s) → %s', (text, server) => {
    expect(parseDnsServer(text)).toEqual({ ok: true, server });
  });

  test.each(['dns.example:53', '10.0.0.2:0', '10.0.0.2:70000', '', '[::1'])(
    'parseDnsServer(%s) is refused with the expected form',
    (text) => {
      const r = parseDnsServer(text);
      expect(r.ok).toBe(false);
    },
  );

  test('weir serve --dns-server: the gateway resolves through it; a bad value names the option', async () => {
    dns.records.set('echo.test', ['127.0.0.1']);
    mkdirSync(join(dir, 'serve-policies'));
    writeFileSync(join(dir, 'serve-policies', 'p.yaml'), loopbackEchoPolicy('serve', ID, echoPort));
    const common = {
      dataDir: join(dir, 'data'),
      apiListen: '127.0.0.1:0',
      proxyListen: '127.0.0.1:0',
      policyDir: join(dir, 'serve-policies'),
      logger: pino({ level: 'silent' }),
      print: () => undefined,
    };
    await expect(startServer({ ...common, dnsServer: 'dns.example' })).rejects.toThrow(
      /--dns-server: 'dns.example' is not IP:PORT/,
    );
    const server = await startServer({ ...common, dnsServer: dns.address });
    try {
      const tok = runTokenIssue({ identity: ID, ttl: '1h', dataDir: join(dir, 'data') });
      dns.queries.length = 0;
      const r = await connectVia(server.proxyAddress ?? '', `echo.test:${echoPort}`, { token: tok });
      expect(r.status).toBe(200);
      expect(await echo(r.socket, 'via dns')).toBe('via dns');
      r.socket.destroy();
      expect(dns.queries).toContain('echo.test A');
    } finally {
      await server.close();
    }
  });
});
