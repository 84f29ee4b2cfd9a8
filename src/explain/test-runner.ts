/**
 * @module explain/test-runner — runs a policy set's test cases (each policy's `tests:` and the
 * `EgressPolicyTest` files) against a compiled snapshot and reports, per case, expected vs
 * actual with the full explanation of failures, and per rule whether any case touched it
 * (matched it, or found it nearest). The snapshot is passed in: the runner judges decisions,
 * the engine makes them.
 */
import type { DecisionRequest, Explanation, Snapshot } from '../engine/index.js';
import { explanationJson, formatExplanation, requestFor, verdictOf } from './explain.js';
import type { RequestProblem } from './explain.js';
import { formatTime } from '../policy/index.js';
import type { PolicySet, PolicyTest } from '../policy/index.js';

/** What the runner needs of a snapshot. */
export type Explainer = Pick<Snapshot, 'explain'>;

/** Options of `runPolicyTests`. */
export interface TestRunOptions {
  /** Evaluation time of cases without `at` (epoch ms). */
  readonly now: number;
}

/** One rule of the set, as coverage lists it. */
export interface RuleRef {
  readonly policy: string;
  readonly ruleId: string;
  readonly file: string;
  readonly line: number;
}

/** The outcome of one case. */
export interface CaseResult {
  readonly test: PolicyTest;
  /** The policy whose `tests:` (or test file naming it) holds the case; absent for set-wide cases. */
  readonly policy?: string;
  /** Absent when the case's `to` cannot be asked (see `problem`). */
  readonly request?: DecisionRequest;
  readonly explanation?: Explanation;
  /** Why the case could not run (e.g. a tcp target without a port); the case fails. */
  readonly problem?: RequestProblem;
  /** One line per failed assertion (`rule: expected stripe-api, got payments-db`); empty = pass. */
  readonly failures: readonly string[];
}

/** Everything a run found. */
export interface TestRunReport {
  /** In file, then line order. */
  readonly cases: readonly CaseResult[];
  readonly passed: number;
  readonly failed: number;
  /** Every rule of the set, in policy then rule order. */
  readonly rules: readonly RuleRef[];
  /** Rules no case matched or found nearest. */
  readonly uncovered: readonly RuleRef[];
  /** The set the cases ran on (its identities feed "did you mean" hints). */
  readonly set: PolicySet;
}

/** Runs every case of `set` against `snapshot` (compiled from the same set). */
export function runPolicyTests(set: PolicySet, snapshot: Explainer, opts: TestRunOptions): TestRunReport {
  const all: { test: PolicyTest; policy?: string }[] = [
    ...set.policies.flatMap((p) => p.tests.map((test) => ({ test, policy: p.name }))),
    ...(set.tests ?? []).map((test) => ({ test })),
  ];
  all.sort((a, b) => compareLoc(a.test, b.test));
  const touched = new Set<string>();
  const cases = all.map(({ test, policy }): CaseResult => {
    const owner = policy === undefined ? {} : { policy };
    const built = requestFor(test.from, test.to, test.at ?? opts.now);
    if (!built.ok) {
      return { test, ...owner, problem: built.problem, failures: [`cannot run: ${built.problem.message}`] };
    }
    const request = built.value;
    const explanation = snapshot.explain(request);
    const m = explanation.decision.matched;
    if (m !== undefined) touched.add(key(m.policy, m.ruleId));
    return { test, ...owner, request, explanation, failures: judge(test, explanation) };
  });
  const rules = set.policies.flatMap((p) =>
    p.rules.map((r) => ({ policy: p.name, ruleId: r.id, file: r.loc.file, line: r.loc.line })),
  );
  const failed = cases.filter((c) => c.failures.length > 0).length;
  return {
    cases,
    passed: cases.length - failed,
    failed,
    rules,
    uncovered: rules.filter((r) => !touched.has(key(r.policy, r.ruleId))),
    set,
  };
}

function key(policy: string, ruleId: string): string {
  return `${policy}\u0000${ruleId}`;
}

function compareLoc(a: PolicyTest, b: PolicyTest): number {
  if (a.loc.file !== b.loc.file) return a.loc.file < b.loc.file ? -1 : 1;
  return a.loc.line - b.loc.line || a.loc.col - b.loc.col;
}

function judge(test: PolicyTest, e: Explanation): string[] {
  const d = e.decision;
  const failures: string[] = [];
  const verdict = verdictOf(d);
  if (verdict !== test.expect)
    failures.push(`decision: expected ${test.expect}, got ${verdict} (${d.reason})`);
  if (test.rule !== undefined && d.matched?.ruleId !== test.rule) {
    const what = test.expect === 'allow' ? 'matching' : 'nearest';
    failures.push(`rule: expected ${what} rule ${test.rule}, got ${d.matched?.ruleId ?? 'none'}`);
  }
  if (test.reason !== undefined && d.reason !== test.reason) {
    failures.push(`reason: expected ${test.reason}, got ${d.reason}`);
  }
  return failures;
}

function expectedText(t: PolicyTest): string {
  const parts: string[] = [t.expect];
  if (t.reason !== undefined) parts.push(`reason ${t.reason}`);
  if (t.rule !== undefined) parts.push(`rule ${t.rule}`);
  return parts.join(', ');
}

function actualText(e: Explanation): string {
  const d = e.decision;
  const verdict = verdictOf(d);
  const parts: string[] = [
    d.allow && verdict === 'deny' ? 'deny (report mode: allowed and logged)' : verdict,
  ];
  parts.push(`reason ${d.reason}`);
  const label = d.reason === 'no-match' ? 'nearest rule' : 'rule';
  parts.push(d.matched === undefined ? 'no rule' : `${label} ${d.matched.ruleId}`);
  return parts.join(', ');
}

function caseTitle(c: CaseResult): string {
  const at = c.test.at === undefined ? '' : ` at ${formatTime(c.test.at)}`;
  return `${c.test.loc.file}:${c.test.loc.line}  ${c.test.from} -> ${c.test.to}${at}`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** How the report is written. */
export interface TestReportOptions {
  /** Uncovered rules are an error (the summary says so) rather than a warning. */
  readonly requireCoverage?: boolean;
  /** Prefix-list/group references that match nothing in this run (not resolved offline). */
  readonly unresolved?: readonly string[];
}

/**
 * The report for people: one `PASS`/`FAIL` line per case (file:line, from -> to, what it
 * asserted), under each failure expected vs actual and the explanation, then the rules no case
 * touched, then `N passed, N failed`. Plain ASCII and no colour, so logs and goldens are stable.
 */
export function formatTestText(report: TestRunReport, opts: TestReportOptions = {}): string {
  const out: string[] = [];
  for (const c of report.cases) {
    if (c.failures.length === 0) {
      out.push(`PASS ${caseTitle(c)}: ${expectedText(c.test)}`);
      continue;
    }
    out.push(`FAIL ${caseTitle(c)}`);
    if (c.problem !== undefined) {
      out.push(`  cannot run: ${c.problem.message}`);
      if (c.problem.hint !== undefined) out.push(`  hint: ${c.problem.hint}`);
      continue;
    }
    if (c.explanation === undefined || c.request === undefined) continue;
    out.push(`  expected: ${expectedText(c.test)}`);
    out.push(`  actual:   ${actualText(c.explanation)}`);
    for (const f of c.failures) out.push(`  - ${f}`);
    out.push('  explanation:');
    for (const line of formatExplanation(c.request, c.explanation, { set: report.set })) {
      out.push(`    ${line}`);
    }
  }
  if (report.cases.length === 0)
    out.push('warning: no test cases (tests: in a policy, or files under tests/)');
  if (opts.unresolved !== undefined && opts.unresolved.length > 0) {
    out.push(`note: not resolved offline, so matching nothing in these tests: ${opts.unresolved.join(', ')}`);
  }
  const covered = report.rules.length - report.uncovered.length;
  out.push('');
  out.push(
    `coverage: ${covered} of ${plural(report.rules.length, 'rule')} touched by a case (matched or nearest)`,
  );
  if (report.uncovered.length > 0) {
    const severity = opts.requireCoverage === true ? 'error' : 'warning';
    out.push(`${severity}: ${plural(report.uncovered.length, 'rule')} no case touched:`);
    for (const r of report.uncovered) out.push(`  ${r.file}:${r.line}  ${r.policy}/${r.ruleId}`);
  }
  const gap = opts.requireCoverage === true && report.uncovered.length > 0;
  out.push(
    `${report.passed} passed, ${report.failed} failed` +
      (gap ? `; ${plural(report.uncovered.length, 'rule')} not covered (--require-coverage)` : ''),
  );
  return `${out.join('\n')}\n`;
}

/** The report as JSON: counts, every case with its explanation, and coverage. */
export function formatTestJson(report: TestRunReport, opts: TestReportOptions = {}): string {
  const cases = report.cases.map((c) => ({
    file: c.test.loc.file,
    line: c.test.loc.line,
    col: c.test.loc.col,
    ...(c.policy !== undefined ? { policy: c.policy } : {}),
    from: c.test.from,
    to: c.test.to,
    ...(c.request !== undefined ? { at: formatTime(c.request.now) } : {}),
    expected: {
      decision: c.test.expect,
      ...(c.test.rule !== undefined ? { rule: c.test.rule } : {}),
      ...(c.test.reason !== undefined ? { reason: c.test.reason } : {}),
    },
    pass: c.failures.length === 0,
    failures: c.failures,
    ...(c.problem !== undefined ? { problem: c.problem } : {}),
    ...(c.request !== undefined && c.explanation !== undefined
      ? { explanation: explanationJson(c.request, c.explanation, { set: report.set }) }
      : {}),
  }));
  return `${JSON.stringify(
    {
      passed: report.passed,
      failed: report.failed,
      cases,
      coverage: {
        rules: report.rules.length,
        covered: report.rules.length - report.uncovered.length,
        uncovered: report.uncovered,
        required: opts.requireCoverage === true,
      },
      unresolved: opts.unresolved ?? [],
    },
    null,
    2,
  )}\n`;
}

/** The exit code of a run: 1 when a case failed, or a rule is uncovered and coverage is required. */
export function testExitCode(report: TestRunReport, opts: TestReportOptions = {}): number {
  return report.failed > 0 || (opts.requireCoverage === true && report.uncovered.length > 0) ? 1 : 0;
}
