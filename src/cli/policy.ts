/**
 * @module cli/policy — `weir policy …`: lint a policy set, print the JSON Schema of the format.
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
import type { ReportFormat } from '../policy/index.js';

interface LintFlags {
  format: string;
  now?: string;
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
  if (!(REPORT_FORMATS as readonly string[]).includes(flags.format)) {
    throw new WeirError(
      'InvalidArgument',
      `--format must be one of ${REPORT_FORMATS.join(', ')} (got '${flags.format}')`,
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
  const loaded = loadPolicySet(paths);
  const report = lintPolicySet(loaded.set, loaded.diagnostics, { now });
  write(formatReport(report, flags.format as ReportFormat));
  return report.errors > 0 ? 1 : 0;
}

/** Registers `policy lint` and `policy schema` on the `weir` program. */
export function registerPolicyCommands(program: Command): void {
  const policy = program
    .command('policy')
    .description('Policy as code: lint policy files, print their JSON Schema.')
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
    .command('schema')
    .description('Print the JSON Schema of policy files (for editors: yaml-language-server $schema).')
    .action(() => {
      process.stdout.write(`${JSON.stringify(policyJsonSchema(), null, 2)}\n`);
    });
}
