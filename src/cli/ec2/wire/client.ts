/**
 * @module cli/ec2/wire/client — calls one operation as botocore does: serialize, sign, send, retry
 * (standard mode: throttling, transient and 5xx errors and connection failures, exponential backoff
 * with jitter), parse; and botocore's paginator (`NextToken` followed, `--page-size`, `--max-items`
 * with its resume token, `--starting-token`).
 * Port of botocore 1.43.11's `botocore/client.py` (`_make_api_call`),
 * `botocore/retries/standard.py` (standard retry mode) and `botocore/paginate.py` (`PageIterator`,
 * `build_full_result`, the resume token).
 */
import { NoCredentialsError } from './config.js';
import type { Credentials } from './config.js';
import { ConnectionError, send } from './http.js';
import { parseError, parseResponse } from './parse.js';
import type { ParsedResponse } from './parse.js';
import { formBody, serializeParams } from './serialize.js';
import type { PaginatorConfig, ServiceModel } from '../service.js';
import { validateParams } from './validate.js';

/** botocore's ClientError: the service answered with an error. */
export class ClientError extends Error {
  override readonly name = 'ClientError';
  constructor(
    readonly code: string,
    readonly errorMessage: string,
    readonly operation: string,
    readonly status: number,
    /** Retries made when the error was retryable and attempts ran out. */
    readonly maxRetriesReached?: number,
  ) {
    super(
      `An error occurred (${code}) when calling the ${operation} operation` +
        `${maxRetriesReached !== undefined ? ` (reached max retries: ${maxRetriesReached})` : ''}: ${errorMessage}`,
    );
  }
}

/** botocore's PaginationError. */
export class PaginationError extends Error {
  override readonly name = 'PaginationError';
  constructor(message: string) {
    super(`Error during pagination: ${message}`);
  }
}

/** How a client connects. */
export interface ClientOptions {
  readonly model: ServiceModel;
  readonly endpoint: URL;
  readonly region: string;
  readonly credentials?: Credentials;
  /** False for `--no-sign-request`; otherwise a call without credentials fails as botocore's does. */
  readonly signRequest: boolean;
  readonly verifySsl: boolean;
  readonly caBundle?: string;
  readonly connectTimeout: number;
  readonly readTimeout: number;
  readonly maxAttempts: number;
  readonly userAgent: string;
  readonly debug?: (line: string) => void;
  /** Waits between attempts; tests replace it. */
  readonly sleep?: (ms: number) => Promise<void>;
}

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'TransactionInProgressException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'RequestThrottled',
  'SlowDown',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
]);
const TRANSIENT = new Set(['RequestTimeout', 'RequestTimeoutException', 'PriorRequestNotComplete']);
const RETRY_STATUS = new Set([500, 502, 503, 504]);

/** A client for one service at one endpoint. */
export class Client {
  constructor(private readonly opts: ClientOptions) {}

  /**
   * Calls `operation` once (with retries), validating the parameters first as botocore does.
   * @throws ParamValidationError, NoCredentialsError, ClientError, ConnectionError, ResponseParserError
   */
  async call(operation: string, params: Readonly<Record<string, unknown>>): Promise<ParsedResponse> {
    const { opts } = this;
    validateParams(opts.model, operation, params);
    if (opts.signRequest && !opts.credentials) throw new NoCredentialsError();
    const body = formBody(serializeParams(opts.model, operation, params));
    const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    for (let attempt = 1; ; attempt++) {
      let response;
      try {
        response = await send({
          endpoint: opts.endpoint,
          body,
          service: opts.model.name,
          region: opts.region,
          ...(opts.credentials ? { credentials: opts.credentials } : {}),
          verifySsl: opts.verifySsl,
          ...(opts.caBundle !== undefined ? { caBundle: opts.caBundle } : {}),
          connectTimeout: opts.connectTimeout,
          readTimeout: opts.readTimeout,
          userAgent: opts.userAgent,
          ...(opts.debug ? { debug: opts.debug } : {}),
        });
      } catch (err) {
        if (err instanceof ConnectionError && err.retryable && attempt < opts.maxAttempts) {
          await sleep(backoff(attempt));
          continue;
        }
        throw err;
      }
      opts.debug?.(`Response ${response.status} for ${operation}: ${response.body}`);
      if (response.status >= 200 && response.status < 300)
        return parseResponse(opts.model, operation, response.body);
      const error = parseError(response.status, response.body);
      const retryable =
        RETRY_STATUS.has(response.status) || THROTTLING.has(error.code) || TRANSIENT.has(error.code);
      if (retryable && attempt < opts.maxAttempts) {
        opts.debug?.(`Retryable error ${error.code}; attempt ${attempt} of ${opts.maxAttempts}`);
        await sleep(backoff(attempt));
        continue;
      }
      throw new ClientError(
        error.code,
        error.message,
        operation,
        response.status,
        retryable ? attempt - 1 : undefined,
      );
    }
  }
}

function backoff(attempt: number): number {
  return Math.random() * Math.min(20, 2 ** (attempt - 1)) * 1000;
}

/** The CLI's paging options (`PaginationConfig`). */
export interface PagingOptions {
  readonly MaxItems?: number;
  readonly PageSize?: number;
  readonly StartingToken?: string;
}

/** The pages a paginated call produced, and the token to resume from when `MaxItems` cut it short. */
export interface Paged {
  readonly pages: ParsedResponse[];
  readonly resumeToken?: string;
}

/** botocore's TokenEncoder: base64 of `json.dumps(token)`. */
function encodeToken(token: Record<string, unknown>): string {
  const json = `{${Object.entries(token)
    .map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`)
    .join(', ')}}`;
  return Buffer.from(
    json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
    'utf8',
  ).toString('base64');
}

/** botocore's starting-token parsing, new format (base64 JSON) first, then `token___index`. */
function parseStartingToken(
  token: string,
  inputToken: string,
): { next: Record<string, unknown>; index: number } {
  try {
    const decoded = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as unknown;
    if (typeof decoded === 'object' && decoded !== null && !Array.isArray(decoded)) {
      const next = { ...(decoded as Record<string, unknown>) };
      let index = 0;
      if ('boto_truncate_amount' in next) {
        index = Number(next.boto_truncate_amount);
        delete next.boto_truncate_amount;
      }
      return { next, index };
    }
  } catch {
    // Falls through to the deprecated format, as botocore does.
  }
  const parts = token.split('___');
  let index = 0;
  if (parts.length === 2 && /^-?\d+$/.test(parts[1]!)) {
    index = Number(parts.pop());
  } else if (parts.length > 1) {
    throw new Error(`Bad starting token: ${token}`);
  }
  return { next: { [inputToken]: parts[0] === 'None' ? null : parts[0] }, index };
}

/**
 * Runs botocore's PageIterator over `operation`: follows the output token until it is empty, stops
 * after `MaxItems` (truncating the last page and recording the resume token).
 * @throws PaginationError when the service repeats a token; whatever {@link Client.call} throws.
 */
export async function paginate(
  client: Client,
  operation: string,
  params: Readonly<Record<string, unknown>>,
  config: PaginatorConfig,
  paging: PagingOptions,
): Promise<Paged> {
  const kwargs: Record<string, unknown> = { ...params };
  const resultKey = config.result_key;
  let startingTruncation = 0;
  if (paging.StartingToken !== undefined) {
    const { next, index } = parseStartingToken(paging.StartingToken, config.input_token);
    startingTruncation = index;
    const value = next[config.input_token];
    if (value !== null && value !== undefined && value !== 'None') kwargs[config.input_token] = value;
  }
  if (paging.PageSize !== undefined && config.limit_key !== undefined)
    kwargs[config.limit_key] = paging.PageSize;
  // botocore resumes a truncated page by requesting it again: the token is the one that fetched it.
  let requestToken: unknown = kwargs[config.input_token] ?? null;
  const pages: ParsedResponse[] = [];
  let total = 0;
  let first = true;
  let previous: unknown;
  for (;;) {
    const page = await client.call(operation, kwargs);
    if (first && paging.StartingToken !== undefined) {
      const all = page[resultKey];
      page[resultKey] = Array.isArray(all) ? all.slice(startingTruncation) : null;
    } else if (!first) startingTruncation = 0;
    first = false;
    const current = Array.isArray(page[resultKey]) ? (page[resultKey] as unknown[]) : [];
    const truncate = paging.MaxItems !== undefined ? total + current.length - paging.MaxItems : 0;
    const nextToken = page[config.output_token];
    if (truncate > 0) {
      const keep = current.length - truncate;
      page[resultKey] = current.slice(0, keep);
      pages.push(page);
      const token: Record<string, unknown> = { [config.input_token]: requestToken };
      token.boto_truncate_amount = keep + startingTruncation;
      return { pages, resumeToken: encodeToken(token) };
    }
    pages.push(page);
    total += current.length;
    if (nextToken === undefined || nextToken === null || nextToken === '') return { pages };
    if (paging.MaxItems !== undefined && total === paging.MaxItems) {
      return { pages, resumeToken: encodeToken({ [config.input_token]: nextToken }) };
    }
    if (previous !== undefined && previous === nextToken) {
      throw new PaginationError(
        `The same next token was received twice: {'${config.input_token}': '${String(nextToken)}'}`,
      );
    }
    kwargs[config.input_token] = nextToken;
    requestToken = nextToken;
    previous = nextToken;
  }
}
