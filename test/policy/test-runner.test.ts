/**
 * @module test/policy-test-runner — `weir policy test`: cases of the examples and of fixture
 * sets that pass, golden output of a set whose cases fail in every way a case can (wrong
 * decision, rule, reason; an expired rule; an unknown identity; a target that cannot be
 * asked), coverage, and the request defaults. Update the goldens with
 * `npx vitest run test/policy-test-runner -u` and review the diff.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compilePolicySet } from '../../src/engine/index.js';
import type { Decision } from '../../src/engine/index.js';
import { loadPolicySet } from '../../src/policy/index.js';
import { requestFor, verdictOf } from '../../src/explain/index.js';
import { formatTestJson, formatTestText, runPolicyTests, testExitCode } from '../../src/explain/index.js';
import type { TestRunReport } from '../../src/explain/index.js';
import { runPolicyTest } from '../../src/cli/policy.js';

const FIXTURES = 'test/fixtures/policies';
const GOLDEN = '../fixtures/policies/runner-expected';
/** The clock of every case without `at`: results must not depend on when CI runs. */
const NOW = Date.parse('2026-06-01T00:00:00Z');

function run(dir: string, now = NOW): TestRunReport {
  const { set, diagnostics } = loadPolicySet(dir);
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return runPolicyTests(set, compilePolicySet(set, { skipUnresolved: true }), { now });
}

function cli(paths: string[], flags: { format?: string; now?: string; requireCoverage?: boolean } = {}) {
  let out = '';
  const code = runPolicyTest(paths, { format: 'text', now: '2026-06-01', ...flags }, (s) => (out += s));
  return { code, out };
}

describe('passing sets', () => {
  it('passes every case of examples/policies', () => {
    const r = run('examples/policies', Date.parse('2026-12-01T00:00:00Z'));
    expect(r.cases.map((c) => c.failures)).toEqual([[], [], [], [], []]);
    expect(r).toMatchObject({ passed: 5, failed: 0 });
  });

  it("passes every case of the lint corpus's good/ set", () => {
    const r = run(`${FIXTURES}/good`);
    expect(r).toMatchObject({ passed: 6, failed: 0 });
  });

  it('passes runner-pass/ and lists the one rule no case touched', async () => {
    const r = run(`${FIXTURES}/runner-pass`);
    expect(r).toMatchObject({ passed: 16, failed: 0 });
    expect(r.rules).toHaveLength(8);
    expect(r.uncovered).toEqual([
      { policy: 'orders', ruleId: 'sentry', file: `${FIXTURES}/runner-pass/orders.yaml`, line: 42 },
    ]);
    expect(testExitCode(r)).toBe(0);
    await expect(formatTestText(r)).toMatchFileSnapshot(`${GOLDEN}/runner-pass.text.golden`);
  });

  it('counts a nearest rule as touched, and a guardrail or unknown identity as touching nothing', () => {
    const r = run(`${FIXTURES}/runner-pass`);
    const touched = r.cases.map((c) => c.explanation?.decision.matched?.ruleId ?? null);
    expect(touched.filter((t) => t === null)).toHaveLength(3);
    expect(touched).toContain('dns');
  });

  it('fails on uncovered rules with --require-coverage', () => {
    const { code, out } = cli([`${FIXTURES}/runner-pass`], { requireCoverage: true });
    expect(code).toBe(1);
    expect(out).toContain('error: 1 rule no case touched:\n');
    expect(out.endsWith('16 passed, 0 failed; 1 rule not covered (--require-coverage)\n')).toBe(true);
  });
});

describe('failing cases', () => {
  it('says what failed, case by case', () => {
    const r = run(`${FIXTURES}/runner-fail`);
    expect(r).toMatchObject({ passed: 1, failed: 6 });
    expect(r.cases.map((c) => [c.test.loc.line, c.failures])).toEqual([
      [26, []],
      [8, ['decision: expected allow, got deny (no-match)']],
      [10, ['rule: expected matching rule orders-db, got stripe']],
      [17, ['reason: expected no-match, got guardrail']],
      [24, ['decision: expected allow, got deny (expired)']],
      [31, ['decision: expected allow, got deny (unknown-identity)']],
      [33, ['cannot run: no port: tcp needs one']],
    ]);
    expect(testExitCode(r)).toBe(1);
  });

  it('explains an expired rule with its owner and date', () => {
    const text = formatTestText(run(`${FIXTURES}/runner-fail`));
    expect(text).toContain(
      'reason:    expired: rule legacy-feed of policy orders matches but expired on 2026-03-31 (owner partner-eng@example.com); an expired rule never allows',
    );
    expect(text).toContain(`rule:      legacy-feed (${FIXTURES}/runner-fail/orders.yaml:19)`);
  });

  it('writes text and JSON goldens', async () => {
    const r = run(`${FIXTURES}/runner-fail`);
    await expect(formatTestText(r)).toMatchFileSnapshot(`${GOLDEN}/runner-fail.text.golden`);
    await expect(formatTestJson(r)).toMatchFileSnapshot(`${GOLDEN}/runner-fail.json.golden`);
  });

  it('gives every JSON case its expectation, verdict and explanation', () => {
    const json = JSON.parse(formatTestJson(run(`${FIXTURES}/runner-fail`))) as {
      passed: number;
      failed: number;
      cases: { pass: boolean; expected: unknown; explanation?: { decision: string; reason: string } }[];
      coverage: { rules: number; covered: number; uncovered: { ruleId: string }[] };
    };
    expect(json).toMatchObject({ passed: 1, failed: 6, coverage: { rules: 3, covered: 2 } });
    expect(json.coverage.uncovered.map((u) => u.ruleId)).toEqual(['orders-db']);
    expect(json.cases[4]).toMatchObject({
      pass: false,
      expected: { decision: 'allow', rule: 'legacy-feed' },
      explanation: {
        decision: 'deny',
        reason: 'expired',
        matched: { ruleId: 'legacy-feed', owner: 'partner-eng@example.com', expires: '2026-03-31' },
      },
    });
    expect(json.cases[6]).not.toHaveProperty('explanation');
  });
});

describe('the command', () => {
  it('prints load errors as lint does and exits 1', () => {
    const { code, out } = cli([`${FIXTURES}/bad/invalid-port.yaml`]);
    expect(code).toBe(1);
    expect(out).toMatch(/^test\/fixtures\/policies\/bad\/invalid-port\.yaml:\d+:\d+: error invalid-port: /);
    expect(out).toMatch(/\n2 errors, 0 warnings \(1 policy, 0 rules/);
  });

  it('runs on several paths and writes JSON', () => {
    const { code, out } = cli(['examples/policies'], { format: 'json', now: '2026-12-01' });
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ passed: 5, failed: 0, coverage: { rules: 8, covered: 2 } });
  });

  it.each([
    [{ format: 'sarif' }, "--format must be one of text, json (got 'sarif')"],
    [{ now: 'soon' }, "--now: not a date or timestamp (got 'soon')"],
  ])('refuses bad options %j', (flags, message) => {
    expect(() => cli(['examples/policies'], flags)).toThrow(message);
  });

  it('exits 0 when all pass and 1 on a failure, as a process', () => {
    const spawn = (dir: string) =>
      spawnSync(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', 'policy', 'test', dir, '--now', '2026-06-01'],
        { encoding: 'utf8', timeout: 30_000 },
      );
    const pass = spawn(`${FIXTURES}/runner-pass`);
    expect(pass).toMatchObject({ status: 0, stderr: '' });
    expect(pass.stdout).toContain('16 passed, 0 failed\n');
    const fail = spawn(`${FIXTURES}/runner-fail`);
    expect(fail).toMatchObject({ status: 1, stderr: '' });
    expect(fail.stdout).toContain('\n1 passed, 6 failed\n');
  });
});

describe('requestFor', () => {
  const ID = 'spiffe://t/x';
  it.each([
    ['api.stripe.com:443', { host: 'api.stripe.com', port: 443, protocol: 'tcp' }],
    ['API.Stripe.com.:443', { host: 'api.stripe.com', port: 443, protocol: 'tcp' }],
    ['10.0.0.2:53/udp', { ip: '10.0.0.2', port: 53, protocol: 'udp' }],
    ['[FD00:20::9]:5432', { ip: 'fd00:20::9', port: 5432, protocol: 'tcp' }],
    ['192.0.2.1/icmp', { ip: '192.0.2.1', port: 0, protocol: 'icmp' }],
    ['fd00::1/icmpv6', { ip: 'fd00::1', port: 0, protocol: 'icmpv6' }],
    ['10.0.0.1/47', { ip: '10.0.0.1', port: 0, protocol: '47' }],
  ])('%s', (to, want) => {
    expect(requestFor(ID, to, NOW)).toEqual({ ok: true, value: { identity: ID, now: NOW, ...want } });
  });

  it.each([
    ['api.stripe.com', 'no port: tcp needs one', 'write e.g. api.stripe.com:443'],
    ['fd00::53/udp', 'no port: udp needs one', 'write e.g. [fd00::53]:443/udp'],
    ['10.0.0.1:1/all', 'a request has one protocol; all (-1) is for rules only', undefined],
    ['api.stripe.com:99999', 'port "99999" is not 0-65535', undefined],
  ])('refuses %s', (to, message, hint) => {
    const r = requestFor(ID, to, NOW);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.problem.message).toBe(message);
      if (hint !== undefined) expect(r.problem.hint).toBe(hint);
    }
  });
});

describe('verdictOf', () => {
  const base = { identity: 'i', evalNs: 0 };
  it('treats a report-mode would-deny as deny and a report-mode match as allow', () => {
    const d = (allow: boolean, mode: 'enforce' | 'report', reason: Decision['reason']): Decision => ({
      ...base,
      allow,
      mode,
      reason,
    });
    expect(verdictOf(d(true, 'report', 'no-match'))).toBe('deny');
    expect(verdictOf(d(true, 'report', 'expired'))).toBe('deny');
    expect(verdictOf(d(true, 'report', 'matched'))).toBe('allow');
    expect(verdictOf(d(true, 'enforce', 'matched'))).toBe('allow');
    expect(verdictOf(d(false, 'enforce', 'guardrail'))).toBe('deny');
  });
});
