/**
 * @module test/security/tunnel-outlives-grant — a tunnel that only a grant (an approved
 * exception) allowed is cut when the grant ends: at its `until` (no write announces it: the
 * source's timer swaps the snapshot and the gateway re-checks), or at its revocation (a change
 * event re-reads the grants). A tunnel a rule also allows stays. Real sockets, a real SQLite
 * store, the real composed source and gateway. Deterministic: each test waits for the close
 * event with a limit far beyond what is needed (the unfixed gateway relays for 24 h); the delay
 * from `until` to the close is printed for the report, never asserted.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createResolver, parseHostsFile } from '../../src/dns/index.js';
import { createGateway } from '../../src/gateway/index.js';
import type { Gateway } from '../../src/gateway/index.js';
import { issueToken, loadTokenKey, TokenRevocations } from '../../src/identity/index.js';
import type { Grant } from '../../src/policy-types/index.js';
import { createControlPlaneSource } from '../../src/snapshot/index.js';
import type { ControlPlaneSource } from '../../src/snapshot/index.js';
import { openSqliteStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/index.js';
import { connectVia, echo } from '../helpers/gateway-client.js';
import { closeOf, poll } from '../helpers/tunnel-fixture.js';

const ID = 'spiffe://test/ns/app/sa/granted';
const LOC = { file: 'exc-1', line: 0, col: 0 };

function exception(id: string, until: number): Grant {
  return {
    kind: 'exception',
    id,
    identity: ID,
    rules: [
      {
        id,
        policy: `exception/${id}`,
        destinations: [{ kind: 'cidr', family: 4, cidr: '198.51.100.20/32', loc: LOC }],
        ports: [],
        protocol: 'tcp',
        loc: LOC,
      },
    ],
    everything: false,
    from: Date.now() - 1000,
    until,
    requester: 'dev@example.com',
    approver: 'lead@example.com',
    reason: 'copy the reports',
    expires: until,
  };
}

describe('a tunnel only a grant allowed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-grant-cut-'));
  let store: Store;
  let source: ControlPlaneSource;
  let gateway: Gateway;
  let upstream: Server;
  let upstreamPort = 0;
  let proxyPort = 0;
  let grants: Grant[] = [];
  const lines: Record<string, unknown>[] = [];
  const key = loadTokenKey(dir);

  beforeAll(async () => {
    upstream = createServer((s: Socket) => {
      s.on('error', () => undefined);
      s.on('data', (c) => s.write(c));
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    upstreamPort = (upstream.address() as AddressInfo).port;
    const policyDir = join(dir, 'policy');
    mkdirSync(policyDir);
    // The policy allows name.test only: cidr.test (198.51.100.20) is the grant's alone.
    writeFileSync(
      join(policyDir, 'p.yaml'),
      `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: app, owner: test@example.com }
spec:
  workloads: [{ identity: '${ID}' }]
  rules:
    - id: by-name
      to: [{ fqdn: name.test }]
      ports: [${upstreamPort}]
`,
    );
    store = openSqliteStore({ file: join(dir, 'weir.sqlite') });
    const ref: { gateway?: Gateway } = {};
    source = await createControlPlaneSource({
      store,
      scope: { accountId: '123456789012', region: 'us-east-1' },
      policy: { kind: 'dir', dir: policyDir },
      logger: pino({ level: 'silent' }),
      now: Date.now,
      grants: async () => [...grants],
      onRebuild: (swapped) => {
        if (swapped) ref.gateway?.recheck();
      },
    });
    gateway = createGateway({
      getSnapshot: () => source.current(),
      resolve: createResolver({
        hosts: parseHostsFile('198.51.100.10 name.test\n198.51.100.20 cidr.test\n'),
      }),
      connect: (ip, port, onread) =>
        netConnect({ host: ip.startsWith('198.51.100.') ? '127.0.0.1' : ip, port, onread }),
      now: Date.now,
      newId: (() => {
        let n = 0;
        return () => `g${++n}`;
      })(),
      logger: pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) }),
      tokenKey: key,
      revokedTokens: new TokenRevocations(),
    });
    ref.gateway = gateway;
    proxyPort = (await gateway.listen('127.0.0.1', 0)).port;
  });

  afterAll(async () => {
    source.close();
    await gateway.close(0);
    await new Promise((r) => upstream.close(r));
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const token = (): string => issueToken(key, { identity: ID, ttlMs: 3_600_000, now: Date.now() });

  async function open(target: string): Promise<Socket> {
    const r = await connectVia(proxyPort, target, { token: token() });
    expect(r.status).toBe(200);
    // A tunnel to a name must open with that name (an HTTP head's Host, or a TLS SNI).
    expect(await echo(r.socket, `GET / HTTP/1.1\r\nHost: ${target}\r\n\r\n`)).toContain('GET /');
    return r.socket;
  }

  test('is denied without the grant, allowed with it and logged naming it, and cut at until', async () => {
    const denied = await connectVia(proxyPort, `cidr.test:${upstreamPort}`, { token: token() });
    expect(denied.status).toBe(403);
    denied.socket.destroy();
    const until = Date.now() + 1500;
    grants = [exception('exc-1', until)];
    await source.refreshGrants();
    const byGrant = await open(`cidr.test:${upstreamPort}`);
    const byRule = await open(`name.test:${upstreamPort}`);
    const line = await poll(() => lines.find((l) => l.msg === 'decision' && l.reason === 'exception'));
    expect(line).toMatchObject({
      decision: 'allow',
      grant: { kind: 'exception', id: 'exc-1', requester: 'dev@example.com', approver: 'lead@example.com' },
    });
    await Promise.race([
      closeOf(byGrant),
      new Promise((_, rej) => setTimeout(() => rej(new Error('not cut')), 20_000)),
    ]);
    const cutAt = Date.now();
    expect(cutAt).toBeGreaterThanOrEqual(until);
    console.info(`tunnel allowed by a grant cut ${cutAt - until} ms after its until`);
    // The rule's tunnel stays, and a new request to the grant's destination is denied again.
    expect(await echo(byRule, 'still\n')).toContain('still');
    byRule.destroy();
    const again = await connectVia(proxyPort, `cidr.test:${upstreamPort}`, { token: token() });
    expect(again.status).toBe(403);
    again.socket.destroy();
  }, 30_000);

  test('is cut when the grant is withdrawn (re-read on a change)', async () => {
    grants = [exception('exc-2', Date.now() + 3_600_000)];
    await source.refreshGrants();
    const byGrant = await open(`cidr.test:${upstreamPort}`);
    grants = [];
    const t0 = Date.now();
    await source.refreshGrants();
    await Promise.race([
      closeOf(byGrant),
      new Promise((_, rej) => setTimeout(() => rej(new Error('not cut')), 20_000)),
    ]);
    console.info(`tunnel cut ${Date.now() - t0} ms after the grant was withdrawn`);
  }, 30_000);
});
