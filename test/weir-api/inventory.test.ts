/**
 * The inventory reads of the Weir API against a real `weir serve` (child process, gateway on,
 * `--policy DIR`), called with SigV4 like the CLI: ShowWorkload (labels, policies, groups,
 * exceptions, break-glass, and the effective allowed destinations with where each comes from),
 * ListKnownWorkloads, ListPolicyRules (rules with owner, justification, data class, expiry) and
 * ListSecurityGroupsView (rules, references, tags, the policy rule that made a rule). Every role
 * of the gateway account may read; other accounts may not; bad input names the parameter.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callWeirApi, WeirApiCallError } from '../../src/cli/weir-api-client.js';
import { ANALYTICS, BUILDER, CHECKOUT, startInventoryFixture } from '../helpers/inventory.js';
import type { InventoryFixture } from '../helpers/inventory.js';

let fx: InventoryFixture;
beforeAll(async () => {
  fx = await startInventoryFixture();
}, 120_000);
afterAll(async () => {
  await fx?.close();
});

type Key = Parameters<InventoryFixture['target']>[0];
const get = (resource: string, query: Record<string, string> = {}, key: Key = 'viewer') =>
  callWeirApi(fx.target(key), { method: 'GET', resource, query });

async function refused(p: Promise<unknown>): Promise<{ code: string; status: number; message: string }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WeirApiCallError);
  const e = err as WeirApiCallError;
  return { code: e.apiCode, status: e.status, message: e.message };
}

type Row = Record<string, unknown>;

describe('GET workloads/show', () => {
  it('shows labels, the policies that select it, groups, grants and what it may reach, each with its origin', async () => {
    const w = await get('workloads/show', { identity: CHECKOUT });
    expect(w).toMatchObject({
      identity: CHECKOUT,
      known: true,
      labels: { env: 'prod', team: 'payments', dataClass: 'pci' },
      policies: [
        { name: 'payments-checkout', mode: 'enforce', owner: 'team-payments@example.com', rules: 2 },
      ],
      groups: [{ groupId: fx.groupId, groupName: 'checkout-egress', source: 'api' }],
      exceptions: [
        { id: fx.exceptionId, state: 'active', approver: 'bob@example.com', requester: 'alice@example.com' },
      ],
      breakglass: [
        { id: fx.sessionId, principal: 'alice@example.com', reason: 'Incident INC-43: status page' },
      ],
    });
    expect(String(w.enforcing)).toContain("gateway's snapshot");
    const allowed = w.allowed as Row[];
    expect(allowed.find((a) => a.ruleId === 'stripe-api' && a.source === 'policy')).toMatchObject({
      policy: 'payments-checkout',
      destinations: ['api.stripe.com', '*.stripe.network'],
      ports: ['443'],
      protocol: 'tcp',
      owner: 'team-payments@example.com',
      justification: 'Card authorisation',
      dataClass: 'pci',
      expired: false,
      expiring: false,
    });
    expect(String(allowed.find((a) => a.ruleId === 'stripe-api')?.declaredIn)).toMatch(
      /payments-checkout\.yaml:\d+:\d+$/,
    );
    expect(allowed.find((a) => a.ruleId === 'fraud-scoring')).toMatchObject({
      owner: 'fraud-ops@example.com',
      expiring: true,
      expires: `${fx.soon}T23:59:59.999Z`,
    });
    expect(allowed.find((a) => a.ruleId === fx.taggedRuleId)).toMatchObject({
      source: 'group',
      groupId: fx.groupId,
      groupName: 'checkout-egress',
      destinations: ['198.51.100.0/24'],
      ports: ['443'],
      owner: 'team-payments@example.com',
      justification: 'Stripe',
      madeBy: { policy: 'payments-checkout', ruleId: 'stripe-api' },
    });
    expect(allowed.filter((a) => a.source === 'group').map((a) => a.destinations)).toContainEqual([
      fx.prefixListId,
    ]);
    // Ingress rules never allow egress: they are not in the list.
    expect(allowed.some((a) => (a.ports as string[]).includes('22'))).toBe(false);
    expect(allowed.find((a) => a.source === 'exception')).toMatchObject({
      grantId: fx.exceptionId,
      destinations: ['api.adyen.com'],
      ports: ['443'],
      requester: 'alice@example.com',
      approver: 'bob@example.com',
      reason: 'Adyen pilot INC-42',
      expired: false,
    });
    expect(allowed.find((a) => a.source === 'breakglass')).toMatchObject({
      grantId: fx.sessionId,
      destinations: ['status.example.org'],
      requester: 'alice@example.com',
    });
  });

  it('a workload selected by labels gets the policy in report mode; a registered one with nothing has no allowed list', async () => {
    const b = await get('workloads/show', { identity: BUILDER });
    expect(b).toMatchObject({ known: true, policies: [{ name: 'ci-builder', mode: 'report' }], groups: [] });
    expect((b.allowed as Row[]).map((a) => [a.ruleId, a.mode, a.ports])).toEqual([
      ['debian-mirror', 'report', ['80', '443']],
    ]);
    const a = await get('workloads/show', { identity: ANALYTICS });
    expect(a).toMatchObject({ known: true, labels: { team: 'data' }, policies: [], allowed: [] });
  });

  it('an unknown identity is answered as unknown with nothing allowed, not as an error', async () => {
    expect(await get('workloads/show', { identity: 'spiffe://prod.example/ns/x/sa/nobody' })).toMatchObject({
      known: false,
      labels: {},
      policies: [],
      groups: [],
      exceptions: [],
      breakglass: [],
      allowed: [],
    });
  });

  it('refuses a missing, patterned or oversized identity and unknown parameters, naming them', async () => {
    expect(await refused(get('workloads/show'))).toMatchObject({ code: 'MissingParameter', status: 400 });
    const star = await refused(get('workloads/show', { identity: 'spiffe://prod.example/ns/*' }));
    expect(star).toMatchObject({ code: 'InvalidParameterValue', status: 400 });
    expect(star.message).toContain("'identity'");
    expect(await refused(get('workloads/show', { identity: `spiffe://${'a'.repeat(3000)}` }))).toMatchObject({
      code: 'InvalidParameterValue',
    });
    expect(await refused(get('workloads/show', { identity: CHECKOUT, groupId: 'sg-1' }))).toMatchObject({
      code: 'UnknownParameter',
    });
  });
});

describe('GET workloads/known', () => {
  it('lists every identity Weir knows of, sorted, with labels and where it is known from', async () => {
    const k = await get('workloads/known');
    const rows = k.workloads as Row[];
    expect(rows.map((r) => r.identity)).toEqual([ANALYTICS, BUILDER, CHECKOUT]);
    expect(rows.find((r) => r.identity === CHECKOUT)).toMatchObject({
      labels: { team: 'payments' },
      knownFrom: ['breakglass', 'exception', 'group', 'policy', 'registry'],
    });
  });

  it('filters by text and is bounded by limit (truncated says so)', async () => {
    expect(
      ((await get('workloads/known', { q: 'PAYMENTS' })).workloads as Row[]).map((r) => r.identity),
    ).toEqual([CHECKOUT]);
    expect(await get('workloads/known', { limit: '1' })).toMatchObject({ truncated: true, total: 3 });
    for (const limit of ['0', '-1', '5001', 'x', '1.5']) {
      const r = await refused(get('workloads/known', { limit }));
      expect(r, limit).toMatchObject({ code: 'InvalidParameterValue' });
      expect(r.message).toContain("'limit'");
    }
    expect(await refused(get('workloads/known', { q: 'x'.repeat(300) }))).toMatchObject({
      code: 'InvalidParameterValue',
    });
  });
});

describe('GET policies', () => {
  it('lists every rule in force with owner, justification, data class, expiry and where it is written', async () => {
    const p = await get('policies');
    expect(p.policyDir).toBe(fx.policyDir);
    expect(String(p.enforcing)).toContain('snapshot');
    const rules = p.rules as Row[];
    expect(rules.map((r) => `${r.policy}/${r.ruleId}`)).toEqual([
      'ci-builder/debian-mirror',
      'payments-checkout/stripe-api',
      'payments-checkout/fraud-scoring',
    ]);
    expect(rules).toHaveLength(3);
    expect(rules.find((r) => r.ruleId === 'fraud-scoring')).toMatchObject({
      policy: 'payments-checkout',
      mode: 'enforce',
      owner: 'fraud-ops@example.com',
      justification: 'Fraud score before capture <script>alert(1)</script>',
      dataClass: 'pci',
      expiresText: fx.soon,
      expiring: true,
      expired: false,
    });
    expect(String(rules.find((r) => r.ruleId === 'debian-mirror')?.declaredIn)).toMatch(
      new RegExp(`^${fx.policyDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/ci-builder\\.yaml:\\d+:\\d+$`),
    );
    // Under --policy DIR no bundle is in force; none was applied, so the history is empty.
    expect(p.bundle).toBeUndefined();
    expect(p.bundleHistory).toEqual([]);
  });

  it('filters by policy, rule, text and expiring; bounds by limit', async () => {
    const one = await get('policies', { policy: 'payments-checkout', rule: 'stripe-api' });
    expect((one.rules as Row[]).map((r) => r.ruleId)).toEqual(['stripe-api']);
    expect((one.policies as Row[]).map((r) => r.name)).toEqual(['payments-checkout']);
    expect(((await get('policies', { expiring: 'true' })).rules as Row[]).map((r) => r.ruleId)).toEqual([
      'fraud-scoring',
    ]);
    expect(((await get('policies', { q: 'debian' })).rules as Row[]).map((r) => r.ruleId)).toEqual([
      'debian-mirror',
    ]);
    expect(await get('policies', { limit: '1' })).toMatchObject({ truncated: true, total: 3 });
    expect(await refused(get('policies', { expiring: 'yes' }))).toMatchObject({
      code: 'InvalidParameterValue',
    });
    expect(await refused(get('policies', { limit: '10001' }))).toMatchObject({
      code: 'InvalidParameterValue',
    });
  });
});

describe('GET security-groups', () => {
  it('shows groups with egress and ingress rules, references named, tags, attachments and the policy rule that made a rule', async () => {
    const s = await get('security-groups');
    expect(s.namespace).toEqual({ account: '123456789012', region: 'us-east-1' });
    const groups = s.groups as Row[];
    const g = groups.find((x) => x.groupId === fx.groupId)!;
    expect(g).toMatchObject({
      groupName: 'checkout-egress',
      description: 'Checkout egress',
      tags: { team: 'payments' },
      attachedTo: [{ identity: CHECKOUT, source: 'api' }],
      ingress: [{ protocol: 'tcp', ports: '22', target: '10.0.0.0/8', targetKind: 'ipv4' }],
    });
    const egress = g.egress as Row[];
    expect(egress.find((r) => r.ruleId === fx.taggedRuleId)).toMatchObject({
      target: '198.51.100.0/24',
      ports: '443',
      description: 'Stripe',
      madeBy: { policy: 'payments-checkout', ruleId: 'stripe-api' },
      tags: { 'weir:policy': 'payments-checkout', 'weir:rule-id': 'stripe-api' },
    });
    expect(egress.find((r) => r.target === fx.prefixListId)).toMatchObject({
      targetKind: 'prefixList',
      targetName: 'partner-ranges',
      ports: '8443',
    });
    expect(egress.find((r) => r.target === fx.prefixListId)?.madeBy).toBeUndefined();
    expect(egress.find((r) => r.target === fx.otherGroupId)).toMatchObject({
      targetKind: 'group',
      targetName: 'monitoring',
    });
    expect(s.prefixLists).toEqual([
      expect.objectContaining({
        prefixListId: fx.prefixListId,
        name: 'partner-ranges',
        entries: ['203.0.113.0/24'],
      }),
    ]);
    expect(groups.some((x) => x.isDefault === true)).toBe(true);
  });

  it('filters by group and text, bounds by limit, and checks the group ID', async () => {
    const one = await get('security-groups', { groupId: fx.otherGroupId });
    expect((one.groups as Row[]).map((g) => g.groupName)).toEqual(['monitoring']);
    expect(((await get('security-groups', { q: 'CHECKOUT' })).groups as Row[]).map((g) => g.groupId)).toEqual(
      [fx.groupId],
    );
    const page = await get('security-groups', { limit: '1' });
    expect(page).toMatchObject({ truncated: true });
    expect(page.groups).toHaveLength(1);
    expect(await refused(get('security-groups', { groupId: 'not-a-group' }))).toMatchObject({ status: 400 });
  });
});

describe('roles and tenancy', () => {
  it('every role of the gateway account may read all four; another account may not', async () => {
    const reads: [string, Record<string, string>][] = [
      ['workloads/show', { identity: CHECKOUT }],
      ['workloads/known', {}],
      ['policies', {}],
      ['security-groups', {}],
    ];
    for (const [resource, query] of reads) {
      for (const key of ['admin', 'approver', 'viewer'] as const) {
        await expect(get(resource, query, key), `${key} ${resource}`).resolves.toBeTypeOf('object');
      }
      expect(await refused(get(resource, query, 'other')), resource).toMatchObject({
        code: 'AccessDenied',
        status: 403,
      });
    }
  });

  it('writes are not accepted on the read paths', async () => {
    const r = await refused(
      callWeirApi(fx.target('admin'), { method: 'POST', resource: 'policies', json: {} }),
    );
    expect(r).toMatchObject({ code: 'MethodNotAllowed', status: 405 });
  });
});
