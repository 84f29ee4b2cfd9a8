/**
 * @module snapshot/identity-tls-watch — watches the gateway's TLS files so that rotated
 * certificates and CA bundles apply to new handshakes without a restart. Loading and checking
 * the files is `identity`'s (`loadGatewayTls`); this is the reload around it, on the same
 * debounced watch as every other file the gateway reloads.
 */
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { loadGatewayTls } from '../identity/index.js';
import type { GatewayTls, GatewayTlsFiles } from '../identity/index.js';
import { watchDebounced } from './file-watch.js';

/** TLS files under watch. */
export interface GatewayTlsWatcher {
  /** Loads the files now; true when they loaded and were applied. */
  reload(): boolean;
  close(): void;
}

/**
 * Watches the TLS files and applies them (`apply`, e.g. `gateway.updateTls`) when they change
 * and load: certificates and CA bundles rotate (SPIFFE trust bundles every few hours), and a
 * restart would cut every open tunnel. A change that does not load (a key written before its
 * certificate, a truncated file) is logged and the previous material stays in force.
 * @param onReload called after every reload attempt (tests wait on it).
 */
export function watchGatewayTls(
  files: GatewayTlsFiles,
  opts: {
    apply: (tls: GatewayTls) => void;
    logger: Logger;
    debounceMs?: number;
    onReload?: (applied: boolean) => void;
  },
): GatewayTlsWatcher {
  const paths = [files.certFile, files.keyFile, files.clientCaFile].flatMap((f) =>
    f === undefined ? [] : [resolve(f)],
  );
  const reload = (): boolean => {
    let applied = false;
    try {
      const tls = loadGatewayTls(files);
      if (tls !== undefined) {
        opts.apply(tls);
        applied = true;
        opts.logger.info({ files: paths }, 'gateway TLS reloaded');
      }
    } catch (err) {
      opts.logger.warn(
        { files: paths, error: err instanceof Error ? err.message : String(err) },
        'gateway TLS change does not load; still using the previous certificate and CA',
      );
    }
    opts.onReload?.(applied);
    return applied;
  };
  const watcher = watchDebounced(
    { files: paths },
    {
      ...(opts.debounceMs !== undefined ? { debounceMs: opts.debounceMs } : {}),
      onChange: reload,
      onError: (err, dir) => opts.logger.error({ err, dir }, 'gateway TLS watch failed'),
    },
  );
  return { reload, close: () => watcher.close() };
}
