/**
 * @module test/check-resolve-dns — `weir check` resolves as the gateway does, by default: with the
 * same `--dns-hosts` and `--dns-server`, a name the hosts file maps differently from the DNS
 * server (a real one on loopback), and a name only the DNS server knows, get the same addresses
 * and the same answer from the gateway of `weir serve`, from `check` through its API, and from
 * `weir check --policy` (in process and as a real `weir` process).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCheck } from '../../src/cli/check.js';
import { runTokenIssue } from '../../src/cli/token.js';
import { callWeirApi } from '../../src/cli/weir-api-client.js';
import type { WeirApiTarget } from '../../src/cli/weir-api-client.js';
import { startServer } from '../../src/server/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { startDnsServer } from '../helpers/dns-server.js';
import type { TestDnsServer } from '../helpers/dns-server.js';
import {
  connectVia,
  echo,
  fqdnPolicy,
  loopbackEchoPolicy,
  startEchoServer,
} from '../helpers/gateway-client.js';

const ID = 'spiffe://test/ns/app/sa/resolve';
const KEY = { accessKeyId: 'AKIAWEIRCHECKRESOLVE', secretAccessKey: 'check-resolve-secret-0123456789abcd' };
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

/** `weir ARGS` as a real process; resolves with its exit code and output. */
function weir(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, join(ROOT, 'src/cli/main.ts'), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

/** The addresses a JSON check report checked, in order, each with its decision. */
const checkedAddresses = (report: unknown): string[][] =>
  ((report as { addresses?: { request: { ip: string }; decision: string }[] }).addresses ?? []).map((a) => [
    a.request.ip,
    a.decision,
  ]);

/** A check of a name the policy names nowhere: allowed at its address, as the gateway allows it. */
const AT_LOOPBACK = [['127.0.0.1', 'allow']];

describe('weir check --resolve and the gateway resolve alike', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-check-dns-'));
  const policyDir = join(dir, 'policies');
  const hostsFile = join(dir, 'hosts');
  let echoServer: Server;
  let echoPort = 0;
  let dns: TestDnsServer;
  let server: RunningServer;
  let api: WeirApiTarget;

  beforeAll(async () => {
    ({ server: echoServer, port: echoPort } = await startEchoServer());
    // The DNS server sends split.test to TEST-NET-2, which no rule allows; the hosts file sends
    // it to loopback, which the policy opens. dns-only.test is known to the DNS server alone.
    dns = await startDnsServer({ 'split.test': ['198.51.100.7'], 'dns-only.test': ['127.0.0.1'] });
    // guarded.test is allowed by name, but its only address is the metadata service's.
    writeFileSync(hostsFile, '127.0.0.1 split.test\n169.254.169.254 guarded.test\n');
    mkdirSync(policyDir);
    writeFileSync(join(policyDir, 'p.yaml'), loopbackEchoPolicy('resolve', ID, echoPort));
    writeFileSync(join(policyDir, 'q.yaml'), fqdnPolicy('by-name', ID, 'guarded.test', String(echoPort)));
    const credentials = join(dir, 'credentials');
    writeFileSync(
      credentials,
      `[admin]\naws_access_key_id = ${KEY.accessKeyId}\naws_secret_access_key = ${KEY.secretAccessKey}\n`,
    );
    server = await startServer({
      dataDir: join(dir, 'data'),
      apiListen: '127.0.0.1:0',
      proxyListen: '127.0.0.1:0',
      credentialsFile: credentials,
      policyDir,
      dnsHostsFile: hostsFile,
      dnsServer: dns.address,
      logger: pino({ level: 'silent' }),
      print: () => undefined,
    });
    api = { endpoint: new URL(server.url), region: 'us-east-1', credentials: { ...KEY, method: 'test' } };
  });

  afterAll(async () => {
    await server.close();
    await dns.close();
    await new Promise((r) => echoServer.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  test.each(['split.test', 'dns-only.test'])(
    '%s: the gateway lets it through to 127.0.0.1; check through the API and weir check --policy allow that address',
    async (name) => {
      const to = `${name}:${echoPort}`;
      const token = runTokenIssue({ identity: ID, ttl: '1h', dataDir: join(dir, 'data') });
      const tunnel = await connectVia(server.proxyAddress ?? '', to, { token });
      expect(tunnel.status).toBe(200);
      expect(await echo(tunnel.socket, 'hello')).toBe('hello');
      tunnel.socket.destroy();

      const remote = await callWeirApi(api, {
        method: 'POST',
        resource: 'check',
        json: { from: ID, to, resolve: true },
      });
      expect(remote.exitCode).toBe(0);
      expect(checkedAddresses(remote.result)).toEqual(AT_LOOPBACK);

      let out = '';
      const code = await runCheck(
        {
          from: ID,
          to,
          policy: policyDir,
          dnsHosts: hostsFile,
          dnsServer: dns.address,
          format: 'json',
        },
        { write: (s) => (out += s) },
      );
      expect(code).toBe(0);
      expect(checkedAddresses(JSON.parse(out))).toEqual(AT_LOOPBACK);
    },
  );

  test('guarded.test: the gateway denies it (its address is guarded); weir check says deny on its first line', async () => {
    const to = `guarded.test:${echoPort}`;
    const token = runTokenIssue({ identity: ID, ttl: '1h', dataDir: join(dir, 'data') });
    const tunnel = await connectVia(server.proxyAddress ?? '', to, { token });
    expect(tunnel.status).toBe(403);
    tunnel.socket.destroy();

    const remote = await callWeirApi(api, {
      method: 'POST',
      resource: 'check',
      json: { from: ID, to, resolve: true },
    });
    expect(remote.exitCode).toBe(1);
    expect(String(remote.text).split('\n')[0]).toBe('decision:  deny');

    let out = '';
    const io = { write: (s: string) => (out += s) };
    const flags = { from: ID, to, policy: policyDir, dnsHosts: hostsFile, format: 'text' };
    expect(await runCheck(flags, io)).toBe(1);
    expect(out.split('\n').slice(0, 3)).toEqual([
      'decision:  deny',
      'resolved:  guarded.test -> 169.254.169.254 (as the gateway resolves; each address is decided)',
      'denied:    169.254.169.254: guardrail',
    ]);
    // By name alone, the rule allows it: what weir check said before it resolved by default.
    out = '';
    const { dnsHosts: _h, ...byName } = flags;
    expect(await runCheck({ ...byName, resolve: false }, io)).toBe(0);
  });

  test(
    'weir check --dns-hosts F --dns-server IP:PORT as a process: hosts file first, then the DNS server',
    { timeout: 600_000 },
    async () => {
      const args = ['check', '--from', ID, '--policy', policyDir, '--format', 'json'];
      const dnsArgs = ['--dns-hosts', hostsFile, '--dns-server', dns.address];
      const [split, dnsOnly] = await Promise.all([
        weir([...args, '--to', `split.test:${echoPort}`, ...dnsArgs]),
        weir([...args, '--to', `dns-only.test:${echoPort}`, ...dnsArgs]),
      ]);
      expect(split.code, split.err).toBe(0);
      expect(checkedAddresses(JSON.parse(split.out))).toEqual(AT_LOOPBACK);
      expect(dnsOnly.code, dnsOnly.err).toBe(0);
      expect(checkedAddresses(JSON.parse(dnsOnly.out))).toEqual(AT_LOOPBACK);
    },
  );

  test('the DNS flags of weir check are usage errors with --no-resolve, with --endpoint, or malformed', async () => {
    const base = { from: ID, to: `split.test:${echoPort}`, format: 'text' };
    const io = { write: () => undefined };
    await expect(
      runCheck({ ...base, policy: policyDir, dnsHosts: hostsFile, resolve: false }, io),
    ).rejects.toThrow('--dns-hosts says how names are resolved, and --no-resolve resolves none: drop one');
    await expect(runCheck({ ...base, endpoint: server.url, dnsServer: dns.address }, io)).rejects.toThrow(
      '--dns-server is for --policy',
    );
    await expect(runCheck({ ...base, policy: policyDir, dnsServer: 'dns.example' }, io)).rejects.toThrow(
      "--dns-server: 'dns.example' is not IP:PORT",
    );
    await expect(
      runCheck({ ...base, policy: policyDir, dnsHosts: join(dir, 'missing') }, io),
    ).rejects.toThrow(`--dns-hosts: file ${join(dir, 'missing')} does not exist`);
  });
});
