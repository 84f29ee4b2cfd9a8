/**
 * `npm run bench:gateway` — CONNECT tunnels through Weir's egress gateway against a direct
 * connection and against Squid (when `squid` is on PATH), with one and the same client and
 * upstream, in one run, over loopback only.
 *
 * Processes: the upstream (a TCP server on 127.0.0.1: echoes, or streams N bytes when the first
 * byte is `S`), `weir serve` run from the build as users run it (`node bin/weir.js`, after
 * `npm run build`; a policy allowing 127.0.0.0/8 on the upstream port for one identity, a token
 * from `weir token issue --data-dir` once the server is up, decision log at info to a file), the Node floor
 * (benchmarks/floor-relay.ts: a bare CONNECT relay, the least any Node.js proxy can cost) and
 * Squid (a generated squid.conf allowing CONNECT to the upstream port only, one worker, access
 * log to a file, buffered as Weir's decision log is). The client runs in this process. Besides the
 * table, same-run ratios of each proxy to the floor and of the floor to Squid are printed.
 *
 * A "tunnel" is: TCP connect (to the upstream, or to the proxy then `CONNECT` and its 200), one
 * byte written and its echo read, close. Workloads, each bounded by a count:
 *   - sequential tunnels/s; 8 concurrent tunnels/s;
 *   - latency at a paced 1,000 tunnels/s (open loop): p50/p99 of setup + first byte; "added" is
 *     the proxy's percentile minus direct's; printed beside it, what the bench's own process did
 *     meanwhile (its GC pauses, its longest event-loop delay) and how long the client's and the
 *     proxy's event loops waited for a CPU, since a tail can be the client's or the machine's;
 *   - throughput: 64 MiB streamed from the upstream through one tunnel (median of 3).
 *
 * Options: `--quick` (a tenth of the counts). Environment: `WEIR_BENCH_ARGS` (more `weir serve`
 * flags), `WEIR_BENCH_CPU_PROF=DIR` (profile `weir serve`, and the floor in `DIR/node-floor`),
 * `WEIR_BENCH_WARMUP` (tunnels through each target before it is measured; 5,000, `--quick` 500),
 * `WEIR_BENCH_STREAM_RUNS` (3; 0 leaves the throughput out), `WEIR_BENCH_CPU_ROUNDS` (interleaved
 * rounds of 1,000 tunnels per proxy for CPU per tunnel; 7, `--quick` 3), `WEIR_BENCH_NODE_ARGS`
 * (Node flags for `weir serve`, e.g. `--trace-gc`), `WEIR_BENCH_KEEP=1` (keep the temporary
 * directory with `weir serve`'s output), `--baseline=COMMIT|DIR` or `WEIR_BENCH_BASELINE` (the
 * same: a commit of this repository, extracted and built in the temporary directory, or another
 * built checkout; measured in the same run as `weir-base`, with its own `weir serve` and its own
 * `weir token issue`), and
 * `WEIR_BENCH_ONLY=node-floor,weir,squid` (only these proxies, in this order; direct always runs
 * first; `weir-gw`, the gateway alone (benchmarks/gateway-only.ts), and `weir-gw-nolog`,
 * `-nometrics`, `-bare`, the same without decision log, metrics or both, run only when named;
 * `WEIR_GW_HEAP_PROF=FILE` makes `weir-gw` write a sampling heap profile there). Every child
 * process is ended at the end.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import type { OnReadOpts, Socket } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks';
import {
  firstLine,
  freePort,
  haltPollNs,
  procStat,
  schedstat,
  startChild,
  stopChildren,
  waitForPort,
} from './processes.js';

const QUICK = process.argv.includes('--quick');
const scale = (n: number): number => (QUICK ? Math.max(20, Math.round(n / 10)) : n);
const SEQUENTIAL = scale(2_000);
const CONCURRENT = scale(4_000);
const WORKERS = 8;
const PACED_RATE = 1_000;
const PACED = scale(2_000);
/**
 * Tunnels through each target before its measured phases: V8 needs thousands of tunnels on this
 * VM to optimise the path (after 300, Weir's first measured phases ran at about half its steady
 * rate and twice its steady CPU per tunnel); Squid needs none, but gets the same.
 */
const WARMUP = Number(process.env.WEIR_BENCH_WARMUP ?? scale(5_000));
const STREAM_BYTES = 64 * 1024 * 1024;
/** `WEIR_BENCH_STREAM_RUNS=0` leaves the throughput out (e.g. for a CPU profile of tunnels alone). */
const STREAM_RUNS = Number(process.env.WEIR_BENCH_STREAM_RUNS ?? 3);
const IDENTITY = 'spiffe://bench/ns/bench/sa/client';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The upstream, as a child process so that it does not share the client's event loop. */
const UPSTREAM = `
const net = require('node:net');
const chunk = Buffer.alloc(1 << 20, 120);
const server = net.createServer((s) => {
  s.on('error', () => {});
  s.once('data', (first) => {
    if (first[0] === 83) {
      let left = Number(first.subarray(1).toString());
      const pump = () => {
        while (left > 0) {
          const n = Math.min(left, chunk.length);
          left -= n;
          if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void s.once('drain', pump);
        }
        s.end();
      };
      return pump();
    }
    s.write(first);
    s.pipe(s);
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

interface Target {
  readonly name: string;
  /**
   * Connects and returns a socket ready to carry bytes to the upstream. With `onread`, what the
   * upstream sends after the proxy's 200 goes to it instead of to `data` events.
   */
  open(onread?: OnReadOpts): Promise<Socket>;
  /** The proxy's process, whose CPU time per tunnel is reported. */
  readonly pid?: number;
}

/**
 * CPU time (user + system, ms) a process has used, from /proc; undefined elsewhere. Unlike
 * tunnels/s, CPU per tunnel hardly moves with what else the machine is running.
 */
function cpuMs(pid: number | undefined, which: 'all' | 'system' = 'all'): number | undefined {
  const stat = procStat(pid);
  return stat === undefined ? undefined : (which === 'all' ? stat.userMs : 0) + stat.systemMs;
}

function direct(port: number): Target {
  return {
    name: 'direct',
    open: (onread) =>
      new Promise((res, rej) => {
        const s = connect({ host: '127.0.0.1', port, noDelay: true, onread }, () => res(s));
        s.once('error', rej);
      }),
  };
}

function viaProxy(
  name: string,
  pid: number | undefined,
  proxyPort: number,
  upstreamPort: number,
  token?: string,
): Target {
  const auth = token === undefined ? '' : `Proxy-Authorization: Bearer ${token}\r\n`;
  const request = `CONNECT 127.0.0.1:${upstreamPort} HTTP/1.1\r\nHost: 127.0.0.1:${upstreamPort}\r\n${auth}\r\n`;
  return {
    name,
    ...(pid !== undefined ? { pid } : {}),
    open: (onread) =>
      new Promise((res, rej) => {
        let buf = '';
        let established = false;
        /** Reads the proxy's answer; true once it is a whole head. */
        const readHead = (c: Buffer): boolean => {
          buf += c.toString('latin1');
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return false;
          established = true;
          if (!/^HTTP\/1\.[01] 200/.test(buf)) rej(new Error(`${name}: ${buf.split('\r\n')[0]}`));
          // Nothing follows the head before the client speaks: the upstream only echoes.
          else res(s);
          return true;
        };
        const s = connect({
          host: '127.0.0.1',
          port: proxyPort,
          noDelay: true,
          onread: onread && {
            buffer: onread.buffer,
            callback: (n, b) => {
              if (established) return onread.callback(n, b);
              readHead(Buffer.from(b.subarray(0, n)));
              return true;
            },
          },
        });
        s.once('error', rej);
        s.write(request);
        const onData = (c: Buffer): void => void (readHead(c) && s.off('data', onData));
        if (onread === undefined) s.on('data', onData);
      }),
  };
}

/** One tunnel: open, one byte there and back, close. Returns setup + first byte, ms. */
async function tunnel(t: Target): Promise<number> {
  const t0 = performance.now();
  const s = await t.open();
  await new Promise<void>((res, rej) => {
    s.once('data', () => res());
    s.once('error', rej);
    s.write('p');
  });
  const ms = performance.now() - t0;
  s.destroy();
  return ms;
}

async function sequential(t: Target, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await tunnel(t);
  return n / ((performance.now() - t0) / 1000);
}

async function concurrent(t: Target, n: number, workers: number): Promise<number> {
  let left = n;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (left-- > 0) await tunnel(t);
    }),
  );
  return n / ((performance.now() - t0) / 1000);
}

/**
 * What the bench's own process did to the paced latencies: its GC pauses (count, total and
 * longest ms) and its event loop's longest delay. The client is Node too; a 10 ms pause of its
 * own delays ≈ 10 tunnels at 1,000/s, for direct as much as for any proxy.
 */
interface ClientStalls {
  gcCount: number;
  gcMs: number;
  gcMaxMs: number;
  loopMaxMs: number;
  /** Run-queue wait of the client's and the proxy's main threads over the phase, ms. */
  clientWaitMs: number;
  proxyWaitMs: number;
}

function watchClient(proxyPid: number | undefined): () => ClientStalls {
  const stalls = { gcCount: 0, gcMs: 0, gcMaxMs: 0 };
  // On 2 shared vCPUs a tunnel is also slow when the proxy or the client simply is not scheduled.
  const runQueueWaitMs = (pid: number | undefined): number | undefined => {
    const stat = schedstat(pid);
    return stat === undefined ? undefined : stat.waitNs / 1e6;
  };
  const clientWait0 = runQueueWaitMs(process.pid);
  const proxyWait0 = runQueueWaitMs(proxyPid);
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      stalls.gcCount++;
      stalls.gcMs += e.duration;
      stalls.gcMaxMs = Math.max(stalls.gcMaxMs, e.duration);
    }
  });
  gc.observe({ entryTypes: ['gc'] });
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  return () => {
    loop.disable();
    gc.disconnect();
    const since = (now: number | undefined, then: number | undefined): number =>
      now === undefined || then === undefined ? NaN : now - then;
    return {
      ...stalls,
      loopMaxMs: loop.max / 1e6,
      clientWaitMs: since(runQueueWaitMs(process.pid), clientWait0),
      proxyWaitMs: since(runQueueWaitMs(proxyPid), proxyWait0),
    };
  };
}

/** Open loop: tunnel i starts at i / rate s (or as soon after as the client can). */
async function paced(
  t: Target,
  n: number,
  rate: number,
): Promise<{ p50: number; p99: number; rate: number; client: ClientStalls }> {
  const lat: number[] = [];
  const pending: Promise<void>[] = [];
  const stopWatching = watchClient(t.pid);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(tunnel(t).then((ms) => void lat.push(ms)));
  }
  await Promise.all(pending);
  const achieved = n / ((performance.now() - t0) / 1000);
  const client = stopWatching();
  lat.sort((a, b) => a - b);
  const pct = (p: number): number => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] ?? NaN;
  return { p50: pct(50), p99: pct(99), rate: achieved, client };
}

/**
 * The bench's side of a streamed tunnel reads into one reused buffer (`onread`): with a new
 * Buffer per read, the client's own garbage (freed in batches, the heap trimmed and faulted in
 * again) cost it 2–4 ms of CPU per MiB and made "direct" slower than some proxies.
 */
const streamBuffer = Buffer.allocUnsafeSlow(256 * 1024);

async function stream(t: Target, bytes: number): Promise<number> {
  let got = 0;
  const s = await t.open({
    buffer: streamBuffer,
    callback: (n) => {
      got += n;
      return true;
    },
  });
  const t0 = performance.now();
  await new Promise<void>((res, rej) => {
    s.once('end', () => res());
    s.once('error', rej);
    s.write(`S${bytes}`);
  });
  const secs = (performance.now() - t0) / 1000;
  s.destroy();
  if (got !== bytes) throw new Error(`${t.name}: streamed ${got} of ${bytes} bytes`);
  return bytes / (1024 * 1024) / secs;
}

/** TCP sockets in TIME_WAIT, from /proc/net/sockstat (Linux); '?' elsewhere. */
function timeWaitSockets(): string {
  try {
    return /\btw (\d+)/.exec(readFileSync('/proc/net/sockstat', 'utf8'))?.[1] ?? '?';
  } catch {
    return '?';
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

function hasSquid(): boolean {
  return spawnSync('squid', ['-v'], { stdio: 'ignore' }).status === 0;
}

/** The bench's policy: the bench identity may reach the upstream port on 127.0.0.0/8. */
function benchPolicy(upstreamPort: number): string {
  return `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: bench, owner: bench@example.com }
spec:
  workloads: [{ identity: '${IDENTITY}' }]
  rules:
    - id: loopback-upstream
      to: [{ cidr: 127.0.0.0/8 }]
      ports: [${upstreamPort}]
`;
}

/** Starts `weir serve` from the built checkout `checkout` (its `bin/weir.js`). */
async function startWeir(name: string, checkout: string, dir: string, upstreamPort: number): Promise<Target> {
  const bin = join(checkout, 'bin', 'weir.js');
  if (!existsSync(join(checkout, 'dist', 'cli', 'main.js'))) {
    throw new Error(
      `${checkout} is not built: run npm run build there (npm run bench:gateway builds this one)`,
    );
  }
  dir = join(dir, name);
  const policies = join(dir, 'policies');
  mkdirSync(policies, { recursive: true });
  writeFileSync(join(policies, 'bench.yaml'), benchPolicy(upstreamPort));
  const data = join(dir, 'weir-data');
  const proxyPort = await freePort();
  const prof = name === 'weir' ? process.env.WEIR_BENCH_CPU_PROF : undefined;
  const weir = startChild(
    process.execPath,
    [
      ...(prof !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []),
      ...(process.env.WEIR_BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== ''),
      bin,
      'serve',
      '--data-dir',
      data,
      '--api-listen',
      '127.0.0.1:0',
      '--proxy-listen',
      `127.0.0.1:${proxyPort}`,
      '--policy',
      policies,
      ...(process.env.WEIR_BENCH_ARGS ?? '').split(' ').filter((a) => a !== ''),
    ],
    { stdout: openSync(join(dir, 'weir.log'), 'w') },
  );
  await waitForPort(proxyPort, name, weir);
  // As a user does (docs/cli.md): the token is issued in the running server's data dir, whose
  // store and key `weir serve` made before it listened. `weir token issue` refuses a directory
  // no server uses; its default `--account` is the gateway's default account (123456789012).
  const issued = spawnSync(
    process.execPath,
    [bin, 'token', 'issue', '--identity', IDENTITY, '--ttl', '1h', '--data-dir', data],
    { cwd: root, encoding: 'utf8' },
  );
  if (issued.status !== 0) throw new Error(`${name}: weir token issue failed: ${issued.stderr}`);
  const token = issued.stdout.trim();
  return viaProxy(name, weir.pid, proxyPort, upstreamPort, token);
}

/** The commit of a checkout (with `+dirty` when it has uncommitted changes), or '?' outside git. */
function describeCheckout(checkout: string): string {
  const git = (...args: string[]): string =>
    spawnSync('git', ['-C', checkout, ...args], { encoding: 'utf8' }).stdout?.trim() ?? '';
  const head = git('rev-parse', '--short', 'HEAD');
  if (head === '') return '?';
  return git('status', '--porcelain', '--untracked-files=no') === '' ? head : `${head}+dirty`;
}

/**
 * The baseline's checkout: `spec` as it is when it is a directory (built by its owner); else a
 * commit of this repository, extracted (`git archive`, so no worktree is registered) into `dir`,
 * given this checkout's `node_modules` by a symlink, and built with its own `npm run build`.
 */
function baselineCheckout(spec: string, dir: string): { checkout: string; commit: string } {
  if (existsSync(spec) && statSync(spec).isDirectory())
    return { checkout: spec, commit: describeCheckout(spec) };
  const run = (cmd: string, args: string[], cwd: string): string => {
    const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
    if (r.status !== 0)
      throw new Error(`baseline ${spec}: ${cmd} ${args.join(' ')} failed: ${r.stderr}${r.stdout}`);
    return r.stdout.trim();
  };
  const commit = run('git', ['rev-parse', '--verify', '--short', `${spec}^{commit}`], root);
  const checkout = join(dir, `base-${commit}`);
  mkdirSync(checkout, { recursive: true });
  run('git', ['archive', '--format=tar', '-o', join(dir, 'base.tar'), commit], root);
  run('tar', ['-xf', join(dir, 'base.tar'), '-C', checkout], root);
  rmSync(join(dir, 'base.tar'));
  symlinkSync(join(root, 'node_modules'), join(checkout, 'node_modules'), 'dir');
  process.stderr.write(`  building the baseline ${commit} in ${checkout}…\n`);
  run('npm', ['run', '--silent', 'build'], checkout);
  return { checkout, commit };
}

/** The gateway alone, whole or with parts knocked out (benchmarks/gateway-only.ts). */
const GATEWAY_ONLY = ['weir-gw', 'weir-gw-nolog', 'weir-gw-nometrics', 'weir-gw-bare'] as const;

/** Starts the gateway alone (benchmarks/gateway-only.ts) from this checkout's build, as `weir-gw`. */
async function startGatewayOnly(
  name: (typeof GATEWAY_ONLY)[number],
  dir: string,
  upstreamPort: number,
): Promise<Target> {
  const own = join(dir, name);
  mkdirSync(join(own, 'policies'), { recursive: true });
  writeFileSync(join(own, 'policies', 'bench.yaml'), benchPolicy(upstreamPort));
  const child = startChild(process.execPath, [
    '--import',
    'tsx',
    join(root, 'benchmarks', 'gateway-only.ts'),
    root,
    join(own, 'policies'),
    join(own, 'decisions.log'),
    IDENTITY,
    ...(name === 'weir-gw' ? [] : [name.slice('weir-gw-'.length)]),
  ]);
  const [port, token] = (await firstLine(child)).split(' ');
  return viaProxy(name, child.pid, Number(port), upstreamPort, token);
}

/** Starts the Node.js floor (benchmarks/floor-relay.ts): a bare CONNECT relay, no checks or log. */
async function startFloor(upstreamPort: number): Promise<Target> {
  const prof = process.env.WEIR_BENCH_CPU_PROF;
  const floor = startChild(process.execPath, [
    ...(prof !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${join(prof, 'node-floor')}`] : []),
    '--import',
    'tsx',
    join(root, 'benchmarks', 'floor-relay.ts'),
  ]);
  const port = Number(await firstLine(floor));
  return viaProxy('node-floor', floor.pid, port, upstreamPort);
}

async function startSquid(dir: string, upstreamPort: number): Promise<Target> {
  const port = await freePort();
  const sq = join(dir, 'squid');
  mkdirSync(sq, { recursive: true, mode: 0o777 });
  const conf = join(sq, 'squid.conf');
  writeFileSync(
    conf,
    `http_port 127.0.0.1:${port}
acl bench_port port ${upstreamPort}
acl CONNECT method CONNECT
acl client src 127.0.0.1/32
http_access allow CONNECT bench_port client
http_access deny all
cache deny all
access_log stdio:${join(sq, 'access.log')}
cache_log ${join(sq, 'cache.log')}
pid_filename none
workers 1
buffered_logs on
coredump_dir ${sq}
shutdown_lifetime 0 seconds
`,
  );
  // Squid run as root drops to its own user, which must reach and write the log directory.
  chmodSync(dir, 0o755);
  chmodSync(sq, 0o777);
  const squid = startChild('squid', ['-N', '-f', conf]);
  await waitForPort(port, 'squid', squid);
  return viaProxy('squid', squid.pid, port, upstreamPort);
}

interface Result {
  seq: number;
  conc: number;
  p50: number;
  p99: number;
  pacedRate: number;
  /** The bench's own GC pauses and event-loop delay during the paced phase. */
  pacedClient: ClientStalls;
  mbps: number;
  /** The proxy's CPU µs per tunnel over the sequential and concurrent phases. */
  cpuUs: number;
  /** The proxy's CPU µs per MiB relayed over the throughput runs. */
  cpuUsPerMiB: number;
  /** The proxy's minor page faults per MiB relayed over the throughput runs. */
  faultsPerMiB: number;
  /** CPU µs per MiB of the bench's own upstream and client in the same runs: the rest of the budget. */
  upstreamUsPerMiB: number;
  clientUsPerMiB: number;
}

const CPU_ROUNDS = Number(process.env.WEIR_BENCH_CPU_ROUNDS ?? (QUICK ? 3 : 7));
const ROUND_TUNNELS = 1_000;

/**
 * CPU µs per tunnel of each proxy in interleaved rounds (each round: every proxy in turn, 500
 * sequential then 500 over 8 workers, the order rotated by one each round), so that the proxies
 * share the machine's varying load alike; the figure of one pass per proxy swings with what else
 * runs meanwhile.
 */
async function cpuRounds(
  proxies: Target[],
): Promise<{ all: Map<string, number[]>; system: Map<string, number[]> }> {
  const out = new Map<string, number[]>(proxies.map((t) => [t.name, []]));
  const system = new Map<string, number[]>(proxies.map((t) => [t.name, []]));
  if (CPU_ROUNDS > 0) process.stderr.write(`  CPU rounds (${CPU_ROUNDS} × ${ROUND_TUNNELS} tunnels each)…\n`);
  for (let r = 0; r < CPU_ROUNDS; r++) {
    // Each round starts with the next proxy, so that none is always measured first or last.
    for (const t of [...proxies.slice(r % proxies.length), ...proxies.slice(0, r % proxies.length)]) {
      const cpu0 = cpuMs(t.pid);
      const sys0 = cpuMs(t.pid, 'system');
      await sequential(t, ROUND_TUNNELS / 2);
      await concurrent(t, ROUND_TUNNELS / 2, WORKERS);
      const cpu1 = cpuMs(t.pid);
      const sys1 = cpuMs(t.pid, 'system');
      if (cpu0 !== undefined && cpu1 !== undefined)
        out.get(t.name)?.push(((cpu1 - cpu0) * 1000) / ROUND_TUNNELS);
      if (sys0 !== undefined && sys1 !== undefined) {
        system.get(t.name)?.push(((sys1 - sys0) * 1000) / ROUND_TUNNELS);
      }
    }
  }
  return { all: out, system };
}

/** The upstream's process, whose CPU per MiB is reported next to the proxy's. */
let upstreamPid: number | undefined;

async function measure(t: Target): Promise<Result> {
  for (let i = 0; i < WARMUP; i++) await tunnel(t);
  process.stderr.write(`  ${t.name}: sequential…`);
  const cpu0 = cpuMs(t.pid);
  const seq = await sequential(t, SEQUENTIAL);
  process.stderr.write(' concurrent…');
  const conc = await concurrent(t, CONCURRENT, WORKERS);
  const cpu1 = cpuMs(t.pid);
  const cpuUs =
    cpu0 === undefined || cpu1 === undefined ? NaN : ((cpu1 - cpu0) * 1000) / (SEQUENTIAL + CONCURRENT);
  process.stderr.write(' paced…');
  const p = await paced(t, PACED, PACED_RATE);
  process.stderr.write(' stream…\n');
  const runs: number[] = [];
  const mib = (STREAM_RUNS * STREAM_BYTES) / (1024 * 1024);
  /** (b − a) per MiB streamed, times `scale` (CPU ms to µs by default). */
  const perMiB = (a: number | undefined, b: number | undefined, scale = 1000): number =>
    a === undefined || b === undefined || STREAM_RUNS === 0 ? NaN : ((b - a) * scale) / mib;
  const streamCpu0 = cpuMs(t.pid);
  const faults0 = procStat(t.pid)?.minorFaults;
  const upstreamCpu0 = cpuMs(upstreamPid);
  const clientCpu0 = process.cpuUsage();
  for (let i = 0; i < STREAM_RUNS; i++) runs.push(await stream(t, STREAM_BYTES));
  const client = process.cpuUsage(clientCpu0);
  return {
    seq,
    conc,
    p50: p.p50,
    p99: p.p99,
    pacedRate: p.rate,
    pacedClient: p.client,
    mbps: median(runs),
    cpuUs,
    cpuUsPerMiB: perMiB(streamCpu0, cpuMs(t.pid)),
    faultsPerMiB: perMiB(faults0, procStat(t.pid)?.minorFaults, 1),
    upstreamUsPerMiB: perMiB(upstreamCpu0, cpuMs(upstreamPid)),
    clientUsPerMiB: STREAM_RUNS === 0 ? NaN : (client.user + client.system) / mib,
  };
}

/** `--baseline=COMMIT|DIR`, else `WEIR_BENCH_BASELINE`. */
const BASELINE =
  process.argv.find((a) => a.startsWith('--baseline='))?.slice('--baseline='.length) ??
  process.env.WEIR_BENCH_BASELINE;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'weir-bench-gw-'));
  try {
    const only = process.env.WEIR_BENCH_ONLY?.split(',');
    const wanted = (name: string): boolean => only === undefined || only.includes(name);
    // Built before anything is started, so that the build's CPU falls on no measurement.
    const base = BASELINE !== undefined && wanted('weir-base') ? baselineCheckout(BASELINE, dir) : undefined;
    const upstream = startChild(process.execPath, ['-e', UPSTREAM]);
    upstreamPid = upstream.pid;
    const upstreamPort = Number(await firstLine(upstream));
    const targets: Target[] = [direct(upstreamPort)];
    if (wanted('node-floor')) targets.push(await startFloor(upstreamPort));
    if (wanted('weir')) targets.push(await startWeir('weir', root, dir, upstreamPort));
    // Not by default: analysis targets (what `weir serve` around the gateway costs; what the
    // decision log and metrics cost).
    for (const name of GATEWAY_ONLY) {
      if (only?.includes(name) === true) targets.push(await startGatewayOnly(name, dir, upstreamPort));
    }
    if (base !== undefined) targets.push(await startWeir('weir-base', base.checkout, dir, upstreamPort));
    if (!wanted('squid')) process.stdout.write('squid: skipped (WEIR_BENCH_ONLY)\n');
    else if (hasSquid()) targets.push(await startSquid(dir, upstreamPort));
    else process.stdout.write('squid not found: skipping\n');
    // Proxies in the order WEIR_BENCH_ONLY names them (so an A/B can be run both ways round).
    if (only !== undefined) targets.sort((x, y) => only.indexOf(x.name) - only.indexOf(y.name));

    process.stdout.write(
      `gateway bench: node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}` +
        `${QUICK ? ' (quick)' : ''}; warm-up ${WARMUP} tunnels per target; guest_halt_poll_ns ${haltPollNs()}; ` +
        `TCP sockets in TIME_WAIT at start ${timeWaitSockets()} (each tunnel leaves two for 60 s; thousands ` +
        `to the one upstream make connect(2) search longer for a free port)\n` +
        `weir: ${describeCheckout(root)}${base === undefined ? '' : `; weir-base: ${base.commit} (${base.checkout})`}\n`,
    );
    const results = new Map<string, Result>();
    for (const t of targets) results.set(t.name, await measure(t));
    const { all: rounds, system: systemRounds } = await cpuRounds(targets.filter((t) => t.pid !== undefined));
    const d = results.get('direct') as Result;
    const s = results.get('squid');
    const f0 = (n: number): string => Math.round(n).toLocaleString('en-US');
    const f2 = (n: number): string => n.toFixed(2);
    const pct = (a: number, b: number): string => `${Math.round((a / b) * 100)}%`;
    const rows = [...results].map(([name, r]) => [
      name,
      f0(r.seq),
      f0(r.conc),
      `${f2(r.p50)} / ${f2(r.p99)}`,
      name === 'direct' ? '—' : `${f2(r.p50 - d.p50)} / ${f2(r.p99 - d.p99)}`,
      f0(r.pacedRate),
      f0(r.mbps),
      name === 'direct' ? '—' : pct(r.mbps, d.mbps),
      s === undefined || name === 'squid' ? '—' : `${f2(r.seq / s.seq)}× / ${f2(r.conc / s.conc)}×`,
      Number.isNaN(r.cpuUs) ? '—' : f0(r.cpuUs),
      Number.isNaN(r.cpuUsPerMiB) ? '—' : f0(r.cpuUsPerMiB),
    ]);
    const header = [
      'path',
      'tunnels/s seq',
      `tunnels/s ×${WORKERS}`,
      'p50 / p99 ms',
      'added p50 / p99 ms',
      'paced rate/s',
      'MB/s',
      'vs direct',
      'vs squid (seq / ×8)',
      'proxy CPU µs/tunnel',
      'proxy CPU µs/MiB',
    ];
    process.stdout.write(
      [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n') + '\n',
    );
    for (const [name, r] of results) {
      const c = r.pacedClient;
      process.stdout.write(
        `${name}: paced phase, the bench's own process: ${c.gcCount} GC pauses, ${f2(c.gcMs)} ms in all, ` +
          `longest ${f2(c.gcMaxMs)} ms; longest event-loop delay ${f2(c.loopMaxMs)} ms; waited for a CPU ` +
          `(run queue) ${f2(c.clientWaitMs)} ms${name === 'direct' ? '' : `, the proxy ${f2(c.proxyWaitMs)} ms`}\n`,
      );
    }
    if (STREAM_RUNS > 0) {
      for (const [name, r] of results) {
        process.stdout.write(
          `${name}: CPU µs per MiB streamed: upstream ${f0(r.upstreamUsPerMiB)}, ` +
            `${name === 'direct' ? '' : `proxy ${f0(r.cpuUsPerMiB)} (${f0(r.faultsPerMiB)} page faults/MiB), `}` +
            `client ${f0(r.clientUsPerMiB)}\n`,
        );
      }
    }
    for (const [name, us] of rounds) {
      if (us.length === 0) continue;
      const sorted = [...us].sort((a, b) => a - b);
      process.stdout.write(
        `${name}: CPU µs/tunnel over ${us.length} interleaved rounds: median ${f0(median(us))} ` +
          `(${f0(sorted[0] ?? NaN)}–${f0(sorted[sorted.length - 1] ?? NaN)}), of which kernel ` +
          `${f0(median(systemRounds.get(name) ?? []))}\n`,
      );
    }
    const roundRatio = (a: string, b: string): string => {
      const x = rounds.get(a) ?? [];
      const y = rounds.get(b) ?? [];
      // Same-round ratios: both proxies measured back to back under the same load.
      const per = x.map((v, i) => v / (y[i] ?? NaN)).filter((v) => Number.isFinite(v));
      // The spread says how far one round's ratio is to be trusted on this machine.
      const sorted = [...per].sort((u, v) => u - v);
      return per.length === 0
        ? '—'
        : `${f2(median(per))}× (same-round median; rounds ${f2(sorted[0] ?? NaN)}–${f2(sorted[sorted.length - 1] ?? NaN)}×)`;
    };
    // How far each proxy is from the Node floor, and the floor from Squid: the part of a gap that
    // is Node's own per-socket cost against the part that is the proxy's.
    const floor = results.get('node-floor');
    const ratio = (a: Result, b: Result): string =>
      `seq ${f2(a.seq / b.seq)}×, ×${WORKERS} ${f2(a.conc / b.conc)}×, CPU/tunnel ${f2(a.cpuUs / b.cpuUs)}×, ` +
      `MB/s ${f2(a.mbps / b.mbps)}×`;
    for (const [name, r] of results) {
      if (floor !== undefined && !['direct', 'node-floor', 'squid'].includes(name)) {
        process.stdout.write(
          `${name} ÷ node-floor: ${ratio(r, floor)}; CPU rounds ${roundRatio(name, 'node-floor')}\n`,
        );
      }
    }
    if (floor !== undefined && s !== undefined) {
      process.stdout.write(
        `node-floor ÷ squid: ${ratio(floor, s)}; CPU rounds ${roundRatio('node-floor', 'squid')}\n`,
      );
    }
    for (const [a, b] of [
      ['weir', 'weir-base'],
      ['weir', 'weir-gw'],
      ['weir-gw', 'weir-gw-bare'],
      ['weir-gw', 'weir-gw-nolog'],
      ['weir-gw', 'weir-gw-nometrics'],
      ['weir', 'squid'],
    ]) {
      if (a !== undefined && b !== undefined && results.has(a) && results.has(b)) {
        process.stdout.write(`${a} ÷ ${b}: CPU rounds ${roundRatio(a, b)}\n`);
      }
    }
    const w = results.get('weir');
    if (w === undefined) return;
    process.stdout.write(
      `targets: throughput ≥ 80% of direct: ${w.mbps >= 0.8 * d.mbps ? 'met' : 'NOT met'} (${pct(w.mbps, d.mbps)}); ` +
        `added p99 < 2 ms at ${PACED_RATE}/s: ${w.p99 - d.p99 < 2 ? 'met' : 'NOT met'} (${f2(w.p99 - d.p99)} ms); ` +
        `ahead of squid on tunnels/s: ${
          s === undefined ? 'not measured' : w.seq > s.seq && w.conc > s.conc ? 'met' : 'NOT met'
        }\n`,
    );
  } finally {
    // SIGTERM first: `weir serve` shuts down cleanly (and writes its CPU profile when asked).
    await stopChildren(1_000);
    if (process.env.WEIR_BENCH_KEEP === undefined) rmSync(dir, { recursive: true, force: true });
    else process.stdout.write(`kept ${dir} (weir serve's output in ${dir}/<name>/weir.log)\n`);
  }
}

await main();
