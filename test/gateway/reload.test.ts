/**
 * @module test/gateway-reload — hot reload of `weir serve --policy DIR`: a policy edit changes
 * decisions for new connections, an established tunnel stays up, an invalid edit keeps the
 * previous snapshot; and `weir serve` without `--policy` denies everything.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startServer } from '../../src/server/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { runTokenIssue } from '../../src/cli/token.js';
import { connectVia, echo } from '../helpers/gateway-client.js';

const ID = 'spiffe://test/ns/app/sa/reload';

const policy = (port: number): string => `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: reload, owner: test@example.com }
spec:
  workloads: [{ identity: '${ID}' }]
  rules:
    - id: loopback-echo
      to: [{ cidr: 127.0.0.0/8 }]
      ports: [${port}]
`;

describe('weir serve with the gateway', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-gw-reload-'));
  const policyDir = join(dir, 'policies');
  let echoServer: Server;
  let echoPort = 0;
  let server: RunningServer;
  let bare: RunningServer;
  const reloads: (() => void)[] = [];

  beforeAll(async () => {
    echoServer = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echoServer.listen(0, '127.0.0.1', r));
    echoPort = (echoServer.address() as AddressInfo).port;
    mkdirSync(policyDir);
    writeFileSync(join(policyDir, 'reload.yaml'), policy(echoPort));
    const logger = pino(
      { level: 'info' },
      {
        write: (s: string) => {
          if (s.includes('"policy reloaded"') || s.includes('still enforcing'))
            reloads.splice(0).forEach((f) => f());
        },
      },
    );
    server = await startServer({
      dataDir: join(dir, 'data'),
      apiListen: '127.0.0.1:0',
      proxyListen: '127.0.0.1:0',
      policyDir,
      policyDebounceMs: 20,
      logger,
      print: () => undefined,
    });
    bare = await startServer({
      dataDir: join(dir, 'data2'),
      apiListen: '127.0.0.1:0',
      proxyListen: '127.0.0.1:0',
      logger: pino({ level: 'silent' }),
      print: () => undefined,
    });
  });

  afterAll(async () => {
    await server.close();
    await bare.close();
    await new Promise((r) => echoServer.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const nextReload = (): Promise<void> => new Promise((r) => reloads.push(r));

  test('an edit applies to new connections and cuts the open tunnel it no longer allows; a broken edit is ignored', async () => {
    const token = runTokenIssue({ identity: ID, ttl: '1h', dataDir: join(dir, 'data') });
    const proxy = server.proxyAddress ?? '';
    const open = await connectVia(proxy, `127.0.0.1:${echoPort}`, { token });
    expect(open.statusLine).toBe('HTTP/1.1 200 Connection established');
    expect(await echo(open.socket, 'before')).toBe('before');

    let reloaded = nextReload();
    const cut = new Promise((r) => open.socket.once('close', r).resume());
    writeFileSync(join(policyDir, 'reload.yaml'), policy(echoPort + 1 > 65535 ? 1 : echoPort + 1));
    await reloaded;
    const denied = await connectVia(proxy, `127.0.0.1:${echoPort}`, { token });
    denied.socket.destroy();
    expect(denied.statusLine).toMatch(/^HTTP\/1.1 403/);
    await cut;

    reloaded = nextReload();
    writeFileSync(join(policyDir, 'broken.yaml'), 'apiVersion: weir.dev/v1\nkind: EgressPolicy\nspec: [\n');
    await reloaded;
    const still = await connectVia(proxy, `127.0.0.1:${echoPort}`, { token });
    still.socket.destroy();
    expect(still.statusLine).toMatch(/^HTTP\/1.1 403/);
    open.socket.destroy();
  });

  test('without --policy every request is denied (unknown-identity)', async () => {
    const token = runTokenIssue({ identity: ID, ttl: '1h', dataDir: join(dir, 'data2') });
    const r = await connectVia(bare.proxyAddress ?? '', `127.0.0.1:${echoPort}`, { token });
    r.socket.destroy();
    expect(r.statusLine).toMatch(/^HTTP\/1.1 403/);
    expect(r.head).toContain('Weir-Reason: unknown-identity');
  });
});
