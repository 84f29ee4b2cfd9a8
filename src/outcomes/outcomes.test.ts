import { describe, expect, it } from 'vitest';
import type { Destination, Policy, PolicyRule } from '../policy-types/index.js';
import type { ExceptionRecord } from '../store/index.js';
import { decisionSeries, guardrailDenials, topDenied } from './decisions.js';
import { createEnforcementSamples, enforcementLag } from './enforcement.js';
import { expiringExceptions, timeToApprove } from './exceptions.js';
import { bucketOf, bucketQuantiles, MAX_BUCKETS, periodOf, quantile } from './period.js';
import { expiringRules, wildcardRules } from './rules.js';
import { addKnown, gatewayShare } from './share.js';
import type { KnownBy } from './share.js';

const H = 3_600_000;
const D = 24 * H;
// A fixed clock: 2026-12-08 12:30 UTC.
const NOW = Date.parse('2026-12-08T12:30:00.000Z');
const loc = { file: 'p.yaml', line: 1, col: 1 };

function rule(id: string, to: Destination[], extra: Partial<PolicyRule> = {}): PolicyRule {
  return {
    id,
    policy: 'payments',
    destinations: to,
    ports: [{ from: 443, to: 443 }],
    protocol: 'tcp',
    loc,
    ...extra,
  };
}
const fqdn = (name: string, match: 'exact' | 'one-label' | 'any-depth' = 'exact'): Destination => ({
  kind: 'fqdn',
  name,
  match,
  loc,
});
const cidr = (c: string): Destination => ({ kind: 'cidr', family: c.includes(':') ? 6 : 4, cidr: c, loc });
function policy(rules: PolicyRule[]): Policy {
  return { name: 'payments', labels: {}, mode: 'enforce', workloads: [], rules, tests: [], loc };
}

function exception(id: string, extra: Partial<ExceptionRecord>): ExceptionRecord {
  return {
    id,
    identity: 'spiffe://prod/web',
    destinations: ['api.example.com:443/tcp'],
    reason: 'r',
    ttlMs: D,
    requester: 'dev@example.com',
    requestedAt: new Date(NOW - 10 * H),
    state: 'pending',
    ...extra,
  };
}

describe('periods', () => {
  it('aligns the start down to a bucket and ends at now', () => {
    const p = periodOf(NOW, D, H);
    expect(new Date(p.since).toISOString()).toBe('2026-12-07T12:00:00.000Z');
    expect(p.buckets).toBe(25);
    expect(bucketOf(p, NOW - 1)).toBe(24);
    expect(bucketOf(p, NOW)).toBe(-1);
    expect(bucketOf(p, p.since - 1)).toBe(-1);
  });
  it('refuses more than MAX_BUCKETS buckets', () => {
    expect(() => periodOf(NOW, (MAX_BUCKETS + 1) * H, H)).toThrow(RangeError);
    expect(periodOf(NOW, (MAX_BUCKETS - 1) * H, H).buckets).toBe(MAX_BUCKETS);
  });
  it('takes nearest-rank quantiles: always a value that occurred', () => {
    expect(quantile([], 0.5)).toBeUndefined();
    expect(quantile([5, 1, 3], 0.5)).toBe(3);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(
      quantile(
        [...Array(10).keys()].map((i) => i + 1),
        0.9,
      ),
    ).toBe(9);
    const p = periodOf(NOW, 2 * H, H);
    const q = bucketQuantiles(p, [
      { at: p.since, value: 10 },
      { at: p.since + 1, value: 30 },
      { at: p.since + 2, value: 20 },
    ]);
    expect(q.median).toEqual([20, null, null]);
    expect(q.p90).toEqual([30, null, null]);
    expect(q.count).toEqual([3, 0, 0]);
  });
});

describe('decisions over the period', () => {
  const p = periodOf(NOW, 3 * H, H);
  it('sums counts per bucket by what they came to, leaving out what falls outside', () => {
    const s = decisionSeries(p, [
      { at: p.since, decision: 'allow', count: 5 },
      { at: p.since + 60_000, decision: 'allow', count: 2 },
      { at: p.since + H, decision: 'deny', count: 3 },
      { at: p.since + 2 * H, decision: 'would-deny', count: 4 },
      { at: p.since + 3 * H, decision: 'unauthenticated', count: 1 },
      { at: p.since + 3 * H, decision: 'limit', count: 1 },
      { at: p.since - 1, decision: 'deny', count: 100 },
      { at: p.since, decision: 'nonsense', count: 100 },
    ]);
    expect(s.allowed).toEqual([7, 0, 0, 0]);
    expect(s.denied).toEqual([0, 3, 0, 0]);
    expect(s.wouldDeny).toEqual([0, 0, 4, 0]);
    expect(s.refused).toEqual([0, 0, 0, 2]);
    expect(s.totals).toEqual({ allowed: 7, denied: 3, wouldDeny: 4, refused: 2 });
  });
  it('counts guardrail denials per bucket from the counters, per range from the stored denials', () => {
    const g = guardrailDenials(
      p,
      [
        { at: p.since, decision: 'deny', reason: 'guardrail', count: 2 },
        { at: p.since + H, decision: 'deny', reason: 'guardrail', count: 5 },
        { at: p.since + H, decision: 'deny', reason: 'no-match', count: 9 },
        { at: p.until, decision: 'deny', reason: 'guardrail', count: 9 },
      ],
      [
        { at: p.since + H, range: '169.254.0.0/16', count: 1 },
        { at: p.since + H, range: '10.0.0.0/8', count: 1 },
        { at: p.since + H + 1, range: '169.254.0.0/16', count: 1 },
        { at: p.since - 1, range: '127.0.0.0/8', count: 1 },
      ],
    );
    expect(g.perBucket).toEqual([2, 5, 0, 0]);
    expect(g.total).toBe(7);
    expect(g.byRange).toEqual([
      { range: '169.254.0.0/16', count: 2 },
      { range: '10.0.0.0/8', count: 1 },
    ]);
    expect(g.rangesFrom).toBe(3);
  });
  it('lists the pairs denied most, merging repeats, ties by the latest', () => {
    const top = topDenied(
      [
        { identity: 'a', destination: 'x:443', count: 2, lastAt: 1 },
        { identity: 'b', destination: 'y:443', count: 3, lastAt: 5 },
        { identity: 'a', destination: 'x:443', count: 2, lastAt: 9 },
        { identity: 'c', destination: 'z:443', count: 3, lastAt: 7 },
        { identity: 'd', destination: 'w:443', count: 1 },
      ],
      3,
    );
    expect(top).toEqual([
      { identity: 'a', destination: 'x:443', count: 4, lastAt: 9 },
      { identity: 'c', destination: 'z:443', count: 3, lastAt: 7 },
      { identity: 'b', destination: 'y:443', count: 3, lastAt: 5 },
    ]);
  });
});

describe('rules in force', () => {
  const inForce = [
    {
      source: 'policy' as const,
      policies: [
        policy([
          rule('soon', [fqdn('api.stripe.com')], { expires: NOW + 3 * D, owner: 'pay@example.com' }),
          rule('sooner', [fqdn('example.com', 'one-label')], { expires: NOW + D }),
          rule('later', [fqdn('b.example')], { expires: NOW + 31 * D }),
          rule('past', [fqdn('c.example')], { expires: NOW - 1 }),
          rule('deep', [fqdn('corp.example', 'any-depth'), cidr('0.0.0.0/0')]),
        ]),
      ],
    },
    { source: 'group' as const, policies: [policy([rule('sgr-1', [cidr('::/0')], { policy: 'sg-1/web' })])] },
  ];
  it('lists rules expiring within 30 days soonest first and counts the expired', () => {
    const r = expiringRules(inForce, NOW, 30 * D);
    expect(r.expiring.map((x) => x.ruleId)).toEqual(['sooner', 'soon']);
    expect(r.expiring[1]).toEqual({
      policy: 'payments',
      ruleId: 'soon',
      source: 'policy',
      owner: 'pay@example.com',
      expires: NOW + 3 * D,
      destinations: ['api.stripe.com'],
    });
    expect(r.expired).toBe(1);
  });
  it('finds wildcard rules: name patterns and whole address families, from policies and groups', () => {
    const w = wildcardRules(inForce);
    expect(w.total).toBe(6);
    expect(w.rules.map((x) => [x.ruleId, x.source, x.wildcards, x.destinations])).toEqual([
      ['sooner', 'policy', ['name'], ['*.example.com']],
      ['deep', 'policy', ['name', 'any-address'], ['**.corp.example', '0.0.0.0/0']],
      ['sgr-1', 'group', ['any-address'], ['::/0']],
    ]);
  });
});

describe('exceptions', () => {
  const p = periodOf(NOW, D, H);
  const approved = (id: string, requested: number, approved: number, extra: Partial<ExceptionRecord> = {}) =>
    exception(id, {
      state: 'approved',
      requestedAt: new Date(requested),
      decidedAt: new Date(approved),
      decidedBy: 'lead@example.com',
      expires: new Date(approved + D),
      ...extra,
    });
  const list: ExceptionRecord[] = [
    approved('exc-1', NOW - 5 * H, NOW - 5 * H + 600_000),
    approved('exc-2', NOW - 5 * H, NOW - 5 * H + 1_200_000),
    approved('exc-3', NOW - 5 * H, NOW - 5 * H + 3_600_000),
    // Approved, then revoked: still an approval, and it waited 2 h.
    approved('exc-4', NOW - 3 * H, NOW - H, { state: 'revoked', revokedAt: new Date(NOW - 1000) }),
    // Approved before the period: not in it.
    approved('exc-5', NOW - 3 * D, NOW - 2 * D),
    exception('exc-6', { state: 'denied', decidedAt: new Date(NOW - H), decidedBy: 'lead@example.com' }),
    exception('exc-7', { requestedAt: new Date(NOW - 4 * H) }),
    exception('exc-8', { requestedAt: new Date(NOW - H) }),
  ];
  it('measures approved − requested per approval, per bucket and overall; denials are no approvals', () => {
    const t = timeToApprove(p, list);
    expect(t.approvals.map((a) => [a.id, a.seconds])).toEqual([
      ['exc-1', 600],
      ['exc-2', 1200],
      ['exc-3', 3600],
      ['exc-4', 7200],
    ]);
    const b = bucketOf(p, NOW - 5 * H);
    expect(t.medianSeconds[b]).toBe(600);
    expect(t.p90Seconds[b]).toBe(1200);
    expect(t.medianSeconds[b + 1]).toBe(3600);
    expect(t.medianSeconds[bucketOf(p, NOW - H)]).toBe(7200);
    expect(t.overall).toEqual({ count: 4, medianSeconds: 1200, p90Seconds: 7200 });
    expect(t.pending).toEqual({ count: 2, oldestSeconds: 4 * 3600 });
  });
  it('lists approved exceptions ending within 30 days, not revoked or ended ones', () => {
    const e = expiringExceptions(list, NOW, 30 * D);
    expect(e.map((x) => x.id)).toEqual(['exc-1', 'exc-2', 'exc-3']);
    expect(e[0]?.expires).toBe(NOW - 5 * H + 600_000 + D);
  });
});

describe('share of egress through the gateway', () => {
  it('is the share of known workloads with a decision, listing the silent ones', () => {
    const known = new Map<string, Set<KnownBy>>();
    addKnown(known, 'spiffe://a', 'policy');
    addKnown(known, 'spiffe://a', 'token');
    addKnown(known, 'spiffe://b', 'attachment');
    addKnown(known, 'spiffe://c', 'token');
    addKnown(known, 'spiffe://d', 'policy');
    const s = gatewayShare({
      known,
      seen: new Map([
        ['spiffe://a', 10],
        ['spiffe://b', 0],
        ['spiffe://c', 1],
      ]),
      unauthenticated: 5,
      decisions: 20,
    });
    expect(s).toEqual({
      known: 4,
      active: 2,
      share: 0.5,
      silent: [
        { identity: 'spiffe://b', knownBy: ['attachment'] },
        { identity: 'spiffe://d', knownBy: ['policy'] },
      ],
      silentCount: 2,
      unauthenticated: { count: 5, decisions: 20, share: 0.25 },
    });
  });
  it('has no share when Weir knows no workload (not 0 %, not 100 %)', () => {
    const s = gatewayShare({ known: new Map(), seen: new Map(), unauthenticated: 0, decisions: 0 });
    expect(s.share).toBeUndefined();
    expect(s.unauthenticated.share).toBeUndefined();
  });
  it('bounds the list of silent identities', () => {
    const known = new Map<string, Set<KnownBy>>();
    for (let i = 0; i < 150; i++) addKnown(known, `spiffe://w/${String(i).padStart(3, '0')}`, 'token');
    const s = gatewayShare({ known, seen: new Map(), unauthenticated: 0, decisions: 0 }, 100);
    expect(s.silent).toHaveLength(100);
    expect(s.silentCount).toBe(150);
  });
});

describe('policy change to enforcement', () => {
  it('keeps the last samples in a ring, oldest first', () => {
    const r = createEnforcementSamples(0, 3);
    for (let i = 1; i <= 5; i++) r.push({ at: i, seconds: i / 10, change: 'api' });
    expect(r.since(0).map((s) => s.at)).toEqual([3, 4, 5]);
    expect(r.since(4).map((s) => s.at)).toEqual([4, 5]);
  });
  it('gives median and p90 per bucket, overall and by change', () => {
    const p = periodOf(NOW, 2 * H, H);
    const r = createEnforcementSamples(p.since - D);
    r.push({ at: p.since - 1, seconds: 99, change: 'api' });
    r.push({ at: p.since + 10, seconds: 0.2, change: 'api' });
    r.push({ at: p.since + 20, seconds: 0.4, change: 'bundle' });
    r.push({ at: p.since + H + 1, seconds: 1.5, change: 'api' });
    const l = enforcementLag(p, r);
    expect(l.medianSeconds).toEqual([0.2, 1.5, null]);
    expect(l.p90Seconds).toEqual([0.4, 1.5, null]);
    expect(l.overall).toEqual({ count: 3, medianSeconds: 0.4, p90Seconds: 1.5, maxSeconds: 1.5 });
    expect(l.byChange).toEqual([
      { change: 'api', count: 2, medianSeconds: 0.2 },
      { change: 'bundle', count: 1, medianSeconds: 0.4 },
    ]);
    expect(l.recordedSince).toBe(p.since - D);
  });
  it('says nothing was recorded when the server runs no gateway', () => {
    const l = enforcementLag(periodOf(NOW, H, H), undefined);
    expect(l.overall).toEqual({ count: 0 });
    expect(l.recordedSince).toBeUndefined();
  });
});
