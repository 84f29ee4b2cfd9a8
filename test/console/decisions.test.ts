/**
 * The Decisions screen in Debian's chromium against a real `weir serve` (API, gateway, policy
 * directory): a denied curl through the gateway shows up live (polled with `after`), its row opens
 * the explanation (the nearest rule with owner and justification, and the fix with the console's
 * prefilled request form), its "Request exception" link goes to that form, and the search finds
 * it by destination and decision and hides it for another. axe finds no serious violation in
 * light and dark; screenshots go to the printed artifacts folder. Needs `npm run build`.
 *
 * The time from the curl's answer to the row on screen is printed, not asserted (2 cores shared
 * by many workers): a page that does not follow live never shows the row at all, however long.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken, loadTokenKey } from '../../src/identity/index.js';
import {
  KEYS,
  axeCheck,
  hasChromium,
  launchBrowser,
  openPage,
  shot,
  signIn,
  startConsoleServer,
} from '../helpers/console.js';
import type { ConsoleServer, GuardedPage } from '../helpers/console.js';
import { probe, requireTool } from '../helpers/tools.js';

const WEB = 'spiffe://prod.example/ns/shop/sa/web';
const DENIED = 'denied.example.com';
const RUN = hasChromium() && requireTool('curl', probe('curl', ['--version']));

/** A CONNECT through the gateway by curl, as a workload makes one; the proxy's status. */
function curlConnect(proxyPort: number, token: string, url: string): number {
  const r = spawnSync(
    'curl',
    [
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_connect}',
      '--max-time',
      '20',
      '-p',
      '-x',
      `http://weir:${token}@127.0.0.1:${proxyPort}`,
      url,
    ],
    { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } },
  );
  return Number(r.stdout.trim());
}

describe.runIf(RUN)('the Decisions screen', () => {
  let server: ConsoleServer;
  let browser: Browser;
  let guarded: GuardedPage;
  let token = '';

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-console-decisions-'));
    mkdirSync(join(dir, 'policies'));
    writeFileSync(
      join(dir, 'policies', 'shop.yaml'),
      `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: shop, owner: shop-team@example.com }
spec:
  workloads: [{ identity: ${JSON.stringify(WEB)} }]
  rules:
    - id: payments
      to: [{ fqdn: api.payments.example.com }]
      ports: ["443"]
      justification: card payments
      dataClass: pci
`,
    );
    // The name resolves (to TEST-NET-2, never connected to): the policy, not DNS, denies it.
    writeFileSync(join(dir, 'hosts'), `198.51.100.7 ${DENIED}\n`);
    server = await startConsoleServer({
      dir,
      args: ['--policy', join(dir, 'policies'), '--dns-hosts', join(dir, 'hosts')],
    });
    token = issueToken(loadTokenKey(server.dataDir), {
      identity: WEB,
      ttlMs: 3_600_000,
      now: Date.now(),
      account: '123456789012',
    });
    browser = await launchBrowser();
    guarded = await openPage(browser, server);
    await signIn(guarded.page, server, KEYS.readonly);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('shows a denied curl live, within the poll, without a reload', async () => {
    const { page } = guarded;
    await page.goto(`${server.url}/console/#/decisions`);
    await page.getByRole('heading', { name: 'Decisions', level: 1 }).waitFor();
    await page.getByText(/live, last checked/).waitFor();
    expect(curlConnect(server.serve.proxyPort, token, `https://${DENIED}/`)).toBe(403);
    const answered = Date.now();
    const row = page.getByRole('row', { name: new RegExp(`${DENIED.replace(/\./g, '\\.')}:443`) });
    await row.waitFor({ timeout: 30_000 });
    console.log(`decisions: the denied curl was on screen ${Date.now() - answered} ms after its 403`);
    await row.getByText('✖ deny').waitFor();
    expect(await row.textContent()).toContain(WEB);
    expect(await row.textContent()).toContain('no-match');
    await shot(page, 'decisions-live');
    expect(await axeCheck(page)).toEqual([]);
    guarded.assertClean();
  });

  it('opens the explanation of a row: nearest rule, owner, justification, and the fix', async () => {
    const { page } = guarded;
    const row = page.getByRole('row', { name: new RegExp(`${DENIED.replace(/\./g, '\\.')}:443`) });
    await row.getByRole('link', { name: /^Explain decision / }).click();
    const heading = page.getByRole('heading', { name: /^Decision \S+$/, level: 2 });
    await heading.waitFor();
    await page.getByRole('heading', { name: 'How to fix' }).waitFor();
    // Focus moves to the panel, so a keyboard or screen-reader user lands on what opened.
    expect(await page.evaluate('document.activeElement?.id')).toBe('explain-h');
    const panel = page.locator('section.explain');
    const text = (await panel.textContent()) ?? '';
    expect(text).toContain('Nearest rule');
    expect(text).toContain('payments');
    expect(text).toContain('shop-team@example.com');
    expect(text).toContain('card payments');
    expect(text).toContain('pci');
    expect(text).toContain(`weir exception request --identity`);
    const request = panel.getByRole('link', { name: `Request an exception for ${DENIED}:443` });
    expect(await request.getAttribute('href')).toBe(
      `#/exceptions/request?identity=${encodeURIComponent(WEB)}&to=${encodeURIComponent(`${DENIED}:443`)}`,
    );
    await shot(page, 'decisions-explanation');
    expect(await axeCheck(page)).toEqual([]);
    await panel.getByRole('link', { name: 'Close the explanation' }).click();
    await heading.waitFor({ state: 'detached' });
  });

  it("a denied row's Request exception link opens the prefilled request form", async () => {
    const { page } = guarded;
    const row = page.getByRole('row', { name: new RegExp(`${DENIED.replace(/\./g, '\\.')}:443`) });
    await row.getByRole('link', { name: /^Request exception for decision / }).click();
    await page.waitForURL(/#\/exceptions\/request\?/);
    const hash = new URL(page.url()).hash;
    const params = new URLSearchParams(hash.slice(hash.indexOf('?') + 1));
    expect([params.get('identity'), params.get('to')]).toEqual([WEB, `${DENIED}:443`]);
  });

  it('searches by destination and decision (the search is a link), and finds nothing for another', async () => {
    const { page } = guarded;
    await page.goto(`${server.url}/console/#/decisions`);
    await page.getByLabel('Destination (host or IP)').fill(DENIED);
    await page.getByLabel('Decision', { exact: true }).selectOption('deny');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/destination=denied\.example\.com/);
    expect(page.url()).toContain('decision=deny');
    await page.getByRole('row', { name: new RegExp(`${DENIED.replace(/\./g, '\\.')}:443`) }).waitFor();
    await page.getByLabel('Destination (host or IP)').fill('other.example.com');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('No decisions match.').waitFor();
    // A bad time is the API's precise message, not a blank page.
    await page.goto(`${server.url}/console/#/decisions?since=yesterday`);
    await page
      .getByRole('alert')
      .getByText(/'since' must be an ISO 8601 time/)
      .waitFor();
  });

  it('passes axe in dark mode too', async () => {
    const dark = await openPage(browser, server, 'dark');
    await signIn(dark.page, server, KEYS.readonly);
    await dark.page.goto(`${server.url}/console/#/decisions`);
    await dark.page.getByRole('row', { name: new RegExp(`${DENIED.replace(/\./g, '\\.')}:443`) }).waitFor();
    await shot(dark.page, 'decisions-dark');
    expect(await axeCheck(dark.page)).toEqual([]);
    dark.assertClean();
    await dark.context.close();
  });
});
