/**
 * @module api/sigv4-request — the parts of an HTTP request SigV4 reads, in the shape Node gives
 * them (raw path and query, lower-cased headers with every value of a repeated header), and the
 * one rule for reading a header that must appear once.
 */

import { Ec2Error } from '../model/index.js';

/**
 * Request headers as Node's `IncomingMessage.headers` gives them: names lower-cased, values as
 * latin-1 strings of the wire bytes. Pass `string[]` for a header sent several times to get the
 * exact SigV4 join (`a,b`); Node's own `a, b` join is used as-is. {@link headersFromRaw} builds
 * this from `IncomingMessage.rawHeaders`.
 */
export type SigV4Headers = Readonly<Record<string, string | readonly string[] | undefined>>;

/** The parts of an HTTP request that SigV4 signs. */
export interface SigV4Request {
  /** HTTP method, e.g. `POST`. */
  readonly method: string;
  /**
   * The path of the request target exactly as sent on the wire (still percent-encoded), without
   * the `?query`. {@link splitRequestTarget} splits Node's `req.url`.
   */
  readonly path: string;
  /** The raw query string without the leading `?` (preferred), or already-parsed parameters. */
  readonly query: string | URLSearchParams;
  readonly headers: SigV4Headers;
  /** The complete request body (empty for GET). */
  readonly body: Uint8Array;
}

/** Splits Node's `req.url` (origin-form request target) into raw path and raw query string. */
export function splitRequestTarget(url: string): { path: string; query: string } {
  const q = url.indexOf('?');
  return q < 0 ? { path: url, query: '' } : { path: url.slice(0, q), query: url.slice(q + 1) };
}

/**
 * Builds {@link SigV4Headers} from Node's `IncomingMessage.rawHeaders`, keeping every value of a
 * repeated header, so the canonical request joins them with `,` exactly as the signer did.
 */
export function headersFromRaw(rawHeaders: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const value = rawHeaders[i + 1] as string;
    (out[name] ??= []).push(value);
  }
  return out;
}

/**
 * The value of a header that must appear at most once; a repeated one is refused, since which
 * copy counts would depend on the reader.
 */
export function singleHeader(headers: SigV4Headers, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined || typeof value === 'string') return value;
  if (value.length === 0) return undefined;
  if (value.length > 1) {
    // Which copy counts would depend on the reader; refuse instead of guessing.
    throw new Ec2Error('IncompleteSignature', `The request has more than one '${name}' header.`);
  }
  return value[0];
}
