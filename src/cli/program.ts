/**
 * @module cli/program — the `weir` program and its command table.
 *
 * Every command lives in its own module, and most of them pull in heavy libraries (the AWS SDK,
 * zod, pino, prom-client, SQLite). Loading them all costs about a second of CPU before anything
 * runs, so the program registers only the command a call names: `weir ec2 …` loads the EC2
 * commands and nothing else. `weir --help` (or an unknown command) registers a light stand-in for
 * each command, enough for commander to list them and suggest the nearest name.
 */
import { Command } from 'commander';

/** Adds one or more commands to the program. */
export type RegisterCommands = (program: Command) => void;

/** One top-level command: its name, the line `weir --help` shows, and how to load it. */
export interface CommandEntry {
  readonly name: string;
  /** The command's description, as its module registers it (a test keeps the two equal). */
  readonly summary: string;
  readonly load: () => Promise<RegisterCommands>;
}

/** The top-level commands, in the order `weir --help` lists them. */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'serve',
    summary: 'Run the control plane (EC2 API on SQLite or PostgreSQL), the console and the gateway.',
    load: async () => (await import('./serve.js')).registerServeCommand,
  },
  {
    name: 'policy',
    summary: 'Policy as code: lint policy files, run their tests, print their JSON Schema.',
    load: async () => (await import('./policy.js')).registerPolicyCommands,
  },
  {
    name: 'check',
    summary:
      'Explain one decision: may IDENTITY reach HOST[:PORT][/PROTO]? Exit 0 allow, 1 deny, 2 usage error.',
    load: async () => (await import('./check.js')).registerCheckCommand,
  },
  {
    name: 'decisions',
    summary:
      "The gateway's recent decisions: from the running server's store, or from a decision log file (--file).",
    load: async () => (await import('./decisions.js')).registerDecisionsCommand,
  },
  {
    name: 'token',
    summary: 'Gateway bearer tokens (identity of a workload).',
    load: async () => (await import('./token.js')).registerTokenCommands,
  },
  {
    name: 'breakglass',
    summary:
      'Emergency egress: open a short, audited session with a one-time code (RFC 6238), close, list, drill.',
    load: async () => (await import('./breakglass.js')).registerBreakglassCommands,
  },
  {
    name: 'exception',
    summary:
      'Temporary exceptions: request, approve, deny, revoke, list, show, promote (docs/exceptions.md).',
    load: async () => (await import('./exception.js')).registerExceptionCommands,
  },
  {
    name: 'workload',
    summary: 'Security groups attached to workload identities (the gateway enforces their egress rules).',
    load: async () => (await import('./workload.js')).registerWorkloadCommands,
  },
  {
    name: 'audit',
    summary: 'The audit trail: log, verify (hash chain and signed digests), export as CloudTrail records.',
    load: async () => (await import('./audit.js')).registerAuditCommands,
  },
  {
    name: 'ec2',
    summary: 'EC2 security-group, prefix-list, tag and VPC commands, as the AWS CLI has them (weir ec2 help)',
    load: async () => (await import('./ec2-command.js')).registerAwsCommands,
  },
  {
    name: 'sts',
    summary: 'STS get-caller-identity, as the AWS CLI has it',
    load: async () => (await import('./ec2-command.js')).registerAwsCommands,
  },
  {
    name: 'completion',
    summary: 'Print a shell completion script: weir completion bash|zsh (see docs/cli.md).',
    load: async () => (await import('./completion.js')).registerCompletionCommand,
  },
  {
    name: 'report',
    summary:
      'The evidence report of a period (access and why, expiries, exceptions, break-glass, audit chain, bundles): HTML, JSON or PDF.',
    load: async () => (await import('./report.js')).registerReportCommand,
  },
];

/** The package's version (dist/cli and src/cli are both two levels below package.json). */
async function packageVersion(): Promise<string> {
  const { readFileSync } = await import('node:fs');
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version?: string;
  };
  return pkg.version ?? 'unknown';
}

/**
 * The command an argument list names: the first word that is not an option (`weir help X` names
 * X). `weir` takes no option with a value before the command, so the first bare word is it.
 */
export function commandWord(args: readonly string[]): string | undefined {
  const words = args.filter((a) => !a.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}

/**
 * Builds the `weir` program. With `only`, just that command's module is loaded; without it, every
 * module is (for completion and tests). A name that is no command gets the light stand-ins.
 */
export async function buildProgram(only?: string | 'all'): Promise<Command> {
  const program = new Command('weir')
    .description('Egress control: an EC2-compatible security-group API, policy as code, and enforcement.')
    .version(await packageVersion(), '-V, --version', 'print the version of weir')
    // Options before the command are weir's own (`weir --version`); after it, the command's
    // (`weir policy bundle DIR --version 3`).
    .enablePositionalOptions()
    .showHelpAfterError()
    // A usage error (unknown option, missing argument) exits 2 in every command, so that scripts
    // tell it from a command's own "no" (exit 1: a denial, lint errors). Subcommands created after
    // this inherit it.
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

  const wanted = only === 'all' ? COMMANDS : COMMANDS.filter((c) => c.name === only);
  if (wanted.length === 0) {
    for (const c of COMMANDS) program.command(c.name).description(c.summary);
    return program;
  }
  const registered = new Set<RegisterCommands>();
  for (const c of wanted) {
    const register = await c.load();
    // `ec2` and `sts` share one module that registers both.
    if (registered.has(register)) continue;
    registered.add(register);
    register(program);
  }
  return program;
}
