/**
 * @module snapshot/identity-map-watch — the source-address identity map in force, from
 * `--proxy-identity-map FILE`: loaded at start (a broken file stops `weir serve`), reloaded when
 * the file changes (debounced), and swapped only when the new text loads; otherwise the previous
 * map stays and the errors are logged, so a bad edit never strips legacy hosts of their identity.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { WeirError } from '../model/index.js';
import { watchDebounced } from './file-watch.js';
import { parseIdentityMap } from '../identity/index.js';
import type { IdentityMap, IdentityMapLoad } from '../identity/index.js';

/** An identity map file under watch. */
export interface IdentityMapWatcher {
  /** The map in force; read once per request. */
  current(): IdentityMap;
  /** Loads the file now; true when the map was swapped. */
  reload(): boolean;
  close(): void;
}

function loadFile(file: string): IdentityMapLoad {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : String(err);
    return { ok: false, errors: [`${file}: cannot read the file (${code})`] };
  }
  return parseIdentityMap(text, file);
}

/**
 * Loads `file` (throws `WeirError` naming `--proxy-identity-map` when it does not load) and
 * watches it.
 * @param onReload called after every reload attempt (tests wait on it).
 */
export function watchIdentityMap(
  file: string,
  opts: { logger: Logger; debounceMs?: number; onReload?: (swapped: boolean) => void },
): IdentityMapWatcher {
  const first = loadFile(file);
  if (!first.ok) {
    throw new WeirError(
      'BAD_OPTION',
      `--proxy-identity-map ${file} does not load:\n${first.errors.join('\n')}`,
    );
  }
  let map = first.map;
  opts.logger.info({ identityMap: file, entries: map.entries.length }, 'identity map loaded');

  const reload = (): boolean => {
    const next = loadFile(file);
    if (!next.ok) {
      opts.logger.warn(
        { identityMap: file, errors: next.errors },
        'identity map change does not load; still using the previous map',
      );
      opts.onReload?.(false);
      return false;
    }
    map = next.map;
    opts.logger.info({ identityMap: file, entries: map.entries.length }, 'identity map reloaded');
    opts.onReload?.(true);
    return true;
  };

  const watcher = watchDebounced(
    { files: [file] },
    {
      ...(opts.debounceMs !== undefined ? { debounceMs: opts.debounceMs } : {}),
      onChange: reload,
      onError: (err) => opts.logger.error({ err, identityMap: file }, 'identity map watch failed'),
    },
  );

  return {
    current: () => map,
    reload,
    close: () => watcher.close(),
  };
}
