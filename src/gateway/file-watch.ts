/**
 * @module gateway/file-watch — the one watch behind every file the gateway reloads (policy
 * directory, identity map, TLS material). A change is acted on once the files have been quiet for
 * `debounceMs`: editors and rotation tools write in several steps (truncate, write, rename).
 * Single files are watched through their directory, filtered by name, because a file replaced by
 * renaming a new one over it keeps no inode for a file watch to follow.
 */
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

/** What to watch: a whole directory tree, or some files. */
export type WatchTarget = { readonly dir: string } | { readonly files: readonly string[] };

export interface DebouncedWatchOptions {
  /** Quiet time before `onChange` (default 100 ms). */
  readonly debounceMs?: number;
  readonly onChange: () => void;
  /** A watch failed (the directory went away, too many watches…); `dir` is the one watched. */
  readonly onError: (err: Error, dir: string) => void;
}

/** Watches `target`; `close()` stops it and drops a pending change. */
export function watchDebounced(target: WatchTarget, opts: DebouncedWatchOptions): { close(): void } {
  let timer: NodeJS.Timeout | undefined;
  const changed = (): void => {
    clearTimeout(timer);
    timer = setTimeout(opts.onChange, opts.debounceMs ?? 100);
  };
  const watchers: FSWatcher[] = [];
  if ('dir' in target) {
    watchers.push(
      watch(target.dir, { recursive: true }, changed).on('error', (e) => opts.onError(e, target.dir)),
    );
  } else {
    const byDir = new Map<string, Set<string>>();
    for (const f of target.files)
      byDir.set(dirname(f), (byDir.get(dirname(f)) ?? new Set()).add(basename(f)));
    for (const [dir, names] of byDir) {
      const w = watch(dir, (_event, name) => {
        if (name === null || names.has(name)) changed();
      });
      watchers.push(w.on('error', (e) => opts.onError(e, dir)));
    }
  }
  return {
    close: () => {
      clearTimeout(timer);
      for (const w of watchers.splice(0)) w.close();
    },
  };
}
