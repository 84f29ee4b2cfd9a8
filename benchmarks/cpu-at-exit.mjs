// `node --import ./benchmarks/cpu-at-exit.mjs …`: at exit, appends this process's CPU time since it
// started (user + system, µs, from process.cpuUsage) to the file WEIR_CPU_FILE. Used by
// benchmarks/cli.bench.ts to measure a command's start-up cost without an outside `time`.
import { appendFileSync } from 'node:fs';
import process from 'node:process';

process.on('exit', () => {
  const file = process.env.WEIR_CPU_FILE;
  if (!file) return;
  const { user, system } = process.cpuUsage();
  appendFileSync(file, `${user + system}\n`);
});
