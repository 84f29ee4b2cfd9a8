/**
 * @module api/request — what the EC2 Query server and the Weir JSON API do alike for every
 * request: read a bounded body, and account for the answer (request counter, latency histogram,
 * one `api request` log line; secrets never logged, peer text cut short).
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { ACTIONS } from './actions/index.js';
import type { ApiMetrics } from './metrics.js';

/** Longest text from a peer (action, path, user agent, error text) that goes into one log field. */
export const MAX_LOGGED_TEXT = 256;

/**
 * `text` cut to {@link MAX_LOGGED_TEXT} characters, marked `…(+N)` with how much was cut. Every
 * log field a peer can fill goes through this: a 100 KB `Action` must not become a 100 KB line
 * per request (disk, log shippers, and whoever greps the log).
 */
export function logText(text: string | undefined, max = MAX_LOGGED_TEXT): string | undefined {
  if (text === undefined || text.length <= max) return text;
  return `${text.slice(0, max)}…(+${text.length - max})`;
}

/**
 * The request body, whole; more than `max` bytes rejects with `tooLarge(max)` and destroys the
 * request, so a client cannot make the server buffer without bound.
 */
export function readBody(
  req: IncomingMessage,
  max: number,
  tooLarge: (max: number) => Error,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reject(tooLarge(max));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** How one API request ended, for metrics and the log. */
export interface AnsweredRequest {
  readonly requestId: string;
  readonly service: string;
  readonly action: string;
  readonly status: number;
  /** `ok`, or the error code answered. */
  readonly code: string;
  readonly accessKeyId: string | undefined;
  readonly region: string | undefined;
  /** `process.hrtime.bigint()` when the request arrived. */
  readonly started: bigint;
}

/**
 * The `action` label of a request's metrics: its action only when a verified key sent it and the
 * action is one Weir serves (an EC2 action of the table, STS's GetCallerIdentity, a Weir API
 * operation — those are named from the route table, never from the request); else `unknown`.
 * A label value read from an unauthenticated request is a new time series per request: 300
 * unsigned calls with unique 100 KB actions made /metrics 420 MB.
 */
export function actionLabel(r: Pick<AnsweredRequest, 'service' | 'action' | 'accessKeyId'>): string {
  if (r.accessKeyId === undefined) return 'unknown';
  const known =
    r.service === 'weir'
      ? r.action.startsWith('weir:')
      : r.service === 'sts'
        ? r.action === 'GetCallerIdentity'
        : Object.hasOwn(ACTIONS, r.action);
  return known ? r.action : 'unknown';
}

/** Counts the request, observes its latency and logs it (after the answer is sent). */
export function recordRequest(metrics: ApiMetrics, logger: Logger, r: AnsweredRequest): void {
  const seconds = Number(process.hrtime.bigint() - r.started) / 1e9;
  const action = actionLabel(r);
  metrics.requests.inc({ action, code: r.code });
  metrics.duration.observe({ action }, seconds);
  logger.info(
    {
      requestId: r.requestId,
      service: r.service,
      // What was asked for, even when unknown or unsigned, but never more than a short prefix.
      action: logText(r.action),
      status: r.status,
      code: r.code,
      accessKeyId: logText(r.accessKeyId),
      region: logText(r.region),
      ms: Math.round(seconds * 1e6) / 1e3,
    },
    'api request',
  );
}
