/**
 * @module cli/main — the `weir` command.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { WeirError } from '../model/index.js';
import { registerServeCommand } from './serve.js';
import { registerPolicyCommands } from './policy.js';
import { registerCheckCommand } from './check.js';
import { registerDecisionsCommand } from './decisions.js';
import { registerTokenCommands } from './token.js';
import { registerWorkloadCommands } from './workload.js';
import { registerAwsCommands } from './ec2-command.js';

/** The package's version (dist/cli and src/cli are both two levels below package.json). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version?: string;
  };
  return pkg.version ?? 'unknown';
}

export function buildProgram(): Command {
  const program = new Command('weir')
    .description('Egress control: an EC2-compatible security-group API, policy as code, and enforcement.')
    .version(packageVersion(), '-V, --version', 'print the version of weir')
    // Options before the command are weir's own (`weir --version`); after it, the command's
    // (`weir policy bundle DIR --version 3`).
    .enablePositionalOptions()
    .showHelpAfterError();

  registerServeCommand(program);
  registerPolicyCommands(program);
  registerCheckCommand(program);
  registerDecisionsCommand(program);
  registerTokenCommands(program);
  registerWorkloadCommands(program);
  registerAwsCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    // Expected failures (bad options, unreadable files) print one line, never a stack trace.
    if (err instanceof WeirError) {
      process.stderr.write(`weir: ${err.message}\n`);
      process.exit(2);
    }
    if (err instanceof Error && 'code' in err && (err.code === 'EADDRINUSE' || err.code === 'EACCES')) {
      process.stderr.write(`weir: cannot listen: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

await main(process.argv);
