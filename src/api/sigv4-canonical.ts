/**
 * @module api/sigv4-canonical — the SigV4 canonical request, string to sign and signing key, as
 * botocore and smithy build them: path and query normalisation, header trimming, RFC 3986
 * percent-encoding, SHA-256 and the cached HMAC chain.
 */

import * as crypto from 'node:crypto';
import { createHash, createHmac } from 'node:crypto';
import type { SigV4Headers, SigV4Request } from './sigv4-request.js';

/** The only signing algorithm SigV4 verification accepts. */
export const ALGORITHM = 'AWS4-HMAC-SHA256';
/** The last element of every credential scope. */
export const TERMINATOR = 'aws4_request';

/**
 * The canonical request up to, not including, the payload hash: method, canonical URI, query and
 * headers, and the signed-header list. The verifier appends each payload hash the signer may
 * have used.
 */
export function canonicalRequestPrefix(
  req: SigV4Request,
  query: URLSearchParams,
  presigned: boolean,
  signedHeaders: readonly string[],
): string {
  return (
    `${req.method.toUpperCase()}\n${canonicalPath(req.path)}\n${canonicalQuery(query, presigned)}\n` +
    `${canonicalHeaders(req.headers, signedHeaders)}\n${signedHeaders.join(';')}\n`
  );
}

/** The string to sign: algorithm, request time, credential scope and the canonical request's hash. */
export function stringToSign(amzDate: string, scope: string, canonicalRequest: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
}

/**
 * The canonical URI: the wire path with dot segments and empty segments removed (botocore's
 * `normalize_url_path`, smithy's `getCanonicalPath`), then percent-encoded once more. Clients
 * sign the already-encoded path, so `%20` on the wire is `%2520` here; EC2 always uses `/`.
 */
function canonicalPath(path: string): string {
  if (path === '/' || path === '') return '/';
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalized =
    (path.startsWith('/') ? '/' : '') +
    segments.join('/') +
    (segments.length > 0 && path.endsWith('/') ? '/' : '');
  // Node gives the request target as latin-1, one char per wire byte; encode those bytes.
  return percentEncode(Buffer.from(normalized, 'latin1'), true);
}

/**
 * The canonical query string: every parameter decoded, re-encoded per RFC 3986, sorted by key then
 * value. Decoding follows URLSearchParams (so `+` is a space), the same reading the action
 * dispatcher uses: the signature then covers exactly the parameters the call will act on, and two
 * spellings that the dispatcher reads differently can never share one signature.
 */
function canonicalQuery(query: URLSearchParams, presigned: boolean): string {
  const pairs: [string, string][] = [];
  for (const [name, value] of query) {
    if (presigned && name === 'X-Amz-Signature') continue;
    pairs.push([encodeComponent(name), encodeComponent(value)]);
  }
  if (pairs.length === 0) return '';
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

function canonicalHeaders(headers: SigV4Headers, signed: readonly string[]): string {
  let out = '';
  for (const name of signed) {
    const value = headers[name];
    const text =
      value === undefined ? '' : typeof value === 'string' ? trimAll(value) : value.map(trimAll).join(',');
    out += `${name}:${text}\n`;
  }
  return out;
}

/** Anything trimAll would change: tabs, runs of spaces, edge spaces, non-ASCII. */
const NEEDS_TRIM = /[\t\x80-\uffff]| {2}|^ | $/;

function trimAll(value: string): string {
  if (!NEEDS_TRIM.test(value)) return value;
  const collapsed = value.replace(/[ \t]+/g, ' ').replace(/^ | $/g, '');
  // Header values arrive as latin-1 (one char per byte); signers hashed them as UTF-8 text.
  // eslint-disable-next-line no-control-regex
  return /[^\x00-\x7f]/.test(collapsed) ? Buffer.from(collapsed, 'latin1').toString('utf8') : collapsed;
}

const UNRESERVED = /^[A-Za-z0-9\-._~]*$/;

function encodeComponent(value: string): string {
  return UNRESERVED.test(value) ? value : percentEncode(Buffer.from(value, 'utf8'), false);
}

function percentEncode(bytes: Uint8Array, keepSlash: boolean): string {
  let out = '';
  for (const b of bytes) {
    const unreserved =
      (b >= 0x41 && b <= 0x5a) ||
      (b >= 0x61 && b <= 0x7a) ||
      (b >= 0x30 && b <= 0x39) ||
      b === 0x2d ||
      b === 0x2e ||
      b === 0x5f ||
      b === 0x7e ||
      (keepSlash && b === 0x2f);
    out += unreserved ? String.fromCharCode(b) : `%${b < 16 ? '0' : ''}${b.toString(16).toUpperCase()}`;
  }
  return out;
}

// One-shot hashing (Node ≥ 20.12) skips a Hash object per call; older Node builds one.
const oneShot = (
  crypto as { hash?: (algorithm: string, data: string | Uint8Array, encoding: 'hex') => string }
).hash;

/** Lower-case hex SHA-256 of a string (as UTF-8) or bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return oneShot ? oneShot('sha256', data, 'hex') : createHash('sha256').update(data).digest('hex');
}

// node:crypto rather than @smithy/signature-v4: this runs on every API request, and smithy's
// signer is async, goes through a pluggable hash object per HMAC step, and is built to *sign*
// outgoing requests (it would need the request rebuilt into its shape). Verification needs
// four cached HMACs and one SHA-256 of the canonical request, synchronously.
const SIGNING_KEY_CACHE_MAX = 256;
const signingKeys = new Map<string, Buffer>();

/**
 * The SigV4 signing key for (secret, date, region, service). It changes at most daily, so it is
 * cached; the cache is bounded (oldest entry evicted) so a flood of requests with made-up scopes
 * cannot grow memory without limit.
 */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const cacheKey = `${date}\n${region}\n${service}\n${secret}`;
  const cached = signingKeys.get(cacheKey);
  if (cached !== undefined) return cached;
  const kDate = createHmac('sha256', `AWS4${secret}`).update(date).digest();
  const kRegion = createHmac('sha256', kDate).update(region).digest();
  const kService = createHmac('sha256', kRegion).update(service).digest();
  const kSigning = createHmac('sha256', kService).update(TERMINATOR).digest();
  if (signingKeys.size >= SIGNING_KEY_CACHE_MAX) {
    const oldest = signingKeys.keys().next().value;
    if (oldest !== undefined) signingKeys.delete(oldest);
  }
  signingKeys.set(cacheKey, kSigning);
  return kSigning;
}
