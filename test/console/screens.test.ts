/**
 * The console's Audit and Break-glass screens and the break-glass banner, in Debian's chromium
 * against a real `weir serve`: a drill and a session opened from the form with the admin's
 * one-time codes, the banner on every screen (and in another user's browser) while the session is
 * open, closing it with a reason; the audit records filtered and paged; axe in light and dark
 * with the banner up; screenshots. Needs `npm run build`.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_TOTP,
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
import { totp } from '../helpers/onramp.js';

const IDENTITY = 'spiffe://example.org/ns/shop/sa/web';

describe.skipIf(!hasChromium())('Audit and Break-glass in chromium', () => {
  let server: ConsoleServer;
  let browser: Browser;
  let admin: GuardedPage;
  beforeAll(async () => {
    server = await startConsoleServer();
    browser = await launchBrowser();
    admin = await openPage(browser, server);
    await signIn(admin.page, server, KEYS.admin);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const banner = (page: Page) => page.getByRole('region', { name: 'Break-glass sessions open' });

  it('records a drill from the form: listed with its reason, no banner (a drill grants nothing)', async () => {
    const { page } = admin;
    await page
      .getByRole('navigation', { name: 'Screens' })
      .getByRole('link', { name: 'Break-glass' })
      .click();
    await page.getByRole('heading', { level: 1, name: 'Break-glass' }).waitFor();
    await page.getByLabel('Identity').fill(IDENTITY);
    await page.getByLabel('Reason', { exact: true }).fill('quarterly drill');
    await page.getByLabel('One-time code from your authenticator').fill(totp(ADMIN_TOTP, Date.now() / 1000));
    await page.getByLabel('Drill only (grants nothing)').check();
    await page.getByRole('button', { name: 'Open' }).click();
    await page
      .getByRole('status')
      .getByText(/Recorded bg-[0-9a-f]+ \(drill\)/)
      .waitFor();
    const recent = page.getByRole('table', { name: 'Closed and expired sessions, and drills' });
    await recent.getByRole('cell', { name: 'quarterly drill' }).waitFor();
    expect(await recent.getByText('◇ drill').count()).toBe(1);
    expect(await banner(page).count()).toBe(0);
  });

  it('opens a session: the banner shows who, why and until when on every screen, and to other users', async () => {
    const { page } = admin;
    await page.getByLabel('Identity').fill(IDENTITY);
    await page.getByLabel('Reason', { exact: true }).fill('INC-42 checkout down');
    await page.getByLabel(/^Duration/).fill('30m');
    // The next step's code: the drill's step is used, and a code is taken once.
    await page
      .getByLabel('One-time code from your authenticator')
      .fill(totp(ADMIN_TOTP, Date.now() / 1000 + 30));
    await page.getByRole('button', { name: 'Open' }).click();
    await page
      .getByRole('status')
      .getByText(/Recorded bg-[0-9a-f]+ \(open\)/)
      .waitFor();
    await page
      .getByRole('table', { name: 'Open break-glass sessions' })
      .getByRole('cell', { name: 'INC-42 checkout down' })
      .waitFor();
    // The banner follows within one poll; on another screen too.
    await page.getByRole('link', { name: 'Audit' }).click();
    const b = banner(page);
    await b.waitFor({ timeout: 30_000 });
    const text = (await b.textContent()) ?? '';
    expect(text).toContain('Break-glass open');
    expect(text).toContain(KEYS.admin.principal);
    expect(text).toContain(IDENTITY);
    expect(text).toContain('INC-42 checkout down');
    expect(text).toMatch(/until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \((29|30) min left\)/);
    await shot(page, 'breakglass-banner-audit');
    // A read-only user, in a browser of their own, sees it too.
    const ro = await openPage(browser, server, 'dark');
    await signIn(ro.page, server, KEYS.readonly);
    await banner(ro.page).waitFor({ timeout: 30_000 });
    expect(await banner(ro.page).textContent()).toContain('INC-42 checkout down');
    expect(await axeCheck(ro.page)).toEqual([]);
    await shot(ro.page, 'breakglass-banner-dark');
    ro.assertClean();
    await ro.context.close();
    expect(await axeCheck(page)).toEqual([]);
  });

  it("shows a refused write as the API worded it: a read-only user may not close another's session", async () => {
    const ro = await openPage(browser, server);
    await signIn(ro.page, server, KEYS.readonly);
    await ro.page.goto(`${server.url}/console/#/breakglass`);
    const open = ro.page.getByRole('table', { name: 'Open break-glass sessions' });
    await open.getByLabel(/^Reason to close bg-/).fill('not mine');
    await open.getByRole('button', { name: 'Close' }).click();
    const alert = open.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(
      /Not closed \(UnauthorizedOperation\).*only they, an approver or an admin/,
    );
    ro.assertClean();
    await ro.context.close();
  });

  it('closes the session with a reason: it moves to the recent list and the banner goes', async () => {
    const { page } = admin;
    await page.getByRole('link', { name: 'Break-glass' }).first().click();
    const open = page.getByRole('table', { name: 'Open break-glass sessions' });
    await open.getByLabel(/^Reason to close bg-/).fill('resolved');
    await shot(page, 'breakglass-open-session');
    await open.getByRole('button', { name: 'Close' }).click();
    await open.getByText('None.').waitFor();
    const recent = page.getByRole('table', { name: 'Closed and expired sessions, and drills' });
    await recent.getByText(/by ada@example\.com: resolved/).waitFor();
    await banner(page).waitFor({ state: 'detached', timeout: 30_000 });
    admin.assertClean();
  });

  it('filters the audit records by event and pages through them', async () => {
    const { page } = admin;
    await page.goto(`${server.url}/console/#/audit?limit=2`);
    await page.getByRole('heading', { level: 2, name: /Chain state: ✔ intact/ }).waitFor();
    const table = page.getByRole('table', { name: /^Audit records/ });
    await table.getByRole('rowheader', { name: '#1' }).waitFor();
    expect(await table.getByRole('rowheader').allTextContents()).toEqual(['#1', '#2']);
    await page.getByRole('button', { name: 'Next page' }).click();
    await table.getByRole('rowheader', { name: '#3' }).waitFor();
    expect(await table.getByRole('rowheader').allTextContents()).toEqual(['#3', '#4']);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await table.getByRole('rowheader', { name: '#1' }).waitFor();
    // The filter goes into the route, so a filtered view is a link.
    await page.getByLabel('Event').fill('CloseBreakglass');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/#\/audit\?event=CloseBreakglass&limit=2$/);
    // The read-only user's refused close, then the admin's.
    await table.getByRole('cell', { name: 'dev@example.com (readonly)' }).waitFor();
    expect(await table.getByRole('cell', { name: 'CloseBreakglass', exact: true }).count()).toBe(2);
    expect(await table.getByRole('rowheader').count()).toBe(2);
    expect(await table.getByRole('cell', { name: /✖ UnauthorizedOperation/ }).count()).toBe(1);
    expect(await table.getByRole('cell', { name: 'ada@example.com (admin)' }).count()).toBe(1);
    await shot(page, 'audit-filtered');
    admin.assertClean();
  });
});
