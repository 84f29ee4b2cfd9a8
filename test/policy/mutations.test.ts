/**
 * @module test/policy-mutations — the policy pipeline (load, lint, report in every format, compile,
 * run the set's tests) on generated damage to the example policy set: lines deleted, repeated,
 * swapped, re-indented or cut, values replaced with hostile ones, bytes inserted. Whatever a
 * hand edit or a bad merge produces, nothing may throw; every diagnostic names a real file and a
 * position inside it with a message; and a set that loads without errors compiles and runs.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import { compilePolicySet } from '../../src/engine/index.js';
import { formatDiagnostic, formatReport, lintPolicySet, loadPolicySet } from '../../src/policy/index.js';
import { formatTestJson, formatTestText, runPolicyTests } from '../../src/explain/index.js';

const EXAMPLES = new URL('../../examples/policies/', import.meta.url).pathname;
const NOW = Date.parse('2026-06-01T00:00:00Z');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

const ORIGINALS = filesUnder(EXAMPLES).map((p) => ({
  rel: relative(EXAMPLES, p),
  text: readFileSync(p, 'utf8'),
}));

/** Values a hand edit, a bad merge or a hostile pull request might leave behind. */
const HOSTILE = [
  '',
  '""',
  "''",
  '~',
  'null',
  '[]',
  '{}',
  '[a, [b]]',
  '{ a: 1 }',
  '*',
  '**',
  '**.com',
  '*.',
  '.',
  '..',
  'xn--',
  'xn--zz--',
  'ß.Example.',
  'a'.repeat(300),
  `${'a'.repeat(64)}.example`,
  '0.0.0.0/0',
  '::/0',
  '10.0.0.1/33',
  '[::1]',
  '127.1',
  '-1',
  '65536',
  '2-1',
  '0-65535',
  '-1-5',
  '2026-02-30',
  '9999-12-31T25:00:00Z',
  '1e999',
  '0x10',
  'NaN',
  'yes',
  '&anchor x',
  '*alias',
  '!!binary aGk=',
  '!!js/function f',
  '"\\u0000"',
  '"\\ud800"',
  '|',
  '>-',
  '@',
  '`',
  '%',
  'spiffe://',
  'spiffe://x/**/y',
];

/** One edit of a file's lines. */
const edit = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('repeat' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('swap' as const), at: fc.nat(), with: fc.nat() }),
  fc.record({ op: fc.constant('indent' as const), at: fc.nat(), by: fc.constantFrom(-4, -2, -1, 1, 2, 4) }),
  fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('value' as const), at: fc.nat(), value: fc.constantFrom(...HOSTILE) }),
  fc.record({
    op: fc.constant('bytes' as const),
    at: fc.nat(),
    col: fc.nat(),
    text: fc.constantFrom(
      ':',
      '- ',
      '\t',
      '#',
      '"',
      "'",
      '[',
      '{',
      '}',
      '\u0000',
      '\ufeff',
      '\u2028',
      'é',
      '---\n',
    ),
  }),
);

type Edit = typeof edit extends fc.Arbitrary<infer E> ? E : never;

function apply(text: string, edits: readonly Edit[]): string {
  const lines = text.split('\n');
  for (const e of edits) {
    const i = e.at % Math.max(1, lines.length);
    const line = lines[i] ?? '';
    switch (e.op) {
      case 'delete':
        lines.splice(i, 1);
        break;
      case 'repeat':
        lines.splice(i, 0, line);
        break;
      case 'swap': {
        const j = e.with % Math.max(1, lines.length);
        lines[i] = lines[j] ?? '';
        lines[j] = line;
        break;
      }
      case 'indent':
        lines[i] =
          e.by > 0
            ? `${' '.repeat(e.by)}${line}`
            : line.slice(Math.min(-e.by, line.length - line.trimStart().length));
        break;
      case 'cut':
        lines.length = i;
        break;
      case 'value': {
        // Replace what follows `key: ` or `- ` on the line.
        const m = /^(\s*(?:- )?[\w$-]*:\s)|^(\s*- )/.exec(line);
        if (m !== null) lines[i] = `${m[0]}${e.value}`;
        break;
      }
      case 'bytes': {
        const c = e.col % (line.length + 1);
        lines[i] = `${line.slice(0, c)}${e.text}${line.slice(c)}`;
        break;
      }
    }
  }
  return lines.join('\n');
}

describe('the policy pipeline on damaged policy files', () => {
  const root = mkdtempSync(join(tmpdir(), 'weir-policy-mutations-'));
  let run = 0;
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test('never throws; every diagnostic points into a real file; a set that loads compiles and runs its tests', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.array(edit, { minLength: 1, maxLength: 3 })), {
          minLength: 1,
          maxLength: 2,
        }),
        (damage) => {
          const dir = join(root, `set-${run++}`);
          cpSync(EXAMPLES, dir, { recursive: true });
          const texts = new Map(ORIGINALS.map((f) => [join(dir, f.rel), f.text]));
          for (const [which, edits] of damage) {
            const f = ORIGINALS[which % ORIGINALS.length]!;
            const path = join(dir, f.rel);
            const text = apply(texts.get(path) ?? '', edits);
            texts.set(path, text);
            writeFileSync(path, text);
          }

          const loaded = loadPolicySet(dir);
          const report = lintPolicySet(loaded.set, loaded.diagnostics, { now: NOW });
          for (const d of report.diagnostics) {
            const text = texts.get(d.file);
            expect(text, `diagnostic for a file not in the set: ${d.file}`).toBeDefined();
            const lines = (text ?? '').split('\n');
            expect(d.line, formatDiagnostic(d)).toBeGreaterThanOrEqual(1);
            expect(d.line, formatDiagnostic(d)).toBeLessThanOrEqual(lines.length + 1);
            expect(d.col, formatDiagnostic(d)).toBeGreaterThanOrEqual(1);
            expect(d.message.trim(), formatDiagnostic(d)).not.toBe('');
            expect(formatDiagnostic(d).startsWith(`${d.file}:${d.line}:${d.col}: `)).toBe(true);
          }
          for (const format of ['text', 'json', 'sarif'] as const) formatReport(report, format);
          JSON.parse(formatReport(report, 'sarif'));

          if (loaded.diagnostics.every((d) => d.severity !== 'error')) {
            const snapshot = compilePolicySet(loaded.set, { skipUnresolved: true });
            const tests = runPolicyTests(loaded.set, snapshot, { now: NOW });
            formatTestText(tests);
            JSON.parse(formatTestJson(tests));
          }
          rmSync(dir, { recursive: true, force: true });
        },
      ),
      { numRuns: 300 },
    );
  }, 300_000);
});
