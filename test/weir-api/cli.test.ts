/**
 * `weir workload`, `weir token issue|revoke|list-revoked`, `weir policy bundle apply` and
 * `weir check --endpoint` end to end: the CLI spawned against a spawned `weir serve` (port 0,
 * found through its endpoint file), with zero configuration (WEIR_DATA_DIR) and with
 * `--endpoint-url` / `--profile`.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTokenKey, verifyToken } from '../../src/identity/index.js';
import { spawnApiServe, stopServe } from '../helpers/serve-process.js';

const ROOT = resolve(import.meta.dirname, '../..');
const POLICIES = join(ROOT, 'examples/policies');
/** tsx by path: the CLI runs in other working directories, where `--import tsx` would not resolve. */
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const CHECKOUT = 'spiffe://prod.example/ns/payments/sa/checkout';

let dir: string;
let dataDir: string;
let url: string;
let serve: ChildProcess;

/** Environment with no AWS configuration at all: the CLI must find the local server itself. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('AWS_') && k !== 'WEIR_DATA_DIR') env[k] = v;
  return { ...env, HOME: dir, WEIR_DATA_DIR: dataDir, ...extra };
}

function weir(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, join(ROOT, 'src/cli/main.ts'), ...args], {
      cwd: opts.cwd ?? dir,
      env: opts.env ?? cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? -1, out, err }));
  });
}

/** Each spawned CLI compiles TypeScript on start: on a busy two-core machine that takes seconds. */
const SLOW = { timeout: 600_000 };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'weir-cli-'));
  dataDir = join(dir, 'data');
  const keys = await weir(['policy', 'keygen', '--out', join(dir, 'keys')]);
  expect(keys.code, keys.err).toBe(0);
  ({ child: serve, url } = await spawnApiServe(
    dataDir,
    ['--log-level', 'warn', '--bundle-public-key', join(dir, 'keys/weir-policy.pub')],
    dir,
  ));
}, 600_000);

afterAll(async () => {
  await stopServe(serve);
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe('weir workload', () => {
  it('attach, list in every output, detach; zero configuration', SLOW, async () => {
    const created = await weir([
      'ec2',
      'create-security-group',
      '--group-name',
      'web',
      '--description',
      'web',
      '--query',
      'GroupId',
      '--output',
      'text',
    ]);
    expect(created.code, created.err).toBe(0);
    const sg = created.out.trim();
    expect(sg).toMatch(/^sg-[0-9a-f]{17}$/);

    const attached = await weir(['workload', 'attach', '--identity', CHECKOUT, '--group', sg]);
    expect(attached).toMatchObject({ code: 0, out: `attached ${sg} to ${CHECKOUT}\n` });
    expect((await weir(['workload', 'attach', '--identity', CHECKOUT, '--group', sg])).out).toBe(
      `${sg} was already attached to ${CHECKOUT}\n`,
    );

    const [json, text, table] = await Promise.all([
      weir(['workload', 'list', '--output', 'json']),
      weir(['workload', 'list', '--output', 'text', '--identity', CHECKOUT]),
      weir(['workload', 'list']),
    ]);
    expect(JSON.parse(json.out)).toEqual({
      Attachments: [
        {
          Identity: CHECKOUT,
          GroupId: sg,
          Source: 'api',
          CreatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        },
      ],
    });
    expect(text.out).toMatch(new RegExp(`^ATTACHMENTS\\t\\S+\\t${sg}\\t${CHECKOUT}\\tapi\\n$`));
    expect(table.out.split('\n')[0]).toMatch(/^Identity\s+GroupId\s+CreatedAt\s+Source$/);
    expect(table.out).toContain(sg);

    // The group cannot go while attached.
    const del = await weir(['ec2', 'delete-security-group', '--group-id', sg]);
    expect(del.code).not.toBe(0);
    expect(del.err).toContain('DependencyViolation');

    expect((await weir(['workload', 'detach', '--identity', CHECKOUT, '--group', sg])).out).toBe(
      `detached ${sg} from ${CHECKOUT}\n`,
    );
    expect((await weir(['workload', 'list', '--output', 'json'])).out).toContain('"Attachments": []');
  });

  it('errors are one line naming the problem, with a non-zero exit', SLOW, async () => {
    const [missing, bad, nowhere] = await Promise.all([
      weir(['workload', 'attach', '--identity', CHECKOUT, '--group', 'sg-0123456789abcdef0']),
      weir(['workload', 'list', '--output', 'yaml']),
      weir(['workload', 'list'], { env: cleanEnv({ WEIR_DATA_DIR: join(dir, 'nope') }) }),
    ]);
    expect(missing.code).not.toBe(0);
    expect(missing.err.trim().split('\n')).toHaveLength(1);
    expect(missing.err).toContain('InvalidGroup.NotFound');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain('--output must be one of text, json, table');
    expect(nowhere.code).not.toBe(0);
    expect(nowhere.err).toContain('--endpoint-url');
  });
});

describe('weir token', () => {
  it(
    'issues through the API with --endpoint-url/--profile; revokes by token, by ID in data-dir mode; lists',
    SLOW,
    async () => {
      const profileEnv = cleanEnv({ AWS_SHARED_CREDENTIALS_FILE: join(dataDir, 'credentials') });
      const issued = await weir(
        ['token', 'issue', '--identity', CHECKOUT, '--ttl', '1h', '--endpoint-url', url, '--profile', 'weir'],
        {
          env: profileEnv,
        },
      );
      expect(issued.code, issued.err).toBe(0);
      const token = issued.out.trim();
      expect(issued.out).toBe(`${token}\n`);
      const check = verifyToken(loadTokenKey(dataDir), token, Date.now());
      expect(check).toMatchObject({ ok: true, claims: { identity: CHECKOUT } });
      const id = check.ok ? check.claims.id : '';

      const revoked = await weir(
        ['token', 'revoke', '--token', token, '--endpoint-url', url, '--profile', 'weir'],
        { env: profileEnv },
      );
      expect(revoked.code, revoked.err).toBe(0);
      expect(revoked.out).toContain(`revoked token ${id} (${CHECKOUT})`);

      // Data-dir mode: issue with the key file, revoke by ID straight into the store.
      const local = await weir(['token', 'issue', '--identity', 'svc-batch', '--data-dir', dataDir]);
      expect(local.code, local.err).toBe(0);
      const localCheck = verifyToken(loadTokenKey(dataDir), local.out.trim(), Date.now());
      const localId = localCheck.ok ? localCheck.claims.id : '';
      const byId = await weir(['token', 'revoke', '--id', localId, '--data-dir', dataDir]);
      expect(byId.code, byId.err).toBe(0);

      const list = await weir(['token', 'list-revoked']);
      expect(list.code, list.err).toBe(0);
      expect((JSON.parse(list.out) as { id: string }[]).map((t) => t.id)).toEqual(
        expect.arrayContaining([id, localId]),
      );
      const [listed, inspected, unknown] = await Promise.all([
        weir(['token', 'list']),
        weir(['token', 'inspect', localId, '--output', 'json']),
        weir(['token', 'revoke', '--id', 'no-such-id']),
      ]);
      expect(listed.code, listed.err).toBe(0);
      expect(listed.out).toMatch(new RegExp(`${localId}\\s+svc-batch\\s+\\S+\\s+yes`));
      expect(JSON.parse(inspected.out)).toMatchObject({
        id: localId,
        identity: 'svc-batch',
        status: 'revoked',
      });
      expect(unknown.code).toBe(2);
      expect(unknown.err).toContain("RevokeToken: no token with ID 'no-such-id' was issued by this server");

      const [both, long] = await Promise.all([
        weir(['token', 'revoke', '--id', 'x', '--token', 'y']),
        weir(['token', 'issue', '--identity', CHECKOUT, '--ttl', '999d', '--data-dir', dataDir]),
      ]);
      expect(both.code).not.toBe(0);
      expect(both.err).toContain('exactly one of --id ID and --token TOKEN');
      expect(long.code).not.toBe(0);
      expect(long.err).toContain('--ttl');
    },
  );

  it(
    'with no --data-dir, issue and revoke use WEIR_DATA_DIR like every client command, not ./weir-data',
    SLOW,
    async () => {
      // cwd holds no weir-data: the key of the server's data dir must sign, and nothing is created.
      const issued = await weir(['token', 'issue', '--identity', 'svc-env', '--ttl', '1h']);
      expect(issued.code, issued.err).toBe(0);
      // The ID goes to stderr, so that TOKEN=$(weir token issue …) captures the token alone.
      expect(issued.err).toMatch(/^token ID [A-Za-z0-9_-]+ for svc-env, expires /);
      const check = verifyToken(loadTokenKey(dataDir), issued.out.trim(), Date.now());
      expect(check.ok).toBe(true);
      expect(existsSync(join(dir, 'weir-data'))).toBe(false);

      const revoked = await weir(['token', 'revoke', '--token', issued.out.trim()]);
      expect(revoked.code, revoked.err).toBe(0);
      expect(revoked.out).toContain('(svc-env)');

      // A data dir no server uses gets no token (no gateway would accept it) and no key.
      const stray = await weir([
        'token',
        'issue',
        '--identity',
        'svc-env',
        '--data-dir',
        join(dir, 'nowhere'),
      ]);
      expect(stray.code).toBe(2);
      expect(stray.out).toBe('');
      expect(stray.err).toContain('start weir serve --data-dir');
      expect(existsSync(join(dir, 'nowhere'))).toBe(false);
    },
  );
});

describe('weir policy bundle apply and weir check --endpoint', () => {
  it(
    'the server explains with the applied bundle exactly as weir check --policy does; tampering is refused',
    SLOW,
    async () => {
      const file = join(dir, 'bundle.json');
      const made = await weir([
        'policy',
        'bundle',
        POLICIES,
        '-o',
        file,
        '--key',
        join(dir, 'keys/weir-policy.key'),
        '--version',
        '5',
      ]);
      expect(made.code, made.out + made.err).toBe(0);

      // Before any bundle: the server enforces nothing, so check denies.
      const before = await weir([
        'check',
        '--from',
        CHECKOUT,
        '--to',
        'api.stripe.com:443',
        '--no-resolve',
        '--endpoint',
      ]);
      expect(before.code, before.err).toBe(1);
      expect(before.out).toContain('unknown-identity');

      const applied = await weir(['policy', 'bundle', 'apply', file]);
      expect(applied.code, applied.err).toBe(0);
      expect(applied.out).toMatch(/^applied .*bundle\.json: version 5, sha256:[0-9a-f]{64}, key sha256:/);

      for (const [to, code] of [
        ['api.stripe.com:443', 0],
        ['api.stripe.com:80', 1],
      ] as const) {
        // By name (--no-resolve): the names are real ones, and the test must not depend on DNS.
        const args = ['check', '--from', CHECKOUT, '--to', to, '--at', '2026-12-01', '--no-resolve'];
        // The local runs are from inside the policy directory, so file names read as the bundle's paths.
        const [remote, local, remoteJson, localJson] = await Promise.all([
          weir([...args, '--endpoint', url]),
          weir([...args, '--policy', '.'], { cwd: POLICIES }),
          weir([...args, '--endpoint', '--format', 'json']),
          weir([...args, '--policy', '.', '--format', 'json'], { cwd: POLICIES }),
        ]);
        expect(remote.code, remote.err).toBe(code);
        expect(remote.out).toBe(local.out);
        expect(JSON.parse(remoteJson.out)).toEqual(JSON.parse(localJson.out));
      }

      // A tampered bundle is refused; the one in force stays.
      const bundle = JSON.parse(readFileSync(file, 'utf8')) as {
        version: number;
        sources: { text: string }[];
      };
      bundle.version = 6;
      writeFileSync(join(dir, 'tampered.json'), JSON.stringify(bundle));
      const tampered = await weir(['policy', 'bundle', 'apply', join(dir, 'tampered.json')]);
      expect(tampered.code).not.toBe(0);
      expect(tampered.err).toContain('InvalidBundle');
      expect(tampered.err).toContain('signature-invalid');
      const still = await weir([
        'check',
        '--from',
        CHECKOUT,
        '--to',
        'api.stripe.com:443',
        '--at',
        '2026-12-01',
        '--no-resolve',
        '--endpoint',
      ]);
      expect(still.code).toBe(0);

      const neither = await weir(['check', '--from', CHECKOUT, '--to', 'api.stripe.com:443']);
      expect(neither.code).toBe(2);
      expect(neither.err).toContain('exactly one of --policy DIR');
    },
  );
});
