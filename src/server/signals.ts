/**
 * @module server/signals — how the `weir serve` process ends: SIGTERM and SIGINT close the server
 * (the gateway stops, in-flight requests finish, the store closes) and exit 0, or 1 when closing
 * failed; SIGHUP (logrotate's `postrotate`) reopens the decision log file.
 */
import type { RunningServer } from './start.js';

/** Installs the process's signal handlers for `server`. */
export function closeOnSignals(server: RunningServer): void {
  const stop = (): void => {
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`weir: shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGHUP', () => server.reopenLogs());
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
