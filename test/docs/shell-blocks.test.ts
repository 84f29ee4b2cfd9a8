/**
 * @module test/docs-shell-blocks — every shell block of README.md, examples/README.md and docs/*.md runs as written.
 *
 * The convention (also in docs/contributing.md):
 * - A fenced block tagged `sh`, `bash` or `shell` is run; `text`, `yaml`, `ini`, … are shown only.
 *   Output a reader should expect goes in comments (`# 403 Forbidden`) or a `text` block after it.
 *   `console` transcripts are refused: their commands would never be checked.
 * - All runnable blocks of one file are pasted, in order, into one `bash -euo pipefail`, started in
 *   the repository root (as a reader pastes them after `npm ci`) with `node_modules/.bin` (`weir`)
 *   on PATH and HOME and TMPDIR in a fresh temporary directory, so `mktemp -d` lands there and no
 *   AWS or Weir configuration of the machine leaks in.
 * - A block that cannot run here (it needs AWS, or it is a foreground server or the whole suite)
 *   has `<!-- not-run: why -->` on the line before its fence.
 * - Servers a file starts in the background must be stopped by the file itself (`kill …; wait`):
 *   a process still running when the shell exits fails the file. Nothing may be written into the
 *   repository (`git status --porcelain --ignored` is the same before and after).
 * - Commands whose non-zero exit is the point (`weir check` of a denial) say so: `… || echo "exit $?"`.
 * - A file that calls `aws` is skipped where the AWS CLI is not installed, except in CI (`CI=true`).
 * - Links stay inside the repository and name files and headings that exist.
 *
 * Files run one at a time (their fixed ports, 13128/18080/18484 and near, are below Linux's
 * ephemeral range, so the rest of the suite, on port 0, cannot take them).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RUN = new Set(['sh', 'bash', 'shell']);

/** Paths the rest of the suite or a build may create while this test runs. */
const OTHERS_WRITE = /^!! (\.vitest-tmp|coverage|dist|benchmarks\/results)\//;

interface Block {
  readonly line: number;
  readonly lang: string;
  readonly text: string;
  readonly notRun: string | undefined;
}

/** The fenced blocks of a markdown text, with their language and any not-run marker before them. */
function fencedBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]!); i++) body.push(lines[i]!.slice(indent));
    let prev = start - 1;
    while (prev >= 0 && lines[prev]!.trim() === '') prev--;
    const marker = prev >= 0 ? /^\s*<!--\s*not-run:\s*(.*?)\s*-->\s*$/.exec(lines[prev]!) : null;
    blocks.push({ line: start + 1, lang: open[2]!, text: body.join('\n'), notRun: marker?.[1] });
  }
  return blocks;
}

/** GitHub's anchors for the headings of a markdown text. */
function headingAnchors(markdown: string): string[] {
  return [...markdown.matchAll(/^#{1,6} (.*)$/gm)].map((m) =>
    m[1]!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-'),
  );
}

function docFiles(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', 'examples/README.md', ...docs];
}

function gitStatus(): string[] {
  return execFileSync('git', ['status', '--porcelain', '--ignored'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((l) => l !== '' && !OTHERS_WRITE.test(l));
}

/** A file's script calls the AWS CLI (a command `aws` at the start of a line or after `;|&(`). */
const CALLS_AWS = /(^|[;|&(]\s*|\s)aws\s/m;

function hasAws(): boolean {
  try {
    execFileSync('aws', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Run {
  code: number | null;
  output: string;
  lastBlock: number;
  leftRunning: boolean;
}

/** Runs `script` in its own process group; kills whatever of the group outlives the shell. */
async function runScript(script: string, work: string): Promise<Run> {
  const progress = join(work, '.docs-block');
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(AWS_|WEIR_)/.test(k)) env[k] = v;
  Object.assign(env, {
    HOME: work,
    TMPDIR: work,
    PATH: [join(ROOT, 'node_modules/.bin'), process.env.PATH ?? ''].join(delimiter),
    DOCS_BLOCK_PROGRESS: progress,
    NO_COLOR: '1',
  });
  const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const pgid = child.pid!;
  // A server stopped with `kill` may take a moment to finish its shutdown; bounded by attempts.
  let attempts = 0;
  while (groupAlive(pgid) && attempts++ < 100) await sleep(100);
  const leftRunning = groupAlive(pgid);
  if (leftRunning) process.kill(-pgid, 'SIGKILL');
  let lastBlock = 0;
  try {
    lastBlock = Number(readFileSync(progress, 'utf8').trim());
  } catch {
    // no block started
  }
  return { code, output, lastBlock, leftRunning };
}

describe('the shell blocks of README.md and docs/*.md', () => {
  it('refuses console transcripts and not-run markers without a reason', () => {
    for (const file of docFiles()) {
      for (const b of fencedBlocks(readFileSync(join(ROOT, file), 'utf8'))) {
        expect(b.lang, `${file}:${b.line}: use sh (output in comments) or text`).not.toBe('console');
        if (b.notRun !== undefined)
          expect(b.notRun, `${file}:${b.line}: not-run needs a reason`).not.toBe('');
      }
    }
  });

  it('links only inside the repository, to files and headings that exist', () => {
    for (const file of docFiles()) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const [path, anchor] = target!.split('#') as [string, string | undefined];
        expect(path, `${file}: ${target} leaves the repository`).not.toMatch(/^[a-z]+:|^\/|\.\.\/shared/);
        const abs = path === '' ? join(ROOT, file) : join(ROOT, dirname(file), path);
        expect(existsSync(abs), `${file}: ${target} does not exist`).toBe(true);
        if (anchor !== undefined && abs.endsWith('.md')) {
          expect(headingAnchors(readFileSync(abs, 'utf8')), `${file}: ${target} names no heading`).toContain(
            anchor,
          );
        }
      }
    }
  });

  const awsMissing = !hasAws();
  for (const file of docFiles()) {
    const runnable = fencedBlocks(readFileSync(join(ROOT, file), 'utf8')).filter(
      (b) => RUN.has(b.lang) && b.notRun === undefined,
    );
    if (runnable.length === 0) continue;
    // As the other AWS CLI tests do: skipped where it is not installed, except in CI.
    if (awsMissing && process.env.CI !== 'true' && runnable.some((b) => CALLS_AWS.test(b.text))) {
      it.skip(`${file}: needs the AWS CLI (aws), which is not installed`, () => undefined);
      continue;
    }
    it(`${file}: ${runnable.length} block(s) run top to bottom`, { timeout: 120_000 }, async () => {
      const work = mkdtempSync(join(tmpdir(), 'weir-docs-'));
      try {
        const script = runnable
          .map((b, n) => `printf '%s\\n' ${n} > "$DOCS_BLOCK_PROGRESS"\n${b.text}\n`)
          .join('\n');
        const before = gitStatus();
        const run = await runScript(script, work);
        const failed = runnable[run.lastBlock]!;
        expect(
          run.code,
          `${file}: the block at line ${failed.line} failed (exit ${run.code}):\n${run.output}`,
        ).toBe(0);
        expect(run.leftRunning, `${file}: processes still running after its last block`).toBe(false);
        expect(gitStatus(), `${file} wrote into the repository`).toEqual(before);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    });
  }
});
