/**
 * @module api/sigv4-auth — reads a request's SigV4 authentication, in the `Authorization` header
 * form and the presigned query-string form, into one {@link ParsedAuth}: credential scope, signed
 * headers, signature and request time, each checked for shape. A malformed part is answered with
 * EC2's `IncompleteSignature`; nothing here verifies a signature.
 */

import { Ec2Error } from '../model/index.js';
import { ALGORITHM, TERMINATOR } from './sigv4-canonical.js';
import { singleHeader } from './sigv4-request.js';
import type { SigV4Headers } from './sigv4-request.js';

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

/** Longest presigned-URL lifetime AWS allows (one week). */
export const MAX_PRESIGNED_EXPIRES_SECONDS = 604_800;

/** EC2's words for a signature that does not match. */
export const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const HEX_SIGNATURE = /^[0-9a-f]{64}$/;
// Region and service name Weir's namespaces and route the call; a tight alphabet keeps odd
// strings (`../`, control characters) out of store keys, metrics labels and logs.
const SCOPE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const SIGNED_HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

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

/** A request's authentication as read, not yet verified. */
export interface ParsedAuth {
  readonly presigned: boolean;
  readonly scope: AuthScope;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
  /** Request time as ISO-8601 basic (`20130524T000000Z`), as it goes into the string to sign. */
  readonly amzDate: string;
  /** Presigned only: lifetime in seconds. */
  readonly expiresSeconds?: number;
}

/** Reads the `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` form. */
export function parseHeaderAuth(authorization: string, headers: SigV4Headers): ParsedAuth {
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

/** Reads the presigned form: `X-Amz-Algorithm`, `-Credential`, `-Date`, `-Expires`, `-SignedHeaders`, `-Signature`. */
export function parseQueryAuth(query: URLSearchParams): ParsedAuth {
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

/** Returns signature text shaped like one (64 hex digits); anything else cannot match. */
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

/** A time as ISO-8601 basic (`20130524T000000Z`), the form SigV4 signs and EC2's messages show. */
export function formatAmzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

/** Epoch ms of an ISO-8601 basic time already checked by the parsers here. */
export function amzDateToMs(amzDate: string): number {
  const m = AMZ_DATE.exec(amzDate) as RegExpExecArray;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}
