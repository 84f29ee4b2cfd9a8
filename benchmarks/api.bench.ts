/**
 * `npm run bench:api` — Weir's EC2 security-group API against moto (the reference EC2
 * implementation, in memory), driven by one and the same client, in one run.
 *
 * Both servers run as separate processes on 127.0.0.1. The client is a small keep-alive
 * node:http client sending SigV4-signed EC2 Query POSTs (@smithy/signature-v4; SHA-256 from
 * node:crypto, the cheapest signer measured — see `client` in the output). Every call must
 * answer 200 with the expected content; a run with failed calls is reported as invalid and
 * exits non-zero.
 *
 * Workloads (identical for both servers; each runs in its own region, which both servers treat
 * as an isolated namespace, so one workload's data never slows another):
 *   (0) Weir only: sequential unsigned GET /healthz, the transport floor of client and machine;
 *   (a) sequential AuthorizeSecurityGroupEgress of distinct rules, in rounds that alternate between
 *       the servers (the ratio is of the totals; each round's ratio is printed too);
 *   (b) DescribeSecurityGroupRules returning 1,000 rules (filter group-id, MaxResults 1000);
 *   (c) concurrent mixed load: describe / authorize+revoke.
 * moto refuses more than 60 rules per VPC security group (hard-coded in
 * moto/ec2/models/security_groups.py, `_verify_group_will_respect_rule_count_limit`, no setting),
 * so rules are spread over groups of at most 50 identically on both servers. A Weir-only extra,
 * (b1), describes one group actually holding 1,000 rules.
 *
 * Options: `--quick` (a tenth of the calls, for a smoke test), `--only=0,a,b,b1,c` (just these
 * workloads). Environment:
 * `WEIR_BENCH_CPU_PROF=DIR` runs Weir under `node --cpu-prof --cpu-prof-dir=DIR`.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { parseCredentialsFile } from '../src/api/credentials.js';
import { haltPollNs, procStat } from './processes.js';
import { CONTENT_TYPE, QueryClient, QuerySigner, queryBody } from './query-client.js';
import type { CallResult, Credentials, Params } from './query-client.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const QUICK = process.argv.includes('--quick');
/** `--only=a,b1`: run just these workloads (e.g. to profile one of them). */
const ONLY = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const scale = (n: number): number => (QUICK ? Math.max(1, Math.round(n / 10)) : n);

const SETTINGS = {
  quick: QUICK,
  /** Rules per group in the spread layouts (moto refuses more than 60 per VPC group). */
  rulesPerGroupLayout: 50,
  /** Weir's quota (`--rules-per-group`), high enough for (b1). */
  weirRulesPerGroup: 1000,
  /**
   * The sequential workloads warm up with 3,000 calls: V8 needs thousands of calls on this VM to
   * optimise the request path (after 200, most timed calls still ran unoptimised code, at about
   * half the steady rate). The count, not a time, is the same for both servers, so both hold
   * the same data when the timed calls start.
   */
  floor: { warmupCalls: scale(3000), calls: scale(2000) },
  /**
   * (a) warms up in a region of its own, so the timed calls start from an empty region on both
   * servers and moto's per-region state from the warm-up does not weigh on them.
   */
  authorize: {
    warmupCalls: scale(3000),
    warmupRegion: 'us-east-2',
    calls: scale(2000),
    region: 'us-east-1',
    rounds: 4,
    roundWarmupCalls: scale(300),
  },
  describe: { warmupCalls: scale(20), calls: scale(200), rules: 1000, groups: 20, region: 'us-west-2' },
  describeOneGroup: { warmupCalls: scale(20), calls: scale(200), rules: 1000, region: 'us-west-1' },
  mixed: {
    workers: 8,
    warmupOps: scale(200),
    ops: scale(3000),
    describeShare: 0.7,
    rulesPerGroup: 50,
    seed: 42,
    region: 'eu-west-1',
  },
} as const;

// ---------------------------------------------------------------------------------------------
// Client (benchmarks/query-client.ts), checked against smithy's signer before any measurement.

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: SourceData): string | Uint8Array =>
  typeof d === 'string'
    ? d
    : d instanceof ArrayBuffer
      ? new Uint8Array(d)
      : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

/** SHA-256 / HMAC-SHA-256 for @smithy/signature-v4 on node:crypto (the `Checksum` shape). */
class NodeSha256 {
  private hash;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  private fresh() {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(this.secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

type Sha256Ctor = NonNullable<ConstructorParameters<typeof SignatureV4>[0]['sha256']>;

/** @smithy/signature-v4 (the SDKs' signer) signing the same request: the cross-check and the costs. */
async function smithySign(signer: SignatureV4, host: string, body: string, at?: Date) {
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      path: '/',
      query: {},
      headers: { host, 'content-type': CONTENT_TYPE },
      body,
    },
    at ? { signingDate: at } : {},
  );
  return signed.headers;
}

const smithy = (sha256: Sha256Ctor, credentials: Credentials, region: string) =>
  // applyChecksum off: botocore adds no x-amz-content-sha256 for EC2, and neither does our signer.
  new SignatureV4({ credentials, region, service: 'ec2', sha256, applyChecksum: false });

// ---------------------------------------------------------------------------------------------
// Servers.

interface Server {
  readonly name: 'weir' | 'moto';
  readonly port: number;
  readonly proc: ChildProcess;
  readonly client: QueryClient;
  readonly stderr: string[];
  readonly cleanup: () => void;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    process.exit(130);
  });
}

function onPath(cmd: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, cmd);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Any HTTP answer on `path` means the server is up. */
async function httpAnswers(port: number, path: string): Promise<boolean> {
  return new Promise((res) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', agent: false }, (resp) => {
      resp.resume();
      resp.on('end', () => res(true));
    });
    req.setTimeout(2000, () => req.destroy());
    req.on('error', () => res(false));
    req.end();
  });
}

function spawnServer(name: string, cmd: string, args: string[], cwd: string) {
  const stderr: string[] = [];
  const proc = spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(proc);
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (d: string) => {
    stderr.push(d);
    if (stderr.length > 200) stderr.shift();
  });
  proc.on('exit', () => children.delete(proc));
  proc.on('error', (err) => stderr.push(`${name}: ${err.message}`));
  return { proc, stderr };
}

async function waitReady(name: string, proc: ChildProcess, stderr: string[], ready: () => Promise<boolean>) {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(
        `${name} exited during start-up (${proc.exitCode ?? proc.signalCode}):\n${stderr.join('')}`,
      );
    }
    if (await ready()) return;
    await sleep(100);
  }
  throw new Error(`${name} did not answer within 90 s:\n${stderr.join('')}`);
}

async function startWeir(): Promise<Server> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'weir-bench-'));
  const prof = process.env['WEIR_BENCH_CPU_PROF'];
  const nodeArgs = prof ? ['--cpu-prof', `--cpu-prof-dir=${resolve(prof)}`] : [];
  const { proc, stderr } = spawnServer(
    'weir',
    process.execPath,
    [
      ...nodeArgs,
      // The built CLI, as users run it (`npm run bench:api` builds first): no TypeScript loader.
      'bin/weir.js',
      'serve',
      '--data-dir',
      dataDir,
      '--api-listen',
      `127.0.0.1:${port}`,
      // The API alone: a second server must not contend for the gateway's default port.
      '--proxy-listen',
      'off',
      '--log-level',
      'warn',
      '--rules-per-group',
      String(SETTINGS.weirRulesPerGroup),
    ],
    ROOT,
  );
  const credFile = join(dataDir, 'credentials');
  await waitReady(
    'weir',
    proc,
    stderr,
    async () => existsSync(credFile) && (await httpAnswers(port, '/healthz')),
  );
  const key = parseCredentialsFile(readFileSync(credFile, 'utf8'), credFile)[0];
  if (!key) throw new Error(`no access key in ${credFile}`);
  const client = new QueryClient(port, key);
  return {
    name: 'weir',
    port,
    proc,
    client,
    stderr,
    cleanup: () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

async function startMoto(bin: string): Promise<Server> {
  const port = await freePort();
  const { proc, stderr } = spawnServer('moto', bin, ['-H', '127.0.0.1', '-p', String(port)], tmpdir());
  await waitReady('moto', proc, stderr, () => httpAnswers(port, '/moto-api/'));
  // moto accepts any key; it only reads the account (default) and region from the scope.
  const client = new QueryClient(port, {
    accessKeyId: 'AKIDMOTOBENCH',
    secretAccessKey: 'moto-accepts-any-secret',
  });
  return { name: 'moto', port, proc, client, stderr, cleanup: () => undefined };
}

async function stopServer(s: Server): Promise<void> {
  s.client.close();
  const p = s.proc;
  if (p.exitCode === null && p.signalCode === null) {
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
  s.cleanup();
}

// ---------------------------------------------------------------------------------------------
// Measurement.

interface Stats {
  readonly requests: number;
  readonly errors: number;
  readonly wallMs: number;
  readonly reqPerSec: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  readonly maxMs: number;
  readonly signMeanUs: number;
  /** CPU time of the bench process (the client: signing, HTTP, checks) per request. */
  readonly clientCpuUs: number;
  /** CPU time of the server process (all its threads) per request; Linux only. */
  readonly serverCpuUs?: number;
  readonly ops?: number;
  readonly opsPerSec?: number;
  /** Requests per second of each round, when the calls ran in interleaved rounds. */
  readonly sectionReqPerSec?: readonly number[];
}

class Recorder {
  readonly latencies: number[] = [];
  signMs = 0;
  errors = 0;
  /** Wall time, client CPU (µs) and server CPU (ms) of the measured sections, added up. */
  private wallMs = 0;
  private clientCpuUs = 0;
  private serverMs: number | undefined = 0;
  /** Requests per second of each measured section, in order. */
  readonly sections: number[] = [];
  constructor(
    private readonly server: Server,
    private readonly errorLog: Map<string, { count: number; sample: string }>,
    private readonly label: string,
  ) {}
  /**
   * Runs `fn` as a measured section: its wall time, the client's CPU (this process; the servers
   * are others) and the server's CPU count towards `stats()`. Sections of one recorder may be
   * interleaved with another server's, so that both meet the same machine.
   */
  async measure(fn: () => Promise<void>): Promise<void> {
    const before = this.latencies.length;
    const cpu = process.cpuUsage();
    const server0 = processCpuMs(this.server.proc.pid);
    const t0 = performance.now();
    await fn();
    const ms = performance.now() - t0;
    const used = process.cpuUsage(cpu);
    const server1 = processCpuMs(this.server.proc.pid);
    this.wallMs += ms;
    this.clientCpuUs += used.user + used.system;
    this.serverMs =
      this.serverMs !== undefined && server0 !== undefined && server1 !== undefined
        ? this.serverMs + server1 - server0
        : undefined;
    this.sections.push((this.latencies.length - before) / (ms / 1000));
  }
  /** Records a call; false (and an error) when it is not a 200 satisfying `check`. */
  ok(r: CallResult, check?: (body: string) => string | undefined): boolean {
    this.latencies.push(r.ms);
    this.signMs += r.signMs;
    const problem =
      r.status !== 200 ? `HTTP ${r.status} ${errorCode(r.body)}` : check ? check(r.body) : undefined;
    if (problem === undefined) return true;
    this.errors++;
    const key = `${this.label}: ${problem}`;
    const e = this.errorLog.get(key);
    if (e) e.count++;
    else this.errorLog.set(key, { count: 1, sample: r.body.slice(0, 400) });
    return false;
  }
  /** Figures over the measured sections; `ops` when an operation is more than one request. */
  stats(ops?: number): Stats {
    const wallMs = this.wallMs;
    const sorted = [...this.latencies].sort((x, y) => x - y);
    const n = sorted.length;
    const pct = (p: number) => (n ? (sorted[Math.min(n - 1, Math.ceil((p / 100) * n) - 1)] ?? 0) : 0);
    return {
      requests: n,
      errors: this.errors,
      wallMs,
      reqPerSec: n / (wallMs / 1000),
      p50Ms: pct(50),
      p90Ms: pct(90),
      p99Ms: pct(99),
      meanMs: n ? sorted.reduce((a, b) => a + b, 0) / n : 0,
      maxMs: sorted[n - 1] ?? 0,
      signMeanUs: n ? (this.signMs / n) * 1000 : 0,
      clientCpuUs: n ? this.clientCpuUs / n : 0,
      ...(this.serverMs !== undefined && n ? { serverCpuUs: (this.serverMs / n) * 1000 } : {}),
      ...(ops !== undefined ? { ops, opsPerSec: ops / (wallMs / 1000) } : {}),
      ...(this.sections.length > 1 ? { sectionReqPerSec: [...this.sections] } : {}),
    };
  }
}

/** User + system CPU milliseconds of a process and all its threads (Linux /proc), if readable. */
function processCpuMs(pid: number | undefined): number | undefined {
  const stat = procStat(pid);
  return stat === undefined ? undefined : stat.userMs + stat.systemMs;
}

function errorCode(body: string): string {
  return /<Code>([^<]*)<\/Code>/.exec(body)?.[1] ?? '';
}

const RULE_ID_TAG = '<securityGroupRuleId>';

/** Rules in a response body (counted in place: a thousand-rule body is 400 KB). */
function countRules(body: string): number {
  let n = 0;
  for (let at = body.indexOf(RULE_ID_TAG); at >= 0; at = body.indexOf(RULE_ID_TAG, at + RULE_ID_TAG.length))
    n++;
  return n;
}

/** Rule number `i` → a distinct egress rule (distinct port and /32). */
function ruleParams(i: number, prefix = 'IpPermissions.1.'): [string, string | number][] {
  const port = 1 + (i % 65000);
  const cidr = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`;
  return [
    [`${prefix}IpProtocol`, 'tcp'],
    [`${prefix}FromPort`, port],
    [`${prefix}ToPort`, port],
    [`${prefix}IpRanges.1.CidrIp`, cidr],
  ];
}

/** An AuthorizeSecurityGroupEgress answer must say `true`. */
const authorized = (b: string): string | undefined =>
  b.includes('<return>true</return>') ? undefined : 'no <return>true</return>';

/** (a)'s state on one server between its interleaved rounds. */
interface AuthorizeRun {
  readonly groups: string[];
  /** Timed calls made so far (which group the next rule goes to). */
  done: number;
  /** Warm-up calls made so far, and the warm-up group being filled. */
  warmed: number;
  warmGroup: string;
  readonly rec: Recorder;
  readonly warm: Recorder;
}

/**
 * (a) on every server: each warms up, then the timed calls run in `rounds` rounds, alternating
 * which server goes first (Weir, moto; moto, Weir; …), so a change in the machine's state during
 * the run (other load, a host neighbour) meets both servers alike instead of one of them.
 */
async function authorizeInterleaved(loads: readonly Workload[]): Promise<Map<Workload, Stats>> {
  const { calls, rounds } = SETTINGS.authorize;
  const runs = new Map<Workload, AuthorizeRun>();
  for (const w of loads) {
    process.stdout.write(`  warming up (a) on ${w.server.name} …\n`);
    runs.set(w, await w.prepareAuthorize());
  }
  process.stdout.write(`  running (a) in ${rounds} interleaved rounds …\n`);
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? loads : [...loads].reverse();
    const count = Math.floor(calls / rounds) + (r < calls % rounds ? 1 : 0);
    for (const w of order) await w.authorizeRound(runs.get(w) as AuthorizeRun, count);
  }
  return new Map([...runs].map(([w, run]) => [w, run.rec.stats()]));
}

/** Deterministic PRNG (mulberry32), so both servers get the same op sequence. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Per-server state of the workload: the next rule number and the error log. */
class Workload {
  private nextRule = 0;
  private groupNo = 0;
  readonly errors = new Map<string, { count: number; sample: string }>();
  constructor(readonly server: Server) {}

  rule(): number {
    return this.nextRule++;
  }

  /** Unmeasured setup call; any failure aborts the run. */
  async must(region: string, action: string, params: Params, check?: (b: string) => string | undefined) {
    const r = await this.server.client.call(region, action, params);
    const problem = r.status !== 200 ? `HTTP ${r.status}` : check?.(r.body);
    if (problem !== undefined) {
      throw new Error(`${this.server.name} setup ${action} failed: ${problem}\n${r.body.slice(0, 600)}`);
    }
    return r.body;
  }

  async createGroup(region: string, rules: number): Promise<string> {
    const name = `bench-${this.groupNo++}`;
    const body = await this.must(region, 'CreateSecurityGroup', [
      ['GroupName', name],
      ['GroupDescription', 'weir api benchmark'],
    ]);
    const id = /<groupId>(sg-[0-9a-f]+)<\/groupId>/.exec(body)?.[1];
    if (!id) throw new Error(`${this.server.name}: CreateSecurityGroup returned no groupId:\n${body}`);
    for (let i = 0; i < rules; i++) {
      await this.must(region, 'AuthorizeSecurityGroupEgress', [['GroupId', id], ...ruleParams(this.rule())]);
    }
    return id;
  }

  describeParams(groupIds: readonly string[]): Params {
    return [
      ['Filter.1.Name', 'group-id'],
      ...groupIds.map((g, i) => [`Filter.1.Value.${i + 1}`, g] as const),
      ['MaxResults', 1000],
    ];
  }

  /** (0) transport floor: sequential unsigned GET /healthz (Weir only: no SigV4, no store). */
  async floor(): Promise<Stats> {
    const { warmupCalls, calls } = SETTINGS.floor;
    const warm = new Recorder(this.server, this.errors, '(0) floor warm-up');
    for (let k = 0; k < warmupCalls; k++) warm.ok(await this.server.client.get('/healthz'));
    const rec = new Recorder(this.server, this.errors, '(0) floor');
    await rec.measure(async () => {
      for (let k = 0; k < calls; k++) rec.ok(await this.server.client.get('/healthz'));
    });
    return rec.stats();
  }

  /**
   * (a), before its timed rounds: warm-up calls in a region of their own, then the empty groups
   * (of `rulesPerGroupLayout`) that the timed calls fill, created outside the timed calls.
   */
  async prepareAuthorize(): Promise<AuthorizeRun> {
    const { region, warmupCalls, calls } = SETTINGS.authorize;
    const per = SETTINGS.rulesPerGroupLayout;
    const run: AuthorizeRun = {
      groups: [],
      done: 0,
      warmed: 0,
      warmGroup: '',
      rec: new Recorder(this.server, this.errors, '(a) authorize'),
      warm: new Recorder(this.server, this.errors, '(a) warm-up'),
    };
    await this.authorizeWarmUp(run, warmupCalls);
    for (let g = 0; g < Math.ceil(calls / per); g++) run.groups.push(await this.createGroup(region, 0));
    return run;
  }

  /** `count` untimed AuthorizeSecurityGroupEgress calls in the warm-up region. */
  private async authorizeWarmUp(run: AuthorizeRun, count: number): Promise<void> {
    const { warmupRegion } = SETTINGS.authorize;
    const per = SETTINGS.rulesPerGroupLayout;
    for (let k = 0; k < count; k++, run.warmed++) {
      if (run.warmed % per === 0) run.warmGroup = await this.createGroup(warmupRegion, 0);
      const params = [['GroupId', run.warmGroup], ...ruleParams(this.rule())] as const;
      run.warm.ok(
        await this.server.client.call(warmupRegion, 'AuthorizeSecurityGroupEgress', params),
        authorized,
      );
    }
  }

  /**
   * (a) one round: `roundWarmupCalls` untimed calls, then the next `count` sequential
   * AuthorizeSecurityGroupEgress calls, timed. The untimed calls matter on a VM: while the other
   * server's round ran (moto: 6 ms a call), the host's adaptive halt polling learned long idle
   * periods, and the first few hundred short round trips after it each paid a slow vCPU wake-up
   * (Weir's rounds measured 1,300–1,400 req/s without them, 2,000–2,700 in one stretch).
   */
  async authorizeRound(run: AuthorizeRun, count: number): Promise<void> {
    const { region, roundWarmupCalls } = SETTINGS.authorize;
    const per = SETTINGS.rulesPerGroupLayout;
    await this.authorizeWarmUp(run, roundWarmupCalls);
    await run.rec.measure(async () => {
      for (let i = 0; i < count; i++, run.done++) {
        const params = [
          ['GroupId', run.groups[Math.floor(run.done / per)] as string],
          ...ruleParams(this.rule()),
        ] as const;
        run.rec.ok(await this.server.client.call(region, 'AuthorizeSecurityGroupEgress', params), authorized);
      }
    });
  }

  /** (b) DescribeSecurityGroupRules over `groups` groups holding `rules` rules in all. */
  async describeSpread(): Promise<Stats> {
    const { region, warmupCalls, calls, rules, groups: g } = SETTINGS.describe;
    // Every group also holds its default egress rule (0.0.0.0/0, all traffic), on both servers.
    const perGroup = rules / g - 1;
    const ids: string[] = [];
    for (let i = 0; i < g; i++) ids.push(await this.createGroup(region, perGroup));
    return this.describeLoop('(b) describe 1000', region, ids, rules, warmupCalls, calls);
  }

  /** (b1) Weir only: one group actually holding `rules` rules. */
  async describeOneGroup(): Promise<Stats> {
    const { region, warmupCalls, calls, rules } = SETTINGS.describeOneGroup;
    const id = await this.createGroup(region, rules - 1);
    return this.describeLoop('(b1) describe 1 group', region, [id], rules, warmupCalls, calls);
  }

  private async describeLoop(
    label: string,
    region: string,
    ids: readonly string[],
    expected: number,
    warmupCalls: number,
    calls: number,
  ): Promise<Stats> {
    const params = this.describeParams(ids);
    const check = (b: string) => {
      const n = countRules(b);
      if (n !== expected) return `expected ${expected} rules, got ${n}`;
      return b.includes('<nextToken>') ? 'unexpected nextToken' : undefined;
    };
    await this.must(region, 'DescribeSecurityGroupRules', params, check);
    const warm = new Recorder(this.server, this.errors, `${label} warm-up`);
    for (let k = 0; k < warmupCalls; k++) {
      warm.ok(await this.server.client.call(region, 'DescribeSecurityGroupRules', params), check);
    }
    const rec = new Recorder(this.server, this.errors, label);
    await rec.measure(async () => {
      for (let k = 0; k < calls; k++) {
        rec.ok(await this.server.client.call(region, 'DescribeSecurityGroupRules', params), check);
      }
    });
    return rec.stats();
  }

  /** (c) `workers` concurrent workers, each on its own group: describe, or authorize+revoke. */
  async mixed(): Promise<Stats> {
    const { region, workers, warmupOps, ops, describeShare, rulesPerGroup, seed } = SETTINGS.mixed;
    const groups: string[] = [];
    for (let w = 0; w < workers; w++) groups.push(await this.createGroup(region, rulesPerGroup - 1));
    const random = mulberry32(seed);
    const plan = (n: number) => Array.from({ length: n }, () => (random() < describeShare ? 'd' : 'w'));
    const run = async (list: readonly string[], rec: Recorder) => {
      let next = 0;
      const worker = async (w: number) => {
        const group = groups[w] as string;
        const describe = this.describeParams([group]);
        while (next < list.length) {
          const op = list[next++];
          if (op === 'd') {
            rec.ok(await this.server.client.call(region, 'DescribeSecurityGroupRules', describe), (b) =>
              countRules(b) >= rulesPerGroup ? undefined : `expected ≥ ${rulesPerGroup} rules`,
            );
          } else {
            const rule = [['GroupId', group], ...ruleParams(this.rule())] as const;
            const added = rec.ok(
              await this.server.client.call(region, 'AuthorizeSecurityGroupEgress', rule),
              authorized,
            );
            if (added) {
              rec.ok(await this.server.client.call(region, 'RevokeSecurityGroupEgress', rule), authorized);
            }
          }
        }
      };
      await Promise.all(groups.map((_, w) => worker(w)));
    };
    await run(plan(warmupOps), new Recorder(this.server, this.errors, '(c) warm-up'));
    const list = plan(ops);
    const rec = new Recorder(this.server, this.errors, '(c) mixed');
    await rec.measure(() => run(list, rec));
    return rec.stats(list.length);
  }
}

// ---------------------------------------------------------------------------------------------
// Report.

const PHASES = [
  { key: '0', title: '(0) floor: GET /healthz, sequential (no SigV4/store)', target: undefined },
  { key: 'a', title: '(a) AuthorizeSecurityGroupEgress, sequential', target: 10 },
  { key: 'b', title: '(b) DescribeSecurityGroupRules, 1000 rules (20 groups)', target: 20 },
  { key: 'b1', title: '(b1) DescribeSecurityGroupRules, 1 group of 1000 rules', target: undefined },
  {
    key: 'c',
    title: `(c) mixed, ${SETTINGS.mixed.workers} workers, 70% describe / 30% auth+revoke`,
    target: undefined,
  },
] as const;
type PhaseKey = (typeof PHASES)[number]['key'];

interface SignerCosts {
  /** µs per call: our signer (query-client.ts), then smithy's on node:crypto and on sha256-js. */
  readonly queryClientUs: number;
  readonly smithyNodeCryptoUs: number;
  readonly smithySha256JsUs: number;
}

/**
 * Checks that the bench's signer produces smithy's exact Authorization header (so it is a correct
 * SigV4 client, not a shortcut Weir happens to accept), then times both.
 */
async function checkAndTimeSigners(): Promise<SignerCosts> {
  const creds = { accessKeyId: 'AKIDCALIBRATE', secretAccessKey: 'calibration-secret-0123456789' };
  const host = '127.0.0.1:8484';
  const body = queryBody('AuthorizeSecurityGroupEgress', [
    ['GroupId', 'sg-0123456789abcdef0'],
    ...ruleParams(7),
    ['TagSpecification.1.Tag.1.Value', "spaces, (parens) and 'quotes' ~ ünïcode"],
  ]);
  const ours = new QuerySigner(creds, host);
  for (const [region, at] of [
    ['us-east-1', new Date('2026-11-23T15:12:00Z')],
    ['eu-west-1', new Date()],
  ] as const) {
    const mine = ours.sign(region, body, at);
    const theirs = await smithySign(smithy(NodeSha256, creds, region), host, body, at);
    if (mine['authorization'] !== theirs['authorization'] || mine['x-amz-date'] !== theirs['x-amz-date']) {
      throw new Error(
        `bench signer disagrees with @smithy/signature-v4:\n  ours   ${mine['authorization']}\n  smithy ${theirs['authorization']}`,
      );
    }
  }
  const time = async (sign: () => unknown) => {
    for (let i = 0; i < 500; i++) await sign();
    const t0 = performance.now();
    for (let i = 0; i < 3000; i++) await sign();
    return ((performance.now() - t0) / 3000) * 1000;
  };
  const viaNode = smithy(NodeSha256, creds, 'us-east-1');
  const viaJs = smithy(Sha256, creds, 'us-east-1');
  return {
    queryClientUs: await time(() => ours.sign('us-east-1', body)),
    smithyNodeCryptoUs: await time(() => smithySign(viaNode, host, body)),
    smithySha256JsUs: await time(() => smithySign(viaJs, host, body)),
  };
}

function motoVersion(): string {
  const r = spawnSync('python3', ['-c', 'import moto; print(moto.__version__)'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}

const f = (n: number, d = 1) => n.toFixed(d);
const pad = (s: string, n: number) => s.padEnd(n);
const lpad = (s: string, n: number) => s.padStart(n);

async function main(): Promise<void> {
  const started = new Date();
  const moto = onPath('moto_server');
  const env = {
    date: started.toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    platform: `${platform()} ${release()}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadavgAtStart: loadavg().map((x) => Number(x.toFixed(2))),
    moto: moto ? `${motoVersion()} (${moto})` : 'not found',
  };
  const cost = await checkAndTimeSigners();
  const client =
    'keep-alive HTTP/1.1 on net.Socket + SigV4 on node:crypto (benchmarks/query-client.ts, signatures identical to ' +
    `@smithy/signature-v4's): signing ${f(cost.queryClientUs)} µs/call; smithy's signer would be ` +
    `${f(cost.smithyNodeCryptoUs)} µs/call on node:crypto, ${f(cost.smithySha256JsUs)} µs/call on @aws-crypto/sha256-js; ` +
    'same client for both servers';
  const durability = {
    weir: 'SQLite WAL, synchronous=NORMAL: each acknowledged write is in the WAL before the reply (survives kill -9)',
    moto: 'in memory (lost when the process exits)',
  };

  console.log('Weir API benchmark (npm run bench:api)');
  console.log(`  date      ${env.date}`);
  console.log(
    `  node      ${env.node}, ${env.cpus} CPUs (${env.cpuModel}), ${env.platform}, ${env.memoryGiB} GiB`,
  );
  console.log(`  load avg  ${env.loadavgAtStart.join(' ')}`);
  console.log(`  moto      ${env.moto}`);
  console.log(`  client    ${client}`);
  console.log(`  weir      ${durability.weir}; --rules-per-group ${SETTINGS.weirRulesPerGroup}`);
  console.log(`  moto      ${durability.moto}; max 60 rules per VPC group (hard-coded)`);
  console.log(
    `  settings  (0) ${SETTINGS.floor.calls} GETs after ${SETTINGS.floor.warmupCalls}; ` +
      `(a) ${SETTINGS.authorize.calls} calls in ${SETTINGS.authorize.rounds} interleaved rounds (each after ${SETTINGS.authorize.roundWarmupCalls} untimed) after ${SETTINGS.authorize.warmupCalls} warm-up calls in ${SETTINGS.authorize.warmupRegion}, ` +
      `groups of ${SETTINGS.rulesPerGroupLayout}; (b) ${SETTINGS.describe.calls} calls after ${SETTINGS.describe.warmupCalls}, ` +
      `${SETTINGS.describe.rules} rules over ${SETTINGS.describe.groups} groups (default egress rule included), MaxResults 1000; ` +
      `(b1) ${SETTINGS.describeOneGroup.calls} calls after ${SETTINGS.describeOneGroup.warmupCalls}; ` +
      `(c) ${SETTINGS.mixed.ops} ops after ${SETTINGS.mixed.warmupOps}, ${SETTINGS.mixed.workers} workers, ` +
      `one group of ${SETTINGS.mixed.rulesPerGroup} rules each${QUICK ? ' [--quick]' : ''}${ONLY ? ` [--only=${ONLY.join(',')}]` : ''}`,
  );
  // Sequential calls leave both sides idle between round trips: what waking costs shows in (a).
  console.log(`  vCPUs     guest_halt_poll_ns ${haltPollNs()} (0: an idle vCPU halts at once)`);
  if (!moto) console.log('\nmoto_server not found: measuring Weir alone (no ratios)');

  const servers: Server[] = [];
  const results: Record<string, Partial<Record<PhaseKey, Stats>>> = {};
  const errors: Record<string, { count: number; sample: string }> = {};
  try {
    servers.push(await startWeir());
    if (moto) servers.push(await startMoto(moto));
    const loads = servers.map((s) => new Workload(s));
    // Phase by phase, Weir then moto, so drifting machine noise hits both alike; (a), the
    // sequential round trips most exposed to it, in interleaved rounds.
    for (const phase of PHASES) {
      if (ONLY && !ONLY.includes(phase.key)) continue;
      if (phase.key === 'a') {
        for (const [w, stats] of await authorizeInterleaved(loads)) (results[w.server.name] ??= {}).a = stats;
        continue;
      }
      for (const w of loads) {
        if ((phase.key === 'b1' || phase.key === '0') && w.server.name !== 'weir') continue;
        process.stdout.write(`  running ${phase.title} on ${w.server.name} …\n`);
        const stats =
          phase.key === '0'
            ? await w.floor()
            : phase.key === 'b'
              ? await w.describeSpread()
              : phase.key === 'b1'
                ? await w.describeOneGroup()
                : await w.mixed();
        (results[w.server.name] ??= {})[phase.key] = stats;
      }
    }
    for (const w of loads) for (const [k, v] of w.errors) errors[`${w.server.name} ${k}`] = v;
  } finally {
    await Promise.all(servers.map((s) => stopServer(s)));
  }

  // Table.
  const rows: string[] = [];
  rows.push(
    `${pad('workload', 58)}${pad('server', 7)}${lpad('requests', 9)}${lpad('errors', 7)}${lpad('req/s', 10)}${lpad('mean ms', 9)}${lpad('p50 ms', 9)}${lpad('p99 ms', 9)}${lpad('client µs', 11)}${lpad('server µs', 11)}`,
  );
  const ratios: Record<
    string,
    {
      reqPerSec: number;
      p50: number;
      p99: number;
      target?: number;
      met?: boolean;
      perRound?: readonly number[];
    }
  > = {};
  for (const phase of PHASES) {
    for (const name of ['weir', 'moto']) {
      const s = results[name]?.[phase.key];
      if (!s) continue;
      rows.push(
        `${pad(name === 'weir' ? phase.title : '', 58)}${pad(name, 7)}${lpad(String(s.requests), 9)}${lpad(String(s.errors), 7)}` +
          `${lpad(f(s.reqPerSec), 10)}${lpad(f(s.meanMs, 2), 9)}${lpad(f(s.p50Ms, 2), 9)}${lpad(f(s.p99Ms, 2), 9)}` +
          lpad(f(s.clientCpuUs, 0), 11) +
          lpad(s.serverCpuUs !== undefined ? f(s.serverCpuUs, 0) : '', 11),
      );
    }
    const w = results['weir']?.[phase.key];
    const m = results['moto']?.[phase.key];
    if (w && m) {
      const r = {
        reqPerSec: w.reqPerSec / m.reqPerSec,
        p50: m.p50Ms / w.p50Ms,
        p99: m.p99Ms / w.p99Ms,
        ...(phase.target !== undefined
          ? { target: phase.target, met: w.reqPerSec / m.reqPerSec >= phase.target }
          : {}),
      };
      // Interleaved rounds: each round's ratio pairs the two servers under the same conditions.
      const perRound = (w.sectionReqPerSec ?? []).map((x, i) => x / (m.sectionReqPerSec?.[i] ?? NaN));
      ratios[phase.key] = perRound.length > 0 ? { ...r, perRound } : r;
      rows.push(
        `${pad('', 58)}${pad('ratio', 7)}  Weir/moto req/s ${f(r.reqPerSec)}×, p50 ${f(r.p50)}× lower, p99 ${f(r.p99)}× lower` +
          (r.target !== undefined ? ` — target ≥${r.target}×: ${r.met ? 'MET' : 'NOT MET'}` : ''),
      );
      if (perRound.length > 0) {
        rows.push(`${pad('', 65)}  per round (req/s ratio): ${perRound.map((x) => `${f(x)}×`).join(', ')}`);
      }
    }
  }
  console.log('');
  for (const row of rows) console.log(row);
  const failed = Object.values(errors).reduce((a, e) => a + e.count, 0);
  if (failed > 0) {
    console.log(`\nINVALID RUN: ${failed} calls failed:`);
    for (const [k, e] of Object.entries(errors))
      console.log(`  ${e.count} × ${k}\n    ${e.sample.replace(/\s+/g, ' ')}`);
  }

  const out = join(ROOT, 'benchmarks', 'results');
  mkdirSync(out, { recursive: true });
  const file = join(out, 'api-latest.json');
  writeFileSync(
    file,
    JSON.stringify(
      {
        environment: env,
        client,
        durability,
        settings: {
          ...SETTINGS,
          only: ONLY ?? 'all',
          guestHaltPollNs: haltPollNs(),
        },
        results,
        ratios,
        errors,
        valid: failed === 0,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`\nresults written to ${file}`);
  if (failed > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
