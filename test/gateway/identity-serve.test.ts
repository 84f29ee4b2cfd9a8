/**
 * @module test/gateway-identity-serve — `weir serve` as a process with the gateway identity
 * options: a TLS listener asking for client certificates and a source-address identity map,
 * driven over real sockets (the gateway's address is read from its "listening" log line, the
 * API's from `DATA/endpoint`, both bound to port 0); and option errors that stop it with one
 * line naming the option.
 */
import { spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { pino } from 'pino';
import { startServer } from '../../src/server/index.js';
import { runTokenIssue } from '../../src/cli/token.js';
import { clientCert, TLS_FIXTURES, tlsConnectVia, tlsGetVia } from '../helpers/gateway-tls-client.js';
import { serveArgv, spawnServe } from '../helpers/serve-process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WEB = 'spiffe://test/ns/app/sa/web';
const LEGACY = 'spiffe://test/ns/legacy/sa/loopback';
const BUILDER = 'spiffe://test/ns/ci/sa/builder';
const F = TLS_FIXTURES;

describe('weir serve with TLS and client certificates', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-identity-serve-'));
  const dataDir = join(dir, 'data');
  const policyDir = join(dir, 'policies');
  const mapPath = join(dir, 'identity-map.yaml');
  const children = new Set<ChildProcess>();

  mkdirSync(policyDir);
  writeFileSync(
    join(policyDir, 'loopback.yaml'),
    `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: loopback, owner: test@example.com }
spec:
  workloads: [{ identity: '${WEB}' }, { identity: '${LEGACY}' }, { identity: '${BUILDER}' }]
  rules:
    - id: loopback
      to: [{ cidr: 127.0.0.0/8 }]
      ports: ['1-65535']
`,
  );
  writeFileSync(
    mapPath,
    `apiVersion: weir.dev/v1\nkind: IdentityMap\nentries:\n  - { source: 127.0.0.0/8, identity: '${LEGACY}' }\n`,
  );
  const tlsArgs = [
    '--proxy-tls-cert',
    `${F}proxy.pem`,
    '--proxy-tls-key',
    `${F}proxy-key.pem`,
    '--proxy-client-ca',
    `${F}client-ca.pem`,
  ];

  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  function serveSync(args: string[]): { status: number | null; stderr: string } {
    const r = spawnSync(process.execPath, serveArgv(join(dir, 'bad'), args), {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: r.status, stderr: r.stderr };
  }

  test('CONNECT and plain HTTP over TLS: certificate, token and source-address identities', async () => {
    const serve = await spawnServe(dataDir, [
      '--policy',
      policyDir,
      '--proxy-identity-map',
      mapPath,
      ...tlsArgs,
    ]);
    children.add(serve.child);
    void serve.exit.then(() => children.delete(serve.child));
    const listening = serve.listening;
    expect(listening).toMatchObject({ tls: true, clientCertificates: true });
    const port = serve.proxyPort;
    const api = new URL(readFileSync(join(dataDir, 'endpoint'), 'utf8').trim());

    // The API server is the upstream: a plain HTTP GET and a tunnel to its port.
    const get = await tlsGetVia(port, `http://127.0.0.1:${api.port}/healthz`, {
      client: clientCert('client-spiffe'),
    });
    get.socket.destroy();
    expect(get.status).toBe(200);
    expect(get.body).toContain('"ok"');
    const tunnel = await tlsConnectVia(port, `127.0.0.1:${api.port}`, {
      token: runTokenIssue({ identity: BUILDER, ttl: '1h', dataDir }),
    });
    tunnel.socket.destroy();
    expect(tunnel.status).toBe(200);
    // No certificate, no token: the identity map knows 127.0.0.0/8.
    const legacy = await tlsConnectVia(port, `127.0.0.1:${api.port}`);
    legacy.socket.destroy();
    expect(legacy.status).toBe(200);
    const expired = await tlsConnectVia(port, `127.0.0.1:${api.port}`, {
      client: clientCert('client-expired'),
    });
    expired.socket.destroy();
    expect(expired.status).toBe(407);
    expect(expired.headers['weir-reason']).toBe('certificate-expired');

    await expect
      .poll(() =>
        serve
          .logLines()
          .filter((l) => l.msg === 'decision')
          .map((l) => [l.identity, l.identitySource, l.decision]),
      )
      .toEqual([
        [WEB, 'certificate', 'allow'],
        [BUILDER, 'token', 'allow'],
        [LEGACY, 'source-address', 'allow'],
        [undefined, undefined, 'unauthenticated'],
      ]);
    serve.child.kill('SIGTERM');
    expect(await serve.exit).toBe(0);
  });

  test('identity options without a gateway are refused, naming them', async () => {
    await expect(
      startServer({
        dataDir: join(dir, 'off'),
        apiListen: '127.0.0.1:0',
        proxyListen: 'off',
        proxyTlsCertFile: `${F}proxy.pem`,
        proxyIdentityMapFile: mapPath,
        logger: pino({ level: 'silent' }),
        print: () => undefined,
      }),
    ).rejects.toThrow(
      '--proxy-tls-cert, --proxy-identity-map: no gateway to apply to (--proxy-listen is off)',
    );
  });

  test.each([
    [
      'a missing certificate file',
      ['--proxy-tls-cert', `${F}missing.pem`, '--proxy-tls-key', `${F}proxy-key.pem`],
      `weir: --proxy-tls-cert: cannot read ${F}missing.pem (ENOENT)`,
    ],
    [
      "a key that is not the certificate's",
      ['--proxy-tls-cert', `${F}proxy.pem`, '--proxy-tls-key', `${F}client-cn-key.pem`],
      `weir: --proxy-tls-key: ${F}client-cn-key.pem is not the private key of the certificate in ${F}proxy.pem`,
    ],
    [
      'a certificate without its key',
      ['--proxy-tls-cert', `${F}proxy.pem`],
      "weir: --proxy-tls-cert: needs --proxy-tls-key (the certificate's private key)",
    ],
    [
      'an identity map that does not load',
      ['--proxy-identity-map', `${F}proxy.pem`],
      `weir: --proxy-identity-map ${F}proxy.pem does not load:`,
    ],
  ])('%s stops weir serve: exit 2, the option named first, no stack trace', (_name, args, line) => {
    const r = serveSync(args);
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(line);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
