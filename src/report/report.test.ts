/**
 * @module report/report.test — the evidence report built from a seeded store (fixed clock): every
 * section's contents in JSON, the HTML's sections, its escaping of hostile values, that it loads
 * and runs nothing (no script, no URL, a CSP whose hash matches the one stylesheet), the period's
 * bounds, and the Chromium lookup's errors.
 */
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ACCOUNT,
  BG_ID,
  BUILDER,
  CHECKOUT,
  DRILL_ID,
  EXC_ID,
  GROUP_ID,
  HOSTILE,
  RULE_ID,
  seedPolicySet,
  seedReportStore,
} from '../../test/helpers/report-seed.js';
import { openSqliteStore } from '../store/index.js';
import type { Store } from '../store/index.js';
import type { PolicySet } from '../policy-types/index.js';
import { buildReport, escapeHtml, findChromium, renderReportHtml, reportSince } from './index.js';
import type { ReportDocument } from './index.js';

const NOW = new Date('2026-12-08T12:00:00.000Z');
const D = 86_400_000;
let store: Store;

beforeEach(async () => {
  store = openSqliteStore({ file: ':memory:', backgroundCheckpoints: false });
  await seedReportStore(store, NOW);
});
afterEach(() => store.close());

const build = (set: PolicySet | undefined = seedPolicySet(NOW)): Promise<ReportDocument> =>
  buildReport({
    store,
    account: ACCOUNT,
    set,
    policySource: 'policy bundle version 7',
    source: { kind: 'data-dir', dataDir: '/var/lib/weir' },
    since: new Date(NOW.getTime() - 30 * D),
    now: NOW,
  });

const inputs = async () => ({
  store,
  account: ACCOUNT,
  policySource: 'none',
  source: { kind: 'server' as const },
  since: new Date(NOW.getTime() - 30 * D),
  now: NOW,
});

describe('the report document', () => {
  it('states its format, period, generation time, source and policy', async () => {
    const r = await build();
    expect(r).toMatchObject({
      format: 'weir.report/v1',
      generatedAt: NOW.toISOString(),
      period: { since: '2026-11-08T12:00:00.000Z', until: NOW.toISOString() },
      source: { kind: 'data-dir', dataDir: '/var/lib/weir' },
      account: ACCOUNT,
      policy: { source: 'policy bundle version 7', policies: 2, rules: 3 },
      truncated: [],
    });
  });

  it('who may reach what and why: policy rules, group rules (with the policy that made them), exceptions', async () => {
    const r = await build();
    const checkout = r.access.find((w) => w.identity === CHECKOUT);
    expect(checkout?.labels).toEqual({ team: 'payments', dataClass: 'pci' });
    expect(checkout?.policies).toEqual(['payments-checkout']);
    expect(checkout?.groups).toEqual([GROUP_ID]);
    expect(checkout?.destinations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          to: 'api.stripe.com:443',
          via: 'policy',
          policy: 'payments-checkout',
          rule: 'stripe-api',
          owner: 'payments@example.com',
          justification: HOSTILE,
          dataClass: 'pci',
          expires: '2026-12-28T23:59:59.999Z',
          expired: false,
        }),
        expect.objectContaining({ rule: 'old-psp', expired: true }),
        expect.objectContaining({
          to: '10.20.0.0/16:5432',
          via: 'security-group',
          groupId: GROUP_ID,
          rule: RULE_ID,
          policy: 'payments-db',
          owner: 'dba@example.com',
          justification: 'Orders database',
          dataClass: 'pci',
        }),
        expect.objectContaining({
          to: 'api.github.com:443',
          via: 'exception',
          rule: EXC_ID,
          owner: 'dev@example.com',
          justification: 'Release tooling pulls a changelog',
          expires: new Date(NOW.getTime() + 5 * D).toISOString(),
        }),
      ]),
    );
    // The builder: by its attachment (API) and by its registry labels (no policy selects it).
    const builder = r.access.find((w) => w.identity === BUILDER);
    expect(builder?.groups).toEqual([GROUP_ID]);
    expect(builder?.destinations.map((d) => d.rule)).toEqual([RULE_ID]);
    // A glob policy that names no known workload is listed under its pattern, in report mode.
    const pattern = r.access.find((w) => w.pattern === true);
    expect(pattern).toMatchObject({
      identity: 'spiffe://prod.example/ns/analytics/sa/*',
      policies: ['analytics-events'],
    });
    expect(pattern?.destinations[0]).toMatchObject({ to: 'api.segment.io:443', reportMode: true });
  });

  it('exceptions granted: requester, approver, reason, duration; pending requests are left out', async () => {
    const r = await build();
    expect(r.exceptions).toEqual([
      expect.objectContaining({
        id: EXC_ID,
        requester: 'dev@example.com',
        approvers: ['lead@example.com'],
        reason: 'Release tooling pulls a changelog',
        comment: 'ok for the release week',
        durationMs: 7 * D,
        timeToApproveMs: 2 * 3_600_000,
        state: 'active',
      }),
    ]);
  });

  it('break-glass sessions and drills with reasons, state and duration', async () => {
    const r = await build();
    expect(r.breakglass).toEqual([
      expect.objectContaining({
        id: BG_ID,
        drill: false,
        reason: 'INC-42 payment outage',
        principal: 'oncall@example.com',
        state: 'closed',
        closeReason: 'resolved',
        durationMs: 20 * 60_000,
      }),
      expect.objectContaining({ id: DRILL_ID, drill: true, state: 'drill', reason: 'quarterly drill' }),
    ]);
  });

  it('a session or exception that ended before the period is not in it', async () => {
    const r = await buildReport({
      store,
      account: ACCOUNT,
      set: seedPolicySet(NOW),
      policySource: 'x',
      source: { kind: 'server' },
      since: new Date(NOW.getTime() - 1 * D),
      now: NOW,
    });
    expect(r.breakglass).toEqual([]);
    expect(r.exceptions.map((e) => e.id)).toEqual([EXC_ID]);
  });

  it('the expiry calendar: what expired in the period and what expires within 90 days, soonest first', async () => {
    const r = await build();
    expect(r.expiryCalendar.map((e) => [e.kind, e.what, e.past])).toEqual([
      ['policy-rule', 'payments-checkout/old-psp', true],
      ['breakglass', BG_ID, true],
      ['exception', EXC_ID, false],
      ['policy-rule', 'payments-checkout/stripe-api', false],
      ['security-group-rule', RULE_ID, false],
    ]);
  });

  it('the audit chain: intact, its tip, the records in the period', async () => {
    const r = await build();
    const last = await store.transaction(undefined, (tx) => tx.lastAuditRecord(), { readOnly: true });
    expect(r.audit).toMatchObject({
      intact: true,
      records: 3,
      lastSeq: 3,
      lastHash: last?.hash,
      recordsInPeriod: 3,
      signaturesChecked: false,
    });
  });

  it('denials by reason, decisions per day and the most denied pairs, from the decision counters', async () => {
    const r = await build();
    expect(r.denials?.totals).toEqual({ allow: 50, deny: 8, 'would-deny': 3, unauthenticated: 4 });
    expect(r.denials?.byReason).toEqual([
      { reason: 'no-match', deny: 5, wouldDeny: 3 },
      { reason: 'guardrail', deny: 2, wouldDeny: 0 },
      { reason: 'expired', deny: 1, wouldDeny: 0 },
    ]);
    expect(r.denials?.topPairs).toEqual([
      { decision: 'deny', identity: CHECKOUT, destination: 'api.evil.example:443', count: 5 },
      { decision: 'deny', identity: BUILDER, destination: '169.254.169.254:80', count: 2 },
      { decision: 'deny', identity: CHECKOUT, destination: 'api.oldpsp.example:443', count: 1 },
    ]);
    expect(r.denials?.perDay.map((d) => d.day).slice(0, 2)).toEqual(['2026-11-08', '2026-11-09']);
    expect(r.denials?.perDay).toHaveLength(31);
    const day = (n: number) =>
      r.denials?.perDay.find((d) => d.day === new Date(NOW.getTime() - n * D).toISOString().slice(0, 10));
    expect(day(1)).toMatchObject({ allow: 40, deny: 7, wouldDeny: 3, other: 0 });
    expect(day(3)).toMatchObject({ allow: 10, deny: 1, wouldDeny: 0, other: 4 });
    expect(r.denials?.perDay.reduce((n, d) => n + d.allow + d.deny + d.wouldDeny + d.other, 0)).toBe(65);
    // 30 days are within the counters' 90 days; a year is not, and the report says where they start.
    expect(r.denials?.countersFrom).toBeUndefined();
    const year = await buildReport({
      ...(await inputs()),
      set: undefined,
      since: new Date(NOW.getTime() - 366 * D),
    });
    expect(year.denials?.countersFrom).toBe(new Date(NOW.getTime() - 90 * D).toISOString());
    expect(renderReportHtml(year)).toContain(
      'Decision counters are kept 90 days: these figures start at 2026-09-09 12:00 UTC',
    );
  });

  it("the outcome metrics are the Overview's own (outcomes/readOverview), by day over the period", async () => {
    const r = await build();
    const o = r.outcomes as Record<string, Record<string, unknown>> | undefined;
    expect(o?.period).toMatchObject({ bucketSeconds: 86_400, until: NOW.toISOString() });
    expect(o?.timeToApprove?.overall).toMatchObject({ count: 1, medianSeconds: 7200 });
    expect(o?.gatewayShare).toMatchObject({ known: expect.any(Number) });
    const page = renderReportHtml(r);
    expect(page).toContain(
      '<td>Time to approve an exception</td><td>median 2h, p90 2h (1 approvals; 1 pending now)</td>',
    );
    expect(page).toContain('Share of known workloads whose egress went through the gateway');
  });

  it('the policy bundle in force, with when it was applied', async () => {
    const r = await build();
    expect(r.policy.bundles).toEqual([
      {
        version: '7',
        hash: `sha256:${'ab'.repeat(32)}`,
        appliedAt: new Date(NOW.getTime() - 15 * D).toISOString(),
      },
    ]);
  });

  it('with a bundle history: every bundle in force during the period, with when it was replaced', async () => {
    const at = (days: number) => new Date(NOW.getTime() - days * D);
    // The seed applied version 7 15 days ago; before it 6 (50 days ago), after it 8 and 9.
    await store.transaction(undefined, async (tx) => {
      await tx.putPolicyBundle({
        bytes: Buffer.from('{}'),
        version: '8',
        hash: 'sha256:b',
        appliedAt: at(10),
      });
      await tx.putPolicyBundle({
        bytes: Buffer.from('{}'),
        version: '9',
        hash: 'sha256:c',
        appliedAt: at(2),
      });
    });
    const r = await build();
    expect(r.policy.bundles.map((b) => [b.version, b.appliedAt, b.replacedAt])).toEqual([
      ['7', at(15).toISOString(), at(10).toISOString()],
      ['8', at(10).toISOString(), at(2).toISOString()],
      ['9', at(2).toISOString(), undefined],
    ]);
    expect(r.policy.note).toBe('no bundle was in force before the first one listed');
    // A bundle replaced before the period began is not listed.
    const week = await buildReport({ ...(await inputs()), set: undefined, since: at(7) });
    expect(week.policy.bundles.map((b) => b.version)).toEqual(['8', '9']);
    expect(week.policy.note).toBeUndefined();
  });

  it('reads never write: the store is unchanged by a report', async () => {
    const before = await store.transaction(undefined, (tx) => tx.listAuditRecords(), { readOnly: true });
    await build();
    expect(await store.transaction(undefined, (tx) => tx.listAuditRecords(), { readOnly: true })).toEqual(
      before,
    );
  });

  it('without a policy, the workloads of attachments and grants are still listed', async () => {
    const r = await buildReport({ ...(await inputs()), set: undefined });
    expect(r.policy).toMatchObject({ policies: 0, rules: 0 });
    expect(r.access.map((w) => w.identity).sort()).toEqual([CHECKOUT, BUILDER].sort());
  });
});

describe('the HTML', () => {
  it('has every section, the period and the source', async () => {
    const page = renderReportHtml(await build());
    for (const heading of [
      'Who may reach what, and why',
      'Expiry calendar',
      'Exceptions granted',
      'Break-glass sessions and drills',
      'Audit chain verification',
      'Denials by reason',
      'Outcome metrics over the period',
      'Policy bundle versions in force',
    ]) {
      expect(page).toContain(`>${heading}</h2>`);
    }
    expect(page).toContain('2026-11-08 12:00 UTC to 2026-12-08 12:00 UTC');
    expect(page).toContain('data dir /var/lib/weir');
    expect(page).toContain('INTACT');
    expect(page).toContain('lead@example.com');
    expect(page).toContain('INC-42 payment outage');
    expect(page).toContain('<td>no-match</td><td>5</td><td>3</td><td>8</td>');
    expect(page).toContain('api.evil.example:443');
    expect(page).toContain('Decisions per day');
    expect(page).toMatch(/<svg\s+role="img"/);
  });

  it('escapes every value: a hostile justification stays text', async () => {
    const page = renderReportHtml(await build());
    expect(page).not.toContain('<script');
    expect(page).not.toContain('<img');
    expect(page).toContain(escapeHtml(HOSTILE));
    expect(escapeHtml(HOSTILE)).toBe(
      '&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;',
    );
  });

  it('is self-contained: no URL, no script, and a CSP that allows only its own stylesheet', async () => {
    const page = renderReportHtml(await build());
    expect(page).not.toMatch(/https?:\/\//);
    expect(page).not.toMatch(/<[a-z]+[^>]*\s(src|href)=|<link|@import|url\(/i);
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)"\s*\/?>/
      .exec(page)?.[1]
      ?.replace(/&#39;/g, "'");
    expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'/);
    const css = /<style>([\s\S]*?)<\/style>/.exec(page)?.[1] ?? '';
    expect(csp).toContain(`'sha256-${createHash('sha256').update(css).digest('base64')}'`);
    expect(page).toContain('@media print');
  });

  it('says so when the chain is broken', async () => {
    const r = await build();
    const page = renderReportHtml({
      ...r,
      audit: { ...r.audit, intact: false, problem: { seq: 2, reason: 'hash does not match <b>' } },
    });
    expect(page).toContain('BROKEN');
    expect(page).toContain('record 2: hash does not match &lt;b&gt;');
  });
});

describe('the period', () => {
  it.each([
    ['30d', new Date(NOW.getTime() - 30 * D)],
    ['12h', new Date(NOW.getTime() - 12 * 3_600_000)],
    ['2026-12-01T00:00:00Z', new Date('2026-12-01T00:00:00Z')],
  ])('%s', (text, since) => {
    expect(reportSince(text, NOW)).toEqual({ ok: true, since });
  });
  it.each([
    ['30 days', /duration back from now/],
    ['367d', /at most 366d/],
    ['2027-01-01', /future/],
    ['0d', /duration/],
  ])('%s is refused', (text, problem) => {
    const got = reportSince(text, NOW);
    expect(got.ok).toBe(false);
    expect(got.ok ? '' : got.problem).toMatch(problem);
  });
});

describe('finding Chromium', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'weir-chromium-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('none on PATH: a precise error naming what to install or pass', () => {
    expect(() => findChromium(undefined, { PATH: dir })).toThrow(
      /--format pdf needs headless Chromium.*chromium, chromium-browser, google-chrome.*--chromium PATH or WEIR_CHROMIUM/,
    );
  });
  it('the first name found on PATH, else WEIR_CHROMIUM, else --chromium wins', () => {
    const exe = join(dir, 'google-chrome');
    writeFileSync(exe, '#!/bin/sh\n');
    chmodSync(exe, 0o755);
    expect(findChromium(undefined, { PATH: dir })).toBe(exe);
    expect(() => findChromium(undefined, { PATH: dir, WEIR_CHROMIUM: join(dir, 'nope') })).toThrow(
      /WEIR_CHROMIUM .*nope: not an executable file/,
    );
    expect(() => findChromium(join(dir, 'missing'), { PATH: dir })).toThrow(
      /--chromium .*missing: not an executable/,
    );
    expect(findChromium(exe, {})).toBe(exe);
  });
});
