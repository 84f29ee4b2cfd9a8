/**
 * @module test/gateway-metrics — the gateway's Prometheus metrics on the API's `GET /metrics`
 * (`weir serve` in process): decisions, guardrail blocks, DNS and connect histograms, active
 * tunnels, bytes, snapshot gauges; and would-deny counts for a report-mode policy.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startServer } from '../../src/server/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { runTokenIssue } from '../../src/cli/token.js';
import { compilePolicySet } from '../../src/engine/index.js';
import { createGateway, createGatewayMetrics } from '../../src/gateway/index.js';
import { issueToken, loadTokenKey } from '../../src/identity/index.js';
import { createResolver } from '../../src/dns/index.js';
import { loadPolicySet } from '../../src/policy/index.js';
import { connectVia, echo, startEchoServer } from '../helpers/gateway-client.js';

const ID = 'spiffe://test/ns/app/sa/metrics';
const REPORTER = 'spiffe://test/ns/app/sa/reporter';

/** The value of one sample line (`name{labels} value`), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('gateway metrics', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-gw-metrics-'));
  let echoServer: Server;
  let echoPort = 0;
  let server: RunningServer;

  beforeAll(async () => {
    ({ server: echoServer, port: echoPort } = await startEchoServer());
    mkdirSync(join(dir, 'policies'));
    writeFileSync(
      join(dir, 'policies', 'metrics.yaml'),
      `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: metrics, owner: test@example.com }
spec:
  workloads: [{ identity: '${ID}' }]
  rules:
    - id: loopback-echo
      to: [{ cidr: 127.0.0.0/8 }]
      ports: [${echoPort}]
    - id: metadata-other-port
      to: [{ cidr: 169.254.0.0/16 }]
      ports: [1]
`,
    );
    writeFileSync(join(dir, 'hosts'), '127.0.0.1 echo.test\n');
    server = await startServer({
      dataDir: join(dir, 'data'),
      apiListen: '127.0.0.1:0',
      proxyListen: '127.0.0.1:0',
      policyDir: join(dir, 'policies'),
      dnsHostsFile: join(dir, 'hosts'),
      logger: pino({ level: 'silent' }),
      print: () => undefined,
    });
  });

  afterAll(async () => {
    await server.close();
    await new Promise((r) => echoServer.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  test('after allowed and denied requests, GET /metrics shows the counts', async () => {
    const token = runTokenIssue({ identity: ID, ttl: '1h', dataDir: join(dir, 'data') });
    const proxy = server.proxyAddress ?? '';
    const open = await connectVia(proxy, `echo.test:${echoPort}`, { token });
    expect(open.status).toBe(200);
    expect(await echo(open.socket, 'twelve bytes')).toBe('twelve bytes');
    const denied = await connectVia(proxy, '192.0.2.1:80', { token });
    expect(denied.status).toBe(403);
    denied.socket.destroy();
    const meta = await connectVia(proxy, '169.254.169.254:80', { token });
    expect(meta.status).toBe(403);
    meta.socket.destroy();
    const anonymous = await connectVia(proxy, `echo.test:${echoPort}`, { token: 'not-a-token' });
    expect(anonymous.status).toBe(407);
    anonymous.socket.destroy();

    const scrape = async (): Promise<string> => (await fetch(`${server.url}/metrics`)).text();
    let text = await scrape();
    expect(
      sample(text, 'weir_gateway_decisions_total{result="allow",reason="matched",policy="metrics"}'),
    ).toBe(1);
    // A denial names the nearest rule's policy when there is one, else none.
    expect(text).toMatch(
      /weir_gateway_decisions_total\{result="deny",reason="no-match",policy="(metrics)?"\} 1/,
    );
    expect(sample(text, 'weir_gateway_decisions_total{result="deny",reason="guardrail",policy=""}')).toBe(1);
    expect(text).toMatch(
      /weir_gateway_decisions_total\{result="unauthenticated",reason="[^"]+",policy=""\} 1/,
    );
    expect(sample(text, 'weir_gateway_guardrail_blocks_total{range="169.254.169.254/32"}')).toBe(1);
    // 192.0.2.1:80: no rule names that address or that port — an unknown destination.
    expect(sample(text, 'weir_gateway_unknown_destination_denials_total')).toBe(1);
    expect(sample(text, 'weir_gateway_rules_expired')).toBe(0);
    expect(sample(text, 'weir_gateway_grants_active{kind="exception"}')).toBe(0);
    expect(sample(text, 'weir_gateway_dns_lookup_seconds_count')).toBe(1);
    expect(sample(text, 'weir_gateway_connect_seconds_count')).toBe(1);
    expect(sample(text, 'weir_gateway_active_tunnels')).toBe(1);
    expect(sample(text, 'weir_gateway_bytes_total{direction="in"}')).toBe(12);
    expect(sample(text, 'weir_gateway_bytes_total{direction="out"}')).toBe(12);
    expect(sample(text, 'weir_gateway_snapshot_version')).toBe(1);
    expect(sample(text, 'weir_gateway_snapshot_age_seconds')).toBeGreaterThanOrEqual(0);
    // The API's own metrics share the registry.
    expect(text).toContain('weir_api_requests_total');

    open.socket.destroy();
    await expect
      .poll(async () => {
        text = await scrape();
        return sample(text, 'weir_gateway_active_tunnels');
      })
      .toBe(0);
  });

  test('report mode: a would-be denial counts in weir_gateway_would_deny_total, under its policy even with no rule near', async () => {
    mkdirSync(join(dir, 'report'));
    writeFileSync(
      join(dir, 'report', 'report.yaml'),
      `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: reporting, owner: test@example.com }
spec:
  mode: report
  workloads: [{ identity: '${REPORTER}' }]
  rules:
    - id: other-port
      to: [{ fqdn: public.test }]
      ports: [1]
`,
    );
    const snapshot = compilePolicySet(loadPolicySet(join(dir, 'report')).set, { skipUnresolved: true });
    const registry = new Registry();
    const key = loadTokenKey(dir);
    const gateway = createGateway({
      getSnapshot: () => snapshot,
      // A TEST-NET-2 address stands for a public host; it is routed to the loopback echo server.
      resolve: createResolver({
        hosts: new Map([
          ['public.test', ['198.51.100.10']],
          ['elsewhere.test', ['198.51.100.11']],
        ]),
      }),
      connect: (_ip, port, onread) => netConnect({ host: '127.0.0.1', port, onread }),
      now: Date.now,
      newId: () => 'id',
      logger: pino({ level: 'silent' }),
      tokenKey: key,
      metrics: createGatewayMetrics(registry, {
        getSnapshot: () => snapshot,
        loadedAt: () => 0,
        now: () => 5_000,
      }),
    });
    const { port } = await gateway.listen('127.0.0.1', 0);
    try {
      const token = issueToken(key, { identity: REPORTER, ttlMs: 60_000, now: Date.now() });
      const r = await connectVia(`127.0.0.1:${port}`, `public.test:${echoPort}`, { token });
      expect(r.status).toBe(200);
      r.socket.destroy();
      // Neither the name nor the port of any rule: no nearest rule, still the policy's dry run.
      const far = await connectVia(`127.0.0.1:${port}`, `elsewhere.test:${echoPort}`, { token });
      expect(far.status).toBe(200);
      far.socket.destroy();
      const text = await registry.metrics();
      expect(sample(text, 'weir_gateway_would_deny_total{policy="reporting"}')).toBe(2);
      expect(text).not.toContain('weir_gateway_would_deny_total{policy=""}');
      expect(
        sample(
          text,
          'weir_gateway_decisions_total{result="would-deny",reason="no-match",policy="reporting"}',
        ),
      ).toBe(2);
      expect(sample(text, 'weir_gateway_snapshot_age_seconds')).toBe(5);
    } finally {
      await gateway.close(0);
    }
  });
});
