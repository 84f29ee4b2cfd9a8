/**
 * The Overview screen in Debian's chromium against a real `weir serve` with real data: a policy
 * directory with a rule expiring within 30 days and a wildcard rule, a gateway token, tunnels
 * through the gateway, and an exception requested by the read-only user and approved by an
 * approver (time to approve, expiring exception, policy change to enforcement). It checks the
 * tiles, charts (canvas and their text alternatives), tables and links, the period selector, axe
 * in light and dark, and takes screenshots (the docs' one is 1280×800, refreshed with
 * WEIR_UPDATE_DOCS_IMAGES=1). Needs `npm run build` (the console's files come from dist/console).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KEYS,
  artifacts,
  axeCheck,
  hasChromium,
  launchBrowser,
  openPage,
  shot,
  signIn,
  signInFetch,
  startConsoleServer,
} from '../helpers/console.js';
import type { ConsoleKey, ConsoleServer } from '../helpers/console.js';
import { connectVia, startEchoServer } from '../helpers/gateway-client.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOCS_IMAGE = join(ROOT, 'docs/images/console-overview.png');
const WEB = 'spiffe://prod.example/ns/shop/sa/web';
const BATCH = 'spiffe://prod.example/ns/shop/sa/batch';
const day = (offset: number): string => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

const policy = (echoPort: number): string => `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: shop, owner: shop@example.com }
spec:
  workloads: [{ identity: '${WEB}' }, { identity: '${BATCH}' }]
  rules:
    - id: echo
      to: [{ cidr: 127.0.0.0/8 }]
      ports: [${echoPort}]
      justification: the test's upstream
    - id: stripe
      to: [{ fqdn: api.stripe.com }]
      ports: [443]
      owner: payments@example.com
      justification: card payments
      expires: ${day(12)}
    - id: cdn
      to: [{ fqdn: '*.cdn.example' }]
      ports: [443]
      justification: static assets
    - id: partners
      to: [{ cidr: 0.0.0.0/0 }]
      ports: [8443]
      justification: partner callbacks
      expires: ${day(25)}
`;

/** A Weir API call with a console session (cookie, and the CSRF token on writes). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function call(server: ConsoleServer, who: ConsoleKey, path: string, body?: unknown): Promise<any> {
  const s = await signInFetch(server, who);
  const res = await fetch(`${server.url}/weir/v1/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { cookie: s.cookie, 'x-weir-csrf': s.csrfToken, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** PNG width and height from its IHDR chunk. */
function pngSize(file: string): { width: number; height: number; bytes: number } {
  const b = readFileSync(file);
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20), bytes: b.length };
}

describe.skipIf(!hasChromium())('the Overview in chromium', () => {
  let server: ConsoleServer;
  let browser: Browser;
  let echo: Server;
  let echoPort = 0;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-overview-'));
    mkdirSync(join(dir, 'policy'));
    ({ server: echo, port: echoPort } = await startEchoServer());
    writeFileSync(join(dir, 'policy', 'shop.yaml'), policy(echoPort));
    server = await startConsoleServer({ dir, args: ['--policy', join(dir, 'policy')] });
    browser = await launchBrowser();
    // Traffic: WEB allowed to its upstream three times, denied twice at a guarded port of
    // loopback no rule names; a request with no token is refused.
    const { token } = await call(server, KEYS.admin, 'tokens', { identity: WEB, ttl: '1h' });
    const proxy = `127.0.0.1:${server.serve.proxyPort}`;
    const up = `127.0.0.1:${echoPort}`;
    for (const [to, t] of [
      [up, token],
      [up, token],
      [up, token],
      ['127.0.0.1:9', token],
      ['127.0.0.1:9', token],
      ['127.0.0.1:9', undefined],
    ] as const) {
      const c = await connectVia(proxy, to, t !== undefined ? { token: t } : {});
      c.socket.destroy();
    }
    // An exception asked by the read-only user, approved by an approver.
    const req = await call(server, KEYS.readonly, 'exceptions', {
      identity: WEB,
      to: ['api.partner.example:443'],
      reason: 'partner onboarding',
      ttl: '72h',
    });
    await call(server, KEYS.approver, 'exceptions/approve', { id: req.exception.id });
    // Decisions are written in batches off the gateway's hot path: wait until all six are stored.
    let totals: unknown;
    for (let i = 0; i < 600; i++) {
      totals = (await call(server, KEYS.readonly, 'overview?since=1h')).decisions.totals;
      if (JSON.stringify(totals) === JSON.stringify({ allowed: 3, denied: 2, wouldDeny: 0, refused: 1 }))
        break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(totals).toEqual({ allowed: 3, denied: 2, wouldDeny: 0, refused: 1 });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await new Promise((r) => echo?.close(r));
  });

  it('shows tiles, charts with text alternatives, and the tables with their links', async () => {
    const g = await openPage(browser, server);
    await signIn(g.page, server, KEYS.readonly);
    await g.page.goto(`${server.url}/console/#/overview?period=24h`);
    await g.page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await g.page.getByRole('heading', { level: 2, name: 'At a glance' }).waitFor();
    const tiles = g.page.locator('.tile');
    await expect.poll(() => tiles.count()).toBe(7);
    const share = await g.page
      .locator('.tile', { hasText: 'Share of egress through the gateway' })
      .textContent();
    expect(share).toMatch(/of 2 known workloads sent traffic through the gateway/);
    expect(await g.page.locator('.tile', { hasText: 'Time to approve' }).textContent()).toMatch(
      /1 approval;/,
    );
    // Four charts, each a canvas (hidden from assistive tech) and a summary and table in words.
    await expect.poll(() => g.page.locator('figure.chart canvas').count()).toBe(4);
    for (const name of [
      'Decisions',
      'Denials to guardrail ranges',
      'Time to approve exceptions',
      'Policy change to enforcement',
    ])
      await g.page.locator('figure.chart').getByRole('heading', { level: 3, name, exact: true }).waitFor();
    expect(await g.page.getByText('This server stores no decisions').count()).toBe(0);
    await g.page.getByText('Decisions: the data as a table').click();
    const perMinute = g.page.locator('figure.chart', { hasText: 'Decisions: the data' }).locator('tbody tr');
    expect(await perMinute.count()).toBeGreaterThanOrEqual(1);
    await g.page.getByText('Time to approve exceptions: the data as a table').click();
    const approve = g.page
      .locator('figure.chart', { hasText: 'Time to approve exceptions' })
      .locator('tbody tr');
    expect(await approve.count()).toBe(1);
    // Expiring within 30 days: the two rules and the exception, each linked to its screen.
    const expiring = g.page.locator('table', { hasText: 'expiring within 30 days' });
    await expect.poll(() => expiring.locator('tbody tr').count()).toBe(3);
    expect(await expiring.getByRole('link', { name: 'shop / stripe' }).getAttribute('href')).toBe(
      '#/policies?policy=shop&rule=stripe',
    );
    expect(await expiring.getByRole('link', { name: /^exc-/ }).getAttribute('href')).toMatch(
      /^#\/exceptions\?id=exc-/,
    );
    // Wildcard rules: the name pattern and the whole address family.
    const wild = g.page.locator('table', { hasText: 'Wildcard rules' });
    expect(await wild.locator('tbody tr').allTextContents()).toEqual([
      expect.stringMatching(/shop \/ cdn.*name pattern.*\*\.cdn\.example/),
      expect.stringMatching(/shop \/ partners.*any address.*0\.0\.0\.0\/0/),
    ]);
    // The silent workload is listed, linked to Workloads.
    const silent = g.page.locator('table', { hasText: 'Silent workloads' });
    expect(await silent.getByRole('link', { name: BATCH }).getAttribute('href')).toBe(
      `#/workloads?identity=${encodeURIComponent(BATCH)}`,
    );
    expect(await axeCheck(g.page)).toEqual([]);
    await shot(g.page, 'overview-24h-light');
    g.assertClean();
    await g.context.close();
  });

  it('switches the period from the selector (a link: the period is in the route)', async () => {
    const g = await openPage(browser, server);
    await signIn(g.page, server, KEYS.readonly);
    await g.page.goto(`${server.url}/console/#/overview`);
    const picker = g.page.getByRole('navigation', { name: 'Period' });
    expect(await picker.getByRole('link', { name: 'Last 30 days' }).getAttribute('aria-current')).toBe(
      'true',
    );
    await picker.getByRole('link', { name: 'Last 7 days' }).click();
    await g.page.waitForURL(/#\/overview\?period=7d$/);
    await g.page.getByText(/^Last 7 days: .* per 6 h\.$/).waitFor();
    expect(await picker.getByRole('link', { name: 'Last 7 days' }).getAttribute('aria-current')).toBe('true');
    g.assertClean();
    await g.context.close();
  });

  for (const scheme of ['light', 'dark'] as const) {
    it(`passes axe in the ${scheme} theme and is screenshotted at 1280×800`, async () => {
      const g = await openPage(browser, server, scheme);
      await g.page.setViewportSize({ width: 1280, height: 800 });
      await signIn(g.page, server, KEYS.admin);
      await g.page.goto(`${server.url}/console/#/overview`);
      await expect.poll(() => g.page.locator('figure.chart canvas').count()).toBe(4);
      expect(await axeCheck(g.page)).toEqual([]);
      await shot(g.page, `overview-${scheme}`);
      // The docs' view: the tiles and the first charts, scrolled past the page's header.
      await g.page.evaluate("document.getElementById('tiles-h').scrollIntoView()");
      const file = join(artifacts(), `console-overview-${scheme}.png`);
      await g.page.screenshot({ path: file });
      expect(pngSize(file)).toMatchObject({ width: 1280, height: 800 });
      if (scheme === 'light' && process.env.WEIR_UPDATE_DOCS_IMAGES === '1') copyFileSync(file, DOCS_IMAGE);
      g.assertClean();
      await g.context.close();
    });
  }

  it('keeps the docs image small: 1280×800, at most 200 KB', () => {
    const s = pngSize(DOCS_IMAGE);
    expect([s.width, s.height]).toEqual([1280, 800]);
    expect(s.bytes).toBeLessThanOrEqual(200 * 1024);
  });
});
