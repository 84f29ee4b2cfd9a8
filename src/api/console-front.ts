/**
 * @module api/console-front — what the API server asks of the web console (src/console, wired by
 * `weir serve`): to answer the requests under `/console/`, and which signed-in session a request's
 * cookie names. The console sits above the API in the layers (it uses the key ring and the audit
 * trail); the API knows it only through this interface, so it never imports it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessKey } from './credentials.js';

/** A browser request's caller, from its `weir_session` cookie. */
export interface ConsoleCaller {
  /** The key the session acts as (looked up in the key ring at this request). */
  readonly key: AccessKey;
  /** The region (namespace) the console acts in: the gateway's. */
  readonly region: string;
  /** Whether `token` (the `x-weir-csrf` header) is the session's CSRF token (constant time). */
  csrfMatches(token: string | undefined): boolean;
}

/** The console's front door, as the API server calls it. */
export interface ConsoleFront {
  /**
   * Answers `req` when its path is the console's (`/console`, `/console/…`) and returns true;
   * false (nothing sent) otherwise.
   */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean;
  /**
   * The caller of a request that carries a `weir_session` cookie: the session's caller, `ended`
   * for a cookie that names no live session (expired, signed out, key removed), or undefined
   * when there is no such cookie (the request must then be signed).
   */
  callerOf(req: IncomingMessage): ConsoleCaller | 'ended' | undefined;
}

/** The console's session cookie's name. */
export const SESSION_COOKIE = 'weir_session';

/**
 * The value of cookie `name` in `req`'s Cookie header(s), or undefined. A plain split (no regex
 * over the header), and the first occurrence wins, as browsers send the most specific first.
 */
export function cookieValue(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Whether a request is to be authenticated by its console session rather than SigV4: it carries
 * the session cookie and no signature of either form (header or presigned query). A signed
 * request is always verified as signed, cookie or not.
 */
export function usesConsoleSession(req: IncomingMessage, query: string): boolean {
  if (req.headers.authorization !== undefined) return false;
  if (query.includes('X-Amz-Credential') || query.includes('X-Amz-Signature')) return false;
  return cookieValue(req, SESSION_COOKIE) !== undefined;
}
