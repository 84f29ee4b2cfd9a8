/**
 * `node --import tsx benchmarks/cache-probe.ts [MiB…]` — how much cache this machine gives one
 * process: a dependent pointer chase over a working set of each size (one load per 64-byte line,
 * in a random cyclic order, so neither the prefetcher nor out-of-order execution hides a miss),
 * printed as ns per load. Where the figure jumps is where a data structure stops fitting. Used in
 * docs/benchmarks.md to explain the decision engine's figures at 100k rules.
 */
const LINE_WORDS = 16;

function nsPerLoad(mib: number, loads: number): number {
  const lines = Math.max(2, Math.floor((mib * 2 ** 20) / 4 / LINE_WORDS));
  const order = Int32Array.from({ length: lines }, (_, i) => i);
  let seed = 99;
  for (let i = lines - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const j = seed % (i + 1);
    const t = order[i] ?? 0;
    order[i] = order[j] ?? 0;
    order[j] = t;
  }
  // Each line's first word holds the offset of the next line in the cycle.
  const words = new Int32Array(lines * LINE_WORDS);
  for (let i = 0; i < lines; i++)
    words[(order[i] ?? 0) * LINE_WORDS] = (order[(i + 1) % lines] ?? 0) * LINE_WORDS;
  let at = 0;
  for (let i = 0; i < loads / 5; i++) at = words[at] ?? 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < loads; i++) at = words[at] ?? 0;
  const ns = Number(process.hrtime.bigint() - t0) / loads;
  return at < 0 ? -1 : ns;
}

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((x) => x > 0);
for (const mib of sizes.length > 0 ? sizes : [0.25, 1, 2, 3, 4, 6, 8, 16, 64]) {
  console.log(`${String(mib).padStart(6)} MiB: ${nsPerLoad(mib, 5_000_000).toFixed(1)} ns per load`);
}
