/**
 * `npm run bench:engine` — the compiled decision engine against the naive linear evaluator and
 * against Cedar (`@cedar-policy/cedar-wasm`, the same rules written as Cedar policies), in one
 * run, for 1k, 10k and 100k rules over 10k workload identities. Prints decisions/s (wall-clock, and
 * per CPU-second of the measuring thread, which is what "on one core" means on a shared machine),
 * p50/p99 ns per decision, compile time and heap, and ratios against both baselines.
 *
 * Policy set (seeded PRNG, identical for all three): 10,000 registered workloads
 * (`spiffe://prod.example/ns/n{i%50}/sa/svc{i}`, labels `team: t{i%100}`), 100 team policies
 * selecting by label (10 rules each), the rest exact-identity policies of 10 rules each, so every
 * identity has one or two applicable policies. Rules: FQDN exact and `**.` wildcards, IPv4 and
 * IPv6 CIDRs, prefix lists; tcp/udp/-1; single ports, lists, ranges, all ports; 10% expired,
 * 10% expiring later. Requests: 10,000, 90% from registered identities (70% of those aimed at
 * one of their rules), 10% from unknown identities; FQDN requests carry a resolved address as
 * the gateway sends them. Nothing in the set touches a guardrail range, so Cedar (which has no
 * guardrails) must agree with the engine on every sampled decision — the run checks that and
 * fails otherwise. It also checks the engine against the naive evaluator (allow, reason, rule).
 *
 * Cedar translation, per rule: `permit(principal == Workload::"id" | principal in Team::"t",
 * action == Action::"connect", resource) when { context.protocol == "tcp" && (context.port >=
 * a && context.port <= b || …) && context.now <= expiry && ((resource has host &&
 * (resource.host == "n" || resource.host like "*.n")) || (resource has ip &&
 * resource.ip.isInRange(ip("c")) || …)) }`, prefix lists expanded; evaluated with
 * `preparsePolicySet` once and `statefulIsAuthorized` per request (entities: the workload with
 * its team as parent, the destination with `host`/`ip` attributes).
 *
 * Cedar evaluates every policy on every request (about 4.4 µs per policy here) and takes about
 * two minutes to parse 100k policies, so at 100k rules it gets, by default, a 10k-rule subset
 * holding every policy that applies to the sampled identities (a subset only flatters Cedar).
 * `--cedar-full` gives it all 100k. Other options: `--quick` (1k and 10k rules, short budgets),
 * `--sizes=1000,100000`, `--engine-only` (the engine's figures only, for profiling; no baselines,
 * no checks, nothing written), `--processes=N`, `--grants=other|asked` (the snapshot with grants
 * on top, as the gateway enforces exceptions: `other` gives 1,000 identities that are never asked
 * a grant each, so every decision pays the one map lookup; `asked` gives every registered
 * identity one grant to a destination no request names, so every denial also asks its grant;
 * compare with a run without it — children measure without grants, so use `--processes=1`).
 *
 * Throughput is measured in N processes per size (default 5, 1 with `--quick`): this one and N−1
 * fresh children building the same seeded fixture, and the median is what the table and the
 * targets use, every process's figure printed beside it. On the benchmark VM the same code
 * measured 1.0–2.7M decisions/s in consecutive processes while each process's own rounds
 * agreed within about 10%: the spread comes with the process, so one process is one sample.
 * Each process also measures itself over only the first 500 requests (their working set stays
 * in the cache) and prints that beside its figure: when both are down, the process ran on a
 * slow core (on the benchmark VM the cache-resident figure itself swung about 2.4–5M between
 * processes); when only the full figure is down, memory was the cost.
 *
 * Environment: `WEIR_BENCH_BASELINE=DIR` measures another checkout's engine beside this one's in
 * the same run, in place of the naive and Cedar baselines: DIR is a source checkout with its
 * node_modules (e.g. `git worktree add ../weir-base HEAD~1` and `cp -al node_modules
 * ../weir-base/`). Each size's fixture is written as policy files (benchmarks/engine-compare.ts);
 * then N pairs of fresh processes (benchmarks/engine-child.ts; `--processes=N`, 5 by default, 1
 * with `--quick`), one per checkout, current and baseline in turn and the order flipping each
 * pair, each load the files with its own checkout's policy loader (src/policy/index.ts) and
 * compile and decide with its own engine (src/engine/index.ts), so nothing crosses versions.
 * Printed: decisions per CPU-second of each (median, and every process), the ratio current /
 * baseline (the median of the pairs' ratios), compile time of each, and whether every process
 * gave the same decisions. Each process spends seconds reading the policy files (about 5 s at
 * 1k rules with 10k registered workloads on the benchmark VM), so keep sizes and N small on a
 * shared machine: `--quick --sizes=1000 --processes=3` took 87 s at load 9–15.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { canonicalIpv6Cidr } from '../src/model/index.js';
import { compareSize, reportComparison } from './engine-compare.js';
import { HOT_REQUESTS, measure, medianOf, percentile } from './engine-measure.js';
import type { Throughput } from './engine-measure.js';
import { NaiveEvaluator, compileGrants, compilePolicySet, withGrants } from '../src/engine/index.js';
import type { Grant } from '../src/policy-types/index.js';
import type { Decision, DecisionRequest } from '../src/engine/index.js';
import type {
  Destination,
  Policy,
  PolicyRule,
  PolicySet,
  PortRange,
  RegisteredWorkload,
} from '../src/policy/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const QUICK = process.argv.includes('--quick');
const CEDAR_FULL = process.argv.includes('--cedar-full');
const ENGINE_ONLY = process.argv.includes('--engine-only');
const GRANTS = process.argv.find((a) => a.startsWith('--grants='))?.slice('--grants='.length);

/** One exception grant for `identity` to a destination no request names (`--grants`). */
function benchGrant(identity: string, i: number): Grant {
  const loc = { file: `exc-${i}`, line: 0, col: 0 };
  return {
    kind: 'exception',
    id: `exc-${i}`,
    identity,
    rules: [
      {
        id: `exc-${i}`,
        policy: `exception/exc-${i}`,
        destinations: [{ kind: 'fqdn', name: `granted${i}.example.invalid`, match: 'exact', loc }],
        ports: [{ from: 443, to: 443 }],
        protocol: 'tcp',
        loc,
      },
    ],
    everything: false,
    from: 0,
    until: Date.UTC(9999, 0),
    requester: 'dev@example.com',
    approver: 'lead@example.com',
    reason: 'bench',
    expires: Date.UTC(9999, 0),
  };
}
/** Another checkout whose engine is measured beside this one's (see the header). */
const BASELINE = process.env.WEIR_BENCH_BASELINE;
/** Set in a child that only measures throughput at this size and prints it as JSON. */
const THROUGHPUT_CHILD = Number(argValue('--throughput-child') ?? 0);
const PROCESSES = Math.max(1, Number(argValue('--processes') ?? (QUICK ? 1 : 5)));
function argValue(name: string): string | undefined {
  return process.argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
}

const SIZES = (
  argValue('--sizes')?.split(',').map(Number) ?? (QUICK ? [1000, 10_000] : [1000, 10_000, 100_000])
).filter((n) => n >= 1000);

const SETTINGS = {
  identities: 10_000,
  teams: 100,
  rulesPerPolicy: 10,
  requests: 10_000,
  prefixLists: 50,
  seed: 20261123,
  engineMs: QUICK ? 300 : 2000,
  latencyCalls: QUICK ? 50_000 : 500_000,
  naiveMs: QUICK ? 500 : 3000,
  cedarMs: QUICK ? 1000 : 4000,
  cedarMinCalls: 8,
  cedarSubset: 10_000,
} as const;

const NOW = Date.UTC(2026, 10, 23, 12);
const DAY = 86_400_000;

// Exposes gc() without a command-line flag, so heap figures are after a full collection.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

// ---------------------------------------------------------------------------------------------
// Deterministic data.

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

const DOMAINS = Array.from({ length: 40 }, (_, i) => `vendor${i}.example${i % 7}.com`);
const loc = (line: number) => ({ file: 'bench/policies.yaml', line, col: 1 });
/** A prefix-list ID as EC2 spells them (`pl-` and 8 hex digits), so policy files accept it. */
const prefixListId = (i: number): string => `pl-${i.toString(16).padStart(8, '0')}`;

interface Fixture {
  readonly set: PolicySet;
  readonly prefixLists: Map<string, string[]>;
  readonly requests: DecisionRequest[];
  /** Index of the registered workload a request came from, -1 for unknown identities. */
  readonly requestWorkload: number[];
  /** Policy indices applying to each registered workload. */
  readonly policiesOf: number[][];
}

function makeFixture(totalRules: number): Fixture {
  const rnd = mulberry32(SETTINGS.seed + totalRules);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const v4 = () => `${int(11, 99)}.${int(0, 255)}.${int(0, 255)}.${int(0, 255)}`;

  const workloads: RegisteredWorkload[] = Array.from({ length: SETTINGS.identities }, (_, i) => ({
    identity: `spiffe://prod.example/ns/n${i % 50}/sa/svc${i}`,
    labels: { team: `t${i % SETTINGS.teams}`, env: i % 3 === 0 ? 'staging' : 'prod' },
  }));
  const prefixLists = new Map<string, string[]>();
  for (let i = 0; i < SETTINGS.prefixLists; i++) {
    prefixLists.set(
      prefixListId(i),
      Array.from({ length: 4 }, () => `${int(100, 126)}.${int(0, 255)}.${int(0, 255)}.0/24`),
    );
  }

  const cidr4 = (): string => {
    const len = int(16, 32);
    const a = (((int(10, 99) << 24) | (int(0, 255) << 16) | (int(0, 255) << 8) | int(0, 255)) >>>
      0) as number;
    const net = len === 0 ? 0 : (a & ((~0 << (32 - len)) >>> 0)) >>> 0;
    return `${net >>> 24}.${(net >>> 16) & 255}.${(net >>> 8) & 255}.${net & 255}/${len}`;
  };
  const destination = (): Destination => {
    const r = rnd();
    if (r < 0.4)
      return { kind: 'fqdn', name: `svc${int(0, 999)}.${pick(DOMAINS)}`, match: 'exact', loc: loc(1) };
    if (r < 0.55)
      return { kind: 'fqdn', name: `api${int(0, 30)}.${pick(DOMAINS)}`, match: 'any-depth', loc: loc(1) };
    if (r < 0.85) return { kind: 'cidr', family: 4, cidr: cidr4(), loc: loc(1) };
    if (r < 0.95) {
      const len = pick([48, 64]);
      const [a, b] = [int(0, 0xffff).toString(16), int(0, 0xffff).toString(16)];
      const text = canonicalIpv6Cidr(len === 64 ? `2001:db8:${a}:${b}::/64` : `2001:db8:${a}::/48`);
      return { kind: 'cidr', family: 6, cidr: text, loc: loc(1) };
    }
    return { kind: 'prefixList', ref: prefixListId(int(0, SETTINGS.prefixLists - 1)), loc: loc(1) };
  };
  let line = 1;
  const makeRule = (policy: string, id: string): PolicyRule => {
    const proto = rnd();
    const protocol = proto < 0.85 ? 'tcp' : proto < 0.95 ? 'udp' : '-1';
    let ports: PortRange[];
    if (protocol === 'udp') ports = [{ from: 53, to: 53 }];
    else {
      const p = rnd();
      ports =
        p < 0.5
          ? [{ from: 443, to: 443 }]
          : p < 0.65
            ? [
                { from: 80, to: 80 },
                { from: 443, to: 443 },
              ]
            : p < 0.75
              ? [{ from: 8000, to: 8100 }]
              : p < 0.85
                ? []
                : [{ from: 5432, to: 5432 }];
    }
    const e = rnd();
    const expires = e < 0.1 ? NOW - 30 * DAY : e < 0.2 ? NOW + 30 * DAY : undefined;
    return {
      id,
      policy,
      destinations: Array.from({ length: rnd() < 0.7 ? 1 : 2 }, destination),
      ports,
      protocol,
      owner: `${policy}@example.com`,
      ...(expires === undefined
        ? {}
        : { expires, expiresText: new Date(expires).toISOString().slice(0, 10) }),
      loc: loc(line++),
    };
  };

  const policies: Policy[] = [];
  const policiesOf: number[][] = workloads.map(() => []);
  const rulesPer = SETTINGS.rulesPerPolicy;
  const policyCount = Math.ceil(totalRules / rulesPer);
  for (let p = 0; p < policyCount; p++) {
    const team = p < SETTINGS.teams;
    const name = team ? `team-t${p}` : `svc-${p}`;
    const target = team ? -1 : (p - SETTINGS.teams) % SETTINGS.identities;
    const rules = Array.from({ length: Math.min(rulesPer, totalRules - p * rulesPer) }, (_, r) =>
      makeRule(name, `r${r}`),
    );
    policies.push({
      name,
      labels: {},
      mode: 'enforce',
      workloads: [
        team
          ? { labels: { team: `t${p}` }, loc: loc(1) }
          : { identity: { kind: 'exact', value: workloads[target]?.identity ?? '' }, loc: loc(1) },
      ],
      rules,
      tests: [],
      loc: loc(1),
    });
    if (team) for (let w = p; w < workloads.length; w += SETTINGS.teams) policiesOf[w]?.push(p);
    else policiesOf[target]?.push(p);
  }

  const requests: DecisionRequest[] = [];
  const requestWorkload: number[] = [];
  const addressIn = (c: string): string => {
    const [ip = '', lenText = '32'] = c.split('/');
    const len = Number(lenText);
    if (ip.includes(':')) return ip.endsWith('::') ? `${ip}${int(1, 0xffff).toString(16)}` : ip;
    const n = ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
    const host = len >= 32 ? 0 : int(0, 2 ** (32 - len) - 1);
    const a = n + host;
    return `${Math.floor(a / 2 ** 24) % 256}.${Math.floor(a / 2 ** 16) % 256}.${Math.floor(a / 256) % 256}.${a % 256}`;
  };
  for (let i = 0; i < SETTINGS.requests; i++) {
    if (rnd() < 0.1) {
      requests.push({
        identity: `spiffe://prod.example/ns/n${int(0, 49)}/sa/ghost${i}`,
        host: `svc1.${pick(DOMAINS)}`,
        ip: v4(),
        port: 443,
        protocol: 'tcp',
        now: NOW,
      });
      requestWorkload.push(-1);
      continue;
    }
    const w = int(0, workloads.length - 1);
    const identity = workloads[w]?.identity ?? '';
    const candidates = (policiesOf[w] ?? []).flatMap((p) => policies[p]?.rules ?? []);
    requestWorkload.push(w);
    const r = rnd() < 0.7 && candidates.length > 0 ? pick(candidates) : undefined;
    if (r === undefined) {
      requests.push(
        rnd() < 0.5
          ? {
              identity,
              host: `svc${int(0, 999)}.${pick(DOMAINS)}`,
              ip: v4(),
              port: pick([443, 80, 22]),
              protocol: 'tcp',
              now: NOW,
            }
          : { identity, ip: v4(), port: pick([443, 5432, 53]), protocol: pick(['tcp', 'udp']), now: NOW },
      );
      continue;
    }
    const d = pick(r.destinations);
    const protocol = r.protocol === '-1' ? 'tcp' : r.protocol;
    const range = r.ports.length === 0 ? { from: 1, to: 65535 } : pick(r.ports);
    const port = int(range.from, range.to);
    if (d.kind === 'fqdn') {
      const host = d.match === 'exact' ? d.name : `${pick(['eu', 'us', 'a.b'])}.${d.name}`;
      requests.push({ identity, host, ip: v4(), port, protocol, now: NOW });
    } else {
      const c =
        d.kind === 'cidr'
          ? d.cidr
          : pick(prefixLists.get(d.kind === 'prefixList' ? d.ref : '') ?? ['11.0.0.0/8']);
      requests.push({ identity, ip: addressIn(c), port, protocol, now: NOW });
    }
  }
  // A gateway hands the engine flat strings fresh from its parser; template literals make
  // V8 rope strings, which every lookup would have to walk. Flatten them as a parser would.
  const flat = (x: string): string => JSON.parse(JSON.stringify(x)) as string;
  const parsed = requests.map((r): DecisionRequest => ({
    identity: flat(r.identity),
    ...(r.host === undefined ? {} : { host: flat(r.host) }),
    ...(r.ip === undefined ? {} : { ip: flat(r.ip) }),
    port: r.port,
    protocol: r.protocol,
    now: r.now,
  }));
  return { set: { policies, workloads }, prefixLists, requests: parsed, requestWorkload, policiesOf };
}

// ---------------------------------------------------------------------------------------------
// Cedar.

interface CedarApi {
  preparsePolicySet(id: string, policies: { staticPolicies: string }): { type: string; errors?: unknown };
  statefulIsAuthorized(call: unknown): {
    type: string;
    response?: { decision: 'allow' | 'deny' };
    errors?: unknown;
  };
  getCedarVersion(): string;
}

function cedarString(s: string): string {
  return JSON.stringify(s);
}

function cedarPolicy(policy: Policy, rule: PolicyRule, prefixLists: Map<string, string[]>): string {
  const sel = policy.workloads[0];
  const principal =
    sel?.identity !== undefined
      ? `principal == Workload::${cedarString(sel.identity.value)}`
      : `principal in Team::${cedarString(sel?.labels?.team ?? '')}`;
  const when: string[] = [];
  if (rule.protocol !== '-1') when.push(`context.protocol == ${cedarString(rule.protocol)}`);
  if (rule.protocol !== '-1' && rule.ports.length > 0) {
    when.push(
      `(${rule.ports.map((p) => `(context.port >= ${p.from} && context.port <= ${p.to})`).join(' || ')})`,
    );
  }
  if (rule.expires !== undefined) when.push(`context.now <= ${rule.expires}`);
  const hosts: string[] = [];
  const ranges: string[] = [];
  for (const d of rule.destinations) {
    if (d.kind === 'fqdn') {
      // Cedar's `*` also crosses dots, which is what `**.` (one or more labels) means.
      hosts.push(
        d.match === 'exact' ? `resource.host == ${cedarString(d.name)}` : `resource.host like "*.${d.name}"`,
      );
    } else if (d.kind === 'cidr') {
      ranges.push(`resource.ip.isInRange(ip(${cedarString(d.cidr)}))`);
    } else {
      for (const c of prefixLists.get(d.ref) ?? [])
        ranges.push(`resource.ip.isInRange(ip(${cedarString(c)}))`);
    }
  }
  const dest: string[] = [];
  if (hosts.length > 0) dest.push(`(resource has host && (${hosts.join(' || ')}))`);
  if (ranges.length > 0) dest.push(`(resource has ip && (${ranges.join(' || ')}))`);
  when.push(`(${dest.join(' || ')})`);
  return `permit(${principal}, action == Action::"connect", resource) when { ${when.join(' && ')} };`;
}

function cedarCall(req: DecisionRequest, team: string | undefined, setId: string): unknown {
  const attrs: Record<string, unknown> = {};
  if (req.host !== undefined) attrs['host'] = req.host;
  if (req.ip !== undefined) attrs['ip'] = { __extn: { fn: 'ip', arg: req.ip } };
  return {
    principal: { type: 'Workload', id: req.identity },
    action: { type: 'Action', id: 'connect' },
    resource: { type: 'Destination', id: 'd' },
    context: { protocol: req.protocol, port: req.port, now: req.now },
    preparsedPolicySetId: setId,
    entities: [
      {
        uid: { type: 'Workload', id: req.identity },
        attrs: {},
        parents: team === undefined ? [] : [{ type: 'Team', id: team }],
      },
      { uid: { type: 'Destination', id: 'd' }, attrs, parents: [] },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Measurement.

interface Latency {
  readonly count: number;
  readonly perSec: number;
  readonly p50: number;
  readonly p99: number;
}

/** Times each call; `budgetMs` bounds the run, `maxCalls` the sample. */
function timeCalls(
  requests: readonly DecisionRequest[],
  fn: (r: DecisionRequest) => unknown,
  budgetMs: number,
  maxCalls: number,
  minCalls = 1,
): Latency {
  const samples = new Float64Array(maxCalls);
  let n = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(budgetMs * 1e6));
  let t = start;
  while (n < maxCalls && (t < deadline || n < minCalls)) {
    const r = requests[n % requests.length] as DecisionRequest;
    const t0 = process.hrtime.bigint();
    fn(r);
    t = process.hrtime.bigint();
    samples[n++] = Number(t - t0);
  }
  const total = Number(t - start) / 1e9;
  const sorted = samples.subarray(0, n).sort();
  return { count: n, perSec: n / total, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
}

/**
 * Throughput of `PROCESSES − 1` fresh processes at this size (see the header), each building
 * the same fixture and measuring as `throughput` does here.
 */
function childThroughputs(totalRules: number): Throughput[] {
  const out: Throughput[] = [];
  for (let i = 1; i < PROCESSES; i++) {
    const child = spawnSync(
      process.execPath,
      [...process.execArgv, fileURLToPath(import.meta.url), `--throughput-child=${totalRules}`],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const line = child.stdout.trim().split('\n').at(-1) ?? '';
    if (child.status !== 0 || !line.startsWith('{'))
      throw new Error(`throughput child failed (${child.status})`);
    out.push(JSON.parse(line) as Throughput);
  }
  return out;
}

/** The child's whole job: build, compile, warm, measure, print. */
function throughputChild(totalRules: number): void {
  const fx = makeFixture(totalRules);
  const snap = compilePolicySet(fx.set, { prefixLists: fx.prefixLists });
  for (let i = 0; i < 6; i++) for (const r of fx.requests) snap.decide(r);
  console.log(JSON.stringify(measure(snap, fx.requests, SETTINGS.engineMs)));
}

function timerFloor(): number {
  const s = new Float64Array(200_000);
  for (let i = 0; i < s.length; i++) {
    const t0 = process.hrtime.bigint();
    s[i] = Number(process.hrtime.bigint() - t0);
  }
  return percentile(s.sort(), 0.5);
}

/**
 * Machine yardsticks, so figures from different machines can be compared: a random-order
 * `Map.get` over 10k string keys and a sequential `Int32Array` sum, in ns per operation.
 */
function calibrate(): { mapGetNs: number; int32SumNs: number } {
  const keys = Array.from(
    { length: 10_000 },
    (_, i) => JSON.parse(JSON.stringify(`spiffe://x/ns/${i % 50}/sa/${i}`)) as string,
  );
  const map = new Map(keys.map((k, i) => [k, i]));
  const order = Int32Array.from({ length: keys.length }, (_, i) => (i * 7919) % keys.length);
  let x = 0;
  const t0 = performance.now();
  for (let k = 0; k < 100; k++)
    for (let i = 0; i < order.length; i++) x += map.get(keys[order[i] ?? 0] ?? '') ?? 0;
  const mapGetNs = ((performance.now() - t0) * 1e6) / (100 * order.length);
  const a = Int32Array.from({ length: 1 << 20 }, (_, i) => i & 1023);
  const t1 = performance.now();
  for (let k = 0; k < 20; k++) for (let i = 0; i < a.length; i++) x += a[i] ?? 0;
  const int32SumNs = ((performance.now() - t1) * 1e6) / (20 * a.length);
  if (x < 0) console.log(x);
  return { mapGetNs: Number(mapGetNs.toFixed(1)), int32SumNs: Number(int32SumNs.toFixed(2)) };
}

const heapMiB = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

function same(a: Decision, b: Decision): boolean {
  return (
    a.allow === b.allow &&
    a.reason === b.reason &&
    a.matched?.policy === b.matched?.policy &&
    a.matched?.ruleId === b.matched?.ruleId
  );
}

// ---------------------------------------------------------------------------------------------

interface SizeResult {
  rules: number;
  policies: number;
  compileMs: number;
  heapMiB: { snapshot: number; withIdentityCache: number };
  outcomes: Record<string, number>;
  engine: Latency & { throughput: number; throughputCpu: number; waited: number; processes: Throughput[] };
  naive: Latency & { mismatches: number };
  cedar: Latency & { policies: number; subset: boolean; parseMs: number; mismatches: number };
}

function runSize(totalRules: number, cedar: CedarApi): SizeResult | undefined {
  console.log(`\n— ${totalRules.toLocaleString('en')} rules —`);
  const fx = makeFixture(totalRules);
  const opts = { prefixLists: fx.prefixLists };

  const heap0 = heapMiB();
  const t0 = performance.now();
  const compiled = compilePolicySet(fx.set, opts);
  const grantees =
    GRANTS === 'asked'
      ? fx.set.workloads.map((w) => w.identity)
      : GRANTS === 'other'
        ? Array.from({ length: 1000 }, (_, i) => `spiffe://elsewhere.example/sa/g${i}`)
        : [];
  const snap = withGrants(compiled, compileGrants(grantees.map(benchGrant), opts));
  const compileMs = performance.now() - t0;
  const heapSnap = heapMiB() - heap0;
  console.log(
    `  compile ${compileMs.toFixed(0)} ms, ${snap.stats.policies} policies, heap +${heapSnap.toFixed(1)} MiB`,
  );

  const outcomes: Record<string, number> = {};
  for (const r of fx.requests) {
    const d = snap.decide(r);
    const key = `${d.allow ? 'allow' : 'deny'}:${d.reason}`;
    outcomes[key] = (outcomes[key] ?? 0) + 1;
  }
  for (let i = 0; i < 5; i++) for (const r of fx.requests) snap.decide(r);
  const heapCached = heapMiB() - heap0;

  const own = measure(snap, fx.requests, SETTINGS.engineMs);
  const lat = timeCalls(fx.requests, (r) => snap.decide(r), 1e9, SETTINGS.latencyCalls);
  const runs = [own, ...childThroughputs(totalRules)];
  const tp: Throughput = {
    wall: medianOf(runs.map((t) => t.wall)),
    cpu: medianOf(runs.map((t) => t.cpu)),
    waited: medianOf(runs.map((t) => t.waited)),
    hotCpu: medianOf(runs.map((t) => t.hotCpu)),
  };
  const perProcess = runs.map((t) => `${(t.cpu / 1e6).toFixed(2)}M`).join(', ');
  const hotPerProcess = runs.map((t) => `${(t.hotCpu / 1e6).toFixed(2)}M`).join(', ');
  console.log(
    `  engine ${Math.round(tp.wall).toLocaleString('en')} decisions/s, ` +
      `${Math.round(tp.cpu).toLocaleString('en')} per CPU-second of the thread ` +
      `(waited for a core ${(100 * tp.waited).toFixed(0)}% of the time), p50 ${lat.p50} ns, p99 ${lat.p99} ns` +
      (runs.length > 1 ? `\n    median of ${runs.length} processes; per CPU-second: ${perProcess}` : '') +
      `\n    the first ${HOT_REQUESTS} requests alone (working set in cache), per CPU-second: ` +
      `${(tp.hotCpu / 1e6).toFixed(2)}M` +
      (runs.length > 1 ? ` median; per process: ${hotPerProcess}` : ''),
  );
  if (ENGINE_ONLY) return undefined;

  // Naive: its own time budget, and every sampled decision checked against the engine.
  const naive = new NaiveEvaluator(fx.set, opts);
  const naiveDecisions: Decision[] = [];
  const naiveLat = timeCalls(
    fx.requests,
    (r) => naiveDecisions.push(naive.decide(r)),
    SETTINGS.naiveMs,
    fx.requests.length,
  );
  const naiveMismatches = naiveDecisions.filter(
    (d, i) => !same(d, snap.decide(fx.requests[i] as DecisionRequest)),
  ).length;
  console.log(
    `  naive ${naiveLat.perSec.toFixed(0)} decisions/s (${naiveLat.count} sampled), mismatches ${naiveMismatches}`,
  );

  // Cedar: full set, or a subset holding every policy of the sampled identities.
  const sampleSize = 400;
  const sample = fx.requests.slice(0, sampleSize);
  const subset = !CEDAR_FULL && totalRules > SETTINGS.cedarSubset;
  let cedarPolicies: number[];
  if (subset) {
    const keep = new Set<number>();
    sample.forEach((_, i) => {
      for (const p of fx.policiesOf[fx.requestWorkload[i] ?? -1] ?? []) keep.add(p);
    });
    for (
      let p = 0;
      keep.size * SETTINGS.rulesPerPolicy < SETTINGS.cedarSubset && p < fx.set.policies.length;
      p += 7
    )
      keep.add(p);
    cedarPolicies = [...keep].sort((a, b) => a - b);
  } else {
    cedarPolicies = fx.set.policies.map((_, i) => i);
  }
  const text = cedarPolicies
    .flatMap((p) => {
      const policy = fx.set.policies[p] as Policy;
      return policy.rules.map((r) => cedarPolicy(policy, r, fx.prefixLists));
    })
    .join('\n');
  const setId = `weir-${totalRules}`;
  const tp0 = performance.now();
  const parsed = cedar.preparsePolicySet(setId, { staticPolicies: text });
  const parseMs = performance.now() - tp0;
  if (parsed.type !== 'success')
    throw new Error(`cedar parse failed: ${JSON.stringify(parsed.errors).slice(0, 500)}`);
  const cedarRules = cedarPolicies.reduce((n, p) => n + (fx.set.policies[p]?.rules.length ?? 0), 0);
  const calls = sample.map((r, i) => {
    const w = fx.requestWorkload[i] ?? -1;
    return cedarCall(r, w < 0 ? undefined : fx.set.workloads[w]?.labels['team'], setId);
  });
  let cedarMismatches = 0;
  let k = 0;
  const cedarLat = timeCalls(
    sample,
    (r) => {
      const i = k++ % sample.length;
      const a = cedar.statefulIsAuthorized(calls[i]);
      if (a.type !== 'success') throw new Error(`cedar failed: ${JSON.stringify(a.errors).slice(0, 500)}`);
      if ((a.response?.decision === 'allow') !== snap.decide(r).allow) cedarMismatches++;
    },
    SETTINGS.cedarMs,
    sampleSize,
    SETTINGS.cedarMinCalls,
  );
  console.log(
    `  cedar ${cedarLat.perSec.toFixed(1)} decisions/s over ${cedarRules.toLocaleString('en')} policies` +
      `${subset ? ' (subset)' : ''}, parse ${(parseMs / 1000).toFixed(1)} s, mismatches ${cedarMismatches}`,
  );

  return {
    rules: totalRules,
    policies: snap.stats.policies,
    compileMs,
    heapMiB: { snapshot: heapSnap, withIdentityCache: heapCached },
    outcomes,
    engine: { ...lat, throughput: tp.wall, throughputCpu: tp.cpu, waited: tp.waited, processes: runs },
    naive: { ...naiveLat, mismatches: naiveMismatches },
    cedar: { ...cedarLat, policies: cedarRules, subset, parseMs, mismatches: cedarMismatches },
  };
}

/** `WEIR_BENCH_BASELINE`: each size's fixture in interleaved processes of both checkouts. */
function compareWithBaseline(baseline: string, env: unknown): void {
  const dir = mkdtempSync(join(tmpdir(), 'weir-engine-bench-'));
  try {
    const results = SIZES.map((rules) =>
      compareSize({
        rules,
        fixture: makeFixture(rules),
        fixtureDir: join(dir, String(rules)),
        current: ROOT,
        baseline: resolve(baseline),
        pairs: PROCESSES,
        // Each process spends seconds loading policy files; a longer measurement is cheap beside it.
        budgetMs: Math.max(SETTINGS.engineMs, 1000),
      }),
    );
    reportComparison(results, ROOT, env);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main(): void {
  const require = createRequire(import.meta.url);
  const cedar = require('@cedar-policy/cedar-wasm/nodejs') as CedarApi;
  const env = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    platform: `${platform()} ${release()}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadavgAtStart: loadavg().map((x) => Number(x.toFixed(2))),
    cedar: cedar.getCedarVersion(),
    timerFloorNs: timerFloor(),
    calibration: calibrate(),
  };
  console.log(`engine benchmark — ${env.date}`);
  console.log(
    `  node ${env.node} on ${env.cpuModel} ×${env.cpus}, ${env.platform}, load ${env.loadavgAtStart.join(' ')}`,
  );
  console.log(`  cedar-wasm ${env.cedar}; hrtime pair costs ${env.timerFloorNs} ns (included in p50/p99)`);
  console.log(
    `  yardsticks: Map.get (10k string keys, random order) ${env.calibration.mapGetNs} ns, ` +
      `Int32Array sum ${env.calibration.int32SumNs} ns/element`,
  );

  if (BASELINE !== undefined) {
    compareWithBaseline(BASELINE, env);
    return;
  }
  const results = SIZES.map((n) => runSize(n, cedar)).filter((r) => r !== undefined);
  if (ENGINE_ONLY) return;

  const fmt = (n: number, d = 0) =>
    n.toLocaleString('en', { maximumFractionDigits: d, minimumFractionDigits: d });
  console.log(
    '\n| rules | engine dec/s | per CPU-s | p50 ns | p99 ns | naive dec/s | p50 ns | p99 ns | Cedar dec/s | p50 ns | p99 ns | × naive | × Cedar | compile ms | heap MiB |',
  );
  console.log(
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const r of results) {
    const cedarNote = r.cedar.subset ? ` (${fmt(r.cedar.policies)}-rule subset)` : '';
    console.log(
      `| ${fmt(r.rules)} | ${fmt(r.engine.throughput)} | ${fmt(r.engine.throughputCpu)} | ${fmt(r.engine.p50)} | ${fmt(r.engine.p99)} | ${fmt(r.naive.perSec)} | ` +
        `${fmt(r.naive.p50)} | ${fmt(r.naive.p99)} | ${fmt(r.cedar.perSec, 1)}${cedarNote} | ${fmt(r.cedar.p50)} | ${fmt(r.cedar.p99)} | ` +
        `${fmt(r.engine.throughput / r.naive.perSec)}× | ${fmt(r.engine.throughput / r.cedar.perSec)}× | ${fmt(r.compileMs)} | ` +
        `${fmt(r.heapMiB.snapshot, 1)} (+cache ${fmt(r.heapMiB.withIdentityCache, 1)}) |`,
    );
  }
  const big = results.find((r) => r.rules === 100_000);
  const invalid = results.some((r) => r.naive.mismatches > 0 || r.cedar.mismatches > 0);
  if (big !== undefined) {
    console.log(
      // "On one core": decisions per CPU-second of the measuring thread; wall-clock beside it.
      `\ntargets at 100k rules: ≥2M decisions/s on one core ${big.engine.throughputCpu >= 2e6 ? 'MET' : 'NOT MET'} ` +
        `(${fmt(big.engine.throughputCpu)} per CPU-second; ${fmt(big.engine.throughput)}/s wall-clock), ` +
        `≥50× Cedar ${big.engine.throughput / big.cedar.perSec >= 50 ? 'MET' : 'NOT MET'} (${fmt(big.engine.throughput / big.cedar.perSec)}×), ` +
        `compile <3 s ${big.compileMs < 3000 ? 'MET' : 'NOT MET'} (${fmt(big.compileMs)} ms)`,
    );
  }
  console.log(
    `outcome mix per size: ${results.map((r) => `${r.rules}: ${JSON.stringify(r.outcomes)}`).join('; ')}`,
  );

  const out = join(ROOT, 'benchmarks', 'results');
  mkdirSync(out, { recursive: true });
  const file = join(out, 'engine-latest.json');
  writeFileSync(
    file,
    JSON.stringify(
      { environment: env, settings: { ...SETTINGS, quick: QUICK, cedarFull: CEDAR_FULL }, results },
      null,
      2,
    ),
  );
  console.log(`results written to ${file}`);
  if (invalid) {
    console.error('INVALID RUN: a baseline disagreed with the engine');
    process.exit(1);
  }
}

if (THROUGHPUT_CHILD > 0) throughputChild(THROUGHPUT_CHILD);
else main();
