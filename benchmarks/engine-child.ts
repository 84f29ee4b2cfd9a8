/**
 * @module benchmarks/engine-child — one measuring process of the engine benchmark's baseline
 * comparison (`WEIR_BENCH_BASELINE`, see benchmarks/engine.bench.ts):
 *
 *     node --import tsx benchmarks/engine-child.ts CHECKOUT FIXTURE_DIR BUDGET_MS
 *
 * Loads the policy files in FIXTURE_DIR/policies with CHECKOUT's own policy loader
 * (CHECKOUT/src/policy/index.ts), compiles them with CHECKOUT's own engine
 * (CHECKOUT/src/engine/index.ts) and the prefix lists in FIXTURE_DIR/prefix-lists.json, decides
 * the requests in FIXTURE_DIR/requests.json, and prints one JSON line: throughput (as
 * engine-measure.ts measures it), load and compile time, and a digest of every decision (allow,
 * reason, policy and rule) so the parent can tell whether both checkouts decided alike. Nothing
 * here imports this checkout's src/, so the current and the baseline checkout are measured by
 * the same code and neither sees the other's modules or data structures.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { measure } from './engine-measure.js';

/** What is used of a checkout's src/engine/index.ts: the compiler and its snapshot. */
interface EngineEntry {
  compilePolicySet(
    set: unknown,
    options: { prefixLists: Map<string, string[]> },
  ): {
    decide(request: unknown): {
      readonly allow: boolean;
      readonly reason: string;
      readonly matched?: { readonly policy: string; readonly ruleId: string } | undefined;
    };
  };
}

/** What is used of a checkout's src/policy/index.ts: the policy loader. */
interface PolicyEntry {
  loadPolicySet(paths: string): {
    readonly set: unknown;
    readonly diagnostics: readonly { severity: string; code: string; message: string }[];
  };
}

/** The child's answer to the parent, one JSON line on stdout. */
export interface ChildResult {
  readonly wall: number;
  readonly cpu: number;
  readonly waited: number;
  readonly hotCpu: number;
  readonly loadMs: number;
  readonly compileMs: number;
  /** sha256 over every request's decision, in request order. */
  readonly digest: string;
}

const [checkoutArg, fixtureDir, budgetArg] = process.argv.slice(2);
if (checkoutArg === undefined || fixtureDir === undefined || budgetArg === undefined) {
  console.error('usage: engine-child.ts CHECKOUT FIXTURE_DIR BUDGET_MS');
  process.exit(2);
}
const checkout = resolve(checkoutArg);
const entry = async <T>(component: string): Promise<T> =>
  (await import(pathToFileURL(join(checkout, 'src', component, 'index.ts')).href)) as T;
const engine = await entry<EngineEntry>('engine');
const policy = await entry<PolicyEntry>('policy');

const t0 = performance.now();
const loaded = policy.loadPolicySet(join(fixtureDir, 'policies'));
const loadMs = performance.now() - t0;
const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
if (errors.length > 0) {
  const first = errors[0];
  throw new Error(`${checkout}: ${errors.length} policy errors, first ${first?.code}: ${first?.message}`);
}
const prefixLists = new Map(
  Object.entries(
    JSON.parse(readFileSync(join(fixtureDir, 'prefix-lists.json'), 'utf8')) as Record<string, string[]>,
  ),
);
// JSON.parse gives flat strings, as a gateway's parser would (no V8 ropes to walk per lookup).
const requests = JSON.parse(readFileSync(join(fixtureDir, 'requests.json'), 'utf8')) as unknown[];

const t1 = performance.now();
const snap = engine.compilePolicySet(loaded.set, { prefixLists });
const compileMs = performance.now() - t1;

const hash = createHash('sha256');
for (const r of requests) {
  const d = snap.decide(r);
  hash.update(`${d.allow}|${d.reason}|${d.matched?.policy ?? ''}|${d.matched?.ruleId ?? ''}\n`);
}
for (let i = 0; i < 5; i++) for (const r of requests) snap.decide(r);

const result: ChildResult = {
  ...measure(snap, requests, Number(budgetArg)),
  loadMs,
  compileMs,
  digest: hash.digest('hex'),
};
console.log(JSON.stringify(result));
