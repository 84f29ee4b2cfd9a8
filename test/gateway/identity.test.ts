/**
 * @module test/gateway-identity — who a request comes from, over real sockets: a TLS gateway
 * asking for client certificates (CONNECT and plain HTTP with a SPIFFE certificate, a CN-only
 * certificate, no certificate with a token, an untrusted, an expired, a malformed certificate,
 * a certificate and a token that disagree), and a plain gateway with a source-address identity
 * map (hit, miss, longest prefix, a token before the map, reload, an invalid edit). Client
 * certificates are the committed fixtures of scripts/gen-test-certs.sh.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import { connect as netConnect, createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { compilePolicySet } from '../../src/engine/index.js';
import type { Snapshot } from '../../src/engine/index.js';
import { createGateway } from '../../src/gateway/index.js';
import { issueToken, loadGatewayTls, loadTokenKey } from '../../src/identity/index.js';
import { watchGatewayTls } from '../../src/snapshot/index.js';
import { createResolver } from '../../src/dns/index.js';
import { watchIdentityMap } from '../../src/snapshot/index.js';
import type { Gateway } from '../../src/gateway/index.js';
import type { IdentityMapWatcher } from '../../src/snapshot/index.js';
import { loadPolicySet } from '../../src/policy/index.js';
import { connectVia, echo } from '../helpers/gateway-client.js';
import {
  clientCert,
  fixture,
  openTls,
  TLS_FIXTURES,
  tlsConnectVia,
  tlsGetVia,
} from '../helpers/gateway-tls-client.js';

const WEB = 'spiffe://test/ns/app/sa/web';
const LEGACY = 'legacy-batch';
const OTHER = 'spiffe://test/ns/app/sa/other';
const SUBNET = 'spiffe://test/ns/legacy/sa/subnet';
const HOST = 'spiffe://test/ns/legacy/sa/host';

type LogLine = Record<string, unknown>;

function memoryLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { logger, lines };
}

function listen(server: HttpServer | NetServer): Promise<number> {
  return new Promise((res) =>
    server.listen(0, '127.0.0.1', () => res((server.address() as AddressInfo).port)),
  );
}

const mapFile = (entries: string): string =>
  `apiVersion: weir.dev/v1\nkind: IdentityMap\nentries:\n${entries}`;

describe('gateway identity', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-gw-identity-'));
  const servers: (HttpServer | NetServer)[] = [];
  const gateways: Gateway[] = [];
  let echoPort = 0;
  let httpPort = 0;
  let snapshot: Snapshot;
  let key: Buffer;

  beforeAll(async () => {
    const echoServer = createNetServer((s) => s.pipe(s).on('error', () => undefined));
    const upstream = createHttpServer((req, res) => res.end(`hello ${req.url ?? ''}`));
    servers.push(echoServer, upstream);
    echoPort = await listen(echoServer);
    httpPort = await listen(upstream);
    mkdirSync(join(dir, 'policies'));
    writeFileSync(
      join(dir, 'policies', 'identity.yaml'),
      `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: identity, owner: test@example.com }
spec:
  workloads: [{ identity: '${WEB}' }, { identity: '${LEGACY}' }, { identity: '${OTHER}' }, { identity: '${SUBNET}' }, { identity: '${HOST}' }]
  rules:
    - id: loopback
      to: [{ cidr: 127.0.0.0/8 }]
      ports: [${echoPort}, ${httpPort}]
`,
    );
    const loaded = loadPolicySet(join(dir, 'policies'));
    expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    snapshot = compilePolicySet(loaded.set, { skipUnresolved: true });
    key = loadTokenKey(dir);
  });

  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.close(0)));
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(
    extra: Partial<Parameters<typeof createGateway>[0]>,
  ): Promise<{ port: number; lines: LogLine[] }> {
    const { logger, lines } = memoryLogger();
    const gateway = createGateway({
      getSnapshot: () => snapshot,
      resolve: createResolver({}),
      connect: (ip, port, onread) => netConnect({ host: ip, port, onread }),
      now: Date.now,
      newId: (() => {
        let n = 0;
        return () => `d${++n}`;
      })(),
      logger,
      tokenKey: key,
      ...extra,
    });
    gateways.push(gateway);
    return { port: (await gateway.listen('127.0.0.1', 0)).port, lines };
  }

  const token = (identity: string, at = Date.now()): string =>
    issueToken(key, { identity, ttlMs: 3_600_000, now: at });
  const decision = (lines: LogLine[], id: string | undefined): LogLine | undefined =>
    lines.find((l) => l.msg === 'decision' && l.decisionId === id);

  describe('TLS listener with client certificates', () => {
    let port = 0;
    let lines: LogLine[];

    beforeAll(async () => {
      const tls = loadGatewayTls({
        certFile: `${TLS_FIXTURES}proxy.pem`,
        keyFile: `${TLS_FIXTURES}proxy-key.pem`,
        clientCaFile: `${TLS_FIXTURES}client-ca.pem`,
      });
      ({ port, lines } = await start({ ...(tls !== undefined ? { tls } : {}) }));
    });

    test('SPIFFE certificate: CONNECT tunnels, plain HTTP is forwarded; identity and source logged', async () => {
      const tunnel = await tlsConnectVia(port, `127.0.0.1:${echoPort}`, {
        client: clientCert('client-spiffe'),
      });
      expect(tunnel.status).toBe(200);
      expect(await echo(tunnel.socket, 'over tls')).toBe('over tls');
      tunnel.socket.destroy();
      const get = await tlsGetVia(port, `http://127.0.0.1:${httpPort}/a`, {
        client: clientCert('client-spiffe'),
      });
      expect(get.status).toBe(200);
      expect(get.body).toBe('hello /a');
      // Keep-alive: a second request on the same TLS connection is the same identity.
      const again = await tlsGetVia(port, `http://127.0.0.1:${httpPort}/b`, { socket: get.socket });
      expect(again.body).toBe('hello /b');
      get.socket.destroy();
      const logged = lines.filter((l) => l.msg === 'decision' && l.decision === 'allow');
      expect(logged).toHaveLength(3);
      for (const l of logged) expect(l).toMatchObject({ identity: WEB, identitySource: 'certificate' });
      expect(logged.map((l) => l.protocol)).toEqual(['connect', 'http', 'http']);
    });

    test('CN-only certificate: the CN is the identity', async () => {
      const r = await tlsConnectVia(port, `127.0.0.1:${echoPort}`, { client: clientCert('client-cn') });
      expect(r.status).toBe(200);
      r.socket.destroy();
      expect(decision(lines, lines.at(-1)?.decisionId as string)).toMatchObject({
        identity: LEGACY,
        identitySource: 'certificate',
      });
    });

    test('no certificate: a token proves identity; neither is 407 no-identity naming both ways', async () => {
      const r = await tlsGetVia(port, `http://127.0.0.1:${httpPort}/t`, { token: token(OTHER) });
      r.socket.destroy();
      expect(r.status).toBe(200);
      expect(
        decision(lines, lines.filter((l) => l.msg === 'decision').at(-1)?.decisionId as string),
      ).toMatchObject({
        identity: OTHER,
        identitySource: 'token',
      });
      const none = await tlsConnectVia(port, `127.0.0.1:${echoPort}`);
      none.socket.destroy();
      expect(none.status).toBe(407);
      expect(none.headers['weir-reason']).toBe('no-identity');
      expect(none.headers['proxy-authenticate']).toBe('Bearer realm="weir", Basic realm="weir"');
      expect(none.body).toContain('client certificate');
    });

    test.each([
      ['client-untrusted', 'certificate-untrusted', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
      ['client-expired', 'certificate-expired', 'CERT_HAS_EXPIRED'],
      ['client-two-spiffe', 'certificate-spiffe-multiple', '2 SPIFFE IDs'],
      ['client-bad-spiffe', 'certificate-spiffe-malformed', "'..' segment"],
    ])('%s: 407 %s with the reason, for CONNECT and plain HTTP', async (name, reason, text) => {
      const c = await tlsConnectVia(port, `127.0.0.1:${echoPort}`, { client: clientCert(name) });
      c.socket.destroy();
      expect(c.status).toBe(407);
      expect(c.headers['weir-reason']).toBe(reason);
      expect(c.body).toContain(text);
      expect(c.headers['proxy-authenticate']).toBe('Bearer realm="weir", Basic realm="weir"');
      expect(decision(lines, c.headers['weir-decision-id'])).toMatchObject({
        decision: 'unauthenticated',
        reason,
      });
      // A valid token does not rescue a bad certificate: the client presented a proof that failed.
      const h = await tlsGetVia(port, `http://127.0.0.1:${httpPort}/`, {
        client: clientCert(name),
        token: token(WEB),
      });
      h.socket.destroy();
      expect(h.status).toBe(407);
      expect(h.headers['weir-reason']).toBe(reason);
    });

    test('certificate and token naming different identities: 407 identity-conflict; the same: allowed', async () => {
      const c = await tlsConnectVia(port, `127.0.0.1:${echoPort}`, {
        client: clientCert('client-spiffe'),
        token: token(OTHER),
      });
      c.socket.destroy();
      expect(c.status).toBe(407);
      expect(c.headers['weir-reason']).toBe('identity-conflict');
      expect(c.body).toContain(OTHER);
      const same = await tlsGetVia(port, `http://127.0.0.1:${httpPort}/same`, {
        client: clientCert('client-spiffe'),
        token: token(WEB),
      });
      same.socket.destroy();
      expect(same.status).toBe(200);
      const expired = await tlsGetVia(port, `http://127.0.0.1:${httpPort}/x`, {
        client: clientCert('client-spiffe'),
        token: token(WEB, Date.now() - 7_200_000),
      });
      expired.socket.destroy();
      expect(expired.headers['weir-reason']).toBe('token-expired');
    });

    test('a client speaking plain HTTP to the TLS port gets no service and the gateway stays up', async () => {
      const r = await new Promise<string>((resolve) => {
        const s = netConnect({ host: '127.0.0.1', port });
        let got = '';
        s.on('data', (c: Buffer) => (got += c.toString('latin1')));
        s.on('error', () => undefined);
        s.once('close', () => resolve(got));
        s.write(
          `CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\nProxy-Authorization: Bearer ${token(WEB)}\r\n\r\n`,
        );
      });
      expect(r).not.toContain('200 Connection established');
      const ok = await tlsConnectVia(port, `127.0.0.1:${echoPort}`, { client: clientCert('client-spiffe') });
      ok.socket.destroy();
      expect(ok.status).toBe(200);
    });
  });

  test('rotation: a new client CA applies to new handshakes; an edit that does not load is ignored', async () => {
    const rotate = join(dir, 'rotate');
    mkdirSync(rotate);
    const files = {
      certFile: join(rotate, 'proxy.pem'),
      keyFile: join(rotate, 'proxy-key.pem'),
      clientCaFile: join(rotate, 'client-ca.pem'),
    };
    copyFileSync(`${TLS_FIXTURES}proxy.pem`, files.certFile);
    copyFileSync(`${TLS_FIXTURES}proxy-key.pem`, files.keyFile);
    copyFileSync(`${TLS_FIXTURES}other-ca.pem`, files.clientCaFile);
    const tls = loadGatewayTls(files);
    const { port } = await start({ ...(tls !== undefined ? { tls } : {}) });
    const gateway = gateways.at(-1) as Gateway;
    const reloads: ((applied: boolean) => void)[] = [];
    const nextReload = (): Promise<boolean> => new Promise((r) => reloads.push(r));
    const watcher = watchGatewayTls(files, {
      apply: (next) => gateway.updateTls(next),
      logger: pino({ level: 'silent' }),
      debounceMs: 20,
      onReload: (applied) => reloads.splice(0).forEach((f) => f(applied)),
    });
    const outcome = async (name: string): Promise<string> => {
      const r = await tlsConnectVia(port, `127.0.0.1:${echoPort}`, { client: clientCert(name) });
      r.socket.destroy();
      return `${r.status} ${r.headers['weir-reason'] ?? ''}`.trim();
    };
    try {
      // other-ca signs client-untrusted: trusted until the CA file changes.
      expect(await outcome('client-untrusted')).toBe('200');
      expect(await outcome('client-spiffe')).toBe('407 certificate-untrusted');
      let reloaded = nextReload();
      writeFileSync(files.clientCaFile, fixture('client-ca.pem'));
      expect(await reloaded).toBe(true);
      expect(await outcome('client-spiffe')).toBe('200');
      expect(await outcome('client-untrusted')).toBe('407 certificate-untrusted');
      reloaded = nextReload();
      writeFileSync(files.clientCaFile, 'not a certificate\n');
      expect(await reloaded).toBe(false);
      expect(await outcome('client-spiffe')).toBe('200');
      // Whether client certificates are asked for is fixed at start.
      const pair = { cert: fixture('proxy.pem'), key: fixture('proxy-key.pem') };
      expect(() => gateway.updateTls(pair)).toThrow(
        'client certificates can be rotated, not switched on or off',
      );
      await start({});
      expect(() => gateways.at(-1)?.updateTls(pair)).toThrow('this gateway does not listen with TLS');
    } finally {
      watcher.close();
    }
  });

  test('a client that never starts its TLS handshake is cut off at the headers timeout', async () => {
    const tls = loadGatewayTls({
      certFile: `${TLS_FIXTURES}proxy.pem`,
      keyFile: `${TLS_FIXTURES}proxy-key.pem`,
    });
    const { port } = await start({
      ...(tls !== undefined ? { tls } : {}),
      limits: { headersTimeoutMs: 200 },
    });
    const silent = netConnect({ host: '127.0.0.1', port });
    silent.on('error', () => undefined);
    await new Promise((r) => silent.once('close', r));
    const ok = await tlsConnectVia(port, `127.0.0.1:${echoPort}`, { token: token(WEB) });
    ok.socket.destroy();
    expect(ok.status).toBe(200);
  });

  test('TLS without a client CA: no certificate is asked for; a token proves identity', async () => {
    const tls = loadGatewayTls({
      certFile: `${TLS_FIXTURES}proxy.pem`,
      keyFile: `${TLS_FIXTURES}proxy-key.pem`,
    });
    const { port, lines } = await start({ ...(tls !== undefined ? { tls } : {}) });
    const socket = await openTls(port, clientCert('client-spiffe'));
    const r = await tlsConnectVia(port, `127.0.0.1:${echoPort}`, { socket });
    expect(r.status).toBe(407);
    expect(r.body).not.toContain('client certificate');
    socket.destroy();
    const t = await tlsConnectVia(port, `127.0.0.1:${echoPort}`, { token: token(WEB) });
    t.socket.destroy();
    expect(t.status).toBe(200);
    expect(lines.find((l) => l.decision === 'allow')).toMatchObject({ identitySource: 'token' });
  });

  describe('source-address identity map', () => {
    let watcher: IdentityMapWatcher;
    let port = 0;
    let lines: LogLine[];
    const file = join(dir, 'identity-map.yaml');
    const reloads: ((swapped: boolean) => void)[] = [];
    const warnings: LogLine[] = [];

    beforeAll(async () => {
      writeFileSync(
        file,
        mapFile(`  - { source: 127.0.0.0/8, identity: '${SUBNET}' }
  - { source: 127.0.0.2, identity: '${HOST}', description: one legacy host }
  - { source: '::1', identity: '${HOST}' }
`),
      );
      watcher = watchIdentityMap(file, {
        logger: pino(
          { level: 'warn' },
          { write: (s: string) => void warnings.push(JSON.parse(s) as LogLine) },
        ),
        debounceMs: 20,
        onReload: (swapped) => reloads.splice(0).forEach((f) => f(swapped)),
      });
      ({ port, lines } = await start({ identityMap: () => watcher.current() }));
    });

    afterAll(() => watcher.close());

    /** CONNECT from a chosen loopback source address. */
    const from = (source: string, opts: { token?: string } = {}) =>
      new Promise<{ status: number; reason: string | undefined; identity: unknown; source: unknown }>(
        (resolve, reject) => {
          const s = netConnect({ host: '127.0.0.1', port, localAddress: source });
          const auth = opts.token === undefined ? '' : `Proxy-Authorization: Bearer ${opts.token}\r\n`;
          s.write(`CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\n${auth}\r\n`);
          let got = '';
          s.on('data', (c: Buffer) => {
            got += c.toString('latin1');
            if (!got.includes('\r\n\r\n')) return;
            s.destroy();
            const id = /Weir-Decision-Id: (\S+)/.exec(got)?.[1];
            const status = Number(got.split(' ')[1]);
            const line =
              status === 200
                ? lines.filter((l) => l.msg === 'decision').at(-1)
                : lines.find((l) => l.msg === 'decision' && l.decisionId === id);
            resolve({
              status,
              reason: /Weir-Reason: (\S+)/.exec(got)?.[1],
              identity: line?.identity,
              source: line?.identitySource,
            });
          });
          s.once('error', reject);
        },
      );

    test('the longest prefix holding the source address names the identity', async () => {
      expect(await from('127.0.0.1')).toEqual({
        status: 200,
        reason: undefined,
        identity: SUBNET,
        source: 'source-address',
      });
      expect(await from('127.0.0.2')).toMatchObject({
        status: 200,
        identity: HOST,
        source: 'source-address',
      });
    });

    test('IPv6 source: ::1 maps; an unmapped address is 407 no-identity', async () => {
      // The gateway above listens on 127.0.0.1 only: a second one on ::1 sees an IPv6 source.
      const { logger } = memoryLogger();
      const v6 = createGateway({
        getSnapshot: () => snapshot,
        resolve: createResolver({}),
        connect: (ip, p, onread) => netConnect({ host: ip, port: p, onread }),
        now: Date.now,
        newId: () => 'v6',
        logger,
        tokenKey: key,
        identityMap: () => watcher.current(),
      });
      gateways.push(v6);
      const v6Port = (await v6.listen('::1', 0)).port;
      const hit = await connectVia(`::1:${v6Port}`, `127.0.0.1:${echoPort}`);
      hit.socket.destroy();
      expect(hit.status).toBe(200);
      const empty = await start({ identityMap: () => ({ entries: [], lookup: () => undefined }) });
      const miss = await connectVia(empty.port, `127.0.0.1:${echoPort}`);
      miss.socket.destroy();
      expect(miss.status).toBe(407);
      expect(miss.headers['weir-reason']).toBe('no-identity');
    });

    test('a token comes before the map; a bad token is refused, not replaced by the map', async () => {
      expect(await from('127.0.0.2', { token: token(OTHER) })).toMatchObject({
        status: 200,
        identity: OTHER,
        source: 'token',
      });
      // Malformed (a signature is 43 characters of canonical base64url) and forged (signed with
      // another key): both refused, neither replaced by the map's identity.
      expect(await from('127.0.0.2', { token: 'weir1.bogus.sig' })).toMatchObject({
        status: 407,
        reason: 'token-malformed',
      });
      const forged = issueToken(Buffer.alloc(32, 9), { identity: OTHER, ttlMs: 60_000, now: Date.now() });
      expect(await from('127.0.0.2', { token: forged })).toMatchObject({
        status: 407,
        reason: 'token-bad-signature',
      });
    });

    test('an edit applies to new requests; an invalid edit keeps the previous map and says why', async () => {
      let reloaded = new Promise<boolean>((r) => reloads.push(r));
      writeFileSync(file, mapFile(`  - { source: 127.0.0.0/24, identity: '${OTHER}' }\n`));
      expect(await reloaded).toBe(true);
      expect(await from('127.0.0.2')).toMatchObject({ status: 200, identity: OTHER });

      reloaded = new Promise<boolean>((r) => reloads.push(r));
      writeFileSync(file, mapFile(`  - { source: 127.0.0.7/24, identity: '${WEB}' }\n`));
      expect(await reloaded).toBe(false);
      expect(await from('127.0.0.2')).toMatchObject({ status: 200, identity: OTHER });
      expect(warnings.at(-1)).toMatchObject({
        msg: 'identity map change does not load; still using the previous map',
        errors: [
          `${file}:4:15: '127.0.0.7/24' has host bits set; hint: write 127.0.0.0/24, or 127.0.0.7/32 for one host`,
        ],
      });

      reloaded = new Promise<boolean>((r) => reloads.push(r));
      rmSync(file);
      expect(await reloaded).toBe(false);
      expect(await from('127.0.0.2')).toMatchObject({ status: 200, identity: OTHER });
    });
  });
});
