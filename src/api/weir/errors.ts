/**
 * @module api/weir/errors — the Weir API's error codes and statuses, in one table, and the
 * JSON error document `{ "error": { "code", "message" } }`. EC2 errors raised by shared code
 * (SigV4, group ID checks) keep their EC2 code and status.
 */
import { Ec2Error, WeirError } from '../../model/index.js';

/** Weir API error codes, with their HTTP status. Bad input is always a 4xx. */
export const WEIR_API_ERROR_STATUS = {
  MissingParameter: 400,
  UnknownParameter: 400,
  InvalidParameterValue: 400,
  InvalidRequest: 400,
  'InvalidGroup.NotFound': 400,
  'InvalidWorkloadAttachment.NotFound': 400,
  InvalidToken: 400,
  'InvalidToken.NotFound': 400,
  InvalidBundle: 400,
  /** No exception with that ID (`weir exception list` shows them). */
  'InvalidException.NotFound': 400,
  /** No stored decision with that ID (`weir decisions` lists those kept). */
  'InvalidDecision.NotFound': 400,
  /** A console request whose session cookie names no live session: sign in again. */
  NotSignedIn: 401,
  UnauthorizedOperation: 403,
  /** A console write without the session's CSRF token in `x-weir-csrf`. */
  InvalidCsrfToken: 403,
  /** A key of another account than the one whose groups the gateway enforces (api/weir/tenancy). */
  AccessDenied: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  /** Valid, but the server's setup would not let it take effect (a bundle under --policy). */
  IncorrectState: 409,
  RequestTooLarge: 413,
  /** Too many failed console sign-ins from one address: wait, then try again. */
  TooManyRequests: 429,
  UnsupportedMediaType: 415,
  InternalError: 500,
  /** The server was started without what the operation needs (a token key, a policy). */
  ServiceUnavailable: 503,
} as const satisfies Record<string, number>;

export type WeirApiErrorCode = keyof typeof WEIR_API_ERROR_STATUS;

/** An error the Weir API answers as its JSON error document. */
export class WeirApiError extends WeirError {
  declare readonly code: WeirApiErrorCode;
  readonly status: number;
  constructor(code: WeirApiErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'WeirApiError';
    this.status = WEIR_API_ERROR_STATUS[code];
  }
}

/** The code, status and message to answer `err` with; `undefined` for an unexpected error. */
export function describeApiError(
  err: unknown,
): { code: string; status: number; message: string } | undefined {
  if (err instanceof WeirApiError || err instanceof Ec2Error) {
    return { code: err.code, status: err.status, message: err.message };
  }
  return undefined;
}

/** The JSON error document. */
export function errorBody(code: string, message: string, requestId: string): string {
  return `${JSON.stringify({ error: { code, message }, requestId })}\n`;
}
