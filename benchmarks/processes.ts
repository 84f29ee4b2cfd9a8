/**
 * Child processes of the benchmarks (upstreams, `weir serve`, Squid): started from the
 * checkout's root and remembered so that `stopChildren` can end them all, a free loopback port,
 * the first stdout line (how an upstream says its port), a bounded wait for a listener, the
 * guest's halt polling (what an idle vCPU costs to wake, printed with the latency benchmarks), and
 * a process's counters from /proc (CPU time, page faults, run-queue wait).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const children: ChildProcess[] = [];

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

/** Starts `cmd` in the checkout's root; stdout is piped unless `opts.stdout` gives a descriptor. */
export function startChild(cmd: string, args: string[], opts: { stdout?: number } = {}): ChildProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', opts.stdout ?? 'pipe', 'pipe'], cwd: root });
  children.push(child);
  return child;
}

/** The child's first line on stdout. */
export function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((res, rej) => {
    let buf = '';
    child.stdout?.on('data', (c: Buffer) => {
      buf += c.toString();
      const i = buf.indexOf('\n');
      if (i >= 0) res(buf.slice(0, i));
    });
    child.once('exit', (code) => rej(new Error(`child exited (${code}) before answering`)));
  });
}

/** Waits until `child` accepts connections on `port` (bounded); its stderr is in the error. */
export async function waitForPort(port: number, what: string, child: ChildProcess): Promise<void> {
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited: ${stderr}`);
    const ok = await new Promise<boolean>((res) => {
      const s = connect({ host: '127.0.0.1', port }, () => (s.destroy(), res(true)));
      s.once('error', () => res(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not listen on ${port} within 30 s: ${stderr}`);
}

/** Ends every child started here: SIGTERM, then SIGKILL for any still running after `graceMs`. */
export async function stopChildren(graceMs = 2_000): Promise<void> {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, graceMs));
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
}

/**
 * The guest's halt polling (`/sys/module/haltpoll/parameters/guest_halt_poll_ns`), when it has
 * one. At 0 (this VM) a vCPU that goes idle halts at once, and waking it is a trip through the
 * hypervisor: sequential round trips pay that twice per call (server, then client), more than a
 * warm server's own work per call. Printed with the latency benchmarks, whose figures depend on it.
 */
export function haltPollNs(): string {
  try {
    return readFileSync('/sys/module/haltpoll/parameters/guest_halt_poll_ns', 'utf8').trim();
  } catch {
    return 'n/a';
  }
}

/** Clock ticks per second of /proc/PID/stat's CPU times (`getconf CLK_TCK`, 100 on Linux). */
let clockTicks: number | undefined;

/**
 * A process's counters from /proc/PID/stat (Linux; undefined elsewhere or once it has exited): CPU
 * milliseconds in user and in kernel mode, all threads, and minor page faults.
 */
export function procStat(
  pid: number | undefined,
): { userMs: number; systemMs: number; minorFaults: number } | undefined {
  if (pid === undefined) return undefined;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  clockTicks ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;
  // Fields after "(comm)", from field 3 (state): minflt is field 10, utime 14, stime 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    userMs: (Number(f[11]) * 1000) / clockTicks,
    systemMs: (Number(f[12]) * 1000) / clockTicks,
    minorFaults: Number(f[7]),
  };
}

/**
 * /proc/PID/schedstat of a process's main thread (Linux; undefined elsewhere): ns it has run on a
 * CPU and ns it waited on a run queue while ready to run.
 */
export function schedstat(pid: number | undefined): { runNs: number; waitNs: number } | undefined {
  if (pid === undefined) return undefined;
  try {
    const [run = '0', wait = '0'] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ');
    return { runNs: Number(run), waitNs: Number(wait) };
  } catch {
    return undefined;
  }
}
