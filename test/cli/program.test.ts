/**
 * The `weir` program: its command table matches the commands its modules register, usage errors
 * exit 2 in every command, `--version` prints the package's version, and `weir completion`
 * completes commands, subcommands and flags in a real bash (and zsh, where it is installed).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COMMANDS, buildProgram, commandWord } from '../../src/cli/program.js';
import { completionScript } from '../../src/cli/completion.js';
import { probe, requireTool } from '../helpers/tools.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const MAIN = join(ROOT, 'src/cli/main.ts');

function weir(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ['--import', TSX, MAIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, WEIR_DATA_DIR: join(ROOT, 'test/fixtures/no-such-data-dir') },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('the command table', () => {
  it('lists every command its modules register, with the same description', async () => {
    const program = await buildProgram('all');
    const registered = program.commands.map((c) => [c.name(), c.description()]);
    expect(registered).toEqual(COMMANDS.map((c) => [c.name, c.summary]));
  });

  it.each([
    [['serve', '--data-dir', 'x'], 'serve'],
    [['--help'], undefined],
    [['help', 'token'], 'token'],
    [['ec2', 'describe-vpcs', '--output', 'json'], 'ec2'],
    [[], undefined],
  ])('commandWord(%j) is %s', (args, word) => {
    expect(commandWord(args)).toBe(word);
  });

  it('weir --help lists every command without loading them', async () => {
    const program = await buildProgram(undefined);
    expect(program.commands.map((c) => c.name())).toEqual(COMMANDS.map((c) => c.name));
    expect(program.helpInformation()).toContain('completion');
  });
});

describe('usage errors exit 2 in every command', () => {
  it.each([
    [['bogus'], /unknown command 'bogus'/],
    [['serve', '--bogus'], /unknown option '--bogus'/],
    [['token', 'issue'], /required option '--identity <id>' not specified/],
    [['token', 'revoke', '--bogus'], /unknown option/],
    [['workload', 'list', '--bogus'], /unknown option '--bogus'/],
    [['policy', 'lint', '--bogus'], /unknown option/],
    [['completion', 'fish'], /must be one of bash, zsh/],
    [['completion'], /missing required argument 'shell'/],
  ])('weir %j', (args, message) => {
    const run = weir(args);
    expect(run.stderr).toMatch(message);
    expect(run.status).toBe(2);
  });

  it('weir --version prints the package version and exits 0', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const run = weir(['--version']);
    expect(run.stdout.trim()).toBe(pkg.version);
    expect(run.status).toBe(0);
  });
});

/** What a shell's completion offers for `words` (the last one is being typed). */
function complete(shell: 'bash' | 'zsh', script: string, words: string[]): string[] {
  const array = words.map((w) => `'${w}'`).join(' ');
  const body = [
    shell === 'zsh' ? 'autoload -U compinit && compinit -u' : '',
    script,
    `COMP_WORDS=(${array}); COMP_CWORD=${words.length - 1}`,
    '_weir_complete',
    'print_reply() { for w in "${COMPREPLY[@]}"; do echo "$w"; done; }; print_reply',
  ].join('\n');
  // compinit writes ~/.zcompdump: HOME is a temporary directory, not the checkout.
  const home = mkdtempSync(join(tmpdir(), 'weir-completion-'));
  const run = spawnSync(shell, ['-c', body], { encoding: 'utf8', env: { ...process.env, HOME: home } });
  rmSync(home, { recursive: true, force: true });
  expect(run.stderr).toBe('');
  const offered = run.stdout.split('\n').filter((l) => l !== '');
  // zsh's compgen (bashcompinit) offers every word; zsh's compadd then keeps those that start
  // with what was typed, as this does.
  return shell === 'zsh' ? offered.filter((w) => w.startsWith(words.at(-1)!)) : offered;
}

describe('weir completion', () => {
  it.each(['bash', 'zsh'] as const)('completes commands, subcommands and flags in %s', async (shell) => {
    // .ci/run installs zsh; on a developer's machine without it, the zsh case is skipped.
    if (!requireTool(shell, probe(shell, ['-c', 'true']))) return;
    const script = completionScript(shell, await buildProgram('all'));
    expect(complete(shell, script, ['weir', 'po'])).toEqual(['policy']);
    expect(complete(shell, script, ['weir', 'policy', 'b'])).toEqual(['bundle']);
    expect(complete(shell, script, ['weir', 'serve', '--proxy-tls-'])).toEqual([
      '--proxy-tls-cert',
      '--proxy-tls-key',
    ]);
    const ec2 = complete(shell, script, ['weir', 'ec2', 'describe-security-group']);
    expect(ec2).toContain('describe-security-groups');
    expect(ec2).toContain('describe-security-group-rules');
    expect(ec2.every((c) => c.startsWith('describe-security-group'))).toBe(true);
    // A flag's value is not taken for a subcommand: after `--data-dir policy`, still serve's flags.
    expect(complete(shell, script, ['weir', 'serve', '--data-dir', 'policy', '--log-l'])).toEqual([
      '--log-level',
    ]);
  });
});
