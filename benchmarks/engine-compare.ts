/**
 * @module benchmarks/engine-compare — the engine benchmark against a baseline checkout in the
 * same run (`WEIR_BENCH_BASELINE=DIR`, see benchmarks/engine.bench.ts). The benchmark's fixture
 * is written out as policy files (plus the prefix lists and the requests as JSON), so that each
 * checkout builds its own policy set from them with its own loader; then fresh processes of
 * benchmarks/engine-child.ts, current and baseline interleaved (the order flips every pair, so
 * neither always runs on a warmer or a quieter machine), compile and measure. One process is
 * one sample (the spread on a shared VM comes with the process), so the ratio is of medians.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildResult } from './engine-child.js';
import { medianOf } from './engine-measure.js';
import type { DecisionRequest } from '../src/engine/index.js';
import type { Destination, Policy, PolicyRule, PolicySet } from '../src/policy/index.js';

/** What the comparison needs of a fixture: the set, its prefix lists, the requests. */
export interface ComparisonFixture {
  readonly set: PolicySet;
  readonly prefixLists: ReadonlyMap<string, readonly string[]>;
  readonly requests: readonly DecisionRequest[];
}

/** One size's comparison: every process's figures, and the medians' ratios. */
export interface ComparisonResult {
  readonly rules: number;
  readonly current: ChildResult[];
  readonly baseline: ChildResult[];
  /**
   * Decisions per CPU-second, current / baseline: the median of the pairs' ratios (the two
   * processes of a pair run back to back, so they share the machine's mood of the moment).
   */
  readonly ratio: number;
  /** The same from the medians of each side, printed beside it as a check. */
  readonly ratioOfMedians: number;
  /** Median compile time, current / baseline (below 1: current compiles faster). */
  readonly compileRatio: number;
  /** Whether every process of both checkouts gave the same decisions. */
  readonly sameDecisions: boolean;
}

const API_VERSION = 'weir.dev/v1';
const OWNER = 'bench@example.com';
/** Documents per policy file, so no single YAML file is enormous. */
const DOCS_PER_FILE = 1000;

function destinationDoc(d: Destination): Record<string, string> {
  switch (d.kind) {
    case 'fqdn':
      return { fqdn: d.match === 'exact' ? d.name : `**.${d.name}` };
    case 'cidr':
      return { cidr: d.cidr };
    case 'prefixList':
      return { prefixList: d.ref };
    case 'group':
      return { group: d.ref };
  }
}

function ruleDoc(r: PolicyRule): Record<string, unknown> {
  return {
    id: r.id,
    to: r.destinations.map(destinationDoc),
    // No ports means all ports, in the fixture as in a policy file.
    ...(r.ports.length === 0
      ? {}
      : { ports: r.ports.map((p) => (p.from === p.to ? p.from : `${p.from}-${p.to}`)) }),
    protocol: r.protocol,
    ...(r.owner === undefined ? {} : { owner: r.owner }),
    ...(r.expiresText === undefined ? {} : { expires: r.expiresText }),
  };
}

function policyDoc(p: Policy): Record<string, unknown> {
  return {
    apiVersion: API_VERSION,
    kind: 'EgressPolicy',
    metadata: { name: p.name, owner: OWNER },
    spec: {
      mode: p.mode,
      workloads: p.workloads.map((w) =>
        w.identity !== undefined ? { identity: w.identity.value } : { labels: w.labels },
      ),
      rules: p.rules.map(ruleDoc),
    },
  };
}

/**
 * Writes the fixture as a checkout reads it: policy files (YAML; every document written as
 * JSON, which YAML reads as is) under `dir/policies`, `dir/prefix-lists.json`, `dir/requests.json`.
 */
export function writeFixture(dir: string, fx: ComparisonFixture): void {
  const policies = join(dir, 'policies');
  mkdirSync(policies, { recursive: true });
  const docs = [
    {
      apiVersion: API_VERSION,
      kind: 'WorkloadRegistry',
      metadata: { name: 'bench-workloads', owner: OWNER },
      spec: { workloads: fx.set.workloads.map((w) => ({ identity: w.identity, labels: w.labels })) },
    },
    ...fx.set.policies.map(policyDoc),
  ];
  for (let i = 0; i * DOCS_PER_FILE < docs.length; i++) {
    const text = docs
      .slice(i * DOCS_PER_FILE, (i + 1) * DOCS_PER_FILE)
      .map((d) => JSON.stringify(d))
      .join('\n---\n');
    writeFileSync(join(policies, `bench-${String(i).padStart(3, '0')}.yaml`), `${text}\n`);
  }
  writeFileSync(join(dir, 'prefix-lists.json'), JSON.stringify(Object.fromEntries(fx.prefixLists)));
  writeFileSync(join(dir, 'requests.json'), JSON.stringify(fx.requests));
}

function runChild(checkout: string, fixtureDir: string, budgetMs: number, cwd: string): ChildResult {
  const child = spawnSync(
    process.execPath,
    [
      ...process.execArgv,
      fileURLToPath(new URL('./engine-child.ts', import.meta.url)),
      checkout,
      fixtureDir,
      String(budgetMs),
    ],
    { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const line = child.stdout.trim().split('\n').at(-1) ?? '';
  if (child.status !== 0 || !line.startsWith('{'))
    throw new Error(`engine child for ${checkout} failed (${child.status})`);
  return JSON.parse(line) as ChildResult;
}

const millions = (xs: readonly ChildResult[], pick: (r: ChildResult) => number): string =>
  xs.map((r) => `${(pick(r) / 1e6).toFixed(2)}M`).join(', ');

/**
 * Measures one size: writes the fixture under `fixtureDir`, then `pairs` pairs of processes
 * (current and baseline, the order flipping each pair), and prints both and their ratio.
 */
export function compareSize(opts: {
  readonly rules: number;
  readonly fixture: ComparisonFixture;
  readonly fixtureDir: string;
  readonly current: string;
  readonly baseline: string;
  readonly pairs: number;
  readonly budgetMs: number;
}): ComparisonResult {
  console.log(`\n— ${opts.rules.toLocaleString('en')} rules, current against baseline —`);
  writeFixture(opts.fixtureDir, opts.fixture);
  const current: ChildResult[] = [];
  const baseline: ChildResult[] = [];
  for (let i = 0; i < opts.pairs; i++) {
    const order = i % 2 === 0 ? (['current', 'baseline'] as const) : (['baseline', 'current'] as const);
    for (const which of order) {
      const dir = which === 'current' ? opts.current : opts.baseline;
      (which === 'current' ? current : baseline).push(
        runChild(dir, opts.fixtureDir, opts.budgetMs, opts.current),
      );
    }
  }
  const cpu = (xs: ChildResult[]) => medianOf(xs.map((r) => r.cpu));
  const compile = (xs: ChildResult[]) => medianOf(xs.map((r) => r.compileMs));
  const digests = new Set([...current, ...baseline].map((r) => r.digest));
  const result: ComparisonResult = {
    rules: opts.rules,
    current,
    baseline,
    ratio: medianOf(current.map((c, i) => c.cpu / (baseline[i]?.cpu ?? NaN))),
    ratioOfMedians: cpu(current) / cpu(baseline),
    compileRatio: compile(current) / compile(baseline),
    sameDecisions: digests.size === 1,
  };
  for (const [name, xs] of [
    ['current ', current],
    ['baseline', baseline],
  ] as const) {
    console.log(
      `  ${name} ${(cpu(xs) / 1e6).toFixed(2)}M decisions per CPU-second (median; per process ${millions(xs, (r) => r.cpu)}), ` +
        `first 500 requests alone ${millions(xs, (r) => r.hotCpu)}, compile ${compile(xs).toFixed(0)} ms (median), ` +
        `policy load ${medianOf(xs.map((r) => r.loadMs)).toFixed(0)} ms`,
    );
  }
  const pairRatios = current.map((c, i) => (c.cpu / (baseline[i]?.cpu ?? NaN)).toFixed(2)).join(', ');
  console.log(
    `  current / baseline: ${result.ratio.toFixed(2)}× decisions per CPU-second (median of the pairs ${pairRatios}; ` +
      `of the medians ${result.ratioOfMedians.toFixed(2)}×), ` +
      `${result.compileRatio.toFixed(2)}× compile time; ` +
      (result.sameDecisions ? 'same decisions' : 'DECISIONS DIFFER between processes or checkouts'),
  );
  return result;
}

/** Prints the comparison table (one row per size) and writes the JSON beside the other results. */
export function reportComparison(results: readonly ComparisonResult[], root: string, env: unknown): void {
  const cpu = (xs: ChildResult[]) => medianOf(xs.map((r) => r.cpu));
  const compile = (xs: ChildResult[]) => medianOf(xs.map((r) => r.compileMs));
  const fmt = (n: number) => Math.round(n).toLocaleString('en');
  console.log(
    '\n| rules | current dec/CPU-s | baseline dec/CPU-s | current / baseline | compile ms current | compile ms baseline | same decisions |',
  );
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | :-- |');
  for (const r of results) {
    console.log(
      `| ${fmt(r.rules)} | ${fmt(cpu(r.current))} | ${fmt(cpu(r.baseline))} | ${r.ratio.toFixed(2)}× | ` +
        `${fmt(compile(r.current))} | ${fmt(compile(r.baseline))} | ${r.sameDecisions ? 'yes' : 'NO'} |`,
    );
  }
  const out = join(resolve(root), 'benchmarks', 'results');
  mkdirSync(out, { recursive: true });
  const file = join(out, 'engine-baseline-latest.json');
  writeFileSync(file, JSON.stringify({ environment: env, results }, null, 2));
  console.log(`results written to ${file}`);
}
