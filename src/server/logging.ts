/**
 * @module server/logging — where `weir serve` logs: the main log on stdout (JSON lines, written
 * asynchronously in blocks) and the gateway's decision log, on stdout too or, with
 * `--decision-log FILE`, in a file of its own (rotated), so the API's own lines stay on stdout.
 * Each is registered on the cleanup stack, to be flushed or ended when the server closes.
 */
import { pino } from 'pino';
import type { Logger, LoggerOptions } from 'pino';
import { BLOCK_BYTES, bufferLines, handOverAtExit, openDecisionLog } from '../gateway/index.js';
import type { DecisionLogFile } from '../gateway/index.js';
import type { CleanupStack } from './cleanup.js';
import type { DecisionLogConfig } from './config-gateway.js';

/**
 * pino options shared by the main log and the decision log file: levels by name (`"level":"info"`,
 * which a reader need not look up) and one `service` key per line. pino writes its `base`
 * bindings and a line's own fields separately, so a line that has a `service` of its own (the
 * API's request lines: `ec2`, `sts`, `weir`) would repeat the key, and JSON parsers disagree on
 * which one wins; the line's own is renamed `api`.
 */
export function logOptions(level: string, base: Record<string, string>): LoggerOptions {
  return {
    level,
    base: { service: 'weir', ...base },
    formatters: {
      level: (label) => ({ level: label }),
      log: (obj) => {
        if (!('service' in obj)) return obj;
        const { service, ...rest } = obj;
        return { ...rest, api: service };
      },
    },
  };
}

/**
 * The main logger: `given` (tests pass theirs), else pino at `level` on stdout. Its output is
 * flushed last at `closeAll()`, after every other line of the shutdown.
 */
export function openMainLog(given: Logger | undefined, level: string, cleanup: CleanupStack): Logger {
  if (given !== undefined) return given;
  // Asynchronous, buffered stdout: a decision line per request must not cost a write call
  // each. Lines are written once 8 KiB are pending, else within 100 ms; none is dropped (no
  // maxLength), and what is pending is flushed on close and, by pino, on exit. They reach
  // sonic-boom a block at a time (line-blocks.ts), so the block still pending here is handed
  // over before pino's own exit hooks flush sonic-boom.
  const dest = bufferLines(pino.destination({ dest: 1, sync: false, minLength: BLOCK_BYTES }));
  const forgetLogAtExit = handOverAtExit(dest);
  const logFlush = setInterval(() => dest.flush(), 100);
  logFlush.unref();
  cleanup.defer('the log on stdout', () => {
    clearInterval(logFlush);
    forgetLogAtExit();
    dest.flushSync();
  });
  return pino(logOptions(level, {}), dest);
}

/**
 * The gateway's decision logger: `log` (the main log's gateway child), or with `--decision-log
 * FILE` a pino logger on that file (rotated at `--decision-log-max-size`), ended at `closeAll()`.
 */
export function openDecisionLogger(
  config: DecisionLogConfig | undefined,
  level: string,
  log: Logger,
  cleanup: CleanupStack,
): { logger: Logger; file?: DecisionLogFile } {
  if (config === undefined) return { logger: log };
  const file = openDecisionLog({
    file: config.file,
    ...(config.maxSize !== undefined ? { maxSize: config.maxSize } : {}),
    ...(config.keep !== undefined ? { keep: config.keep } : {}),
    onError: (err, during) => log.error({ err, during, file: config.file }, 'decision log file failed'),
  });
  cleanup.defer('the decision log file', () => file.end());
  const logger = pino(logOptions(level, { component: 'gateway' }), file);
  log.info({ decisionLog: file.file }, 'gateway decision log goes to a file');
  return { logger, file };
}
