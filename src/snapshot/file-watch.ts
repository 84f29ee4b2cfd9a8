/**
 * @module snapshot/file-watch — the one watch behind every file the gateway reloads (policy
 * directory, identity map, TLS material). A change is acted on once the files have been quiet for
 * `debounceMs`: editors and rotation tools write in several steps (truncate, write, rename).
 * Files are watched through their directory, because a file replaced by renaming a new one over
 * it keeps no inode for a file watch to follow. That is also why a tree is watched one directory
 * at a time rather than with `{ recursive: true }`: on Linux, Node 20 emulates that with a watch
 * per file, which goes deaf to a file once an editor has saved it by rename (`sed -i`, vim).
 */
import { readdirSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { basename, dirname, join } from 'node:path';

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
  const watching =
    'dir' in target
      ? watchTree(target.dir, changed, opts.onError)
      : watchFiles(target.files, changed, opts.onError);
  return {
    close: () => {
      clearTimeout(timer);
      watching.close();
    },
  };
}

/** Watches single files through their directories, filtered by name. */
function watchFiles(
  files: readonly string[],
  changed: () => void,
  onError: (err: Error, dir: string) => void,
): { close(): void } {
  const byDir = new Map<string, Set<string>>();
  for (const f of files) byDir.set(dirname(f), (byDir.get(dirname(f)) ?? new Set()).add(basename(f)));
  const watchers: FSWatcher[] = [];
  for (const [dir, names] of byDir) {
    const w = watch(dir, (_event, name) => {
      if (name === null || names.has(name)) changed();
    });
    watchers.push(w.on('error', (e) => onError(e, dir)));
  }
  return {
    close: () => {
      for (const w of watchers.splice(0)) w.close();
    },
  };
}

/** The directories under `root`, `root` first (unreadable ones are skipped: they hold nothing to load). */
function directoriesUnder(root: string): string[] {
  const dirs = [root];
  for (let i = 0; i < dirs.length; i++) {
    try {
      for (const e of readdirSync(dirs[i] as string, { withFileTypes: true }))
        if (e.isDirectory()) dirs.push(join(dirs[i] as string, e.name));
    } catch {
      // Gone or unreadable since it was listed.
    }
  }
  return dirs;
}

/**
 * Watches every directory of the tree at `root`, each on its own; a rename (a file or directory
 * created, removed or moved) rescans the tree so that new subdirectories are watched too.
 */
function watchTree(
  root: string,
  changed: () => void,
  onError: (err: Error, dir: string) => void,
): { close(): void } {
  const watchers = new Map<string, FSWatcher>();
  const rescan = (): void => {
    const present = new Set(directoriesUnder(root));
    for (const [dir, w] of watchers) {
      if (present.has(dir)) continue;
      w.close();
      watchers.delete(dir);
    }
    for (const dir of present) if (!watchers.has(dir)) watchers.set(dir, watchOne(dir));
  };
  const watchOne = (dir: string): FSWatcher =>
    watch(dir, (event) => {
      if (event === 'rename') rescan();
      changed();
    }).on('error', (e) => {
      // A subdirectory that went away is dropped at the next rescan; only the root matters.
      if (dir === root) onError(e, dir);
    });
  watchers.set(root, watchOne(root));
  rescan();
  return {
    close: () => {
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
  };
}
