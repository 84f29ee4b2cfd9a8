/**
 * `npm run bench:cli` — what a `weir` command costs before it does anything: the CPU time (user +
 * system) of whole processes, as a user runs them from the built checkout (bin/weir.js → dist/).
 * Target (issue 15): `weir --help` and `weir ec2 describe-security-groups` under 400 ms each.
 *
 * Measured, N times each, interleaved: `node -e 0` (Node's own start: the floor), `weir --help`,
 * `weir ec2 describe-security-groups` against a `weir serve` this benchmark starts (loopback,
 * temporary data directory), and `npx weir --help` (npm's own start on top). Each process's CPU
 * time comes from process.cpuUsage() at exit (benchmarks/cpu-at-exit.mjs); wall time is printed
 * too but is the noisier figure on a shared machine.
 *
 * Baseline in the same run: with `WEIR_BENCH_BASELINE=DIR` (another checkout, built), the same
 * commands from DIR/bin/weir.js, with ratios this ÷ baseline.
 *
 * Options: `--n=N` (default 15). The server is stopped at the end; every wait is bounded.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name: string, def: number): number => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? def : Number(a.slice(name.length + 3));
};
const N = arg('n', 15);
const CPU_HOOK = join(root, 'benchmarks/cpu-at-exit.mjs');
const work = mkdtempSync(join(tmpdir(), 'weir-bench-cli-'));
const dataDir = join(work, 'data');
const baseline = process.env.WEIR_BENCH_BASELINE;

interface Case {
  readonly name: string;
  readonly argv: readonly string[];
}

function cases(checkout: string, label: string): Case[] {
  const bin = join(checkout, 'bin/weir.js');
  return [
    { name: `${label}weir --help`, argv: [process.execPath, '--import', CPU_HOOK, bin, '--help'] },
    {
      name: `${label}weir ec2 describe-security-groups`,
      argv: [process.execPath, '--import', CPU_HOOK, bin, 'ec2', 'describe-security-groups'],
    },
  ];
}

/**
 * Runs `argv` once; its CPU time (ms, from the hook) and wall time (ms). `nodeOptions` carries the
 * hook into processes started by another program (npx).
 */
function runOnce(argv: readonly string[], cpuFile: string, nodeOptions = ''): { cpu: number; wall: number } {
  writeFileSync(cpuFile, '');
  const start = process.hrtime.bigint();
  const run = spawnSync(argv[0]!, argv.slice(1), {
    cwd: root,
    env: { ...process.env, WEIR_DATA_DIR: dataDir, WEIR_CPU_FILE: cpuFile, NODE_OPTIONS: nodeOptions },
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 60_000,
  });
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  if (run.status !== 0) throw new Error(`${argv.join(' ')} exited ${run.status}: ${String(run.stderr)}`);
  // npx runs weir in a child of its own: the hook reports both processes; they add up.
  const cpu = readFileSync(cpuFile, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .reduce((sum, l) => sum + Number(l) / 1000, 0);
  return { cpu, wall };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

/** Whether `npx weir` runs here (it needs the checkout's own node_modules/.bin/weir). */
function npxWorks(): boolean {
  const ok =
    spawnSync('npx', ['--no-install', 'weir', '--version'], { cwd: root, stdio: 'ignore' }).status === 0;
  if (!ok) console.log('(npx weir does not run in this checkout: its case is left out)');
  return ok;
}

async function startServer(): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      join(root, 'bin/weir.js'),
      'serve',
      '--data-dir',
      dataDir,
      '--api-listen',
      '127.0.0.1:0',
      '--proxy-listen',
      'off',
    ],
    { cwd: root, stdio: 'ignore' },
  );
  for (let attempt = 0; attempt < 300; attempt++) {
    try {
      readFileSync(join(dataDir, 'endpoint'), 'utf8');
      return child;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  child.kill('SIGKILL');
  throw new Error('weir serve did not write its endpoint file');
}

async function main(): Promise<void> {
  const server = await startServer();
  try {
    const all: Case[] = [
      { name: 'node -e 0 (floor)', argv: [process.execPath, '--import', CPU_HOOK, '-e', '0'] },
      ...cases(root, ''),
      ...(npxWorks()
        ? [{ name: 'npx weir --help (npm and weir)', argv: ['npx', '--no-install', 'weir', '--help'] }]
        : []),
      ...(baseline !== undefined ? cases(baseline, 'baseline: ') : []),
    ];
    const cpu = new Map<string, number[]>(all.map((c) => [c.name, []]));
    const wall = new Map<string, number[]>(all.map((c) => [c.name, []]));
    const cpuFile = join(work, 'cpu');
    for (let i = 0; i < N; i++) {
      for (const c of all) {
        // npx starts node itself: NODE_OPTIONS carries the hook to npm's process and to weir's.
        const r = runOnce(c.argv, cpuFile, c.argv[0] === 'npx' ? `--import=${CPU_HOOK}` : '');
        cpu.get(c.name)!.push(r.cpu);
        wall.get(c.name)!.push(r.wall);
      }
    }
    console.log(`weir CLI start-up, ${N} runs each (median; CPU = user + system of the whole process)`);
    for (const c of all) {
      const line = `${c.name.padEnd(52)} CPU ${median(cpu.get(c.name)!).toFixed(0).padStart(5)} ms   wall ${median(wall.get(c.name)!).toFixed(0).padStart(5)} ms`;
      const base = c.name.startsWith('baseline: ') ? undefined : cpu.get(`baseline: ${c.name}`);
      const ratio =
        base === undefined
          ? ''
          : `   this ÷ baseline ${(median(cpu.get(c.name)!) / median(base)).toFixed(2)}×`;
      console.log(line + ratio);
    }
  } finally {
    server.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
