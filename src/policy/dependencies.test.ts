/**
 * @module policy/dependencies.test — the component map (ARCHITECTURE.md): the policy layer
 * depends on the model only. Its one exception is type-only: `explain` and `test-runner`
 * describe the engine's decisions, and type imports vanish at compile time.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIR = dirname(fileURLToPath(import.meta.url));
const SOURCES = readdirSync(DIR).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));

describe('policy imports', () => {
  it.each(SOURCES)('%s imports other components only through the model (types aside)', (file) => {
    const text = readFileSync(join(DIR, file), 'utf8');
    const outside = [...text.matchAll(/^import\s+(type\s+)?[^;]*?from\s+'(\.\.\/[^']+)'/gms)]
      .filter((m) => m[1] === undefined && m[2] !== '../model/index.js')
      .map((m) => m[2]);
    expect(outside).toEqual([]);
  });
});
