/**
 * @module test/policy-plan — `weir policy plan|apply` in process against a real `weir serve`:
 * apply, re-apply (no change), a port edit, an intent edit, report mode, prune, and failures.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateTagsCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
} from '@aws-sdk/client-ec2';
import type { EC2Client, SecurityGroupRule, Tag } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPolicyApply, runPolicyPlan } from '../../src/cli/policy-plan.js';
import type { PlanFlags } from '../../src/cli/policy-plan.js';
import { startTestServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

const NOW = Date.parse('2026-12-01T00:00:00Z');

const CHECKOUT = (
  port = 5432,
  justification = 'Orders and payment intents in the payments PostgreSQL cluster',
) => `
apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: payments-checkout, owner: team-payments@example.com }
spec:
  mode: enforce
  workloads:
    - identity: spiffe://prod.example/ns/payments/sa/checkout
  rules:
    - id: stripe-api
      to: [{ cidr: 192.0.2.0/24 }, { fqdn: api.stripe.com }]
      ports: [443]
      protocol: tcp
      justification: Card authorisation & capture (PCI, "3-D Secure")
      dataClass: pci
      expires: 2027-06-30
    - id: payments-db
      to: [{ cidr: 10.20.0.0/24 }]
      ports: [${port}]
      justification: ${justification}
      dataClass: pci
      expires: 2027-12-31
    - id: legacy-sftp
      to: [{ cidr: 198.51.100.0/24 }]
      ports: [22]
      justification: Old settlement upload
      expires: 2026-01-31
`;

const CI = `
apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: ci-builder, owner: platform@example.com }
spec:
  workloads:
    - identity: spiffe://prod.example/ns/ci/sa/builder
  rules:
    - id: internal-artifacts
      to: [{ cidr: 10.40.8.0/22 }, { cidr: 'fd12:3456:789a::/48' }]
      ports: ['8080-8081']
      justification: Build cache and artifact store
      expires: 2027-09-30
    - id: dns
      to: [{ cidr: 10.0.0.2/32 }]
      ports: [53]
      protocol: udp
      justification: VPC resolver
      expires: 2027-09-30
`;

const ANALYTICS = `
apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: analytics-events, owner: data-platform@example.com }
spec:
  mode: report
  workloads:
    - identity: spiffe://prod.example/ns/analytics/sa/*
  rules:
    - id: collector
      to: [{ cidr: 203.0.113.0/24 }]
      ports: [443]
      justification: Events collector
      dataClass: pii
      expires: 2027-03-31
`;

let server: TestServer;
let ec2: EC2Client;
let dir: string;

beforeAll(async () => {
  server = await startTestServer();
  ec2 = server.ec2();
  dir = mkdtempSync(join(tmpdir(), 'weir-plan-'));
  writeFileSync(join(dir, 'payments-checkout.yaml'), CHECKOUT());
  writeFileSync(join(dir, 'ci-builder.yaml'), CI);
  writeFileSync(join(dir, 'analytics.yaml'), ANALYTICS);
});

afterAll(async () => {
  ec2.destroy();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function run(
  cmd: 'plan' | 'apply',
  flags: PlanFlags = {},
  client: EC2Client = ec2,
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io = {
    out: (s: string) => (out += s),
    err: (s: string) => (err += s),
    tty: false,
    client,
    // No network in tests: FQDNs do not resolve (test/policy-resolve covers resolution).
    resolve: () => Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' })),
  };
  const f = { now: NOW, yes: true, ...flags };
  const code = await (cmd === 'plan' ? runPolicyPlan(dir, f, io) : runPolicyApply(dir, f, io));
  return { code, out, err };
}

async function group(name: string) {
  const r = await ec2.send(
    new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: [name] }] }),
  );
  return r.SecurityGroups?.[0];
}

async function egress(groupId: string): Promise<SecurityGroupRule[]> {
  const r = await ec2.send(
    new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] }),
  );
  return (r.SecurityGroupRules ?? []).filter((x) => x.IsEgress);
}

const tags = (r: { Tags?: Tag[] | undefined }) =>
  Object.fromEntries((r.Tags ?? []).map((t) => [t.Key, t.Value]));

describe('weir policy plan / apply against weir serve', () => {
  it('plans groups, rules, revokes of the default allow-all, and notes skipped FQDNs and expired rules', async () => {
    const { code, out, err } = await run('plan', { detailedExitcode: true });
    expect(err).toBe('');
    expect(code).toBe(2);
    expect(out).toContain('+ sg weir-payments-checkout (new, in vpc-');
    expect(out).toContain('  + egress tcp 443 -> 192.0.2.0/24 (stripe-api)\n');
    expect(out).toContain('  + egress tcp 5432 -> 10.20.0.0/24 (payments-db)\n');
    expect(out).toContain('  + egress tcp 8080-8081 -> fd12:3456:789a::/48 (internal-artifacts)\n');
    expect(out).toContain('  + egress udp 53 -> 10.0.0.2/32 (dns)\n');
    expect(out).toContain('  - egress all -> 0.0.0.0/0 (default allow-all)\n');
    expect(out).toContain('+ pl weir-fqdn-api.stripe.com-ipv4 (new, for api.stripe.com, max 8 entries)\n');
    expect(out).toContain('  + egress tcp 443 -> weir-fqdn-api.stripe.com-ipv6 (stripe-api)\n');
    expect(out).toContain('! payments-checkout/legacy-sftp: expired 2026-01-31; not applied\n');
    expect(out).not.toContain('198.51.100.0/24');
    expect(out).toMatch(/Plan: \d+ to add, \d+ to change, \d+ to revoke\.\n$/);
    // Text and JSON agree on the counts.
    const json = JSON.parse((await run('plan', { format: 'json' })).out) as {
      summary: { add: number; change: number; revoke: number };
      changes: boolean;
    };
    expect(json.changes).toBe(true);
    const { add, change, revoke } = json.summary;
    expect(out).toContain(`Plan: ${add} to add, ${change} to change, ${revoke} to revoke.`);
  });

  it('applies: groups with tags, rules with descriptions and tags, no allow-all in enforce mode', async () => {
    const { code, out, err } = await run('apply');
    expect(err).not.toContain('failed');
    expect(code).toBe(0);
    expect(out).toMatch(/Apply complete: \d+ added, \d+ changed, \d+ revoked\.\n$/);
    expect(err).toContain('apply: created sg weir-payments-checkout');

    const sg = (await group('weir-payments-checkout'))!;
    expect(sg.Description).toBe(
      'Weir policy payments-checkout, owner team-payments@example.com, mode enforce',
    );
    expect(tags(sg)).toEqual({
      'weir:policy': 'payments-checkout',
      'weir:owner': 'team-payments@example.com',
      'weir:managed': 'true',
    });
    const rules = await egress(sg.GroupId!);
    expect(
      rules.filter((r) => r.CidrIpv4).map((r) => `${r.IpProtocol} ${r.FromPort}-${r.ToPort} ${r.CidrIpv4}`),
    ).toEqual(expect.arrayContaining(['tcp 443-443 192.0.2.0/24', 'tcp 5432-5432 10.20.0.0/24']));
    // api.stripe.com: one rule per family to its prefix list (test/policy-resolve covers these).
    expect(rules.filter((r) => r.PrefixListId).map((r) => `${r.IpProtocol} ${r.FromPort}`)).toEqual([
      'tcp 443',
      'tcp 443',
    ]);
    expect(rules).toHaveLength(4);
    const stripe = rules.find((r) => r.CidrIpv4 === '192.0.2.0/24')!;
    expect(stripe.Description).toBe('weir:stripe-api Card authorisation and capture (PCI, 3-D Secure)');
    expect(tags(stripe)).toEqual({
      'weir:policy': 'payments-checkout',
      'weir:rule-id': 'stripe-api',
      'weir:owner': 'team-payments@example.com',
      'weir:data-class': 'pci',
      'weir:expires': '2027-06-30',
    });

    const ci = (await group('weir-ci-builder'))!;
    const ciRules = await egress(ci.GroupId!);
    expect(
      ciRules.map((r) => `${r.IpProtocol} ${r.FromPort}-${r.ToPort} ${r.CidrIpv4 ?? r.CidrIpv6}`).sort(),
    ).toEqual(['tcp 8080-8081 10.40.8.0/22', 'tcp 8080-8081 fd12:3456:789a::/48', 'udp 53-53 10.0.0.2/32']);

    // Report mode keeps egress open (a security group cannot log-and-allow).
    const an = (await group('weir-analytics-events'))!;
    const anRules = await egress(an.GroupId!);
    expect(
      anRules
        .filter((r) => r.IpProtocol === '-1')
        .map((r) => r.CidrIpv4 ?? r.CidrIpv6)
        .sort(),
    ).toEqual(['0.0.0.0/0', '::/0']);
  });

  it('re-applying changes nothing: plan exits 0 with --detailed-exitcode', async () => {
    const plan = await run('plan', { detailedExitcode: true });
    expect(plan.code).toBe(0);
    expect(plan.out).toMatch(/No changes\. The security groups match the policy set\.\n$/);
    const again = await run('apply');
    expect(again.code).toBe(0);
    expect(again.err).toBe('');
    expect(again.out).not.toContain('Apply complete');
  });

  it('a port edit is one add and one revoke, and apply converges', async () => {
    writeFileSync(join(dir, 'payments-checkout.yaml'), CHECKOUT(5433));
    const plan = await run('plan', { detailedExitcode: true });
    expect(plan.code).toBe(2);
    expect(plan.out).toContain('  sg weir-payments-checkout (sg-');
    expect(plan.out).toContain('  + egress tcp 5433 -> 10.20.0.0/24 (payments-db)\n');
    expect(plan.out).toContain('  - egress tcp 5432 -> 10.20.0.0/24 (payments-db)\n');
    expect(plan.out).toContain('Plan: 1 to add, 0 to change, 1 to revoke.');
    expect((await run('apply')).code).toBe(0);
    expect((await run('plan', { detailedExitcode: true })).code).toBe(0);
    const rules = await egress((await group('weir-payments-checkout'))!.GroupId!);
    expect(rules.filter((r) => r.CidrIpv4 === '10.20.0.0/24').map((r) => r.FromPort)).toEqual([5433]);
  });

  it('an intent edit (justification) is one change, in place', async () => {
    const sg = (await group('weir-payments-checkout'))!;
    const before = (await egress(sg.GroupId!)).find((r) => r.CidrIpv4 === '10.20.0.0/24')!;
    writeFileSync(join(dir, 'payments-checkout.yaml'), CHECKOUT(5433, 'Orders DB (new cluster)'));
    const plan = await run('plan', { detailedExitcode: true });
    expect(plan.code).toBe(2);
    expect(plan.out).toContain(
      '  ~ egress tcp 5433 -> 10.20.0.0/24 (payments-db): description ' +
        '"weir:payments-db Orders and payment intents in the payments PostgreSQL cluster" -> ' +
        '"weir:payments-db Orders DB (new cluster)"\n',
    );
    expect(plan.out).toContain('Plan: 0 to add, 1 to change, 0 to revoke.');
    expect((await run('apply')).code).toBe(0);
    const after = (await egress(sg.GroupId!)).find((r) => r.CidrIpv4 === '10.20.0.0/24')!;
    expect(after.SecurityGroupRuleId).toBe(before.SecurityGroupRuleId);
    expect(after.Description).toBe('weir:payments-db Orders DB (new cluster)');
    expect((await run('plan', { detailedExitcode: true })).code).toBe(0);
  });

  it('an owner edit retags the rule and keeps non-Weir tags', async () => {
    const sg = (await group('weir-ci-builder'))!;
    const dns = (await egress(sg.GroupId!)).find((r) => r.CidrIpv4 === '10.0.0.2/32')!;
    await ec2.send(
      new CreateTagsCommand({ Resources: [dns.SecurityGroupRuleId!], Tags: [{ Key: 'team', Value: 'x' }] }),
    );
    writeFileSync(
      join(dir, 'ci-builder.yaml'),
      CI.replace(
        'justification: VPC resolver',
        'justification: VPC resolver\n      owner: netops@example.com',
      ),
    );
    const plan = await run('plan');
    expect(plan.out).toContain(
      '  ~ egress udp 53 -> 10.0.0.2/32 (dns): tag weir:owner=platform@example.com -> netops@example.com\n',
    );
    expect(plan.out).toContain('Plan: 0 to add, 1 to change, 0 to revoke.');
    expect((await run('apply')).code).toBe(0);
    const after = (await egress(sg.GroupId!)).find((r) => r.CidrIpv4 === '10.0.0.2/32')!;
    expect(tags(after)).toMatchObject({ 'weir:owner': 'netops@example.com', team: 'x' });
    expect((await run('plan', { detailedExitcode: true })).code).toBe(0);
  });

  it('a removed policy keeps its group unless --prune', async () => {
    rmSync(join(dir, 'analytics.yaml'));
    const plan = await run('plan', { detailedExitcode: true });
    expect(plan.code).toBe(0);
    expect(plan.out).toContain(
      '! weir-analytics-events: policy no longer in the set; kept (--prune deletes it)\n',
    );
    const pruned = await run('plan', { prune: true, detailedExitcode: true });
    expect(pruned.code).toBe(2);
    expect(pruned.out).toMatch(/^- sg weir-analytics-events \(sg-[0-9a-f]+, policy removed\)$/m);
    expect(pruned.out).toContain('Plan: 0 to add, 0 to change, 1 to revoke.');
    expect((await run('apply', { prune: true })).code).toBe(0);
    expect(await group('weir-analytics-events')).toBeUndefined();
    expect((await run('plan', { prune: true, detailedExitcode: true })).code).toBe(0);
  });

  it('fails with the EC2 error code (exit 1)', async () => {
    const r = await run('plan', { vpcId: 'vpc-00000000000000000' });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^weir: plan failed: InvalidVpcID\.NotFound: /);
  });

  it('on a failure mid-apply, reports what was done and what was not', async () => {
    const small = await startTestServer({ rulesPerGroup: 2 });
    const client = small.ec2();
    try {
      const r = await run('apply', {}, client);
      expect(r.code).toBe(1);
      expect(r.err).toContain('RulesPerSecurityGroupLimitExceeded');
      expect(r.err).toMatch(/done:\n {2}created pl weir-fqdn-/);
      expect(r.err).toContain('not done (in part or in full):\n');
      expect(r.err).toContain('Run `weir policy plan` to see what remains.');
    } finally {
      client.destroy();
      await small.stop();
    }
  });
});
