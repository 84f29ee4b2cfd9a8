/**
 * @module benchmarks/engine-measure — how the engine benchmark measures decisions per second:
 * whole passes over the request list with no per-call timer, counted against the CPU time of
 * the measuring thread. Imports nothing from src/, so the same code measures the current
 * checkout's engine and a baseline checkout's (benchmarks/engine-baseline.ts).
 */
import { schedstat } from './processes.js';

/** What the measurement needs of an engine snapshot: `decide()` returning `allow`. */
export interface Decider<R> {
  decide(request: R): { readonly allow: boolean };
}

/** One process's throughput figures. */
export interface Throughput {
  /** Decisions per second of wall time. */
  readonly wall: number;
  /** Decisions per CPU-second of the measuring thread (time the core ran other processes left out). */
  readonly cpu: number;
  /** Share of the wall time the thread spent waiting for a core. */
  readonly waited: number;
  /**
   * Per CPU-second again, over only the first `HOT_REQUESTS` requests: their identities, blocks
   * and decisions stay in the cache, so this is the same process's speed without the memory
   * misses of 10k identities. It tells a slow process on a slow core (both figures down) from
   * one slowed by memory (only the first down).
   */
  readonly hotCpu: number;
}

/** Requests in the cache-resident diagnostic (`Throughput.hotCpu`). */
export const HOT_REQUESTS = 500;

/**
 * CPU time of this (the measuring) thread and the time it waited for a core, in ns: Linux's
 * `schedstat` of the main thread. Elsewhere the process's CPU time (all threads) and no wait.
 */
export function threadTimes(): { cpuNs: number; waitNs: number } {
  const own = schedstat(process.pid);
  if (own !== undefined) return { cpuNs: own.runNs, waitNs: own.waitNs };
  const u = process.cpuUsage();
  return { cpuNs: (u.user + u.system) * 1000, waitNs: 0 };
}

/** Throughput without per-call timers: whole passes over the request list. */
export function throughput<R>(snap: Decider<R>, requests: readonly R[], budgetMs: number): Throughput {
  let allowed = 0;
  let n = 0;
  const t0 = threadTimes();
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < budgetMs) {
    for (let i = 0; i < requests.length; i++) if (snap.decide(requests[i] as R).allow) allowed++;
    n += requests.length;
    elapsed = performance.now() - start;
  }
  const t1 = threadTimes();
  // Keeps the decisions observable, so no compiler may drop the loop.
  if (allowed < 0) console.log(allowed);
  return {
    wall: n / (elapsed / 1000),
    cpu: n / ((t1.cpuNs - t0.cpuNs) / 1e9),
    waited: (t1.waitNs - t0.waitNs) / 1e6 / elapsed,
    hotCpu: 0,
  };
}

/** `throughput` over all requests, then over the first `HOT_REQUESTS` (warmed) for `hotCpu`. */
export function measure<R>(snap: Decider<R>, requests: readonly R[], budgetMs: number): Throughput {
  const all = throughput(snap, requests, budgetMs);
  const hot = requests.slice(0, HOT_REQUESTS);
  for (let i = 0; i < 20; i++) for (const r of hot) snap.decide(r);
  return { ...all, hotCpu: throughput(snap, hot, budgetMs / 4).cpu };
}

/** The `q` quantile of an ascending array. */
export function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

/** The median of some figures. */
export const medianOf = (xs: readonly number[]): number => percentile(Float64Array.from(xs).sort(), 0.5);
