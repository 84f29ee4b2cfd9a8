/**
 * @module api/request — what the EC2 Query server and the Weir JSON API do alike for every
 * request: read a bounded body, and account for the answer (request counter, latency histogram,
 * one `api request` log line; secrets never logged).
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { ApiMetrics } from './metrics.js';

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

/** Counts the request, observes its latency and logs it (after the answer is sent). */
export function recordRequest(metrics: ApiMetrics, logger: Logger, r: AnsweredRequest): void {
  const seconds = Number(process.hrtime.bigint() - r.started) / 1e9;
  metrics.requests.inc({ action: r.action, code: r.code });
  metrics.duration.observe({ action: r.action }, seconds);
  logger.info(
    {
      requestId: r.requestId,
      service: r.service,
      action: r.action,
      status: r.status,
      code: r.code,
      accessKeyId: r.accessKeyId,
      region: r.region,
      ms: Math.round(seconds * 1e6) / 1e3,
    },
    'api request',
  );
}
