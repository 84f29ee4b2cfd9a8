/**
 * @module test/helpers/console — what the console's browser tests share: a real `weir serve`
 * (API and gateway) with a credentials file of four keys of the gateway account (an admin who may
 * open break-glass, two approvers, a read-only developer), Debian's chromium driven by
 * playwright-core, sign-in as one of the keys, screenshots into one artifacts folder (printed),
 * an axe-core check (no serious or critical violation), and a guard that fails a test when the
 * page asks for anything outside the server's origin or breaks its CSP.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { spawnServe, stopServe } from './serve-process.js';
import type { ServeProcess } from './serve-process.js';
import { requireTool } from './tools.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Debian's chromium (the browser); the tests skip without it, and fail under CI=true. */
export const CHROMIUM = '/usr/bin/chromium';

/** Whether the browser tests run here (a warning when they skip; an error under CI=true). */
export function hasChromium(): boolean {
  return requireTool('chromium', existsSync(CHROMIUM), `${CHROMIUM} not found`);
}

/** The base32 TOTP secret of the admin (break-glass needs one); test/helpers/onramp `totp` makes codes. */
export const ADMIN_TOTP = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

/** One key of the console's credentials file. */
export interface ConsoleKey {
  readonly profile: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly role: 'admin' | 'approver' | 'readonly';
  readonly principal: string;
}

const key = (profile: string, id: string, role: ConsoleKey['role'], principal: string): ConsoleKey => ({
  profile,
  accessKeyId: id,
  secretAccessKey: `${profile}-console-secret-0123456789abcdef`,
  role,
  principal,
});

/** The keys every console test server has, all of account 123456789012 (the gateway's). */
export const KEYS = {
  admin: key('admin', 'AKIACONSOLEADMIN0001', 'admin', 'ada@example.com'),
  approver: key('approver', 'AKIACONSOLEAPPROVER1', 'approver', 'bob@example.com'),
  approver2: key('approver2', 'AKIACONSOLEAPPROVER2', 'approver', 'cy@example.com'),
  readonly: key('readonly', 'AKIACONSOLEREADONLY1', 'readonly', 'dev@example.com'),
} as const;

/** The credentials file of {@link KEYS} (the admin with {@link ADMIN_TOTP}), plus `extra` profiles. */
export function credentialsText(extra = ''): string {
  const lines = Object.values(KEYS).flatMap((k) => [
    `[${k.profile}]`,
    `aws_access_key_id = ${k.accessKeyId}`,
    `aws_secret_access_key = ${k.secretAccessKey}`,
    'weir_account_id = 123456789012',
    `weir_role = ${k.role}`,
    `weir_principal = ${k.principal}`,
    ...(k.role === 'admin' ? [`weir_breakglass_totp = ${ADMIN_TOTP}`] : []),
    '',
  ]);
  return lines.join('\n') + extra;
}

/** A running console server. */
export interface ConsoleServer {
  /** The API's (and console's) origin, `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly dir: string;
  readonly dataDir: string;
  readonly credentialsFile: string;
  readonly serve: ServeProcess;
  stop(): Promise<void>;
}

/**
 * Starts `weir serve` (API and gateway on port 0) with {@link KEYS} in `DIR/credentials` and
 * `args` (e.g. `--policy DIR/policy`: write such files into `dir` before). Needs `npm run build`
 * (the console's files come from dist/console).
 */
export async function startConsoleServer(
  opts: { args?: readonly string[]; dir?: string; ca?: Buffer } = {},
): Promise<ConsoleServer> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'weir-console-'));
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const credentialsFile = join(dir, 'credentials');
  if (!existsSync(credentialsFile)) writeFileSync(credentialsFile, credentialsText(), { mode: 0o600 });
  const serve = await spawnServe(dataDir, ['--credentials', credentialsFile, ...(opts.args ?? [])]);
  // The gateway listens before the API; the endpoint file appears once the API does.
  let url = '';
  for (let attempt = 0; url === ''; attempt++) {
    try {
      const u = readFileSync(join(dataDir, 'endpoint'), 'utf8').trim();
      if (await healthy(u, opts.ca)) url = u;
    } catch {
      // not yet
    }
    if (url === '') {
      if (attempt > 600 || serve.exited() !== undefined)
        throw new Error(`weir serve did not start:\n${serve.stderr()}`);
      await sleep(100);
    }
  }
  return { url, dir, dataDir, credentialsFile, serve, stop: () => stopServe(serve.child) };
}

/** Whether `${url}/healthz` answers 200 (over HTTPS, trusting `ca`). */
function healthy(url: string, ca: Buffer | undefined): Promise<boolean> {
  const u = new URL('/healthz', url);
  const get = u.protocol === 'https:' ? httpsGet : httpGet;
  return new Promise((resolve) => {
    const req = get(u, { ...(ca !== undefined ? { ca } : {}) }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
  });
}

/** Launches Debian's chromium headless, as the issue asks (playwright-core, the system executable). */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A page with its guard: what it asked outside the origin, and CSP violations it reported. */
export interface GuardedPage {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Requests to another origin (blocked) and CSP violations, in order. */
  readonly violations: string[];
  /** Throws when there was any violation. */
  assertClean(): void;
}

/**
 * A new browser context and page for `server`, in `colorScheme`: every request outside the
 * server's origin is blocked and noted, as is every CSP violation the page reports.
 */
export async function openPage(
  browser: Browser,
  server: { url: string },
  colorScheme: 'light' | 'dark' = 'light',
): Promise<GuardedPage> {
  const context = await browser.newContext({ colorScheme, viewport: { width: 1280, height: 900 } });
  const violations: string[] = [];
  const origin = new URL(server.url).origin;
  await context.route('**/*', async (route) => {
    const u = route.request().url();
    if (u.startsWith('data:') || new URL(u).origin === origin) return route.continue();
    violations.push(`request outside the origin: ${u}`);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(`CSP: ${m.text()}`);
  });
  page.on('pageerror', (e) => violations.push(`page error: ${e.message}`));
  return {
    page,
    context,
    violations,
    assertClean: () => {
      if (violations.length > 0) throw new Error(`the page misbehaved:\n${violations.join('\n')}`);
    },
  };
}

/** Opens the console and signs in as `k`; resolves once the shell shows who is signed in. */
export async function signIn(page: Page, server: { url: string }, k: ConsoleKey): Promise<void> {
  if (!page.url().startsWith(`${server.url}/console/`)) await page.goto(`${server.url}/console/`);
  await page.getByLabel('Access key ID').fill(k.accessKeyId);
  await page.getByLabel('Secret access key').fill(k.secretAccessKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText(`Signed in as ${k.principal}`).waitFor();
}

let artifactsDir: string | undefined;

/** The folder screenshots go to (`WEIR_CONSOLE_ARTIFACTS`, else .vitest-tmp/console-artifacts), printed once. */
export function artifacts(): string {
  if (artifactsDir === undefined) {
    artifactsDir = process.env.WEIR_CONSOLE_ARTIFACTS ?? join(ROOT, '.vitest-tmp', 'console-artifacts');
    mkdirSync(artifactsDir, { recursive: true });
    console.log(`console screenshots: ${artifactsDir}`);
  }
  return artifactsDir;
}

/** Saves a full-page screenshot `NAME.png` into {@link artifacts}; returns its path. */
export async function shot(page: Page, name: string): Promise<string> {
  const file = join(artifacts(), `${name.replace(/[^\w.-]+/g, '-')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

const AXE = readFileSync(join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');

/** One axe-core violation, as the tests print it. */
export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: string[];
}

/**
 * Runs axe-core on the page (injected through the DevTools protocol, which the page's CSP does
 * not govern) and returns its serious and critical violations; a test expects none.
 */
export async function axeCheck(page: Page): Promise<AxeViolation[]> {
  // Strings, not functions: this file is typed for node, the page's globals are the browser's.
  const hasAxe = (await page.evaluate("typeof globalThis.axe === 'object'")) as boolean;
  if (!hasAxe) await page.evaluate(AXE);
  const result = (await page.evaluate("globalThis.axe.run(document, { resultTypes: ['violations'] })")) as {
    violations: {
      id: string;
      impact: string | null;
      help: string;
      nodes: { target: unknown[]; failureSummary?: string }[];
    }[];
  };
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => `${JSON.stringify(n.target)} ${n.failureSummary ?? ''}`),
    }));
}

/** A console session made from node (no browser): the cookie to send back and the CSRF token. */
export interface FetchSession {
  readonly cookie: string;
  readonly csrfToken: string;
  /** The Set-Cookie header as the server sent it. */
  readonly setCookie: string;
  readonly body: Record<string, unknown>;
}

/** `POST /console/session` as `k` from node's fetch; throws unless it succeeds. */
export async function signInFetch(server: { url: string }, k: ConsoleKey): Promise<FetchSession> {
  const res = await fetch(`${server.url}/console/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey }),
  });
  const body = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) throw new Error(`sign-in as ${k.profile}: ${res.status} ${JSON.stringify(body)}`);
  const setCookie = res.headers.get('set-cookie') ?? '';
  return { cookie: setCookie.split(';')[0] ?? '', csrfToken: String(body.csrfToken), setCookie, body };
}
