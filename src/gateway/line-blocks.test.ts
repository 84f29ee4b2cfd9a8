/**
 * Log lines handed to sonic-boom a block at a time: nothing is written before a block is full
 * or a flush asks for it, every line arrives whole and in order, and a process that exits with
 * a block still pending writes it (the hook runs ahead of pino's own exit flush).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { LineBlocks, bufferLines } from './line-blocks.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const dir = mkdtempSync(join(tmpdir(), 'weir-line-blocks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A destination that records what it was given. */
function recorder(): { chunks: string[]; flushes: number; syncFlushes: number } & Parameters<
  typeof bufferLines
>[0] {
  const r = {
    chunks: [] as string[],
    flushes: 0,
    syncFlushes: 0,
    write: (chunk: string) => r.chunks.push(chunk),
    flush: (cb?: (err?: Error) => void) => {
      r.flushes++;
      cb?.();
    },
    flushSync: () => {
      r.syncFlushes++;
    },
  };
  return r;
}

describe('LineBlocks', () => {
  test('holds lines until a block is full, then writes them joined, once', () => {
    const out = recorder();
    const blocks = new LineBlocks(() => out, 30);
    blocks.push('a'.repeat(9) + '\n', 10);
    blocks.push('b'.repeat(9) + '\n', 10);
    expect(out.chunks).toEqual([]);
    blocks.push('c'.repeat(9) + '\n', 10);
    expect(out.chunks).toEqual([`${'a'.repeat(9)}\n${'b'.repeat(9)}\n${'c'.repeat(9)}\n`]);
    blocks.handOver();
    expect(out.chunks).toHaveLength(1);
  });

  test('hands over to the target current at the time (a rotated destination)', () => {
    const first = recorder();
    const second = recorder();
    let target = first;
    const blocks = new LineBlocks(() => target, 1000);
    blocks.push('one\n', 4);
    blocks.handOver();
    blocks.push('two\n', 4);
    target = second;
    blocks.handOver();
    expect(first.chunks).toEqual(['one\n']);
    expect(second.chunks).toEqual(['two\n']);
  });
});

describe('bufferLines', () => {
  test('flush and flushSync hand the pending lines over before flushing the destination', () => {
    const out = recorder();
    const lines = bufferLines(out);
    lines.write('x\n');
    expect(out.chunks).toEqual([]);
    let flushed = false;
    lines.flush(() => (flushed = true));
    expect(out.chunks).toEqual(['x\n']);
    expect(flushed).toBe(true);
    lines.write('y\n');
    lines.flushSync();
    expect(out.chunks).toEqual(['x\n', 'y\n']);
    expect([out.flushes, out.syncFlushes]).toEqual([1, 1]);
  });

  test('a block of 8 KiB or more leaves without a flush, lines whole and in order', () => {
    const out = recorder();
    const lines = bufferLines(out);
    for (let i = 0; i < 100; i++) lines.write(`${JSON.stringify({ i, pad: 'p'.repeat(100) })}\n`);
    expect(out.chunks.length).toBeGreaterThan(0);
    lines.flushSync();
    const got = out.chunks
      .join('')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => (JSON.parse(l) as { i: number }).i);
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  // A real pino logger on a buffered sonic-boom, three lines, then an immediate exit: without
  // the hook the lines would still be in the pending block when pino's exit flush runs. Both
  // writers: stdout's (`bufferLines` on a descriptor) and the decision-log file's.
  test.each([
    [
      'bufferLines, as weir serve writes stdout',
      'line-blocks.ts',
      (file: string) => `
        import { openSync } from 'node:fs';
        import { pino } from 'pino';
        import { bufferLines, handOverAtExit } from MODULE;
        const lines = bufferLines(pino.destination({ dest: openSync(${JSON.stringify(file)}, 'a'), sync: false, minLength: 8192 }));
        handOverAtExit(lines);
        const logger = pino({ base: null }, lines);`,
    ],
    [
      'the --decision-log file',
      'decision-log.ts',
      (file: string) => `
        import { pino } from 'pino';
        import { openDecisionLog } from MODULE;
        const logger = pino({ base: null }, openDecisionLog({ file: ${JSON.stringify(file)} }));`,
    ],
  ])('a process exiting with lines pending writes them (%s)', (name, source, setup) => {
    const file = join(dir, `exit-${source}.log`);
    const tsx = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
    const module = JSON.stringify(pathToFileURL(join(ROOT, 'src/gateway', source)).href);
    const script = `${setup(file).replace('MODULE', module)}
      for (let i = 0; i < 3; i++) logger.info({ i }, 'pending');
      process.exit(0);
    `;
    const run = spawnSync(process.execPath, ['--import', tsx, '--input-type=module', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(run.status, `${name}: ${run.stderr}`).toBe(0);
    const got = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => (JSON.parse(l) as { i: number }).i);
    expect(got).toEqual([0, 1, 2]);
  });
});
