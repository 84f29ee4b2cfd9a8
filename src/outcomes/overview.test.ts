import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PolicySet } from '../policy-types/index.js';
import { openSqliteStore } from '../store/index.js';
import type { Store } from '../store/index.js';
import { createEnforcementSamples } from './enforcement.js';
import { readOverview } from './overview.js';
import { storedDecisionFacts } from './stored-decisions.js';
import { periodOf } from './period.js';

const H = 3_600_000;
const D = 24 * H;
// A fixed clock: every time below is relative to it.
const NOW = Date.parse('2026-12-08T12:30:00.000Z');
const scope = { accountId: '123456789012', region: 'us-east-1' };
const loc = { file: 'p.yaml', line: 1, col: 1 };
const WEB = 'spiffe://prod/ns/shop/sa/web';
const BATCH = 'spiffe://prod/ns/shop/sa/batch';
const CI = 'spiffe://prod/ns/ci/sa/builder';
const TOKENED = 'spiffe://prod/ns/ops/sa/cron';

const set: PolicySet = {
  workloads: [{ identity: BATCH, labels: {} }],
  policies: [
    {
      name: 'shop',
      labels: {},
      mode: 'enforce',
      workloads: [
        { identity: { kind: 'exact', value: WEB }, loc },
        { identity: { kind: 'glob', value: 'spiffe://prod/*' }, loc },
      ],
      rules: [
        {
          id: 'stripe',
          policy: 'shop',
          destinations: [{ kind: 'fqdn', name: 'api.stripe.com', match: 'exact', loc }],
          ports: [{ from: 443, to: 443 }],
          protocol: 'tcp',
          expires: NOW + 5 * D,
          loc,
        },
      ],
      tests: [],
      loc,
    },
  ],
};

describe('readOverview over a seeded store', () => {
  let store: Store;
  beforeEach(async () => {
    store = openSqliteStore({ file: ':memory:', backgroundCheckpoints: false, now: () => new Date(NOW) });
    await store.transaction(scope, async (tx) => {
      await tx.insertScope(scope, { defaultVpcId: 'vpc-01' });
      await tx.insertVpc(scope, {
        vpcId: 'vpc-01',
        cidrBlock: '172.31.0.0/16',
        isDefault: true,
        ownerId: scope.accountId,
        state: 'available',
        tags: [],
      });
      await tx.insertGroup(scope, {
        groupId: 'sg-0a',
        groupName: 'ci',
        description: 'ci',
        vpcId: 'vpc-01',
        ownerId: scope.accountId,
        isDefault: false,
        tags: [],
      });
      const base = {
        groupId: 'sg-0a',
        groupOwnerId: scope.accountId,
        direction: 'egress' as const,
        ipProtocol: '-1',
        fromPort: -1,
        toPort: -1,
        tags: [],
      };
      await tx.insertRules(scope, [
        { rule: { ...base, ruleId: 'sgr-01', target: { kind: 'ipv4', cidr: '0.0.0.0/0' } }, key: 'all' },
        {
          rule: {
            ...base,
            ruleId: 'sgr-02',
            ipProtocol: 'tcp',
            fromPort: 443,
            toPort: 443,
            target: { kind: 'ipv4', cidr: '10.0.0.0/8' },
          },
          key: 'ten',
        },
      ]);
      await tx.attachWorkload(scope, { identity: CI, groupId: 'sg-0a', createdAt: new Date(NOW - 10 * D) });
    });
    await store.transaction(undefined, async (tx) => {
      // Valid in the period (expires after its start), and one long expired: not known from it.
      await tx.recordIssuedToken({
        id: 't1',
        identity: TOKENED,
        issued: new Date(NOW - 2 * H),
        expires: new Date(NOW + H),
      });
      await tx.recordIssuedToken({
        id: 't2',
        identity: 'spiffe://old',
        issued: new Date(NOW - 9 * D),
        expires: new Date(NOW - 8 * D),
      });
      await tx.insertException({
        id: 'exc-00000000000000001',
        identity: WEB,
        destinations: ['api.example.com:443/tcp'],
        reason: 'r',
        ttlMs: 2 * D,
        requester: 'dev',
        requestedAt: new Date(NOW - 3 * H),
        state: 'approved',
        decidedBy: 'lead',
        decidedAt: new Date(NOW - 3 * H + 900_000),
        expires: new Date(NOW + 2 * D),
      });
    });
  });
  afterEach(async () => {
    await store.close();
  });

  it('reads the policy, the attached groups, exceptions and tokens in one go', async () => {
    const samples = createEnforcementSamples(NOW - D);
    samples.push({ at: NOW - H, seconds: 0.05, change: 'api' });
    const o = (await readOverview(store, periodOf(NOW, D, H), {
      scope,
      set,
      enforcement: samples,
    })) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(o.period).toMatchObject({
      since: '2026-12-07T12:00:00.000Z',
      until: '2026-12-08T12:30:00.000Z',
      bucketSeconds: 3600,
    });
    expect(o.period.buckets).toHaveLength(25);
    expect(o.decisionsStored).toBe(false);
    expect(o.decisions.totals).toEqual({ allowed: 0, denied: 0, wouldDeny: 0, refused: 0 });
    expect(o.expiring.rules).toEqual([
      {
        policy: 'shop',
        ruleId: 'stripe',
        source: 'policy',
        expires: '2026-12-13T12:30:00.000Z',
        destinations: ['api.stripe.com'],
      },
    ]);
    expect(o.expiring.exceptions).toEqual([
      {
        id: 'exc-00000000000000001',
        identity: WEB,
        destinations: ['api.example.com:443/tcp'],
        expires: '2026-12-10T12:30:00.000Z',
      },
    ]);
    // The attached group's allow-all rule is a wildcard; its 10/8 rule is not.
    expect(o.wildcardRules.count).toBe(1);
    expect(o.wildcardRules.rulesInForce).toBe(3);
    expect(o.wildcardRules.rules[0]).toMatchObject({
      ruleId: 'sgr-01',
      source: 'group',
      wildcards: ['any-address'],
      destinations: ['0.0.0.0/0'],
    });
    expect(o.timeToApprove.overall).toEqual({ count: 1, medianSeconds: 900, p90Seconds: 900 });
    expect(o.timeToApprove.approvals[0]).toMatchObject({
      requestedAt: '2026-12-08T09:30:00.000Z',
      approvedAt: '2026-12-08T09:45:00.000Z',
    });
    // Known: WEB (exact selector) and BATCH (registry) from the policy, CI attached, TOKENED by token;
    // the glob selector names nobody, the expired token's identity is not known.
    expect(o.gatewayShare).toMatchObject({ known: 4, active: 0, share: 0, silentCount: 4 });
    expect(o.gatewayShare.silent).toEqual([
      { identity: CI, knownBy: ['attachment'] },
      { identity: TOKENED, knownBy: ['token'] },
      { identity: BATCH, knownBy: ['policy'] },
      { identity: WEB, knownBy: ['policy'] },
    ]);
    expect(o.enforcement.overall).toEqual({
      count: 1,
      medianSeconds: 0.05,
      p90Seconds: 0.05,
      maxSeconds: 0.05,
    });
    expect(o.enforcement.recordedSince).toBe('2026-12-07T12:30:00.000Z');
  });

  it('uses the decisions facts when the store has them: series, pairs, guardrails, identities seen', async () => {
    const p = periodOf(NOW, D, H);
    const probed: string[] = [];
    const o = (await readOverview(store, p, {
      scope,
      set,
      decisions: async (_tx, _p, known) => (
        probed.push(...known),
        {
          counts: [
            { at: p.since, decision: 'allow', count: 3 },
            { at: p.since + H, decision: 'deny', reason: 'no-match', count: 1 },
            { at: p.since + H, decision: 'deny', reason: 'guardrail', count: 1 },
            { at: p.since + H, decision: 'unauthenticated', count: 5 },
          ],
          guardrails: [{ at: p.since + H, range: '169.254.0.0/16', count: 1 }],
          denied: [{ identity: WEB, destination: 'evil.example:443', count: 2, lastAt: p.since + H }],
          perIdentity: new Map(known.map((id) => [id, id === WEB ? 1 : 0])),
        }
      ),
    })) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(o.decisionsStored).toBe(true);
    expect(o.decisions.allowed.slice(0, 2)).toEqual([3, 0]);
    expect(o.decisions.denied.slice(0, 2)).toEqual([0, 2]);
    expect(o.topDenied).toEqual([
      { identity: WEB, destination: 'evil.example:443', count: 2, lastAt: '2026-12-07T13:00:00.000Z' },
    ]);
    expect(o.guardrailDenials).toMatchObject({ total: 1, byRange: [{ range: '169.254.0.0/16', count: 1 }] });
    // The identities probed are the known ones, and only they.
    expect(probed.sort()).toEqual([BATCH, CI, TOKENED, WEB].sort());
    expect(o.gatewayShare).toMatchObject({
      known: 4,
      active: 1,
      share: 0.25,
      unauthenticated: { count: 5, decisions: 10, share: 0.5 },
    });
  });
});

describe('storedDecisionFacts over a seeded decisions store', () => {
  it('reads the counters, the top denied pairs, the guardrail denials by range, and probes known identities', async () => {
    const store = openSqliteStore({
      file: ':memory:',
      backgroundCheckpoints: false,
      now: () => new Date(NOW),
    });
    const p = periodOf(NOW, D, H);
    const at = new Date(p.since + H);
    await store.transaction(undefined, async (tx) => {
      await tx.addDecisionCounts([
        { bucket: at, decision: 'allow', reason: 'matched', count: 4 },
        { bucket: at, decision: 'deny', reason: 'guardrail', count: 2 },
        { bucket: new Date(p.since - H), decision: 'deny', reason: 'no-match', count: 7 },
      ]);
      await tx.addDeniedPairs(
        [
          { bucket: at, decision: 'deny', identity: WEB, destination: '169.254.169.254:80', count: 2 },
          { bucket: at, decision: 'deny', identity: CI, destination: 'x.example:443', count: 1 },
          { bucket: at, decision: 'deny', identity: BATCH, destination: 'y.example:443', count: 1 },
        ],
        2,
      );
      const base = { at, src: '10.0.0.5:5000', protocol: 'tcp', decision: 'deny', reason: 'guardrail' };
      await tx.appendDecisions([
        {
          ...base,
          decisionId: 'd1',
          identity: WEB,
          ip: '169.254.169.254',
          port: 80,
          guardrail: '169.254.0.0/16 link-local',
        },
        {
          ...base,
          decisionId: 'd2',
          identity: WEB,
          ip: '127.0.0.1',
          port: 9,
          guardrail: '127.0.0.0/8 loopback',
        },
        {
          ...base,
          decisionId: 'd3',
          decision: 'allow',
          reason: 'matched',
          identity: CI,
          at: new Date(p.since - H),
        },
      ]);
    });
    const facts = await store.transaction(undefined, (tx) => storedDecisionFacts(tx, p, [WEB, CI, BATCH]), {
      readOnly: true,
    });
    await store.close();
    expect(facts.counts).toEqual([
      { at: at.getTime(), decision: 'allow', reason: 'matched', count: 4 },
      { at: at.getTime(), decision: 'deny', reason: 'guardrail', count: 2 },
    ]);
    // The pair beyond the bucket's cap of 2 is counted as `*`, which is not listed.
    expect(facts.denied).toEqual([
      { identity: WEB, destination: '169.254.169.254:80', count: 2 },
      { identity: CI, destination: 'x.example:443', count: 1 },
    ]);
    expect([...facts.guardrails].map((g) => g.range).sort()).toEqual(['127.0.0.0/8', '169.254.0.0/16']);
    // CI's only decision is before the period: not seen in it.
    expect([...facts.perIdentity]).toEqual([
      [WEB, 1],
      [CI, 0],
      [BATCH, 0],
    ]);
    expect(facts.probed).toBe(3);
  });
});
