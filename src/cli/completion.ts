/**
 * @module cli/completion — `weir completion bash|zsh`: prints a shell completion script made from
 * the program itself (every command, subcommand and option that commander knows, and the AWS
 * CLI operations of `weir ec2` / `weir sts`), so it never lags behind a new flag.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { serviceCommands } from './ec2/index.js';
import { buildProgram } from './program.js';

const SHELLS = ['bash', 'zsh'] as const;
type Shell = (typeof SHELLS)[number];

/** A word the script may carry unquoted: command and option names only, nothing a shell expands. */
const SAFE_WORD = /^[A-Za-z0-9][A-Za-z0-9-]*$|^--?[A-Za-z0-9][A-Za-z0-9-]*$/;

/** One level of the command tree: the words after `weir` that lead to it, and what may follow. */
interface Level {
  readonly path: string;
  readonly subcommands: readonly string[];
  readonly options: readonly string[];
}

function levels(cmd: Command, path: string[], out: Level[]): Level[] {
  const name = path.join(' ');
  const service = path.length === 1 && (path[0] === 'ec2' || path[0] === 'sts') ? path[0] : undefined;
  const subcommands = service !== undefined ? serviceCommands(service) : cmd.commands.map((c) => c.name());
  const options = [
    ...cmd.options.flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined)),
    ...(service === undefined ? ['--help'] : []),
  ];
  out.push({
    path: name,
    subcommands: subcommands.filter((w) => SAFE_WORD.test(w)),
    options: options.filter((w) => SAFE_WORD.test(w)),
  });
  for (const sub of cmd.commands) levels(sub, [...path, sub.name()], out);
  return out;
}

/** The bash completion script for `program` (zsh runs it through bashcompinit). */
export function bashCompletionScript(program: Command): string {
  const cases = levels(program, [], []).map(
    (l) => `    "${l.path}") subs="${l.subcommands.join(' ')}"; opts="${l.options.join(' ')}" ;;`,
  );
  return [
    '# weir shell completion, made by `weir completion`. Load it with: source <(weir completion bash)',
    '_weir_level() {',
    '  case "$1" in',
    ...cases,
    '    *) subs=""; opts="" ;;',
    '  esac',
    '}',
    '_weir_complete() {',
    // No indexing: zsh (through bashcompinit) numbers COMP_WORDS from 1, bash from 0.
    '  local cur="" path="" subs="" opts="" word n=0',
    '  for word in "${COMP_WORDS[@]}"; do',
    '    if (( n == COMP_CWORD )); then cur="$word"; break; fi',
    '    if (( n > 0 )); then',
    '      _weir_level "$path"',
    '      [[ " $subs " == *" $word "* ]] && path="${path:+$path }$word"',
    '    fi',
    '    n=$((n + 1))',
    '  done',
    '  _weir_level "$path"',
    '  if [[ "$cur" == -* ]]; then',
    '    COMPREPLY=($(compgen -W "$opts" -- "$cur"))',
    '  else',
    '    COMPREPLY=($(compgen -W "$subs" -- "$cur"))',
    '  fi',
    '}',
    // Empty answers fall back to file names: most values (policy dirs, PEM files) are paths.
    'complete -o default -F _weir_complete weir',
    '',
  ].join('\n');
}

/** The completion script for `shell`. */
export function completionScript(shell: Shell, program: Command): string {
  const bash = bashCompletionScript(program);
  if (shell === 'bash') return bash;
  return [
    "# weir zsh completion: the bash script through zsh's bashcompinit.",
    '# Load it after compinit with: source <(weir completion zsh)',
    'autoload -U +X bashcompinit && bashcompinit',
    bash,
  ].join('\n');
}

function shellName(value: string): Shell {
  if (!(SHELLS as readonly string[]).includes(value))
    throw new InvalidArgumentError(`must be one of ${SHELLS.join(', ')}`);
  return value as Shell;
}

/** Registers `weir completion` on the `weir` program. */
export function registerCompletionCommand(program: Command): void {
  program
    .command('completion')
    .description('Print a shell completion script: weir completion bash|zsh (see docs/cli.md).')
    .argument('<shell>', `the shell: ${SHELLS.join(' | ')}`, shellName)
    .action(async (shell: Shell) => {
      process.stdout.write(completionScript(shell, await buildProgram('all')));
    });
}
