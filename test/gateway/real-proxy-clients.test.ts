/**
 * @module test/gateway/real-proxy-clients — clients nobody here wrote, with the token in the
 * proxy URL (`http://weir:TOKEN@127.0.0.1:PORT`, so they send `Proxy-Authorization: Basic`):
 * the real curl, git cloning over https from a local `git http-backend` through the gateway,
 * pip downloading from a local https simple index through it, and Python requests. Also what a
 * denial looks like to them: pip and requests print only the status line, which names the reason
 * and the decision ID.
 *
 * The https server is Node's, with the test server certificate (127.0.0.1 in its SANs) signed by
 * the test server CA that each client is told to trust. Destinations are 127.0.0.1 (a TLS client
 * sends no SNI for an address), allowed by a rule naming 127.0.0.0/8.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { issueToken, loadTokenKey } from '../../src/identity/index.js';
import { fixture, TLS_FIXTURES } from '../helpers/gateway-tls-client.js';
import { spawnServe } from '../helpers/serve-process.js';
import type { ServeProcess } from '../helpers/serve-process.js';
import { probe, pythonImports, requireTool } from '../helpers/tools.js';

const HAS_CURL = requireTool('curl', probe('curl', ['--version']));
const HAS_GIT = requireTool('git', probe('git', ['--version']));
const HAS_PIP = requireTool('pip', pythonImports('pip'));
const HAS_REQUESTS = requireTool('python3 requests', pythonImports('requests'));

const WEB = 'spiffe://test/ns/app/sa/web';
/** Allowed only allowed.test: its requests to denied.test are denied `no-match`. */
const NARROW = 'spiffe://test/ns/app/sa/narrow';
const CA = join(TLS_FIXTURES, 'server-ca.pem');

/** The environment of a client: no proxy settings or configuration from this machine. */
function cleanEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE would override the CA a client is given (requests
    // prefers them to a session's own `verify`, pip's --cert).
    if (/proxy$|_CA_BUNDLE$|^GIT_|^PIP_/i.test(k)) continue;
    env[k] = v;
  }
  return {
    ...env,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    PIP_CONFIG_FILE: '/dev/null',
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PIP_NO_CACHE_DIR: '1',
    PIP_NO_INPUT: '1',
    ...extra,
  };
}

/**
 * Runs a client to its exit without blocking this process (the https server the client talks to
 * lives here): its exit code, stdout and stderr.
 */
function run(
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Runs `git http-backend` as a CGI for one request. */
function gitBackend(root: string, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'https://x');
  const cgi = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: url.pathname,
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_ADDR: '127.0.0.1',
      ...(req.headers['content-encoding'] !== undefined
        ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] }
        : {}),
      ...(typeof req.headers['git-protocol'] === 'string'
        ? { GIT_PROTOCOL: req.headers['git-protocol'] }
        : {}),
    },
  });
  req.pipe(cgi.stdin);
  let head = Buffer.alloc(0);
  let started = false;
  cgi.stdout.on('data', (c: Buffer) => {
    if (started) return void res.write(c);
    head = Buffer.concat([head, c]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    started = true;
    let status = 200;
    const headers: Record<string, string> = {};
    for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
      const i = line.indexOf(':');
      const k = line.slice(0, i).trim();
      const v = line.slice(i + 1).trim();
      if (k.toLowerCase() === 'status') status = Number(v.split(' ')[0]);
      else headers[k] = v;
    }
    res.writeHead(status, headers);
    res.write(head.subarray(end + 4));
  });
  cgi.stdout.once('end', () => res.end());
  cgi.once('error', () => res.destroy());
}

/** A wheel pip can download (a zip with the dist-info pip reads), built by Python's zipfile. */
function buildWheel(dir: string): string {
  const name = 'tinypkg-0.1-py3-none-any.whl';
  execFileSync('python3', [
    '-c',
    `import zipfile, sys
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    z.writestr('tinypkg/__init__.py', 'x = 1\\n')
    z.writestr('tinypkg-0.1.dist-info/METADATA', 'Metadata-Version: 2.1\\nName: tinypkg\\nVersion: 0.1\\n')
    z.writestr('tinypkg-0.1.dist-info/WHEEL', 'Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n')
    z.writestr('tinypkg-0.1.dist-info/RECORD', '')
`,
    join(dir, name),
  ]);
  return name;
}

describe.skipIf(!(HAS_CURL && HAS_GIT && HAS_PIP))(
  'real proxy clients with the token in the proxy URL',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-real-clients-'));
    const home = join(dir, 'home');
    const dataDir = join(dir, 'data');
    const policyDir = join(dir, 'policies');
    const repos = join(dir, 'repos');
    const files = join(dir, 'files');
    let serve: ServeProcess;
    let https: Server;
    let port = 0;
    let proxy = '';
    let narrowProxy = '';
    let wheel = '';

    beforeAll(async () => {
      for (const d of [home, policyDir, repos, files]) mkdirSync(d, { recursive: true });
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
---
apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: narrow, owner: test@example.com }
spec:
  workloads: [{ identity: '${NARROW}' }]
  rules:
    - id: allowed-only
      to: [{ fqdn: allowed.test }]
      ports: ['80', '443']
`,
      );
      // denied.test stands for a public host (TEST-NET-2): denied before any connect.
      writeFileSync(join(dir, 'hosts'), '198.51.100.7 denied.test\n198.51.100.8 allowed.test\n');
      // A bare repository with one commit, served by git http-backend.
      const work = join(dir, 'work');
      const git = (cwd: string, ...args: string[]) =>
        execFileSync('git', args, { cwd, env: cleanEnv(home), stdio: 'pipe' });
      git(dir, 'init', '-q', '--bare', join(repos, 'repo.git'));
      git(dir, 'init', '-q', work);
      writeFileSync(join(work, 'hello.txt'), 'hello through weir\n');
      git(work, 'add', 'hello.txt');
      git(work, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'one');
      git(work, 'push', '-q', join(repos, 'repo.git'), 'HEAD:refs/heads/main');
      git(join(repos, 'repo.git'), 'symbolic-ref', 'HEAD', 'refs/heads/main');
      wheel = buildWheel(files);

      https = createHttpsServer({
        cert: fixture('proxy.pem'),
        key: fixture('proxy-key.pem'),
      });
      https.on('request', (req: IncomingMessage, res: ServerResponse) => {
        const path = new URL(req.url ?? '/', 'https://x').pathname;
        if (path.startsWith('/repo.git/')) return gitBackend(repos, req, res);
        if (path === '/simple/tinypkg/') {
          res.writeHead(200, { 'Content-Type': 'text/html' });
          return void res.end(
            `<!DOCTYPE html><html><body><a href="/files/${wheel}">${wheel}</a></body></html>\n`,
          );
        }
        if (path === `/files/${wheel}`) {
          res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
          return void res.end(readFileSync(join(files, wheel)));
        }
        res.writeHead(404);
        res.end('not here\n');
      });
      await new Promise<void>((r) => https.listen(0, '127.0.0.1', () => r()));
      port = (https.address() as AddressInfo).port;

      serve = await spawnServe(dataDir, ['--policy', policyDir, '--dns-hosts', join(dir, 'hosts')]);
      const key = loadTokenKey(dataDir);
      const token = (identity: string) =>
        issueToken(key, { identity, ttlMs: 3_600_000, now: Date.now(), account: '123456789012' });
      proxy = `http://weir:${token(WEB)}@127.0.0.1:${serve.proxyPort}`;
      narrowProxy = `http://weir:${token(NARROW)}@127.0.0.1:${serve.proxyPort}`;
    }, 120_000);

    afterAll(() => {
      serve?.child.kill('SIGKILL');
      https?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    /** The decision lines of `identity` written so far. */
    function decisions(identity: string): Record<string, unknown>[] {
      return serve.logLines().filter((l) => l.identity === identity && typeof l.decision === 'string');
    }

    /**
     * The decisions of `identity` once one satisfies `seen`: decision lines are written in
     * blocks, so the line of a request just answered may land a moment later. Bounded by
     * attempts, not by a clock.
     */
    async function decisionsOnce(
      identity: string,
      seen: (l: Record<string, unknown>) => boolean,
    ): Promise<Record<string, unknown>[]> {
      for (let attempt = 0; attempt < 100 && !decisions(identity).some(seen); attempt++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      return decisions(identity);
    }

    test('curl -x http://weir:TOKEN@…: https through a tunnel and plain http; no credentials: 407 offering Bearer and Basic', async () => {
      const env = cleanEnv(home);
      const tunnelled = await run(
        'curl',
        ['-sS', '--fail', '-x', proxy, '--cacert', CA, `https://127.0.0.1:${port}/simple/tinypkg/`],
        env,
      );
      expect(tunnelled.stderr).toBe('');
      expect(tunnelled.stdout).toContain(wheel);
      const api = new URL(readFileSync(join(dataDir, 'endpoint'), 'utf8').trim());
      const healthz = `http://127.0.0.1:${api.port}/healthz`;
      const plain = await run('curl', ['-sS', '--fail', '-x', proxy, healthz], env);
      expect(plain.stdout).toContain('ok');
      const lines = await decisionsOnce(WEB, (l) => l.identitySource === 'token');
      expect(lines.map((l) => l.identitySource)).toContain('token');
      const bare = `http://127.0.0.1:${serve.proxyPort}`;
      const none = await run('curl', ['-sS', '-i', '-x', bare, healthz], env);
      expect(none.stdout).toMatch(/^HTTP\/1\.1 407 Proxy Authentication Required by Weir: no-identity \(/);
      expect(none.stdout).toMatch(/^Proxy-Authenticate: Bearer realm="weir"\r$/m);
      expect(none.stdout).toMatch(/^Proxy-Authenticate: Basic realm="weir"\r$/m);
      const digest = await run(
        'curl',
        [
          '-sS',
          '-i',
          '-x',
          bare,
          '--proxy-header',
          'Proxy-Authorization: Digest username="weir", nonce="n"',
          healthz,
        ],
        env,
      );
      expect(digest.stdout).toMatch(/^Weir-Reason: unsupported-scheme\r$/m);
      expect(digest.stdout).toContain("uses 'Digest'");
    }, 120_000);

    test('git clone over https through the gateway with https_proxy=http://weir:TOKEN@…', async () => {
      const dest = join(dir, 'clone');
      const r = await run(
        'git',
        ['clone', '-q', `https://127.0.0.1:${port}/repo.git`, dest],
        cleanEnv(home, { https_proxy: proxy, GIT_SSL_CAINFO: CA }),
      );
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(readFileSync(join(dest, 'hello.txt'), 'utf8')).toBe('hello through weir\n');
      const allowed = (l: Record<string, unknown>): boolean => l.decision === 'allow' && l.port === port;
      expect((await decisionsOnce(WEB, allowed)).some(allowed)).toBe(true);
    }, 180_000);

    test('pip download through the gateway from a local https index, --proxy http://weir:TOKEN@…', async () => {
      const dest = join(dir, 'pip-dest');
      const index = `https://127.0.0.1:${port}/simple/`;
      const r = await run(
        'python3',
        [
          '-m',
          'pip',
          'download',
          '--no-deps',
          '--index-url',
          index,
          '--cert',
          CA,
          '--proxy',
          proxy,
          '-d',
          dest,
          'tinypkg',
        ],
        cleanEnv(home),
      );
      expect(r.status, r.stderr).toBe(0);
      expect(readdirSync(dest)).toEqual([wheel]);
    }, 240_000);

    test('denied, pip prints the reason and the decision ID from the status line', async () => {
      const r = await run(
        'python3',
        [
          '-m',
          'pip',
          'download',
          '--no-deps',
          // pip says why a fetch failed in its retry warnings (without a retry, only at -v).
          '--retries',
          '1',
          '--index-url',
          'https://denied.test/simple/',
          '--proxy',
          narrowProxy,
          '-d',
          join(dir, 'pip-denied'),
          'tinypkg',
        ],
        cleanEnv(home),
      );
      expect(r.status).not.toBe(0);
      expect(`${r.stdout}${r.stderr}`, `${r.stdout}${r.stderr}`).toMatch(
        /403 Forbidden by Weir: no-match \(\S+\)/,
      );
    }, 240_000);

    test.skipIf(!HAS_REQUESTS)(
      'denied, Python requests shows the reason; the body names the nearest rule and the command',
      async () => {
        const r = await run(
          'python3',
          [
            '-c',
            `import sys, requests
r = requests.get(sys.argv[1], proxies={'http': sys.argv[2]}, timeout=60)
print(r.status_code, r.reason)
print(r.text)
try:
    r.raise_for_status()
except requests.HTTPError as e:
    print('raised:', e)
`,
            'http://denied.test/simple/',
            narrowProxy,
          ],
          cleanEnv(home),
        );
        expect(r.stderr).toBe('');
        expect(r.stdout).toMatch(/^403 Forbidden by Weir: no-match \(\S+\)$/m);
        expect(r.stdout).toMatch(/^raised: 403 Client Error: Forbidden by Weir: no-match \(\S+\) for url: /m);
        expect(r.stdout).toContain(`identity:     ${NARROW}`);
        expect(r.stdout).toContain('destination:  denied.test:80');
        expect(r.stdout).toContain('address:      198.51.100.7');
        expect(r.stdout).toMatch(
          /^nearest rule: allowed-only of policy narrow \(\S*loopback\.yaml:\d+\); the nearest, not a match: its destination does not match$/m,
        );
        expect(r.stdout).toContain(
          `explain:      weir check --endpoint --from ${NARROW} --to denied.test:80`,
        );
      },
      120_000,
    );
  },
);
