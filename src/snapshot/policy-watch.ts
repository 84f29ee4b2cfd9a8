/**
 * @module snapshot/policy-watch — the snapshot the gateway enforces, from a policy directory:
 * loaded and compiled at start, recompiled when the directory changes (debounced), and swapped
 * atomically only when the new set loads without errors; otherwise the previous snapshot stays
 * and the diagnostics are logged.
 */
import type { Logger } from 'pino';
import { compilePolicySet } from '../engine/index.js';
import type { Snapshot } from '../engine/index.js';
import { WeirError } from '../model/index.js';
import { formatDiagnostic, loadPolicySet } from '../policy/index.js';
import type { PolicySet } from '../policy/index.js';
import { watchDebounced } from './file-watch.js';

/** A snapshot that may be replaced at any time; read `current()` once per decision. */
export interface SnapshotSource {
  current(): Snapshot;
  /** Epoch ms when `current()` was loaded. */
  loadedAt(): number;
  close(): void;
}

/** A policy directory under watch. */
export interface PolicyWatcher extends SnapshotSource {
  /** Loads the directory now; true when the snapshot was swapped. */
  reload(): boolean;
  /** The policy set behind `current()` (who approves exceptions, `check`'s hints). */
  policySet(): PolicySet;
}

/** Loads a policy directory: its set, or the errors (`file:line:col: …`) that keep it from loading. */
export function loadPolicyDir(dir: string): { set?: PolicySet; errors: string[] } {
  const loaded = loadPolicySet(dir);
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
  return errors.length > 0 ? { errors } : { set: loaded.set, errors };
}

function compileDir(
  dir: string,
  version: string,
): { snapshot?: Snapshot; set?: PolicySet; errors: string[] } {
  const loaded = loadPolicyDir(dir);
  if (loaded.set === undefined) return loaded;
  try {
    return {
      snapshot: compilePolicySet(loaded.set, { skipUnresolved: true, version }),
      set: loaded.set,
      errors: [],
    };
  } catch (err) {
    return { errors: [err instanceof Error ? err.message : String(err)] };
  }
}

/**
 * Loads `dir` (throws `WeirError` when it does not load) and watches it.
 * @param onReload called after every reload attempt (tests wait on it).
 */
export function watchPolicyDir(
  dir: string,
  opts: { logger: Logger; debounceMs?: number; onReload?: (swapped: boolean) => void },
): PolicyWatcher {
  let generation = 1;
  const first = compileDir(dir, `${generation}`);
  if (first.snapshot === undefined) {
    throw new WeirError('InvalidPolicy', `--policy ${dir} does not load:\n${first.errors.join('\n')}`);
  }
  let snapshot: Snapshot = first.snapshot;
  let set: PolicySet = first.set ?? { policies: [], workloads: [] };
  let loadedAt = Date.now();
  opts.logger.info({ policy: dir, version: snapshot.version, stats: snapshot.stats }, 'policy loaded');

  const reload = (): boolean => {
    const next = compileDir(dir, `${generation + 1}`);
    if (next.snapshot === undefined) {
      opts.logger.warn(
        { policy: dir, version: snapshot.version, diagnostics: next.errors },
        'policy change does not load; still enforcing the previous version',
      );
      opts.onReload?.(false);
      return false;
    }
    generation++;
    snapshot = next.snapshot;
    set = next.set ?? set;
    loadedAt = Date.now();
    opts.logger.info({ policy: dir, version: snapshot.version }, 'policy reloaded');
    opts.onReload?.(true);
    return true;
  };

  const watcher = watchDebounced(
    { dir },
    {
      ...(opts.debounceMs !== undefined ? { debounceMs: opts.debounceMs } : {}),
      onChange: reload,
      onError: (err) => opts.logger.error({ err, policy: dir }, 'policy watch failed'),
    },
  );

  return {
    current: () => snapshot,
    loadedAt: () => loadedAt,
    policySet: () => set,
    reload,
    close: () => watcher.close(),
  };
}
