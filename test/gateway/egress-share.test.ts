/**
 * @module test/gateway-egress-share — `weir_gateway_egress_share`: the gateway's bytes to
 * destinations against the host's transmitted bytes (a `/proc/net/dev` reader passed in, so the
 * figures are exact), interface selection, and the `--proxy-share-interfaces` checks of `weir serve`.
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
import { compilePolicySet } from '../../src/engine/index.js';
import { createGateway, createGatewayMetrics, parseProcNetDev } from '../../src/gateway/index.js';
import { issueToken, loadTokenKey } from '../../src/identity/index.js';
import { createResolver } from '../../src/dns/index.js';
import { loadPolicySet } from '../../src/policy/index.js';
import { connectVia, echo, loopbackEchoPolicy, startEchoServer } from '../helpers/gateway-client.js';

const ID = 'spiffe://test/ns/app/sa/share';

/** `/proc/net/dev` text with the given transmitted bytes (received bytes are noise). */
function procNetDev(tx: Record<string, number>): string {
  const rows = Object.entries(tx).map(
    ([name, bytes]) => `${name.padStart(6)}: 999999 10 0 0 0 0 0 0 ${bytes} 20 0 0 0 0 0 0`,
  );
  return (
    'Inter-|   Receive                                                |  Transmit\n' +
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n' +
    `${rows.join('\n')}\n`
  );
}

describe('gateway egress share', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-gw-share-'));
  let echoServer: Server;
  let echoPort = 0;

  beforeAll(async () => {
    ({ server: echoServer, port: echoPort } = await startEchoServer());
    mkdirSync(join(dir, 'policies'));
    writeFileSync(join(dir, 'policies', 'p.yaml'), loopbackEchoPolicy('share', ID, echoPort));
  });

  afterAll(async () => {
    await new Promise((r) => echoServer.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  test('parseProcNetDev reads transmitted and received bytes per interface', () => {
    const parsed = parseProcNetDev(procNetDev({ lo: 5, eth0: 1234 }));
    expect([...parsed]).toEqual([
      ['lo', { rxBytes: 999999, txBytes: 5 }],
      ['eth0', { rxBytes: 999999, txBytes: 1234 }],
    ]);
  });

  test('share over the last scrape interval: gateway bytes out / interfaces transmitted, loopback excluded', async () => {
    const snapshot = compilePolicySet(loadPolicySet(join(dir, 'policies')).set, { skipUnresolved: true });
    const tx = { lo: 1_000_000, eth0: 1000, eth1: 500 };
    const registry = new Registry();
    const selected = new Registry();
    const snapshotInfo = { getSnapshot: () => snapshot, loadedAt: () => 0, now: Date.now };
    const metrics = createGatewayMetrics(registry, snapshotInfo, { read: () => procNetDev(tx) });
    // A second set of instruments, counting only eth1, fed the same gateway bytes.
    const eth1 = createGatewayMetrics(selected, snapshotInfo, {
      read: () => procNetDev(tx),
      interfaces: ['eth1'],
    });
    const key = loadTokenKey(dir);
    const gateway = createGateway({
      getSnapshot: () => snapshot,
      resolve: createResolver(),
      connect: (ip, port, onread) => netConnect({ host: ip, port, onread }),
      now: Date.now,
      newId: () => 'id',
      logger: pino({ level: 'silent' }),
      tokenKey: key,
      metrics,
    });
    // Each get() is a scrape: it runs the gauge's collect, as GET /metrics does.
    const value = async (r: Registry, name: string): Promise<number | undefined> =>
      (await r.getSingleMetric(name)?.get())?.values[0]?.value;
    const { port } = await gateway.listen('127.0.0.1', 0);
    try {
      expect(await value(registry, 'weir_gateway_egress_share')).toBeNaN();
      expect(await value(selected, 'weir_gateway_egress_share')).toBeNaN();
      const token = issueToken(key, { identity: ID, ttlMs: 60_000, now: Date.now() });
      const r = await connectVia(`127.0.0.1:${port}`, `127.0.0.1:${echoPort}`, { token });
      expect(await echo(r.socket, 'twelve bytes')).toBe('twelve bytes');
      r.socket.destroy();
      eth1.bytes.labels('out').inc(12);
      // The host sent 48 bytes in the interval (and a lot on loopback, which does not count).
      tx.eth0 += 30;
      tx.eth1 += 18;
      tx.lo += 1_000_000;
      const text = await registry.metrics();
      expect(text).toContain('weir_gateway_egress_share 0.25');
      expect(await value(registry, 'weir_gateway_interface_transmit_bytes')).toBe(1548);
      expect(await value(selected, 'weir_gateway_egress_share')).toBeCloseTo(12 / 18);
      // Nothing transmitted since: no share.
      expect(await value(registry, 'weir_gateway_egress_share')).toBeNaN();
      // The host sends 100 bytes the gateway never saw: the share drops to 0.
      tx.eth0 += 100;
      expect(await value(registry, 'weir_gateway_egress_share')).toBe(0);
    } finally {
      await gateway.close(0);
    }
  });

  test('weir serve --proxy-share-interfaces: unknown names and hosts without /proc/net/dev are refused', async () => {
    const common = {
      dataDir: join(dir, 'data'),
      apiListen: '127.0.0.1:0',
      proxyListen: '127.0.0.1:0',
      policyDir: join(dir, 'policies'),
      logger: pino({ level: 'silent' }),
      print: () => undefined,
    };
    const read = (): string => procNetDev({ lo: 1, eth0: 2 });
    await expect(
      startServer({ ...common, proxyShareInterfaces: ['eth9'], readInterfaceCounters: read }),
    ).rejects.toThrow("--proxy-share-interfaces: no interface 'eth9' on this host (have: lo, eth0)");
    await expect(
      startServer({ ...common, proxyShareInterfaces: ['eth0'], readInterfaceCounters: () => undefined }),
    ).rejects.toThrow(/Linux only/);
    const server = await startServer({
      ...common,
      proxyShareInterfaces: ['eth0'],
      readInterfaceCounters: read,
    });
    try {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      expect(text).toContain('weir_gateway_interface_transmit_bytes 2');
      expect(text).toContain('# TYPE weir_gateway_egress_share gauge');
    } finally {
      await server.close();
    }
  });
});
