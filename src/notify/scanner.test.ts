import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PolicyRule, PolicySet } from '../policy-types/index.js';
import { openSqliteStore } from '../store/index.js';
import type { Store } from '../store/index.js';
import { NoticeScanner, ruleExpiryNotices } from './scanner.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-12-06T12:00:00.000Z');
const loc = { file: '/policies/payments.yaml', line: 12, col: 5 };

const rule = (id: string, expires?: number): PolicyRule => ({
  id,
  policy: 'payments',
  destinations: [],
  ports: [],
  protocol: 'tcp',
  justification: 'card processing',
  ...(expires !== undefined ? { expires } : {}),
  loc,
});
const set = (rules: PolicyRule[]): PolicySet => ({
  policies: [
    {
      name: 'payments',
      owner: 'team-payments',
      labels: {},
      mode: 'enforce',
      workloads: [],
      rules,
      tests: [],
      loc,
    },
  ],
  workloads: [],
});

describe('ruleExpiryNotices', () => {
  it('tells of rules expiring within the window, not of expired, later or never-expiring ones', async () => {
    const source = ruleExpiryNotices(
      () =>
        set([
          rule('soon', NOW + 6 * DAY + 1000),
          rule('in-hours', NOW + 5 * 3_600_000),
          rule('edge', NOW + 14 * DAY),
          rule('later', NOW + 14 * DAY + 1),
          rule('expired', NOW - 1),
          rule('forever'),
        ]),
      14 * DAY,
    );
    const notices = await source(undefined as never, new Date(NOW));
    expect(notices.map((n) => n.fields['rule'])).toEqual(['soon', 'in-hours', 'edge']);
    expect(notices[0]).toEqual({
      event: 'rule.expiring',
      text: 'Policy rule payments/soon expires in 6 days (2026-12-12T12:00:01.000Z), owner team-payments: renew it in the policy files or let it lapse.',
      fields: {
        policy: 'payments',
        rule: 'soon',
        expires: '2026-12-12T12:00:01.000Z',
        owner: 'team-payments',
        justification: 'card processing',
        file: '/policies/payments.yaml:12',
      },
      at: new Date(NOW),
      dedupeKey: 'rule-expiring:payments/soon:2026-12-06',
    });
    expect(notices[1]!.text).toContain('expires in 5 hours');
  });
});

describe('NoticeScanner', () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'weir-scan-'));
    store = openSqliteStore({ file: join(dir, 'weir.sqlite') });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('queues a rule once a day however often it scans, and a failing source keeps no other from running', async () => {
    let now = NOW;
    const errors: string[] = [];
    const scanner = new NoticeScanner({
      store,
      now: () => now,
      log: { info: () => undefined, warn: () => undefined, error: (_o, msg) => void errors.push(msg) },
      sources: [
        () => Promise.reject(new Error('broken source')),
        ruleExpiryNotices(() => set([rule('soon', NOW + 3 * DAY)]), 14 * DAY),
      ],
    });
    expect(await scanner.scan()).toBe(1);
    now += 60_000;
    expect(await scanner.scan()).toBe(0);
    now = NOW + DAY;
    expect(await scanner.scan()).toBe(1);
    expect(errors).toEqual([
      'notify: a notice source failed; the others ran',
      'notify: a notice source failed; the others ran',
      'notify: a notice source failed; the others ran',
    ]);
    await scanner.close();
  });
});
