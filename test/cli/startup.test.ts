/**
 * `weir` loads only the command a call names: `weir --help` and `weir ec2 …` start without the
 * AWS SDK, SQLite, pino, prom-client, zod or yaml (a second of CPU before anything runs, when they
 * were all loaded). Checked by tracing the packages each process imports (the CLI from source
 * through tsx, whose own packages are left out); how fast it starts is `npm run bench:cli`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TRACE_HOOK = join(ROOT, 'test/helpers/import-trace.mjs');
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
/** tsx and what it brings, which a user's `weir` (built to dist/) does not load. */
const LOADER_PACKAGES = new Set(['tsx', 'esbuild', 'get-tsconfig', 'resolve-pkg-maps']);
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'weir-startup-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The npm packages `weir ARGS…` imports (by package name), and its exit status. */
function packagesImported(args: string[]): { packages: Set<string>; status: number | null } {
  const trace = join(dir, `trace-${args.join('_').replace(/[^a-z0-9_-]/gi, '')}`);
  const run = spawnSync(
    process.execPath,
    ['--import', TRACE_HOOK, '--import', TSX, join(ROOT, 'src/cli/main.ts'), ...args],
    {
      cwd: dir,
      env: { ...process.env, WEIR_IMPORT_TRACE: trace, WEIR_DATA_DIR: join(dir, 'no-server') },
      encoding: 'utf8',
    },
  );
  const packages = new Set<string>();
  for (const url of readFileSync(trace, 'utf8').split('\n')) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (m && !LOADER_PACKAGES.has(m[1]!)) packages.add(m[1]!);
  }
  return { packages, status: run.status };
}

const HEAVY = [
  '@aws-sdk/client-ec2',
  'better-sqlite3',
  'pino',
  'prom-client',
  'zod',
  'yaml',
  '@aws-crypto/sha256-js',
];

describe('what a command loads', () => {
  it('weir --help loads commander and nothing else', () => {
    const { packages, status } = packagesImported(['--help']);
    expect(status).toBe(0);
    expect([...packages]).toEqual(['commander']);
  });

  it('weir ec2 describe-security-groups loads the signer and JMESPath, none of the heavy libraries', () => {
    // No server runs: the call fails to connect (exit 255), after everything it needs is loaded.
    const { packages, status } = packagesImported([
      'ec2',
      'describe-security-groups',
      '--region',
      'us-east-1',
    ]);
    expect(status).not.toBe(0);
    expect([...packages].sort()).toEqual(['@smithy/signature-v4', 'commander', 'jmespath']);
    for (const heavy of HEAVY) expect(packages).not.toContain(heavy);
  });
});
