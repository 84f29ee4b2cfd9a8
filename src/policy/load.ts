/**
 * @module policy/load — reads a directory of policy files into a normalised {@link PolicySet}
 * and diagnostics. Every YAML problem, schema violation and unnormalisable value becomes a
 * diagnostic at its file:line:col; nothing throws for bad input. A rule, selector or test with
 * an error is left out of the set (its errors say why), so a set that loaded with errors must
 * not be compiled or applied.
 *
 * This file finds and reads the files; loader.ts turns their documents into the set, and
 * schema-issues.ts words what the schema refuses.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { compareDiagnostics } from './diagnostics.js';
import type { Diagnostic } from './diagnostics.js';
import { Loader } from './loader.js';
import type { PolicySource } from './loader.js';
import type { PolicySet } from './types.js';

export type { PolicySource } from './loader.js';

/** What loading gives: the set (best effort), every diagnostic in file order, the files read. */
export interface LoadResult {
  readonly set: PolicySet;
  readonly diagnostics: Diagnostic[];
  readonly files: string[];
}

const YAML_FILE = /\.ya?ml$/i;

/**
 * Loads a policy set from a directory (every `*.yaml` / `*.yml`, recursively; files under any
 * `tests/` directory are test files) or from a list of files and directories. Hidden entries
 * and `node_modules` are skipped.
 */
export function loadPolicySet(paths: string | readonly string[]): LoadResult {
  const sources: PolicySource[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const path of typeof paths === 'string' ? [paths] : paths) {
    const before = sources.length + diagnostics.length;
    collect(path, basename(dirname(path)) === 'tests', true, sources, diagnostics);
    // A CI job pointed at the wrong directory must fail, not pass on an empty set.
    if (sources.length + diagnostics.length === before) {
      diagnostics.push({
        file: path,
        line: 1,
        col: 1,
        severity: 'error',
        code: 'io',
        message: 'no policy files (*.yaml, *.yml) here',
      });
    }
  }
  const result = loadPolicySources(sources);
  return { ...result, diagnostics: [...diagnostics, ...result.diagnostics].sort(compareDiagnostics) };
}

function collect(
  path: string,
  inTests: boolean,
  explicit: boolean,
  out: PolicySource[],
  diags: Diagnostic[],
): void {
  try {
    const st = statSync(path);
    if (st.isDirectory()) {
      const entries = readdirSync(path, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
      for (const e of entries) {
        if (e.name.startsWith('.') || e.name === 'node_modules') continue;
        const child = join(path, e.name);
        if (e.isDirectory()) collect(child, inTests || e.name === 'tests', false, out, diags);
        else if (YAML_FILE.test(e.name)) collect(child, inTests, false, out, diags);
      }
    } else if (explicit || YAML_FILE.test(path)) {
      out.push({ file: path, text: readFileSync(path, 'utf8'), inTests });
    }
  } catch (err) {
    const reason =
      err instanceof Error && 'code' in err && err.code === 'ENOENT'
        ? 'no such file or directory'
        : String(err);
    diags.push({
      file: path,
      line: 1,
      col: 1,
      severity: 'error',
      code: 'io',
      message: `cannot read: ${reason}`,
    });
  }
}

/** Loads a policy set from file contents already in memory (no I/O). */
export function loadPolicySources(sources: readonly PolicySource[]): LoadResult {
  const loader = new Loader();
  for (const src of sources) loader.file(src);
  return {
    set: loader.finish(),
    diagnostics: loader.diagnostics.sort(compareDiagnostics),
    files: sources.map((s) => s.file),
  };
}
