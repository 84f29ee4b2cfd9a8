/**
 * ListPolicyRules on a server that enforces bundles (a real `weir serve` process, no `--policy`):
 * the rules come from the bundle in force, written where the bundle's file says; the bundle in
 * force names its version, signer key and who applied it (from the audit trail); the history
 * lists every bundle applied, newest first; the console's Policies and rules screen shows them.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callWeirApi } from '../../src/cli/weir-api-client.js';
import type { WeirApiTarget } from '../../src/cli/weir-api-client.js';
import { createBundle, generateSigningKey, readPrivateKey, serializeBundle } from '../../src/policy/index.js';
import { axeCheck, hasChromium, launchBrowser, openPage, shot, signIn } from '../helpers/console.js';
import { spawnApiServe, stopServe } from '../helpers/serve-process.js';
import type { ApiServe } from '../helpers/serve-process.js';

const ADMIN = { accessKeyId: 'AKIABUNDLEHISTADMIN1', secretAccessKey: 'bundle-history-admin-secret-012345' };
const VIEWER = { accessKeyId: 'AKIABUNDLEHISTVIEWR1', secretAccessKey: 'bundle-history-viewer-secret-01234' };

const policy = (port: number) => `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: payments-checkout, owner: team-payments@example.com }
spec:
  mode: enforce
  workloads:
    - identity: spiffe://prod.example/ns/payments/sa/checkout
  rules:
    - id: stripe-api
      to: [{ fqdn: api.stripe.com }]
      ports: [${port}]
      protocol: tcp
      justification: Card authorisation
      dataClass: pci
      expires: 2099-06-30
`;

const dir = mkdtempSync(join(tmpdir(), 'weir-inventory-bundles-'));
const signer = generateSigningKey();
let serve: ApiServe;
const target = (creds: typeof ADMIN): WeirApiTarget => ({
  endpoint: new URL(serve.url),
  region: 'us-east-1',
  credentials: { ...creds, method: 'test' },
});

beforeAll(async () => {
  writeFileSync(join(dir, 'weir-policy.pub'), signer.publicKeyPem);
  writeFileSync(
    join(dir, 'credentials'),
    [
      '[admin]',
      `aws_access_key_id = ${ADMIN.accessKeyId}`,
      `aws_secret_access_key = ${ADMIN.secretAccessKey}`,
      'weir_principal = release-bot@example.com',
      '[viewer]',
      `aws_access_key_id = ${VIEWER.accessKeyId}`,
      `aws_secret_access_key = ${VIEWER.secretAccessKey}`,
      'weir_role = readonly',
      'weir_principal = viewer@example.com',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  mkdirSync(join(dir, 'data'));
  serve = await spawnApiServe(
    join(dir, 'data'),
    ['--credentials', join(dir, 'credentials'), '--bundle-public-key', join(dir, 'weir-policy.pub')],
    dir,
  );
}, 120_000);
afterAll(async () => {
  await stopServe(serve?.child);
  rmSync(dir, { recursive: true, force: true });
});

describe('ListPolicyRules with bundles', () => {
  it('before any bundle: no rules, no bundle, an empty history', async () => {
    expect(await callWeirApi(target(VIEWER), { method: 'GET', resource: 'policies' })).toMatchObject({
      rules: [],
      bundleHistory: [],
    });
  });

  it('shows the bundle in force (version, key, who applied it), its rules, and every bundle before it', async () => {
    for (const [version, port] of [
      [1, 443],
      [2, 8443],
    ] as const) {
      const bundle = createBundle({
        sources: [{ path: 'checkout.yaml', text: policy(port) }],
        privateKey: readPrivateKey(signer.privateKeyPem),
        version,
      });
      await callWeirApi(target(ADMIN), {
        method: 'PUT',
        resource: 'bundle',
        raw: Buffer.from(serializeBundle(bundle)),
      });
    }
    const p = await callWeirApi(target(VIEWER), { method: 'GET', resource: 'policies' });
    expect(p.enforcing).toBe('policy bundle version 2');
    expect(p.rules).toEqual([
      expect.objectContaining({
        policy: 'payments-checkout',
        ruleId: 'stripe-api',
        ports: ['8443'],
        declaredIn: expect.stringMatching(/^checkout\.yaml:\d+:\d+$/),
      }),
    ]);
    const keyId = (p.bundle as { keyId: string }).keyId;
    expect(keyId).toMatch(/\S/);
    expect(p.bundle).toMatchObject({ version: '2', inForce: true, appliedBy: 'release-bot@example.com' });
    expect(
      (p.bundleHistory as Record<string, unknown>[]).map((b) => [b.version, b.appliedBy, b.keyId]),
    ).toEqual([
      ['2', 'release-bot@example.com', keyId],
      ['1', 'release-bot@example.com', keyId],
    ]);
  });
});

describe.skipIf(!hasChromium())('the Policies and rules screen with bundles', () => {
  it('shows the bundle in force (version, signer key, who applied it) and the history, newest first', async () => {
    const browser = await launchBrowser();
    try {
      const g = await openPage(browser, serve);
      await signIn(g.page, serve, {
        profile: 'viewer',
        ...VIEWER,
        role: 'readonly',
        principal: 'viewer@example.com',
      });
      await g.page.goto(`${serve.url}/console/#/policies`);
      await g.page.getByRole('heading', { level: 2, name: 'Bundle in force' }).waitFor();
      const dl = await g.page.locator('dl.bundle').textContent();
      expect(dl).toContain('Version2');
      expect(dl).toContain('by release-bot@example.com');
      const history = g.page.getByRole('table', { name: 'Bundles applied, newest first' });
      await history
        .getByRole('row', { name: /2 \(in force\)/ })
        .getByText('release-bot@example.com')
        .waitFor();
      expect(await history.getByRole('row').allTextContents()).toHaveLength(3);
      await g.page
        .getByRole('table', { name: /^Rules in force/ })
        .getByText(/checkout\.yaml:\d+:\d+/)
        .waitFor();
      expect(await axeCheck(g.page)).toEqual([]);
      await shot(g.page, 'policies-bundle');
      g.assertClean();
      await g.context.close();
    } finally {
      await browser.close();
    }
  });
});
