/**
 * @module api/request — what the EC2 Query server and the Weir JSON API do alike for every
 * request: read a bounded body, and account for the answer (request counter, latency histogram,
 * one `api request` log line; secrets never logged, peer text cut short).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { Ec2Error } from '../model/index.js';
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
 * The bytes of request bodies the API holds at once, all connections together. A body must be
 * read whole before its signature can be checked (the signature covers its hash), so a peer that
 * knows an access key id (not a secret) can make the server buffer up to the route's limit per
 * connection; 24 such 16 MiB uploads took the server from 96 to 481 MiB. The budget bounds the
 * sum: a body that would exceed it is refused (`RequestLimitExceeded`, 503) instead of buffered.
 */
export class BodyBudget {
  private used = 0;
  private high = 0;
  /** @param max bytes; `onChange` sees the bytes held and the most ever held (metrics). */
  constructor(
    readonly max: number,
    private readonly onChange: (held: number, peak: number) => void = () => undefined,
  ) {}

  /** Bytes held now. */
  get held(): number {
    return this.used;
  }

  /** Takes `n` bytes if they fit; false (nothing taken) if they do not. */
  take(n: number): boolean {
    if (this.used + n > this.max) return false;
    this.used += n;
    if (this.used > this.high) this.high = this.used;
    this.onChange(this.used, this.high);
    return true;
  }

  /** Gives back `n` bytes taken before. */
  give(n: number): void {
    this.used -= n;
    this.onChange(this.used, this.high);
  }
}

/** One request's draw on a {@link BodyBudget}, given back in full when its response closes. */
interface BodyAllowance {
  readonly budget: BodyBudget;
  taken: number;
  /** The body will not be read further: the answer closes the connection. */
  refused(): void;
}

/**
 * The allowance of each request whose body is charged to a budget. A WeakMap keyed by the
 * request, so every body reader of the API (EC2 Query, the Weir API's routes) draws on the
 * budget through {@link readBody} without each handler passing it along.
 */
const allowances = new WeakMap<IncomingMessage, BodyAllowance>();

/**
 * Charges the body of `req` to `budget`: what {@link readBody} reads of it is taken from the
 * budget and given back when `res` closes. A refused body also makes `res` close the connection
 * after the answer, rather than read (or keep the socket for) the rest of a body nobody reads.
 */
export function chargeBody(req: IncomingMessage, res: ServerResponse, budget: BodyBudget): void {
  const allowance: BodyAllowance = {
    budget,
    taken: 0,
    refused: () => {
      if (!res.headersSent) res.setHeader('connection', 'close');
    },
  };
  allowances.set(req, allowance);
  res.once('close', () => {
    budget.give(allowance.taken);
    allowance.taken = 0;
  });
}

/** Whether `req` announces a body (a length above 0, or chunked). */
export function announcesBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/**
 * The request body, whole; more than `max` bytes (announced or read) rejects with
 * `tooLarge(max)`, and a body charged to a budget ({@link chargeBody}) that would exceed it
 * rejects with `RequestLimitExceeded`. A refused body is not read further: with a budget, the
 * answer closes the connection; without, the request is destroyed.
 */
export function readBody(
  req: IncomingMessage,
  max: number,
  tooLarge: (max: number) => Error,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const allowance = allowances.get(req);
    const chunks: Buffer[] = [];
    let size = 0;
    const refuse = (err: Error): void => {
      req.off('data', onData);
      req.pause();
      if (allowance) allowance.refused();
      else req.destroy();
      reject(err);
    };
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size > max) return refuse(tooLarge(max));
      if (allowance) {
        if (!allowance.budget.take(c.length)) {
          return refuse(
            new Ec2Error(
              'RequestLimitExceeded',
              'Request limit exceeded: the server holds as many request bodies as it allows ' +
                '(--api-body-budget); retry shortly.',
            ),
          );
        }
        allowance.taken += c.length;
      }
      chunks.push(c);
    };
    // An announced length over the limit is refused before a byte of the body is read.
    const announced = Number(req.headers['content-length'] ?? 0);
    if (announced > max) return refuse(tooLarge(max));
    req.on('data', onData);
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
