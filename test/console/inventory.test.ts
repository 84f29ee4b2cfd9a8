/**
 * The console's Workloads, Policies and rules, and Security groups screens in Debian's chromium,
 * against a real `weir serve` with real data (test/helpers/inventory: a policy directory with
 * owners, justifications and an expiring rule, groups and rules made through the EC2 API, an
 * attachment, an approved exception, an open break-glass session), signed in as a read-only key:
 * the workload list and detail (its four sections and what it may reach), a rule's link to its
 * policy rule, expiry said in words, hostile text shown as text, the security groups with the
 * link from a policy-made rule to its policy; axe in light and dark, and screenshots.
 * Needs `npm run build` (the console's files come from dist/console).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeCheck, hasChromium, launchBrowser, openPage, shot, signIn } from '../helpers/console.js';
import type { ConsoleKey } from '../helpers/console.js';
import { BUILDER, CHECKOUT, KEYS, startInventoryFixture } from '../helpers/inventory.js';
import type { InventoryFixture } from '../helpers/inventory.js';

const VIEWER: ConsoleKey = {
  profile: 'viewer',
  ...KEYS.viewer,
  role: 'readonly',
  principal: 'carol@example.com',
};

/** Waits until the screen titled `title` shows and has nothing loading. */
async function screen(page: Page, title: string): Promise<void> {
  await page.getByRole('heading', { level: 1, name: title }).waitFor();
  await page.getByText('Loading').first().waitFor({ state: 'detached' });
}

describe.skipIf(!hasChromium())('the inventory screens in chromium', () => {
  let fx: InventoryFixture;
  let browser: Browser;
  beforeAll(async () => {
    fx = await startInventoryFixture();
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await fx?.close();
  });

  it('Workloads: the list links to a workload showing labels, policies, groups, grants and what it may reach', async () => {
    const g = await openPage(browser, fx);
    await signIn(g.page, fx, VIEWER);
    await g.page.goto(`${fx.url}/console/#/workloads`);
    await screen(g.page, 'Workloads');
    const table = g.page.getByRole('table', { name: 'Known workloads' });
    await table.getByRole('link', { name: BUILDER }).waitFor();
    expect(await axeCheck(g.page)).toEqual([]);
    await shot(g.page, 'workloads-list');
    await table.getByRole('link', { name: CHECKOUT }).click();
    await g.page.getByRole('heading', { level: 2, name: 'Effective allowed destinations' }).waitFor();
    expect(decodeURIComponent(g.page.url())).toContain(`#/workloads?identity=${CHECKOUT}`);
    const main = g.page.getByRole('main');
    for (const h of [
      'Labels',
      'Policies that select it',
      'Attached security groups',
      'Active exceptions',
      'Open break-glass sessions',
    ]) {
      await main.getByRole('heading', { level: 2, name: h }).waitFor();
    }
    await main.getByText('dataClass').waitFor();
    await g.page
      .getByRole('table', { name: /^Policies whose workload selector/ })
      .getByRole('link', { name: 'payments-checkout' })
      .waitFor();
    await g.page
      .getByRole('table', { name: 'Security groups attached to this identity' })
      .getByRole('link', { name: 'checkout-egress' })
      .waitFor();
    await g.page
      .getByRole('table', { name: /^Exceptions pending or active/ })
      .getByText(fx.exceptionId)
      .waitFor();
    await g.page
      .getByRole('table', { name: /^Break-glass sessions open/ })
      .getByText('Incident INC-43: status page', { exact: false })
      .waitFor();
    const allowed = g.page.getByRole('table', { name: 'Allowed destinations and where each comes from' });
    const stripe = allowed.getByRole('row', { name: /api\.stripe\.com, \*\.stripe\.network/ });
    await stripe.getByText('Card authorisation').waitFor();
    // Expiry in words, not only colour.
    await allowed
      .getByRole('row', { name: /api\.sift\.com/ })
      .getByText(/⚠ expiring: \d+ d/)
      .waitFor();
    await allowed
      .getByRole('row', { name: /198\.51\.100\.0\/24/ })
      .getByRole('link', { name: 'payments-checkout/stripe-api' })
      .waitFor();
    await allowed
      .getByRole('row', { name: /api\.adyen\.com/ })
      .getByText('approved by bob@example.com', { exact: false })
      .waitFor();
    await allowed
      .getByRole('row', { name: /status\.example\.org/ })
      .getByText('Break-glass', { exact: false })
      .waitFor();
    // Words keep their spaces around links and codes (htm drops whitespace that spans a line break).
    const tagged = await allowed.getByRole('row', { name: /198\.51\.100\.0\/24/ }).textContent();
    expect(tagged).toContain(
      `Group checkout-egress rule ${fx.taggedRuleId}, made by payments-checkout/stripe-api`,
    );
    expect(await allowed.getByRole('row', { name: /api\.sift\.com/ }).textContent()).toMatch(
      new RegExp(`left \\(${fx.soon}\\)`),
    );
    expect(await axeCheck(g.page)).toEqual([]);
    await shot(g.page, 'workloads-detail');
    // A policy rule links to the Policies screen, filtered to that rule.
    await allowed.getByRole('link', { name: 'payments-checkout/fraud-scoring' }).click();
    await screen(g.page, 'Policies and rules');
    const rules = g.page.getByRole('table', { name: /^Rules in force/ });
    await rules.getByRole('link', { name: 'payments-checkout/fraud-scoring' }).waitFor();
    expect(await rules.getByRole('row').count()).toBe(2);
    g.assertClean();
    await g.context.close();
  });

  it('Policies and rules: every rule with owner, justification, data class and expiry; the bundle; hostile text stays text', async () => {
    const g = await openPage(browser, fx);
    let dialogs = 0;
    g.page.on('dialog', (d) => {
      dialogs++;
      void d.dismiss();
    });
    await signIn(g.page, fx, VIEWER);
    await g.page.goto(`${fx.url}/console/#/policies`);
    await screen(g.page, 'Policies and rules');
    const rules = g.page.getByRole('table', { name: /^Rules in force/ });
    await rules
      .getByRole('row', { name: /ci-builder\/debian-mirror/ })
      .getByText('(report mode)', { exact: false })
      .waitFor();
    const fraud = rules.getByRole('row', { name: /payments-checkout\/fraud-scoring/ });
    await fraud.getByText('fraud-ops@example.com').waitFor();
    await fraud.getByText('Fraud score before capture <script>alert(1)</script>').waitFor();
    await fraud.getByText(/⚠ expiring/).waitFor();
    await fraud.getByText(/payments-checkout\.yaml:\d+:\d+/).waitFor();
    await g.page.getByText(`No bundle: this server enforces the policy directory`).waitFor();
    expect(await axeCheck(g.page)).toEqual([]);
    await shot(g.page, 'policies');
    // The "expiring" filter is a link too.
    await g.page.getByLabel('Only expired or expiring within 30 days').check();
    await g.page.getByRole('button', { name: 'Filter' }).click();
    await g.page.waitForURL(/expiring=true/);
    await screen(g.page, 'Policies and rules');
    await rules.getByRole('row', { name: /fraud-scoring/ }).waitFor();
    expect(await rules.getByRole('row').count()).toBe(2);
    expect(dialogs).toBe(0);
    g.assertClean();
    await g.context.close();
  });

  it('Security groups: rules, references and tags; a rule made by policy links to that policy rule', async () => {
    const g = await openPage(browser, fx);
    await signIn(g.page, fx, VIEWER);
    await g.page.goto(`${fx.url}/console/#/security-groups`);
    await screen(g.page, 'Security groups');
    const group = g.page.getByRole('region', { name: /^checkout-egress/ });
    await group.getByText('team=payments').first().waitFor();
    await group.getByRole('link', { name: CHECKOUT }).waitFor();
    const egress = group.getByRole('table', { name: 'Egress (outbound) rules of checkout-egress' });
    await egress
      .getByRole('row', { name: /partner-ranges/ })
      .getByText('by hand (EC2 API)')
      .waitFor();
    await egress.getByRole('row', { name: /monitoring/ }).waitFor();
    await group
      .getByRole('table', { name: 'Ingress (inbound) rules of checkout-egress' })
      .getByText('10.0.0.0/8')
      .waitFor();
    await g.page
      .getByRole('table', { name: /^Managed prefix lists/ })
      .getByText('203.0.113.0/24')
      .waitFor();
    expect(await egress.getByRole('row', { name: new RegExp(fx.taggedRuleId) }).textContent()).toContain(
      'policy rule payments-checkout/stripe-api',
    );
    expect(await group.getByRole('definition').filter({ hasText: CHECKOUT }).textContent()).toBe(
      `${CHECKOUT} (API)`,
    );
    expect(await axeCheck(g.page)).toEqual([]);
    await shot(g.page, 'security-groups');
    await egress
      .getByRole('row', { name: new RegExp(fx.taggedRuleId) })
      .getByRole('link', { name: 'payments-checkout/stripe-api' })
      .click();
    await screen(g.page, 'Policies and rules');
    expect(decodeURIComponent(g.page.url())).toMatch(
      /#\/policies\?policy=payments-checkout&rule=stripe-api$/,
    );
    const rules = g.page.getByRole('table', { name: /^Rules in force/ });
    await rules
      .getByRole('row', { name: /payments-checkout\/stripe-api/ })
      .getByText('Card authorisation')
      .waitFor();
    expect(await rules.getByRole('row').count()).toBe(2);
    // Deep link to one group.
    await g.page.goto(`${fx.url}/console/#/security-groups?groupId=${fx.otherGroupId}`);
    await screen(g.page, 'Security groups');
    await g.page.getByRole('heading', { level: 2, name: /^monitoring/ }).waitFor();
    expect(await g.page.getByRole('heading', { level: 2, name: /^checkout-egress/ }).count()).toBe(0);
    g.assertClean();
    await g.context.close();
  });

  it('works from the keyboard: a workload link opens it with Enter, and its policy link too', async () => {
    const g = await openPage(browser, fx);
    await signIn(g.page, fx, VIEWER);
    await g.page.goto(`${fx.url}/console/#/workloads`);
    await screen(g.page, 'Workloads');
    await g.page.getByRole('link', { name: BUILDER }).focus();
    await g.page.keyboard.press('Enter');
    await g.page.getByRole('heading', { level: 2, name: 'Effective allowed destinations' }).waitFor();
    const link = g.page.getByRole('link', { name: 'ci-builder/debian-mirror' });
    await link.focus();
    await g.page.keyboard.press('Enter');
    await screen(g.page, 'Policies and rules');
    expect(decodeURIComponent(g.page.url())).toMatch(/#\/policies\?policy=ci-builder&rule=debian-mirror$/);
    g.assertClean();
    await g.context.close();
  });

  for (const scheme of ['light', 'dark'] as const) {
    it(`passes axe on the three screens in the ${scheme} theme`, async () => {
      const g = await openPage(browser, fx, scheme);
      await signIn(g.page, fx, VIEWER);
      const screens: [string, string][] = [
        [`workloads?identity=${encodeURIComponent(CHECKOUT)}`, 'Workloads'],
        ['policies', 'Policies and rules'],
        ['security-groups', 'Security groups'],
      ];
      for (const [hash, title] of screens) {
        await g.page.goto(`${fx.url}/console/#/${hash}`);
        await screen(g.page, title);
        await g.page.getByRole('table').first().waitFor();
        expect([hash, await axeCheck(g.page)]).toEqual([hash, []]);
        await shot(g.page, `${title.toLowerCase().replace(/\W+/g, '-')}-${scheme}`);
      }
      g.assertClean();
      await g.context.close();
    });
  }
});
