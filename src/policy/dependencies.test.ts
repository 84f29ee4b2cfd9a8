/**
 * @module policy/dependencies.test — policy's files load nothing of Weir's at run time but the
 * model and the policy types below it (type imports vanish at compile time). The layer table as
 * a whole (docs/architecture.md) is enforced by the lint (`eslint/boundaries.js`); this is the
 * stricter promise that loading policy files never loads the engine.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIR = dirname(fileURLToPath(import.meta.url));
const RUNTIME_IMPORTS = ['../model/index.js', '../policy-types/index.js'];
const SOURCES = readdirSync(DIR).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));

describe('policy imports', () => {
  it.each(SOURCES)(
    '%s imports other components only through the model and policy types (types aside)',
    (file) => {
      const text = readFileSync(join(DIR, file), 'utf8');
      const outside = [...text.matchAll(/^import\s+(type\s+)?[^;]*?from\s+'(\.\.\/[^']+)'/gms)]
        .filter((m) => m[1] === undefined && !RUNTIME_IMPORTS.includes(m[2] ?? ''))
        .map((m) => m[2]);
      expect(outside).toEqual([]);
    },
  );
});
