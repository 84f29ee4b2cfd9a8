/**
 * @module test/helpers/report-seed — a store and a policy set with one of everything the evidence
 * report shows: registered workloads, policies with owners, justifications, data classes and
 * expiries (one rule expired, one justification hostile HTML), an attached group with a rule made
 * by `weir policy apply` (origin tags), an exception requested by one principal and approved by
 * another, a break-glass session and a drill, audit records, a policy bundle. Times are relative
 * to `now`, so the report's period and calendar are deterministic.
 */
import { auditEvent, appendAudit, WEIR_EVENT_SOURCE } from '../../src/audit/index.js';
import { checkBundleSources } from '../../src/policy/index.js';
import type { PolicySet } from '../../src/policy/index.js';
import type { Store } from '../../src/store/index.js';

export const ACCOUNT = '123456789012';
export const CHECKOUT = 'spiffe://prod.example/ns/payments/sa/checkout';
export const BUILDER = 'spiffe://prod.example/ns/ci/sa/builder';
export const HOSTILE = '<script>alert("pwned")</script> & <img src=x onerror=alert(1)>';
export const EXC_ID = 'exc-0000000000000000a';
export const BG_ID = 'bg-0000000000000000b';
export const DRILL_ID = 'bg-0000000000000000c';
export const GROUP_ID = 'sg-0123456789abcdef0';
export const RULE_ID = 'sgr-0123456789abcdef0';

const D = 86_400_000;
const H = 3_600_000;
const day = (t: number): string => new Date(t).toISOString().slice(0, 10);

/** The policy files (a registry and two policies), relative to `now`. */
export function policySources(now: Date): { path: string; text: string }[] {
  const t = now.getTime();
  return [
    {
      path: 'registry.yaml',
      text: `apiVersion: weir.dev/v1
kind: WorkloadRegistry
metadata: { name: prod, owner: platform@example.com }
spec:
  workloads:
    - identity: ${CHECKOUT}
      labels: { team: payments, dataClass: pci }
      securityGroups: [${GROUP_ID}]
    - identity: ${BUILDER}
      labels: { team: platform, role: ci-builder }
`,
    },
    {
      path: 'payments.yaml',
      text: `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: payments-checkout, owner: payments@example.com }
spec:
  workloads:
    - identity: ${CHECKOUT}
  rules:
    - id: stripe-api
      to: [{ fqdn: api.stripe.com }]
      ports: [443]
      justification: '${HOSTILE.replace(/'/g, "''")}'
      dataClass: pci
      expires: ${day(t + 20 * D)}
    - id: old-psp
      to: [{ fqdn: api.oldpsp.example }]
      ports: [443]
      justification: Legacy payment provider, being retired
      dataClass: pci
      expires: ${day(t - 5 * D)}
`,
    },
    {
      path: 'analytics.yaml',
      text: `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: analytics-events, owner: data@example.com }
spec:
  mode: report
  workloads:
    - identity: spiffe://prod.example/ns/analytics/sa/*
  rules:
    - id: segment
      to: [{ fqdn: api.segment.io }]
      ports: [443]
      justification: Product events to Segment
`,
    },
  ];
}

/** The policy set of {@link policySources}. */
export function seedPolicySet(now: Date): PolicySet {
  const checked = checkBundleSources(policySources(now), { now: now.getTime(), allowExpired: true });
  if (checked.errors.length > 0) throw new Error(`seed policy has errors: ${JSON.stringify(checked.errors)}`);
  return checked.set;
}

const actor = (principal: string) => ({
  principal,
  role: 'admin',
  accountId: ACCOUNT,
  accessKeyId: 'AKIDSEED',
  userName: principal,
});

/** Writes the seed rows into `store` (an empty, migrated store). */
export async function seedReportStore(store: Store, now: Date): Promise<void> {
  const t = now.getTime();
  const scope = { accountId: ACCOUNT, region: 'us-east-1' };
  await store.transaction(scope, async (tx) => {
    await tx.insertScope(scope, { defaultVpcId: 'vpc-0123456789abcdef0' });
    await tx.insertVpc(scope, {
      vpcId: 'vpc-0123456789abcdef0',
      cidrBlock: '172.31.0.0/16',
      isDefault: true,
      ownerId: ACCOUNT,
      state: 'available',
      tags: [],
    });
    await tx.insertGroup(scope, {
      groupId: GROUP_ID,
      groupName: 'builders',
      description: 'CI builders',
      vpcId: 'vpc-0123456789abcdef0',
      ownerId: ACCOUNT,
      isDefault: false,
      tags: [],
    });
    await tx.insertRules(scope, [
      {
        key: 'egress-seed-1',
        rule: {
          ruleId: RULE_ID,
          groupId: GROUP_ID,
          groupOwnerId: ACCOUNT,
          direction: 'egress',
          ipProtocol: 'tcp',
          fromPort: 5432,
          toPort: 5432,
          target: { kind: 'ipv4', cidr: '10.20.0.0/16' },
          description: 'Orders database',
          tags: [
            { key: 'weir:policy', value: 'payments-db' },
            { key: 'weir:rule-id', value: 'orders-db' },
            { key: 'weir:owner', value: 'dba@example.com' },
            { key: 'weir:data-class', value: 'pci' },
            { key: 'weir:expires', value: day(t + 40 * D) },
          ],
        },
      },
    ]);
    await tx.attachWorkload(scope, { identity: BUILDER, groupId: GROUP_ID, createdAt: new Date(t - 9 * D) });
  });
  await store.transaction(undefined, async (tx) => {
    await tx.insertException({
      id: EXC_ID,
      identity: CHECKOUT,
      destinations: ['api.github.com:443'],
      reason: 'Release tooling pulls a changelog',
      dataClass: 'internal',
      ttlMs: 7 * D,
      requester: 'dev@example.com',
      requestedAt: new Date(t - 2 * D - 2 * H),
      state: 'approved',
      decidedBy: 'lead@example.com',
      decidedAt: new Date(t - 2 * D),
      comment: 'ok for the release week',
      expires: new Date(t + 5 * D),
    });
    await tx.insertException({
      id: 'exc-0000000000000000d',
      identity: CHECKOUT,
      destinations: ['pastebin.com:443'],
      reason: 'never approved',
      ttlMs: D,
      requester: 'dev@example.com',
      requestedAt: new Date(t - D),
      state: 'pending',
    });
    await tx.insertBreakglassSession({
      id: BG_ID,
      identity: CHECKOUT,
      destinations: ['status.stripe.com:443'],
      reason: 'INC-42 payment outage',
      principal: 'oncall@example.com',
      openedAt: new Date(t - 3 * D),
      expires: new Date(t - 3 * D + H),
      drill: false,
      closedAt: new Date(t - 3 * D + 20 * 60_000),
      closedBy: 'oncall@example.com',
      closeReason: 'resolved',
    });
    await tx.insertBreakglassSession({
      id: DRILL_ID,
      identity: BUILDER,
      destinations: [],
      reason: 'quarterly drill',
      principal: 'oncall@example.com',
      openedAt: new Date(t - 10 * D),
      expires: new Date(t - 10 * D + 30 * 60_000),
      drill: true,
    });
    await tx.putPolicyBundle({
      bytes: Buffer.from(JSON.stringify({ sources: policySources(now) })),
      version: '7',
      hash: `sha256:${'ab'.repeat(32)}`,
      appliedAt: new Date(t - 15 * D),
    });
    // The gateway's decision counters (per-minute buckets) and denied pairs (per-hour buckets).
    const minute = (ms: number) => new Date(Math.floor(ms / 60_000) * 60_000);
    const hour = (ms: number) => new Date(Math.floor(ms / H) * H);
    await tx.addDecisionCounts([
      { bucket: minute(t - D), decision: 'allow', reason: 'matched', count: 40 },
      { bucket: minute(t - D), decision: 'deny', reason: 'no-match', count: 5 },
      { bucket: minute(t - D), decision: 'deny', reason: 'guardrail', count: 2 },
      { bucket: minute(t - D), decision: 'would-deny', reason: 'no-match', count: 3 },
      { bucket: minute(t - 3 * D), decision: 'allow', reason: 'matched', count: 10 },
      { bucket: minute(t - 3 * D), decision: 'deny', reason: 'expired', count: 1 },
      { bucket: minute(t - 3 * D), decision: 'unauthenticated', reason: '', count: 4 },
    ]);
    await tx.addDeniedPairs(
      [
        {
          bucket: hour(t - D),
          decision: 'deny',
          identity: CHECKOUT,
          destination: 'api.evil.example:443',
          count: 5,
        },
        {
          bucket: hour(t - D),
          decision: 'deny',
          identity: BUILDER,
          destination: '169.254.169.254:80',
          count: 2,
        },
        {
          bucket: hour(t - 3 * D),
          decision: 'deny',
          identity: CHECKOUT,
          destination: 'api.oldpsp.example:443',
          count: 1,
        },
      ],
      100,
    );
    for (const [name, who, at] of [
      ['RequestException', 'dev@example.com', t - 2 * D - 2 * H],
      ['ApproveException', 'lead@example.com', t - 2 * D],
      ['OpenBreakglass', 'oncall@example.com', t - 3 * D],
    ] as const) {
      await appendAudit(
        tx,
        auditEvent(
          {
            eventSource: WEIR_EVENT_SOURCE,
            eventName: name,
            region: 'us-east-1',
            actor: actor(who),
            sourceIPAddress: '127.0.0.1',
            userAgent: 'seed',
            requestParameters: {},
            requestId: `req-${name}`,
            readOnly: false,
          },
          { responseElements: null },
          new Date(at),
        ),
      );
    }
  });
}
