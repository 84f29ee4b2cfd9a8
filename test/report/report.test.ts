/**
 * Issue 17, the evidence report, end to end: a real `weir serve` (in-process, real sockets) with a
 * policy directory and a seeded store; `GET /weir/v1/report` with a read-only key; `weir report`
 * from the server (HTML), from the data dir while the server holds it (JSON, the stored bundle or
 * `--policy`), as a real process (exit codes); the PDF printed by Debian's chromium and its pages
 * rendered to PNG by pdftoppm (kept in the artifacts folder the test prints).
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReport } from '../../src/cli/report.js';
import { callWeirApi, WeirApiCallError } from '../../src/cli/weir-api-client.js';
import { escapeHtml } from '../../src/report/index.js';
import type { ReportDocument } from '../../src/report/index.js';
import { startServer } from '../../src/server/index.js';
import type { RunningServer } from '../../src/server/index.js';
import {
  BUILDER,
  CHECKOUT,
  EXC_ID,
  HOSTILE,
  policySources,
  seedReportStore,
} from '../helpers/report-seed.js';
import { probe, requireTool } from '../helpers/tools.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const MAIN = join(ROOT, 'src/cli/main.ts');
const ADMIN = ['AKIDREPORTADMIN00001', 'secret-admin-0000000000000000000000000000'] as const;
const READER = ['AKIDREPORTREADER0001', 'secret-reader-000000000000000000000000000'] as const;
const OTHER = ['AKIDREPORTOTHER00001', 'secret-other-0000000000000000000000000000'] as const;

const dir = mkdtempSync(join(tmpdir(), 'weir-report-'));
const dataDir = join(dir, 'data');
const policyDir = join(dir, 'policies');
let server: RunningServer;

async function call(
  key: readonly [string, string],
  query: Record<string, string>,
): Promise<Record<string, unknown>> {
  try {
    return await callWeirApi(
      {
        endpoint: new URL(server.url),
        region: 'us-east-1',
        credentials: { accessKeyId: key[0], secretAccessKey: key[1], method: 'test' },
      },
      { method: 'GET', resource: 'report', query },
    );
  } catch (err) {
    if (err instanceof WeirApiCallError) return { error: { code: err.apiCode, message: err.message } };
    throw err;
  }
}

/** The environment `weir report` (server mode) signs with: the read-only key. */
const env = (): Record<string, string> => ({
  PATH: process.env.PATH ?? '',
  AWS_ACCESS_KEY_ID: READER[0],
  AWS_SECRET_ACCESS_KEY: READER[1],
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
});

const quiet = { write: () => undefined };

beforeAll(async () => {
  mkdirSync(policyDir);
  const now = new Date();
  for (const s of policySources(now)) writeFileSync(join(policyDir, s.path), s.text);
  const credentials = join(dir, 'credentials');
  writeFileSync(
    credentials,
    `[admin]\naws_access_key_id = ${ADMIN[0]}\naws_secret_access_key = ${ADMIN[1]}\nweir_role = admin\n\n` +
      `[auditor]\naws_access_key_id = ${READER[0]}\naws_secret_access_key = ${READER[1]}\nweir_role = readonly\n\n` +
      `[other]\naws_access_key_id = ${OTHER[0]}\naws_secret_access_key = ${OTHER[1]}\nweir_account_id = 210987654321\n`,
    { mode: 0o600 },
  );
  server = await startServer({
    dataDir,
    apiListen: '127.0.0.1:0',
    proxyListen: 'off',
    policyDir,
    credentialsFile: credentials,
    logger: pino({ level: 'silent' }),
    print: () => undefined,
  });
  await seedReportStore(server.store, now);
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('GET /weir/v1/report', () => {
  it('a read-only key of the gateway account reads the report of what the server enforces', async () => {
    const r = (await call(READER, { since: '30d' })) as unknown as ReportDocument;
    expect(r.format).toBe('weir.report/v1');
    expect(r.source).toEqual({ kind: 'server' });
    expect(r.policy.source).toContain(`policy directory ${policyDir}`);
    const checkout = r.access.find((w) => w.identity === CHECKOUT);
    expect(checkout?.destinations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          rule: 'stripe-api',
          justification: HOSTILE,
          owner: 'payments@example.com',
        }),
      ]),
    );
    expect(r.access.find((w) => w.identity === BUILDER)?.groups).toEqual(['sg-0123456789abcdef0']);
    expect(r.exceptions.map((e) => [e.id, e.approvers])).toEqual([[EXC_ID, ['lead@example.com']]]);
    expect(r.breakglass.map((s) => s.drill)).toEqual([false, true]);
    expect(r.denials?.byReason[0]).toEqual({ reason: 'no-match', deny: 5, wouldDeny: 3 });
    // The server's digests are signed with its key, which the API checks with.
    expect(r.audit).toMatchObject({ intact: true, signaturesChecked: true });
    expect(r.audit.records).toBeGreaterThanOrEqual(3);
  });

  it('a key of another account reads nothing of it (403 AccessDenied)', async () => {
    const r = await call(OTHER, {});
    expect(r.error).toMatchObject({ code: 'AccessDenied' });
    expect(r).not.toHaveProperty('access');
  });

  it.each([
    [{ since: 'a month' }, 'InvalidParameterValue', /'since' must be a duration back from now/],
    [{ since: '400d' }, 'InvalidParameterValue', /'since' reaches back at most 366d/],
    [{ until: 'now' }, 'UnknownParameter', /until/],
  ])('%j is refused with %s naming the parameter', async (query, code, message) => {
    const r = await call(READER, query);
    expect(r.error).toMatchObject({ code });
    expect(String((r.error as { message: string }).message)).toMatch(message);
  });
});

describe('weir report', () => {
  it('from the server: one HTML file with every section, the hostile value as text', async () => {
    const out = join(dir, 'from-server.html');
    const lines: string[] = [];
    const code = await runReport(
      { endpointUrl: server.url, since: '30d', out },
      { write: (s) => lines.push(s), env: env() },
    );
    expect(code).toBe(0);
    expect(lines.join('')).toMatch(/^wrote .*from-server\.html \(html, \d+ KiB\).*audit chain intact/);
    const page = readFileSync(out, 'utf8');
    expect(page).toContain(`server ${server.url}/`);
    expect(page).toContain('Who may reach what, and why');
    expect(page).toContain('Exceptions granted');
    expect(page).toContain(escapeHtml(HOSTILE));
    expect(page).not.toContain('<script');
  });

  it('from the data dir, read-only while the server runs: the stored bundle, or --policy', async () => {
    const out = join(dir, 'from-data-dir.json');
    expect(await runReport({ dataDir, out }, quiet)).toBe(0);
    const r = JSON.parse(readFileSync(out, 'utf8')) as ReportDocument;
    expect(r.source).toEqual({ kind: 'data-dir', dataDir });
    expect(r.policy.source).toMatch(/^policy bundle version 7 /);
    expect(r.access.find((w) => w.identity === CHECKOUT)?.policies).toEqual(['payments-checkout']);
    expect(r.audit).toMatchObject({ intact: true, signaturesChecked: true });

    await runReport({ dataDir, out, policy: policyDir }, quiet);
    expect((JSON.parse(readFileSync(out, 'utf8')) as ReportDocument).policy.source).toBe(
      `policy directory ${policyDir}`,
    );
  });

  it('usage errors: no --out, an unknown format, server-only and data-dir-only options mixed', async () => {
    await expect(runReport({ dataDir }, quiet)).rejects.toThrow(/--out FILE is required/);
    await expect(runReport({ dataDir, out: join(dir, 'r.txt') }, quiet)).rejects.toThrow(
      /--format html\|json\|pdf, or end the file name in .html, .json or .pdf/,
    );
    await expect(runReport({ dataDir, out: join(dir, 'r.html'), format: 'docx' }, quiet)).rejects.toThrow(
      /--format must be one of html, json, pdf/,
    );
    await expect(
      runReport(
        { endpointUrl: server.url, policy: policyDir, out: join(dir, 'r.html') },
        { ...quiet, env: env() },
      ),
    ).rejects.toThrow(/--policy, --account and --public-key are for --data-dir mode/);
    await expect(runReport({ dataDir: dir, out: join(dir, 'r.html') }, quiet)).rejects.toThrow(
      /no Weir store \(weir.sqlite\) there/,
    );
  });

  it('--format pdf without Chromium says what to install, before any work', async () => {
    await expect(
      runReport({ dataDir, out: join(dir, 'r.pdf') }, { ...quiet, env: { PATH: join(dir, 'empty') } }),
    ).rejects.toThrow(/needs headless Chromium, and none was found .*apt-get install chromium/);
  });

  it('as a process: exit 0 with the file written, exit 2 with one line for bad input', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', TSX, MAIN, 'report', ...args], {
          cwd: dir,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.stderr.on('data', (c: Buffer) => (err += c.toString()));
        child.on('exit', (code) => resolve({ code, out, err }));
      });
    const ok = await run(['--data-dir', dataDir, '--since', '7d', '--out', 'cli.json']);
    expect(ok.err).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^wrote .*cli\.json \(json/);
    expect(statSync(join(dir, 'cli.json')).size).toBeGreaterThan(0);
    const bad = await run(['--data-dir', dataDir, '--since', 'yesterday', '--out', 'x.json']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^weir: --since must be a duration back from now/);
  });
});

const chromium = requireTool('chromium', probe('chromium', ['--version']));
const pdftoppm = requireTool('pdftoppm', probe('pdftoppm', ['-v']));

describe.runIf(chromium && pdftoppm)('the PDF', () => {
  it('is printed by headless Chromium and its pages render to PNG', async () => {
    const out = join(dir, 'report.pdf');
    expect(await runReport({ dataDir, out, format: 'pdf' }, quiet)).toBe(0);
    expect(readFileSync(out).subarray(0, 5).toString()).toBe('%PDF-');
    const pngDir = join(dir, 'png');
    mkdirSync(pngDir);
    const r = spawnSync('pdftoppm', ['-png', '-r', '60', out, join(pngDir, 'page')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const pages = readdirSync(pngDir)
      .filter((f) => f.endsWith('.png'))
      .sort();
    expect(pages.length).toBeGreaterThanOrEqual(1);
    const first = readFileSync(join(pngDir, pages[0]!));
    expect(first.subarray(1, 4).toString()).toBe('PNG');
    // Kept for people to look at (CI keeps the folder as an artifact).
    const artifacts = process.env.WEIR_ARTIFACTS ?? join(tmpdir(), 'weir-artifacts', 'report');
    mkdirSync(artifacts, { recursive: true });
    for (const p of pages) copyFileSync(join(pngDir, p), join(artifacts, `report-${p}`));
    console.log(`report PDF pages rendered to PNG in ${artifacts}`);
  }, 180_000);
});
