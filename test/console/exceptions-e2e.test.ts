/**
 * @module test/console/exceptions-e2e — the issue's proof in a real browser, every part a real
 * process: one `weir serve` (test/helpers/console: its keys, plus a read-only auditor; a policy
 * directory with an approver list; a hosts file), the real curl through its gateway, and Debian's
 * chromium driven by playwright-core, one browser context per person. A denied curl, shown on the
 * Decisions screen (the time it took is printed), its explanation, whose fix links the request
 * form, prefilled; the auditor (read-only) offered no approval and
 * refused by the server when it forges one; writes without the session's CSRF token refused; the
 * approver, in a second context, approves from the queue; the same curl passes and its decision
 * names the exception; the exception is listed with its time left; promote shows the rule with a
 * copy button; revoke ends it. axe-core checks every state of the screen in light and dark, each
 * kept as a screenshot in the folder the helper prints.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken, loadTokenKey } from '../../src/identity/index.js';
import {
  KEYS,
  axeCheck,
  credentialsText,
  hasChromium,
  launchBrowser,
  openPage,
  shot,
  signIn as signInAs,
  startConsoleServer,
} from '../helpers/console.js';
import type { ConsoleKey, ConsoleServer, GuardedPage } from '../helpers/console.js';
import { curlVia, firstTrue, localUpstreamAddress, startUpstream, statusVia } from '../helpers/onramp.js';
import { probe, requireTool } from '../helpers/tools.js';

const HAS_CHROMIUM = hasChromium();
const HAS_CURL = requireTool('curl', probe('curl', ['--version']));
const UPSTREAM_IP = localUpstreamAddress();
// Exceptions may never open loopback (a guardrail): the upstream listens on another address.
const HAS_UPSTREAM = requireTool(
  'a non-loopback IPv4 address',
  UPSTREAM_IP !== undefined,
  'exceptions may not open loopback, so the upstream needs another address of this machine',
);

const WEB = 'spiffe://prod.example/ns/shop/sa/web';
const HOST = 'upstream.test';
/** A read-only key that requested nothing: its refusal is its role's, not the two-person rule's. */
const AUDITOR: ConsoleKey = {
  profile: 'auditor',
  accessKeyId: 'AKIACONSOLEAUDITOR01',
  secretAccessKey: 'auditor-console-secret-0123456789abcdef',
  role: 'readonly',
  principal: 'auditor@example.com',
};
/** The developer who asks (read-only), and the approver the policy names. */
const PEOPLE = { dev: KEYS.readonly, lead: KEYS.approver, auditor: AUDITOR } as const;
type Person = keyof typeof PEOPLE;
const LEAD = KEYS.approver.principal;

const measured: Record<string, number> = {};
const MARKUP = 'mine <img src=x onerror="window.pwned=1"><script>window.pwned=2</script>';

describe.skipIf(!HAS_CHROMIUM || !HAS_CURL || !HAS_UPSTREAM)('Exceptions in the console, end to end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-console-exceptions-'));
  let server: ConsoleServer;
  let upstream: Server;
  let browser: Browser;
  let url = '';
  let token = '';
  let destination = '';
  let excId = '';
  const pages: Partial<Record<Person, Page>> = {};
  const guarded: GuardedPage[] = [];
  const at = (hash: string): string => `${server.url}/console/${hash}`;

  /** A browser context of its own (its own cookies) for `who`, signed in through the form. */
  async function signIn(who: Person): Promise<Page> {
    const g = await openPage(browser, server);
    guarded.push(g);
    await g.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await signInAs(g.page, server, PEOPLE[who]);
    pages[who] = g.page;
    return g.page;
  }

  /** axe-core on the page as shown, light and dark: no serious or critical violation; screenshots. */
  async function check(page: Page, name: string): Promise<void> {
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      expect(await axeCheck(page), `${name} (${scheme})`).toEqual([]);
      await shot(page, `exceptions-${name}-${scheme}`);
    }
    await page.emulateMedia({ colorScheme: 'light' });
  }

  /** A write from the page's own session (its cookie), with the headers given. */
  const postFrom = (page: Page, path: string, body: unknown, headers: Record<string, string>) =>
    page.evaluate(
      async ([p, b, h]) => {
        const res = await fetch(p, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...h },
          body: JSON.stringify(b),
          credentials: 'same-origin',
        });
        return {
          status: res.status,
          body: (await res.json()) as { error?: { code: string; message: string } },
        };
      },
      [path, body, headers] as const,
    );
  /** A Weir API read from the page's own session. */
  const getFrom = (page: Page, path: string): Promise<Record<string, unknown>> =>
    page.evaluate(async (p) => (await (await fetch(p)).json()) as Record<string, unknown>, path);
  const deniedDecisions = async (page: Page) =>
    (
      (await getFrom(page, `/weir/v1/decisions?identity=${encodeURIComponent(WEB)}&decision=deny`)) as {
        decisions?: { decisionId: string; host?: string; port?: number }[];
      }
    ).decisions?.filter((d) => d.host === HOST) ?? [];
  const csrfOf = (page: Page) =>
    page.evaluate(
      async () => ((await (await fetch('/console/session')).json()) as { csrfToken: string }).csrfToken,
    );

  beforeAll(async () => {
    mkdirSync(join(dir, 'policy'));
    writeFileSync(
      join(dir, 'policy', 'shop.yaml'),
      `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: shop, owner: shop@example.com }
spec:
  workloads: [{ identity: '${WEB}' }]
  rules: []
  exceptions: { approvers: [${LEAD}], maxTtl: 72h }
`,
    );
    writeFileSync(join(dir, 'hosts'), `${UPSTREAM_IP!} ${HOST}\n`);
    writeFileSync(
      join(dir, 'credentials'),
      credentialsText(
        [
          `[${AUDITOR.profile}]`,
          `aws_access_key_id = ${AUDITOR.accessKeyId}`,
          `aws_secret_access_key = ${AUDITOR.secretAccessKey}`,
          'weir_account_id = 123456789012',
          `weir_role = ${AUDITOR.role}`,
          `weir_principal = ${AUDITOR.principal}`,
          '',
        ].join('\n'),
      ),
      { mode: 0o600 },
    );
    const up = await startUpstream(UPSTREAM_IP!);
    upstream = up.server;
    url = `http://${HOST}:${up.port}/`;
    destination = `${HOST}:${up.port}`;
    server = await startConsoleServer({
      dir,
      args: ['--policy', join(dir, 'policy'), '--dns-hosts', join(dir, 'hosts')],
    });
    token = issueToken(loadTokenKey(server.dataDir), {
      identity: WEB,
      ttlMs: 3_600_000,
      now: Date.now(),
      account: '123456789012',
    });
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    upstream?.closeAllConnections();
    upstream?.close();
    console.log(`console exceptions e2e measured (ms): ${JSON.stringify(measured)}`);
  });

  it('a denied curl; the developer requests an exception from the form prefilled from the denial', async () => {
    const page = await signIn('dev');
    await page.goto(at(`#/decisions?identity=${encodeURIComponent(WEB)}`));
    const denied = await curlVia(server.serve.proxyPort, token, url);
    const deniedAt = Date.now();
    expect(denied.status).toBe(403);
    // The denial reaches the store off the gateway's hot path; the Decisions screen (open before
    // the curl, polling as it does) shows it, then its explanation, whose fix links the form.
    const [decision] = await (async () => {
      await firstTrue(async () => (await deniedDecisions(page)).length > 0);
      return deniedDecisions(page);
    })();
    const explain = page.getByRole('link', { name: `Explain decision ${decision!.decisionId}` });
    await explain.waitFor();
    measured.curlToDecisionShown = Date.now() - deniedAt;
    await shot(page, 'exceptions-from-decisions');
    await explain.click();
    const fixLink = page.getByRole('link', { name: `Request an exception for ${destination}` });
    await fixLink.waitFor();
    const shown = await getFrom(
      page,
      `/weir/v1/decisions/show?id=${encodeURIComponent(decision!.decisionId)}`,
    );
    expect((shown as { fix?: { console?: string } }).fix?.console).toBe(
      `#/exceptions/request?identity=${encodeURIComponent(WEB)}&to=${encodeURIComponent(destination)}`,
    );
    await fixLink.click();
    await page.waitForURL(/#\/exceptions\/request\?/);
    await expect.poll(() => page.getByLabel(/^Workload identity/).inputValue()).toBe(WEB);
    expect(await page.getByLabel(/^Destinations/).inputValue()).toBe(destination);
    await check(page, 'request-prefilled');
    // A refusal naming a field is shown next to that field.
    await page.getByLabel(/^Reason/).fill('release 1.2: fetch the artifacts');
    await page.getByLabel(/^Time to live/).fill('8d');
    await page.getByRole('button', { name: 'Request' }).click();
    const ttlError = page.locator('#req-ttl-error');
    await expect.poll(() => ttlError.textContent()).toContain("field 'ttl'");
    expect(await page.getByLabel(/^Time to live/).getAttribute('aria-invalid')).toBe('true');
    await check(page, 'request-field-error');
    await page.getByLabel(/^Time to live/).fill('4h');
    await page.getByRole('button', { name: 'Request' }).click();
    await page.waitForURL(/#\/exceptions\/exc-[0-9a-f]{17}/);
    excId = /exc-[0-9a-f]{17}/.exec(page.url())![0];
    await page.getByText(`Requested ${excId}`).waitFor();
    expect(await page.locator('[data-fact="State"]').textContent()).toContain('pending');
    await check(page, 'requested-detail');
    expect(await statusVia(server.serve.proxyPort, token, url)).toBe(403); // a request grants nothing
  }, 120_000);

  it('a read-only user is offered no approval, and the server refuses one forged from its session', async () => {
    const page = await signIn('auditor');
    await page.goto(`${server.url}/console/#/exceptions/${excId}`);
    await page.getByRole('heading', { name: 'Approval (two-person rule)' }).waitFor();
    expect(await page.locator('section[aria-labelledby="two-person-h"]').textContent()).toContain(
      `May approve: ${LEAD}.`,
    );
    expect(await page.getByRole('button', { name: new RegExp(`^Approve`) }).count()).toBe(0);
    expect(await page.getByRole('button', { name: new RegExp(`^Deny`) }).count()).toBe(0);
    await page.getByText('Your role (readonly)').waitFor();
    await check(page, 'readonly-detail');
    const forged = await postFrom(
      page,
      '/weir/v1/exceptions/approve',
      { id: excId },
      { 'x-weir-csrf': await csrfOf(page) },
    );
    expect(forged.status).toBe(403);
    expect(forged.body.error?.code).toBe('UnauthorizedOperation');
  }, 120_000);

  it('a write without the session CSRF token, or with another, is refused and changes nothing', async () => {
    const page = pages.dev!;
    const none = await postFrom(page, '/weir/v1/exceptions/revoke', { id: excId, reason: 'x' }, {});
    expect(none.status).toBe(403);
    expect(none.body.error?.code).toBe('InvalidCsrfToken');
    const other = await postFrom(
      page,
      '/weir/v1/exceptions/revoke',
      { id: excId, reason: 'x' },
      {
        'x-weir-csrf': await csrfOf(pages.auditor!),
      },
    );
    expect(other.body.error?.code).toBe('InvalidCsrfToken');
    await page.reload();
    await page.locator('[data-fact="State"]').waitFor();
    expect(await page.locator('[data-fact="State"]').textContent()).toContain('pending');
  }, 120_000);

  it('the approver, a second person in another browser, approves it from the queue; the same curl passes', async () => {
    const page = await signIn('lead');
    await page.goto(at('#/exceptions'));
    const link = page.getByRole('link', { name: `Review ${excId}` });
    await link.waitFor();
    await check(page, 'queue');
    await link.click();
    await page.getByLabel(/^Time to live \(asked: 4h/).fill('2h');
    await page.getByLabel('Comment (optional)').fill('ok for the release');
    await check(page, 'approver-detail');
    const allowed = firstTrue(async () => (await statusVia(server.serve.proxyPort, token, url)) === 200);
    const clicked = Date.now();
    await page.getByRole('button', { name: `Approve ${excId}` }).click();
    await page.getByText(`Approved ${excId}.`).waitFor();
    measured.approveClickToPass = (await allowed) - clicked;
    await expect.poll(() => page.locator('[data-fact="State"]').textContent()).toContain('active');
    const passed = await curlVia(server.serve.proxyPort, token, url);
    expect(passed.status).toBe(200);
    expect(passed.body).toBe('hello from upstream\n');
    // The stored decision names the exception that allowed it.
    const allowedBy = async (): Promise<unknown[]> =>
      (
        (await getFrom(page, `/weir/v1/decisions?identity=${encodeURIComponent(WEB)}&decision=allow`)) as {
          decisions?: { grant?: { id?: string } }[];
        }
      ).decisions?.filter((d) => d.grant?.id === excId) ?? [];
    await firstTrue(async () => (await allowedBy()).length > 0);
  }, 120_000);

  it("an approver's own request is not offered for approval: the page gives the server's reason", async () => {
    const page = pages.lead!;
    await page.goto(
      `${server.url}/console/#/exceptions/request?identity=${encodeURIComponent(WEB)}&to=api.github.com:443`,
    );
    // Markup in a field is text on every page that shows it (htm/Preact escape; no innerHTML).
    await page.getByLabel(/^Reason/).fill(MARKUP);
    await page.getByRole('button', { name: 'Request' }).click();
    await page.waitForURL(/#\/exceptions\/exc-[0-9a-f]{17}/);
    const own = page.locator('[data-refused="approve"]');
    await own.waitFor();
    expect(await own.textContent()).toContain('two-person rule');
    expect(await page.locator('[data-fact="Reason"]').textContent()).toBe(MARKUP);
    await page.goto(at('#/exceptions'));
    await page
      .getByRole('link', { name: /^Review exc-/ })
      .first()
      .waitFor();
    expect(await page.getByText(MARKUP).count()).toBeGreaterThan(0);
    await page.goBack();
    await own.waitFor();
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.getByRole('button', { name: /^Approve/ }).count()).toBe(0);
    await check(page, 'own-request');
    // The requester may still withdraw it.
    await page.getByLabel(/^Reason for revoking/).fill('asked by mistake');
    await page.getByRole('button', { name: /^Revoke/ }).click();
    await expect.poll(() => page.locator('[data-fact="State"]').textContent()).toContain('revoked');
  }, 120_000);

  it('the exception is listed as active with its time left; promote shows the rule to copy', async () => {
    const page = pages.dev!;
    await page.goto(at('#/exceptions'));
    const row = page.getByRole('row', { name: new RegExp(excId) });
    await row.waitFor();
    const left = row.locator('.time-left');
    // Approved for 2h: the countdown says so in words (1 h 59 min left, or 2 h left at once).
    await expect.poll(() => left.textContent()).toMatch(/^(2 h|1 h 5\d min) left$/);
    expect(await row.textContent()).toContain(LEAD);
    await check(page, 'active-list');
    await page.goto(`${server.url}/console/#/exceptions/${excId}`);
    await page.getByRole('button', { name: 'Show the rule to paste' }).click();
    const yaml = page.locator('#promote-yaml');
    await yaml.waitFor();
    const text = (await yaml.textContent()) ?? '';
    expect(text).toContain(`- id: ${excId}`);
    expect(text).toContain('justification: "release 1.2: fetch the artifacts"');
    expect(text).toContain(`owner: "${KEYS.readonly.principal}"`);
    await page.getByRole('button', { name: 'Copy the rule' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /Copied|Selected/ })
      .waitFor();
    expect(
      await page.evaluate(() =>
        (
          globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }
        ).navigator.clipboard.readText(),
      ),
    ).toBe(text);
    await check(page, 'promote');
  }, 120_000);

  it('the approver revokes it: the curl is denied again and the history shows who and why', async () => {
    const page = pages.lead!;
    await page.goto(`${server.url}/console/#/exceptions/${excId}`);
    await page.getByLabel(/^Reason for revoking/).fill('release shipped');
    await page.getByRole('button', { name: `Revoke ${excId}` }).click();
    await page.getByText(`Revoked ${excId}.`).waitFor();
    await firstTrue(async () => (await statusVia(server.serve.proxyPort, token, url)) === 403);
    await page.goto(at('#/exceptions'));
    const row = page.getByRole('row', { name: new RegExp(excId) });
    await row.waitFor();
    expect(await row.textContent()).toContain(`revoked by ${LEAD}`);
    expect(await row.textContent()).toContain('release shipped');
    await check(page, 'history');
  }, 120_000);
  it('a malformed or unknown exception ID in the route is said in words, not shown as a blank page', async () => {
    const page = pages.auditor!;
    await page.goto(at(`#/exceptions/${encodeURIComponent('<b>x</b>')}`));
    await page.getByRole('alert').filter({ hasText: 'is not an exception ID' }).waitFor();
    expect(await page.locator('main b').count()).toBe(0);
    await page.goto(at('#/exceptions/exc-00000000000000000'));
    await page.getByRole('alert').filter({ hasText: 'InvalidException.NotFound' }).waitFor();
    await check(page, 'not-found');
  }, 120_000);

  it('no page asked for anything outside the origin or broke the CSP', () => {
    for (const g of guarded) g.assertClean();
  });
});
