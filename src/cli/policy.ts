/**
 * @module cli/policy — `weir policy …`: lint a policy set, run its tests, print the JSON Schema
 * of the format.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { WeirError } from '../model/index.js';
import {
  formatReport,
  lintPolicySet,
  loadPolicySet,
  parseTime,
  policyJsonSchema,
  REPORT_FORMATS,
} from '../policy/index.js';
import type { LintReport, ReportFormat } from '../policy/index.js';
import { compilePolicySet } from '../engine/index.js';
import { formatTestJson, formatTestText, runPolicyTests, testExitCode } from '../explain/index.js';
import { registerPolicyBundleCommands } from './policy-bundle.js';
import { registerPolicyPlanCommands } from './policy-plan-command.js';

interface LintFlags {
  format: string;
  now?: string;
}

/**
 * Checks what lint and test share: `--format` among `formats`, `--now` (default: the clock),
 * and that every path exists. Returns the evaluation time. Mistakes throw `WeirError` (exit 2).
 */
function checkCommonFlags(
  paths: readonly string[],
  flags: { format: string; now?: string },
  formats: readonly string[],
): number {
  if (!formats.includes(flags.format)) {
    throw new WeirError(
      'InvalidArgument',
      `--format must be one of ${formats.join(', ')} (got '${flags.format}')`,
    );
  }
  let now = Date.now();
  if (flags.now !== undefined) {
    const t = parseTime(flags.now, 'start');
    if (!t.ok) throw new WeirError('InvalidArgument', `--now: ${t.problem.message} (got '${flags.now}')`);
    now = t.value;
  }
  for (const p of paths) {
    if (!existsSync(p)) throw new WeirError('InvalidArgument', `${p}: no such file or directory`);
  }
  return now;
}

/**
 * Lints the set at `paths` and writes the report to stdout. Returns the exit code: 0 without
 * errors, 1 with. Usage mistakes (unknown format, bad --now, missing path) throw `WeirError`,
 * which `main` prints as one line (exit 2), so CI can tell a broken call from a broken policy.
 */
export function runPolicyLint(
  paths: readonly string[],
  flags: LintFlags,
  write: (s: string) => void,
): number {
  const now = checkCommonFlags(paths, flags, REPORT_FORMATS);
  const loaded = loadPolicySet(paths);
  const report = lintPolicySet(loaded.set, loaded.diagnostics, { now });
  write(formatReport(report, flags.format as ReportFormat));
  return report.errors > 0 ? 1 : 0;
}

interface TestFlags {
  format: string;
  now?: string;
  requireCoverage?: boolean;
}

const TEST_FORMATS = ['text', 'json'] as const;

/**
 * Runs the test cases of the set at `paths` (each policy's `tests:` and the files under
 * `tests/`) and writes the report to stdout. Returns the exit code: 0 when every case passes
 * (and, with `requireCoverage`, every rule is touched), 1 otherwise, also when the set does
 * not load (its errors are printed as `weir policy lint` prints them). Usage mistakes throw
 * `WeirError` (exit 2).
 */
export function runPolicyTest(
  paths: readonly string[],
  flags: TestFlags,
  write: (s: string) => void,
): number {
  const now = checkCommonFlags(paths, flags, TEST_FORMATS);
  const loaded = loadPolicySet(paths);
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    // Lint's findings about intent (expiry, breadth) do not stop tests; only a set that did not
    // load does, since cases would run against rules silently left out.
    const report: LintReport = {
      diagnostics: errors,
      errors: errors.length,
      warnings: 0,
      stats: {
        policies: loaded.set.policies.length,
        rules: loaded.set.policies.reduce((n, p) => n + p.rules.length, 0),
        workloads: loaded.set.workloads.length,
        tests: loaded.set.policies.reduce((n, p) => n + p.tests.length, 0) + (loaded.set.tests?.length ?? 0),
      },
    };
    write(formatReport(report, flags.format as ReportFormat));
    return 1;
  }
  // Prefix lists and groups live in the control plane; offline they match nothing, and the
  // report says which.
  const snapshot = compilePolicySet(loaded.set, { skipUnresolved: true });
  const report = runPolicyTests(loaded.set, snapshot, { now });
  const opts = { requireCoverage: flags.requireCoverage === true, unresolved: snapshot.stats.unresolved };
  write(flags.format === 'json' ? formatTestJson(report, opts) : formatTestText(report, opts));
  return testExitCode(report, opts);
}

/** Registers `policy lint`, `policy test` and `policy schema` on the `weir` program. */
export function registerPolicyCommands(program: Command): void {
  const policy = program
    .command('policy')
    .description('Policy as code: lint policy files, run their tests, print their JSON Schema.')
    // Usage errors exit 2 like every other bad call here, so CI can tell them from lint errors
    // (exit 1); the subcommands created below inherit this.
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

  policy
    .command('lint')
    .description('Check a policy set (directories and/or files) for errors and warnings. Exit 1 on errors.')
    .argument(
      '<paths...>',
      'policy directories or files (*.yaml, *.yml; tests/ holds EgressPolicyTest files)',
    )
    .option('--format <format>', `output format: ${REPORT_FORMATS.join(' | ')}`, 'text')
    .option('--now <time>', 'evaluate expiry at this time (YYYY-MM-DD or ISO 8601 with zone) instead of now')
    .action((paths: string[], flags: LintFlags) => {
      process.exitCode = runPolicyLint(paths, flags, (s) => process.stdout.write(s));
    });

  policy
    .command('test')
    .description(
      "Run the set's test cases (tests: of each policy, files under tests/) and list rules no case touched. Exit 1 on a failure.",
    )
    .argument('<paths...>', 'policy directories or files')
    .option('--format <format>', `output format: ${TEST_FORMATS.join(' | ')}`, 'text')
    .option('--now <time>', 'evaluate cases without at: at this time (YYYY-MM-DD or ISO 8601 with zone)')
    .option('--require-coverage', 'fail (exit 1) when a rule is touched by no case')
    .action((paths: string[], flags: TestFlags) => {
      process.exitCode = runPolicyTest(paths, flags, (s) => process.stdout.write(s));
    });

  policy
    .command('schema')
    .description('Print the JSON Schema of policy files (for editors: yaml-language-server $schema).')
    .action(() => {
      process.stdout.write(`${JSON.stringify(policyJsonSchema(), null, 2)}\n`);
    });

  registerPolicyBundleCommands(policy);
  registerPolicyPlanCommands(policy);
}
