import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { watchDebounced } from './file-watch.js';

let dir: string;
let changes: number;
let watcher: { close(): void } | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weir-file-watch-'));
  changes = 0;
});

afterEach(() => {
  watcher?.close();
  rmSync(dir, { recursive: true, force: true });
});

function watchDir(): void {
  watcher = watchDebounced(
    { dir },
    {
      debounceMs: 20,
      onChange: () => changes++,
      onError: (err) => {
        throw err;
      },
    },
  );
}

/** Resolves once `onChange` has run more than `seen` times (the test's timeout bounds the wait). */
async function nextChange(seen: number): Promise<void> {
  while (changes <= seen) await new Promise((r) => setTimeout(r, 10));
}

/** An editor's atomic save: write a temporary file, rename it over the original. */
function saveByRename(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

describe('watchDebounced on a directory tree', () => {
  it('still hears in-place edits of a file after it was saved by rename (sed -i, vim)', async () => {
    const file = join(dir, 'p.yaml');
    writeFileSync(file, 'a: 1\n');
    watchDir();
    saveByRename(file, 'a: 2\n');
    await nextChange(0);
    const seen = changes;
    appendFileSync(file, 'b: 1\n');
    await nextChange(seen);
    expect(changes).toBeGreaterThan(seen);
  });

  it('hears files in subdirectories, including ones created after the watch started', async () => {
    mkdirSync(join(dir, 'tests'));
    watchDir();
    writeFileSync(join(dir, 'tests', 'a.yaml'), 'a: 1\n');
    await nextChange(0);
    mkdirSync(join(dir, 'more'));
    await nextChange(1);
    // Let the debounced change for the new directory fire before the file is written into it.
    const seen = changes;
    writeFileSync(join(dir, 'more', 'b.yaml'), 'b: 1\n');
    await nextChange(seen);
    expect(changes).toBeGreaterThan(seen);
  });
});
