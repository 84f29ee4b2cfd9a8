/**
 * @module api/sigv4 — verifies AWS Signature Version 4 on incoming API requests, in both the
 * `Authorization` header form and the presigned query-string form, exactly as botocore (aws CLI,
 * boto3) and the AWS SDK for JavaScript compute it, and answers failures with EC2's error codes.
 *
 * Spec: https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 */

import * as crypto from 'node:crypto';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { Ec2Error } from '../model/errors.js';
import type { AccessKey, KeyRing } from './credentials.js';

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

/** Who signed a request, and the scope they signed it for. */
export interface VerifiedRequest {
  readonly key: AccessKey;
  /** The credential scope's region: Weir's namespace for the call. */
  readonly region: string;
  /** The credential scope's service (`ec2`, `sts`): what the server routes on. */
  readonly service: string;
}

/** A credential scope read from a request without verifying anything. */
export interface AuthScope {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
}

/** Query parameters that carry presigned-URL authentication; not API parameters. */
export const AUTH_QUERY_PARAMS: ReadonlySet<string> = new Set([
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Security-Token',
  'X-Amz-Content-Sha256',
]);

const ALGORITHM = 'AWS4-HMAC-SHA256';
const TERMINATOR = 'aws4_request';
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** Allowed clock difference for header auth, either way. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;
/** Longest presigned-URL lifetime AWS allows (one week). */
export const MAX_PRESIGNED_EXPIRES_SECONDS = 604_800;

const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const HEX_SIGNATURE = /^[0-9a-f]{64}$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/;
// Region and service name Weir's namespaces and route the call; a tight alphabet keeps odd
// strings (`../`, control characters) out of store keys, metrics labels and logs.
const SCOPE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const SIGNED_HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

/**
 * Verifies the SigV4 signature of a request and returns the key that signed it.
 *
 * Checks, in order: one auth mechanism present and well-formed; a known access key; the
 * request time within 5 minutes of `now` (header form) or within `X-Amz-Expires` (query form);
 * the payload hash; the signature (constant-time).
 *
 * @throws Ec2Error with EC2's codes: `MissingParameter` (no authentication at all — what EC2
 *   answers to an unsigned request), `IncompleteSignature` (malformed), `AuthFailure` (unknown
 *   key), `RequestExpired`, `SignatureDoesNotMatch`. Messages never contain a secret.
 */
export function verifySigV4(req: SigV4Request, keys: KeyRing, now: Date): VerifiedRequest {
  const query = typeof req.query === 'string' ? new URLSearchParams(req.query) : req.query;
  const authorization = singleHeader(req.headers, 'authorization');
  const presigned =
    query.has('X-Amz-Signature') || query.has('X-Amz-Algorithm') || query.has('X-Amz-Credential');

  if (authorization === undefined && !presigned) {
    // EC2 (unlike STS's "Request is missing Authentication Token") answers an unsigned call so.
    throw new Ec2Error('MissingParameter', 'The request must contain the parameter AWSAccessKeyId');
  }
  if (authorization !== undefined && presigned) {
    // Two mechanisms could disagree on who signed; refusing stops a request verified by one set
    // of credentials from being attributed to the other.
    throw new Ec2Error(
      'IncompleteSignature',
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified',
    );
  }
  const auth =
    authorization !== undefined ? parseHeaderAuth(authorization, req.headers) : parseQueryAuth(query);

  const requestDate = auth.amzDate.slice(0, 8);
  if (auth.scope.date !== requestDate) {
    throw new Ec2Error(
      'SignatureDoesNotMatch',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: ` +
        `'${auth.scope.date}' != '${requestDate}', from '${auth.amzDate}'.`,
    );
  }
  // The host is what binds a signature to this endpoint; without it a request signed for another
  // endpoint that trusts the same key (real AWS, another Weir) could be replayed here.
  if (!auth.signedHeaders.includes('host')) {
    throw new Ec2Error('IncompleteSignature', `'Host' must be a 'SignedHeader' in the AWS Authorization.`);
  }
  // A duplicated Host could be read one way by a proxy in front and another way here.
  if (Array.isArray(req.headers['host']) && req.headers['host'].length > 1) {
    throw new Ec2Error('IncompleteSignature', 'The request has more than one Host header.');
  }

  // Key existence is observable (AuthFailure vs SignatureDoesNotMatch), as on AWS; key ids are
  // not secrets. Only the secret is, and it never leaves this function.
  const key = keys.get(auth.scope.accessKeyId);
  if (key === undefined) {
    throw new Ec2Error('AuthFailure', 'AWS was not able to validate the provided access credentials');
  }

  checkTime(auth, now);

  const payloadHashes = payloadHashCandidates(req, query, auth.presigned);
  const canonicalPrefix =
    `${req.method.toUpperCase()}\n${canonicalPath(req.path)}\n${canonicalQuery(query, auth.presigned)}\n` +
    `${canonicalHeaders(req.headers, auth.signedHeaders)}\n${auth.signedHeaders.join(';')}\n`;
  const scope = `${auth.scope.date}/${auth.scope.region}/${auth.scope.service}/${TERMINATOR}`;
  const kSigning = signingKey(key.secretAccessKey, auth.scope.date, auth.scope.region, auth.scope.service);
  const provided = Buffer.from(auth.signature, 'hex');

  let matched = false;
  for (const payloadHash of payloadHashes) {
    const canonicalRequest = canonicalPrefix + payloadHash;
    const stringToSign = `${ALGORITHM}\n${auth.amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
    const expected = createHmac('sha256', kSigning).update(stringToSign, 'utf8').digest();
    // Constant-time compare: an early-exit compare leaks how many leading bytes matched, a timing
    // oracle that lets an attacker build a valid signature for a forged request byte by byte.
    if (timingSafeEqual(expected, provided)) matched = true;
  }
  if (!matched) throw new Ec2Error('SignatureDoesNotMatch', SIGNATURE_MISMATCH);
  return { key, region: auth.scope.region, service: auth.scope.service };
}

/**
 * Reads the credential scope (`AKID/date/region/service/aws4_request`) from the Authorization
 * header or the `X-Amz-Credential` query parameter, without verifying anything. Use it only to
 * choose how to answer before verification (e.g. STS vs EC2 error format); route verified
 * requests on {@link verifySigV4}'s result. Returns undefined when there is no readable scope.
 */
export function parseAuthScope(
  headers: SigV4Headers,
  query: string | URLSearchParams,
): AuthScope | undefined {
  let credential: string | undefined;
  const header = headers['authorization'];
  const authorization = typeof header === 'string' ? header : header?.[0];
  if (authorization !== undefined) {
    credential = /Credential=([^,\s]+)/.exec(authorization)?.[1];
  } else {
    const params = typeof query === 'string' ? new URLSearchParams(query) : query;
    credential = params.get('X-Amz-Credential') ?? undefined;
  }
  if (credential === undefined) return undefined;
  const parts = credential.split('/');
  const [accessKeyId, date, region, service, terminator] = parts;
  if (parts.length !== 5 || accessKeyId === undefined || date === undefined || region === undefined) {
    return undefined;
  }
  if (service === undefined || terminator !== TERMINATOR) return undefined;
  return { accessKeyId, date, region, service };
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

interface ParsedAuth {
  readonly presigned: boolean;
  readonly scope: AuthScope;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
  /** Request time as ISO-8601 basic (`20130524T000000Z`), as it goes into the string to sign. */
  readonly amzDate: string;
  /** Presigned only: lifetime in seconds. */
  readonly expiresSeconds?: number;
}

function parseHeaderAuth(authorization: string, headers: SigV4Headers): ParsedAuth {
  // Echo the header back as AWS does, but never the signature: these messages reach logs, and a
  // signature there is a replayable credential for the rest of its time window.
  const shown = (): string =>
    authorization.replace(/Signature=[^,\s]*/g, 'Signature=<redacted>').slice(0, 512);
  const space = authorization.indexOf(' ');
  const algorithm = space < 0 ? authorization : authorization.slice(0, space);
  if (algorithm !== ALGORITHM) {
    throw new Ec2Error('IncompleteSignature', `Unsupported AWS 'algorithm': '${algorithm.slice(0, 64)}'`);
  }
  const fields = new Map<string, string>();
  for (const part of (space < 0 ? '' : authorization.slice(space + 1)).split(',')) {
    const trimmed = part.trim();
    if (trimmed === '') continue;
    const eq = trimmed.indexOf('=');
    const name = eq < 0 ? trimmed : trimmed.slice(0, eq);
    if (eq < 0 || fields.has(name)) {
      throw new Ec2Error(
        'IncompleteSignature',
        `Authorization header requires each component to appear once as 'Name=value'. Authorization=${shown()}`,
      );
    }
    fields.set(name, trimmed.slice(eq + 1));
  }
  for (const required of ['Credential', 'SignedHeaders', 'Signature']) {
    if (!fields.get(required)) {
      throw new Ec2Error(
        'IncompleteSignature',
        `Authorization header requires '${required}' parameter. Authorization=${shown()}`,
      );
    }
  }

  const amzDateHeader = singleHeader(headers, 'x-amz-date');
  let amzDate: string;
  if (amzDateHeader !== undefined) {
    amzDate = parseAmzDate(amzDateHeader);
  } else {
    const date = singleHeader(headers, 'date');
    if (date === undefined) {
      throw new Ec2Error(
        'IncompleteSignature',
        `Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=${shown()}`,
      );
    }
    amzDate = parseHttpDate(date);
  }
  return {
    presigned: false,
    scope: parseCredential(fields.get('Credential') as string),
    signedHeaders: parseSignedHeaders(fields.get('SignedHeaders') as string),
    signature: parseSignature(fields.get('Signature') as string),
    amzDate,
  };
}

function parseQueryAuth(query: URLSearchParams): ParsedAuth {
  const get = (name: string): string => {
    const values = query.getAll(name);
    if (values.length !== 1 || values[0] === '') {
      throw new Ec2Error(
        'IncompleteSignature',
        values.length > 1
          ? `AWS query-string parameter '${name}' must appear once.`
          : `AWS query-string parameters must include '${name}'. Re-examine the query-string parameters.`,
      );
    }
    return values[0] as string;
  };
  const algorithm = get('X-Amz-Algorithm');
  if (algorithm !== ALGORITHM) {
    throw new Ec2Error(
      'IncompleteSignature',
      `X-Amz-Algorithm only supports "${ALGORITHM}", got '${algorithm.slice(0, 64)}'`,
    );
  }
  const scope = parseCredential(get('X-Amz-Credential'));
  const amzDate = parseAmzDate(get('X-Amz-Date'));
  const expires = get('X-Amz-Expires');
  const expiresSeconds = /^\d{1,7}$/.test(expires) ? Number(expires) : NaN;
  if (!(expiresSeconds >= 1 && expiresSeconds <= MAX_PRESIGNED_EXPIRES_SECONDS)) {
    throw new Ec2Error(
      'IncompleteSignature',
      `X-Amz-Expires must be a whole number of seconds from 1 to ${MAX_PRESIGNED_EXPIRES_SECONDS} (one week), ` +
        `got '${expires.slice(0, 32)}'`,
    );
  }
  return {
    presigned: true,
    scope,
    signedHeaders: parseSignedHeaders(get('X-Amz-SignedHeaders')),
    signature: parseSignature(get('X-Amz-Signature')),
    amzDate,
    expiresSeconds,
  };
}

/**
 * Remembers what a pure parser made of a string: clients send the same credential scope and
 * SignedHeaders on every call, and re-validating them each time showed in profiles. Bounded
 * (cleared when full) so made-up values cannot grow memory; only successful parses are kept.
 */
function memo<T>(parse: (text: string) => T): (text: string) => T {
  const seen = new Map<string, T>();
  return (text) => {
    let value = seen.get(text);
    if (value === undefined) {
      value = parse(text);
      if (seen.size >= 256) seen.clear();
      seen.set(text, value);
    }
    return value;
  };
}

const parseCredential = memo(parseCredentialText);
const parseSignedHeaders = memo(parseSignedHeadersText);

function parseCredentialText(credential: string): AuthScope {
  const parts = credential.split('/');
  if (parts.length !== 5) {
    throw new Ec2Error(
      'IncompleteSignature',
      `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, ` +
        `got '${credential.slice(0, 256)}'`,
    );
  }
  const [accessKeyId, date, region, service, terminator] = parts as [string, string, string, string, string];
  if (accessKeyId === '') {
    throw new Ec2Error('IncompleteSignature', 'Credential must start with an access key id.');
  }
  if (!/^\d{8}$/.test(date)) {
    throw new Ec2Error(
      'IncompleteSignature',
      `Credential should be scoped to a valid date (YYYYMMDD), not '${date}'.`,
    );
  }
  if (!SCOPE_NAME.test(region)) {
    throw new Ec2Error(
      'IncompleteSignature',
      `Credential should be scoped to a valid region, not '${region}'.`,
    );
  }
  if (!SCOPE_NAME.test(service)) {
    throw new Ec2Error(
      'IncompleteSignature',
      `Credential should be scoped to a valid service, not '${service}'.`,
    );
  }
  if (terminator !== TERMINATOR) {
    throw new Ec2Error(
      'IncompleteSignature',
      `Credential should be scoped with a valid terminator: '${TERMINATOR}', not '${terminator}'.`,
    );
  }
  return Object.freeze({ accessKeyId, date, region, service });
}

function parseSignedHeadersText(value: string): readonly string[] {
  const names = value.split(';');
  const seen = new Set<string>();
  for (const name of names) {
    if (!SIGNED_HEADER_NAME.test(name) || seen.has(name)) {
      throw new Ec2Error(
        'IncompleteSignature',
        `SignedHeaders must be distinct lower-case header names separated by ';', got '${value.slice(0, 256)}'`,
      );
    }
    seen.add(name);
  }
  return Object.freeze(names);
}

function parseSignature(signature: string): string {
  if (!HEX_SIGNATURE.test(signature)) {
    // Not even shaped like a signature: it cannot match, so say so without comparing.
    throw new Ec2Error('SignatureDoesNotMatch', SIGNATURE_MISMATCH);
  }
  return signature;
}

function parseAmzDate(value: string): string {
  const m = AMZ_DATE.exec(value);
  if (m !== null) {
    const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
    const t = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
    // Reject 20130231T… and the like, which Date.UTC would silently roll over.
    if (
      t.getUTCFullYear() === y &&
      t.getUTCMonth() === mo - 1 &&
      t.getUTCDate() === d &&
      h < 24 &&
      mi < 60 &&
      s < 60
    ) {
      return value;
    }
  }
  throw new Ec2Error(
    'IncompleteSignature',
    `Date must be in ISO-8601 'basic format'. Got '${value.slice(0, 64)}'. See http://en.wikipedia.org/wiki/ISO_8601`,
  );
}

function parseHttpDate(value: string): string {
  if (AMZ_DATE.test(value)) return parseAmzDate(value);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw new Ec2Error(
      'IncompleteSignature',
      `Date header must be an HTTP date. Got '${value.slice(0, 64)}'.`,
    );
  }
  return formatAmzDate(new Date(ms));
}

function formatAmzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

function amzDateToMs(amzDate: string): number {
  const m = AMZ_DATE.exec(amzDate) as RegExpExecArray;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

function checkTime(auth: ParsedAuth, now: Date): void {
  // The window bounds replay: a captured request is only good until it closes.
  const signedAt = amzDateToMs(auth.amzDate);
  const nowMs = now.getTime();
  // Formatted only for an error: this runs on every request.
  const nowText = (): string => formatAmzDate(now);
  if (signedAt - nowMs > MAX_CLOCK_SKEW_MS) {
    throw new Ec2Error(
      'RequestExpired',
      `Signature not yet current: ${auth.amzDate} is still later than ` +
        `${formatAmzDate(new Date(nowMs + MAX_CLOCK_SKEW_MS))} (${nowText()} + 5 min.)`,
    );
  }
  if (auth.expiresSeconds !== undefined) {
    if (nowMs > signedAt + auth.expiresSeconds * 1000) {
      throw new Ec2Error('RequestExpired', 'Request has expired.');
    }
  } else if (nowMs - signedAt > MAX_CLOCK_SKEW_MS) {
    throw new Ec2Error(
      'RequestExpired',
      `Signature expired: ${auth.amzDate} is now earlier than ` +
        `${formatAmzDate(new Date(nowMs - MAX_CLOCK_SKEW_MS))} (${nowText()} - 5 min.)`,
    );
  }
}

/**
 * The payload hashes the signer may have used. Usually one; a presigned request with an empty
 * body and no declared hash may have been signed over `sha256("")` (botocore, smithy) or
 * `UNSIGNED-PAYLOAD` (S3-style presigners), and both describe the same empty body.
 */
function payloadHashCandidates(req: SigV4Request, query: URLSearchParams, presigned: boolean): string[] {
  const declared =
    singleHeader(req.headers, 'x-amz-content-sha256') ??
    (presigned ? (query.get('X-Amz-Content-Sha256') ?? undefined) : undefined);
  const empty = req.body.length === 0;
  if (declared === UNSIGNED_PAYLOAD) {
    // For the EC2 Query protocol the body *is* the call (Action=…). Accepting an unsigned body
    // would let anyone holding a captured request or presigned URL send a different action
    // under its signature, so UNSIGNED-PAYLOAD is only accepted when there is no body.
    if (!empty) {
      throw new Ec2Error(
        'IncompleteSignature',
        'UNSIGNED-PAYLOAD is not accepted for a request with a body; sign the payload.',
      );
    }
    return [UNSIGNED_PAYLOAD];
  }
  const actual = empty ? EMPTY_SHA256 : sha256Hex(req.body);
  if (declared !== undefined) {
    if (!HEX_SHA256.test(declared)) {
      throw new Ec2Error(
        'IncompleteSignature',
        `x-amz-content-sha256 must be the hex SHA-256 of the body or UNSIGNED-PAYLOAD, got '${declared.slice(0, 64)}'.`,
      );
    }
    // The signature covers the declared hash, not the body; checking it against the body is what
    // stops a body swapped in transit from riding on a valid signature.
    if (declared !== actual) {
      throw new Ec2Error(
        'SignatureDoesNotMatch',
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
      );
    }
    return [actual];
  }
  return presigned && empty ? [EMPTY_SHA256, UNSIGNED_PAYLOAD] : [actual];
}

function singleHeader(headers: SigV4Headers, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined || typeof value === 'string') return value;
  if (value.length === 0) return undefined;
  if (value.length > 1) {
    // Which copy counts would depend on the reader; refuse instead of guessing.
    throw new Ec2Error('IncompleteSignature', `The request has more than one '${name}' header.`);
  }
  return value[0];
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

function sha256Hex(data: string | Uint8Array): string {
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
function signingKey(secret: string, date: string, region: string, service: string): Buffer {
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
