/**
 * The console's foundation against a real `weir serve`: its files and headers, sign-in (good and
 * bad secrets, cookie flags, audit records), the session cookie in the Weir API (CSRF on writes,
 * roles as for signed calls, never in the EC2 API), sign-out and expiry; then in Debian's
 * chromium: sign-in, the shell, keyboard navigation, no request outside the origin, axe in light
 * and dark. Needs `npm run build` (the console's files come from dist/console).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KEYS,
  axeCheck,
  hasChromium,
  launchBrowser,
  openPage,
  shot,
  signIn,
  signInFetch,
  startConsoleServer,
} from '../helpers/console.js';
import type { ConsoleServer } from '../helpers/console.js';
import { cleanEnv, runProcess, WEIR_BIN } from '../helpers/onramp.js';

/** A raw GET (node's fetch would normalise `..` away before sending it). */
function rawGet(url: string, path: string): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the console over HTTP', () => {
  let server: ConsoleServer;
  beforeAll(async () => {
    server = await startConsoleServer();
  }, 120_000);
  afterAll(() => server?.stop());

  it('serves its page with a CSP that allows only this origin, and GET / links to it', async () => {
    const res = await fetch(`${server.url}/console/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const page = await res.text();
    expect(page).toContain('<script type="module" src="app.js"></script>');
    expect(page).not.toMatch(/https?:\/\//);
    const etag = res.headers.get('etag')!;
    const again = await fetch(`${server.url}/console/`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    const landing = await (await fetch(`${server.url}/`, { headers: { accept: 'text/html' } })).text();
    expect(landing).toContain('<a href="/console/">');
    const bare = await fetch(`${server.url}/console`, { redirect: 'manual' });
    expect([bare.status, bare.headers.get('location')]).toEqual([301, '/console/']);
  });

  it('serves the bundle with no external URL, and nothing but its own files', async () => {
    const js = await fetch(`${server.url}/console/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await js.text()).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
    expect((await fetch(`${server.url}/console/uplot.css`)).status).toBe(200);
    for (const path of [
      '/console/../package.json',
      '/console/%2e%2e/package.json',
      '/console/front.js',
      '/console/x',
    ]) {
      const r = await rawGet(server.url, path);
      expect([path, r.status]).toEqual([path, 404]);
      expect(r.body).not.toContain('"name": "weir"');
    }
  });

  it('signs in with a good secret: an HttpOnly, SameSite=Strict cookie, the CSRF token, an audit record', async () => {
    const s = await signInFetch(server, KEYS.approver);
    expect(s.setCookie).toMatch(
      /^weir_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=28800$/,
    );
    expect(s.body).toMatchObject({
      principal: 'bob@example.com',
      role: 'approver',
      accessKeyId: KEYS.approver.accessKeyId,
      accountId: '123456789012',
    });
    expect(String(s.body.csrfToken)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const expires = Date.parse(String(s.body.expiresAt));
    expect(expires - Date.now()).toBeGreaterThan(7 * 3_600_000);
    const who = await fetch(`${server.url}/console/session`, { headers: { cookie: s.cookie } });
    expect(who.status).toBe(200);
    expect(who.headers.get('cache-control')).toBe('no-store');
    expect(await who.json()).toMatchObject({ principal: 'bob@example.com', csrfToken: s.body.csrfToken });
    // The session reads the Weir API as its key; the audit trail names the sign-in.
    const audit = await fetch(`${server.url}/weir/v1/audit?event=ConsoleLogin`, {
      headers: { cookie: s.cookie },
    });
    expect(audit.status).toBe(200);
    const records = ((await audit.json()) as { records: { event: Record<string, unknown> }[] }).records;
    expect(records.at(-1)?.event).toMatchObject({
      eventSource: 'signin.amazonaws.com',
      eventName: 'ConsoleLogin',
      responseElements: { ConsoleLogin: 'Success' },
      userIdentity: { principal: 'bob@example.com', accessKeyId: KEYS.approver.accessKeyId },
    });
  });

  it('refuses a wrong secret and an unknown key alike (401, no cookie), and records the failure', async () => {
    for (const body of [
      { accessKeyId: KEYS.admin.accessKeyId, secretAccessKey: 'wrong-secret-0123456789' },
      { accessKeyId: 'AKIANOSUCHKEY0000000', secretAccessKey: KEYS.admin.secretAccessKey },
    ]) {
      const res = await fetch(`${server.url}/console/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('set-cookie')).toBeNull();
      expect(await res.json()).toEqual({
        error: { code: 'AuthFailure', message: 'the access key ID or its secret is wrong' },
      });
    }
    const bad = await fetch(`${server.url}/console/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ accessKeyId: KEYS.admin.accessKeyId }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain(
      "'secretAccessKey'",
    );
    const s = await signInFetch(server, KEYS.admin);
    const audit = await fetch(`${server.url}/weir/v1/audit?event=ConsoleLogin`, {
      headers: { cookie: s.cookie },
    });
    const events = ((await audit.json()) as { records: { event: Record<string, unknown> }[] }).records.map(
      (r) => r.event,
    );
    const failures = events.filter((e) => e.errorCode === 'AuthFailure');
    expect(failures.map((e) => (e.userIdentity as Record<string, unknown>).principal)).toEqual(
      expect.arrayContaining(['ada@example.com', 'unknown']),
    );
    expect(JSON.stringify(events)).not.toContain(KEYS.admin.secretAccessKey);
  });

  it('checks the CSRF token on every console write: none or a wrong one is 403, the right one passes', async () => {
    const s = await signInFetch(server, KEYS.admin);
    const write = (headers: Record<string, string>) =>
      fetch(`${server.url}/weir/v1/breakglass/close`, {
        method: 'POST',
        headers: { cookie: s.cookie, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ id: 'bg-0123456789abcdef0', reason: 'test' }),
      });
    for (const headers of [{}, { 'x-weir-csrf': 'x'.repeat(43) }]) {
      const res = await write(headers);
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('InvalidCsrfToken');
    }
    // With the token the write reaches the operation (which then finds no such session).
    const ok = await write({ 'x-weir-csrf': s.csrfToken });
    const body = (await ok.json()) as { error?: { code: string } };
    expect(body.error?.code).not.toBe('InvalidCsrfToken');
    expect(ok.status).not.toBe(403);
    expect(ok.status).not.toBe(401);
  });

  it('applies roles as for signed calls: a read-only session cannot do an admin write', async () => {
    const s = await signInFetch(server, KEYS.readonly);
    const res = await fetch(`${server.url}/weir/v1/tokens`, {
      method: 'POST',
      headers: { cookie: s.cookie, 'content-type': 'application/json', 'x-weir-csrf': s.csrfToken },
      body: JSON.stringify({ identity: 'spiffe://example.org/web', ttl: '1h' }),
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UnauthorizedOperation');
    const admin = await signInFetch(server, KEYS.admin);
    const issued = await fetch(`${server.url}/weir/v1/tokens`, {
      method: 'POST',
      headers: { cookie: admin.cookie, 'content-type': 'application/json', 'x-weir-csrf': admin.csrfToken },
      body: JSON.stringify({ identity: 'spiffe://example.org/web', ttl: '1h' }),
    });
    expect(issued.status).toBe(200);
  });

  it('never takes the cookie on the EC2 API', async () => {
    const s = await signInFetch(server, KEYS.admin);
    const res = await fetch(`${server.url}/`, {
      method: 'POST',
      headers: { cookie: s.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=DescribeSecurityGroups&Version=2016-11-15',
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(await res.text()).toMatch(/<Code>(MissingParameter|AuthFailure|IncompleteSignature)[^<]*<\/Code>/);
  });

  it('signs out (CSRF checked): the cookie is cleared and the session no longer acts', async () => {
    const s = await signInFetch(server, KEYS.approver2);
    const noToken = await fetch(`${server.url}/console/session/sign-out`, {
      method: 'POST',
      headers: { cookie: s.cookie },
    });
    expect(noToken.status).toBe(403);
    const out = await fetch(`${server.url}/console/session/sign-out`, {
      method: 'POST',
      headers: { cookie: s.cookie, 'x-weir-csrf': s.csrfToken },
    });
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toBe('weir_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0');
    expect((await fetch(`${server.url}/console/session`, { headers: { cookie: s.cookie } })).status).toBe(
      401,
    );
    const api = await fetch(`${server.url}/weir/v1/audit`, { headers: { cookie: s.cookie } });
    expect(api.status).toBe(401);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('NotSignedIn');
  });
});

describe('a short --console-session-ttl', () => {
  let server: ConsoleServer;
  beforeAll(async () => {
    server = await startConsoleServer({ args: ['--console-session-ttl', '2s'] });
  }, 120_000);
  afterAll(() => server?.stop());

  it('ends the session when it expires (cookie Max-Age and server alike)', async () => {
    const s = await signInFetch(server, KEYS.admin);
    expect(s.setCookie).toContain('Max-Age=2');
    expect((await fetch(`${server.url}/weir/v1/audit`, { headers: { cookie: s.cookie } })).status).toBe(200);
    // Polled until it ends; a session that never expired would never get there.
    let status = 200;
    for (let i = 0; i < 600 && status === 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await fetch(`${server.url}/weir/v1/audit`, { headers: { cookie: s.cookie } })).status;
    }
    expect(status).toBe(401);
  });
});

describe('weir serve --console-session-ttl', () => {
  it.each(['500ms', '8d'])('refuses %s at start (exit 2), naming the flag and the range', async (ttl) => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-console-ttl-'));
    const run = await runProcess(
      process.execPath,
      [
        WEIR_BIN,
        'serve',
        '--data-dir',
        dir,
        '--api-listen',
        '127.0.0.1:0',
        '--proxy-listen',
        'off',
        '--console-session-ttl',
        ttl,
      ],
      cleanEnv(),
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--console-session-ttl: give a duration from 1s to 7d (default 8h)');
  });
});

const TLS = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));

describe('the console over TLS (--api-tls-cert)', () => {
  let server: ConsoleServer;
  beforeAll(async () => {
    server = await startConsoleServer({
      args: ['--api-tls-cert', join(TLS, 'proxy.pem'), '--api-tls-key', join(TLS, 'proxy-key.pem')],
      ca: readFileSync(join(TLS, 'server-ca.pem')),
    });
  }, 120_000);
  afterAll(() => server?.stop());

  it('marks the session cookie Secure', async () => {
    const u = new URL(`${server.url}/console/session`);
    expect(u.protocol).toBe('https:');
    const body = JSON.stringify({
      accessKeyId: KEYS.admin.accessKeyId,
      secretAccessKey: KEYS.admin.secretAccessKey,
    });
    const setCookie = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(
        {
          host: u.hostname,
          port: u.port,
          path: u.pathname,
          method: 'POST',
          ca: readFileSync(join(TLS, 'server-ca.pem')),
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          expect(res.statusCode).toBe(200);
          resolve(String(res.headers['set-cookie']?.[0] ?? ''));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    expect(setCookie).toMatch(
      /^weir_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=28800; Secure$/,
    );
  });
});

describe.skipIf(!hasChromium())('the console in chromium', () => {
  let server: ConsoleServer;
  let browser: Browser;
  beforeAll(async () => {
    server = await startConsoleServer();
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('signs in, shows who is signed in, and passes axe on the sign-in page and the shell', async () => {
    const g = await openPage(browser, server);
    await g.page.goto(`${server.url}/console/`);
    await g.page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await axeCheck(g.page)).toEqual([]);
    await shot(g.page, 'sign-in');
    // A wrong secret says so and stays on the page.
    await g.page.getByLabel('Access key ID').fill(KEYS.admin.accessKeyId);
    await g.page.getByLabel('Secret access key').fill('not-the-secret-0123456789');
    await g.page.getByRole('button', { name: 'Sign in' }).click();
    await g.page.getByRole('alert').getByText('the access key ID or its secret is wrong').waitFor();
    await signIn(g.page, server, KEYS.admin);
    await g.page.getByText('(admin, key AKIACONSOLEADMIN0001)').waitFor();
    expect(await axeCheck(g.page)).toEqual([]);
    // A reload keeps the session (the cookie), and sign-out ends it.
    await g.page.reload();
    await g.page.getByText(`Signed in as ${KEYS.admin.principal}`).waitFor();
    await g.page.getByRole('button', { name: 'Sign out' }).click();
    await g.page.getByText('You have signed out.').waitFor();
    await g.page.reload();
    await g.page.getByRole('button', { name: 'Sign in' }).waitFor();
    g.assertClean();
    await g.context.close();
  });

  it('moves through the navigation with the keyboard, and asks nothing outside the origin', async () => {
    const g = await openPage(browser, server);
    await signIn(g.page, server, KEYS.readonly);
    const links = await g.page
      .getByRole('navigation', { name: 'Screens' })
      .getByRole('link')
      .allTextContents();
    expect(links.length).toBeGreaterThanOrEqual(2);
    expect(links).toEqual(expect.arrayContaining(['Break-glass', 'Audit']));
    // Tab from the top: skip link, then the header's buttons, then the navigation's links.
    await g.page.keyboard.press('Tab');
    expect(await g.page.evaluate('document.activeElement.textContent')).toBe('Skip to content');
    let reached = '';
    for (let i = 0; i < 20 && reached !== 'Audit'; i++) {
      await g.page.keyboard.press('Tab');
      reached = String(await g.page.evaluate('document.activeElement.textContent')).trim();
    }
    expect(reached).toBe('Audit');
    await g.page.keyboard.press('Enter');
    await g.page.getByRole('heading', { level: 1, name: 'Audit' }).waitFor();
    expect(g.page.url()).toMatch(/#\/audit$/);
    // The new screen has the focus, so the next Tab goes into it rather than back to the top.
    expect(await g.page.evaluate('document.activeElement.id')).toBe('main');
    expect(await g.page.getByRole('link', { name: 'Audit' }).getAttribute('aria-current')).toBe('page');
    g.assertClean();
    await g.context.close();
  });

  for (const scheme of ['light', 'dark'] as const) {
    it(`passes axe on Audit and Break-glass in the ${scheme} theme`, async () => {
      const g = await openPage(browser, server, scheme);
      await g.page.goto(`${server.url}/console/`);
      await g.page.getByRole('button', { name: 'Sign in' }).waitFor();
      expect(['sign-in', await axeCheck(g.page)]).toEqual(['sign-in', []]);
      await signIn(g.page, server, KEYS.admin);
      for (const screen of ['audit', 'breakglass']) {
        await g.page.goto(`${server.url}/console/#/${screen}`);
        await g.page
          .getByRole('heading', { level: 1, name: screen === 'audit' ? 'Audit' : 'Break-glass' })
          .waitFor();
        await g.page.getByText('Loading').first().waitFor({ state: 'detached' });
        expect([screen, await axeCheck(g.page)]).toEqual([screen, []]);
        await shot(g.page, `${screen}-${scheme}`);
      }
      g.assertClean();
      await g.context.close();
    });
  }

  it('switches the theme with the header button and keeps the choice across a reload', async () => {
    const g = await openPage(browser, server, 'light');
    await signIn(g.page, server, KEYS.approver);
    const bg = () => g.page.evaluate('getComputedStyle(document.body).backgroundColor');
    expect(await bg()).toBe('rgb(255, 255, 255)');
    await g.page.getByRole('button', { name: 'Dark theme' }).click();
    expect(await g.page.evaluate('document.documentElement.dataset.theme')).toBe('dark');
    expect(await bg()).toBe('rgb(20, 23, 27)');
    await g.page.reload();
    await g.page.getByRole('button', { name: 'Light theme' }).waitFor();
    expect(await bg()).toBe('rgb(20, 23, 27)');
    g.assertClean();
    await g.context.close();
  });

  it('goes back to the sign-in page, saying why, when the server ends the session', async () => {
    const g = await openPage(browser, server);
    await signIn(g.page, server, KEYS.approver);
    // The session is ended behind the page's back (as expiry or a removed key would).
    const cookie = (await g.context.cookies()).find((c) => c.name === 'weir_session');
    const who = (await (
      await fetch(`${server.url}/console/session`, { headers: { cookie: `weir_session=${cookie!.value}` } })
    ).json()) as { csrfToken: string };
    const out = await fetch(`${server.url}/console/session/sign-out`, {
      method: 'POST',
      headers: { cookie: `weir_session=${cookie!.value}`, 'x-weir-csrf': who.csrfToken },
    });
    expect(out.status).toBe(200);
    await g.page.getByRole('link', { name: 'Audit' }).click();
    await g.page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await g.page.getByRole('status').first().textContent()).toMatch(/^Signed out: .*sign in again/);
    g.assertClean();
    await g.context.close();
  });
});
