/**
 * @module test/helpers/serve-process — `weir serve` as a child process (the checkout's
 * src/cli/main.ts through tsx) on port 0 for the API and the gateway: its stdout collected line by
 * line, and the gateway's port read from its "listening" log line.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Absolute, so that the server can run in any working directory. */
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const MAIN = join(ROOT, 'src/cli/main.ts');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ServeProcess {
  readonly child: ChildProcess;
  /** stdout, one entry per line as written (the JSON log lines), growing while it runs. */
  readonly lines: readonly string[];
  /** The gateway's "listening" log line, parsed. */
  readonly listening: Record<string, unknown>;
  /** The gateway's port on 127.0.0.1. */
  readonly proxyPort: number;
  /** Resolves with the exit code, or the signal that ended it. */
  readonly exit: Promise<number | string>;
  /** The exit code or signal once it has exited. */
  exited(): number | string | undefined;
  /** stderr so far. */
  stderr(): string;
  /** stdout's lines parsed (each must be JSON). */
  logLines(): Record<string, unknown>[];
}

/**
 * `node` arguments (after `process.execPath`, in any working directory) for `weir serve
 * --data-dir DATA --api-listen 127.0.0.1:0 --proxy-listen PROXY ARGS…`; PROXY is `127.0.0.1:0`
 * unless given.
 */
export function serveArgv(dataDir: string, args: readonly string[], proxy = '127.0.0.1:0'): string[] {
  return [
    '--import',
    TSX,
    MAIN,
    'serve',
    '--data-dir',
    dataDir,
    '--api-listen',
    '127.0.0.1:0',
    '--proxy-listen',
    proxy,
    ...args,
  ];
}

/** How `spawnServe` starts the process. */
export interface SpawnServeOptions {
  /** Run under this soft limit on open files (`ulimit -n` in a bash that then execs node). */
  readonly ulimitNofile?: number;
}

/**
 * Starts `weir serve --data-dir DATA --api-listen 127.0.0.1:0 --proxy-listen 127.0.0.1:0 ARGS…`
 * and waits until its gateway listens. Throws with its stderr if it exits first.
 */
export async function spawnServe(
  dataDir: string,
  args: readonly string[],
  opts: SpawnServeOptions = {},
): Promise<ServeProcess> {
  const argv = serveArgv(dataDir, args);
  const child =
    opts.ulimitNofile === undefined
      ? spawn(process.execPath, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('bash', ['-c', `ulimit -n ${opts.ulimitNofile} && exec "$0" "$@"`, process.execPath, ...argv], {
          cwd: ROOT,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
  const lines: string[] = [];
  let out = '';
  let err = '';
  let gone: number | string | undefined;
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
    const nl = out.lastIndexOf('\n');
    for (const l of out.slice(0, nl + 1).split('\n')) if (l !== '') lines.push(l);
    out = out.slice(nl + 1);
  });
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exit = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve((gone = code ?? signal ?? -1))),
  );
  let listening: Record<string, unknown> | undefined;
  // Bounded by attempts, not by a clock: a slow machine only makes it take longer.
  for (let attempt = 0; listening === undefined; attempt++) {
    if (gone !== undefined) throw new Error(`weir serve exited (${gone}):\n${err}`);
    if (attempt > 600) {
      child.kill('SIGKILL');
      throw new Error(`weir serve never said where the gateway listens:\n${err}`);
    }
    const line = lines.find((l) => l.includes('"weir egress gateway listening"'));
    if (line !== undefined) listening = JSON.parse(line) as Record<string, unknown>;
    else await sleep(100);
  }
  return {
    child,
    lines,
    listening,
    proxyPort: Number(String(listening.proxy).split(':').at(-1)),
    exit,
    exited: () => gone,
    stderr: () => err,
    logLines: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** A `weir serve` without a gateway, started by {@link spawnApiServe}. */
export interface ApiServe {
  readonly child: ChildProcess;
  /** The API's URL, from the data dir's endpoint file. */
  readonly url: string;
}

/**
 * Starts `weir serve --data-dir DATA --api-listen 127.0.0.1:0 --proxy-listen off ARGS…` in `cwd`
 * and waits until its endpoint file names a URL whose `/healthz` answers (bounded by attempts,
 * not by a clock). Throws with its stderr if it exits first.
 */
export async function spawnApiServe(
  dataDir: string,
  args: readonly string[],
  cwd: string,
): Promise<ApiServe> {
  const child = spawn(process.execPath, serveArgv(dataDir, args, 'off'), {
    cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  for (let attempt = 0; ; attempt++) {
    try {
      const url = readFileSync(join(dataDir, 'endpoint'), 'utf8').trim();
      if ((await fetch(`${url}/healthz`)).ok) return { child, url };
    } catch {
      // not up yet
    }
    if (attempt > 600 || child.exitCode !== null) throw new Error(`weir serve did not start:\n${err}`);
    await sleep(100);
  }
}

/** Stops a spawned server with SIGTERM and waits for it to exit (no-op once it has). */
export async function stopServe(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}
