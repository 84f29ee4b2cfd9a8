/**
 * @module api/sigv4 — verifies AWS Signature Version 4 on incoming API requests, in both the
 * `Authorization` header form and the presigned query-string form, exactly as botocore (aws CLI,
 * boto3) and the AWS SDK for JavaScript compute it, and answers failures with EC2's error codes.
 *
 * Spec: https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 *
 * This file is the door and the verifier (order of checks, time window, payload hash, constant-time
 * compare); sigv4-request reads the request, sigv4-auth parses the two auth forms, sigv4-canonical
 * builds the canonical request and signing key — hand-written on node:crypto rather than
 * @smithy/signature-v4, for the reason given there.
 */

import { createHmac, timingSafeEqual } from 'node:crypto';
import { Ec2Error } from '../model/index.js';
import type { AccessKey, KeyRing } from './credentials.js';
import {
  amzDateToMs,
  formatAmzDate,
  parseHeaderAuth,
  parseQueryAuth,
  SIGNATURE_MISMATCH,
} from './sigv4-auth.js';
import type { ParsedAuth } from './sigv4-auth.js';
import {
  canonicalRequestPrefix,
  sha256Hex,
  signingKey,
  stringToSign,
  TERMINATOR,
} from './sigv4-canonical.js';
import { singleHeader } from './sigv4-request.js';
import type { SigV4Request } from './sigv4-request.js';

export { AUTH_QUERY_PARAMS, MAX_PRESIGNED_EXPIRES_SECONDS, parseAuthScope } from './sigv4-auth.js';
export type { AuthScope } from './sigv4-auth.js';
export { headersFromRaw, splitRequestTarget } from './sigv4-request.js';
export type { SigV4Headers, SigV4Request } from './sigv4-request.js';

/** Who signed a request, and the scope they signed it for. */
export interface VerifiedRequest {
  readonly key: AccessKey;
  /** The credential scope's region: Weir's namespace for the call. */
  readonly region: string;
  /** The credential scope's service (`ec2`, `sts`): what the server routes on. */
  readonly service: string;
}

const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** Allowed clock difference for header auth, either way. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;
const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** The parts of a request its head alone gives: all of {@link SigV4Request} but the body. */
export type SigV4Head = Omit<SigV4Request, 'body'>;

/**
 * What a request's head proved before its body is read: one well-formed auth mechanism, a known
 * key, a request time in the window, a signed Host. Only the payload hash and the signature are
 * left, and those need the body.
 */
export interface PendingSigV4 {
  readonly auth: ParsedAuth;
  readonly key: AccessKey;
  readonly query: URLSearchParams;
}

/**
 * Checks everything about a request's SigV4 authentication that its head alone shows, so that a
 * server can refuse a request before reading (and buffering) its body: an unsigned upload, an
 * unknown key, a stale or future request time or an unsigned Host costs no body bytes.
 *
 * @throws Ec2Error as {@link verifySigV4}; never `SignatureDoesNotMatch` for the signature itself.
 */
export function checkSigV4Head(req: SigV4Head, keys: KeyRing, now: Date): PendingSigV4 {
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
  // not secrets. Only the secret is, and it never leaves this file.
  const key = keys.get(auth.scope.accessKeyId);
  if (key === undefined) {
    throw new Ec2Error('AuthFailure', 'AWS was not able to validate the provided access credentials');
  }

  checkTime(auth, now);
  declaredPayloadHash(req, query, auth.presigned);
  return { auth, key, query };
}

/**
 * Verifies the SigV4 signature of a request and returns the key that signed it.
 *
 * Checks, in order: one auth mechanism present and well-formed; a known access key; the
 * request time within 5 minutes of `now` (header form) or within `X-Amz-Expires` (query form);
 * the payload hash; the signature (constant-time). With `pending` (from {@link checkSigV4Head}
 * on the same request), the head's checks are not repeated.
 *
 * @throws Ec2Error with EC2's codes: `MissingParameter` (no authentication at all — what EC2
 *   answers to an unsigned request), `IncompleteSignature` (malformed), `AuthFailure` (unknown
 *   key), `RequestExpired`, `SignatureDoesNotMatch`. Messages never contain a secret.
 */
export function verifySigV4(
  req: SigV4Request,
  keys: KeyRing,
  now: Date,
  pending: PendingSigV4 = checkSigV4Head(req, keys, now),
): VerifiedRequest {
  const { auth, key, query } = pending;
  const payloadHashes = payloadHashCandidates(req, query, auth.presigned);
  const canonicalPrefix = canonicalRequestPrefix(req, query, auth.presigned, auth.signedHeaders);
  const scope = `${auth.scope.date}/${auth.scope.region}/${auth.scope.service}/${TERMINATOR}`;
  const kSigning = signingKey(key.secretAccessKey, auth.scope.date, auth.scope.region, auth.scope.service);
  const provided = Buffer.from(auth.signature, 'hex');

  let matched = false;
  for (const payloadHash of payloadHashes) {
    const canonicalRequest = canonicalPrefix + payloadHash;
    const toSign = stringToSign(auth.amzDate, scope, canonicalRequest);
    const expected = createHmac('sha256', kSigning).update(toSign, 'utf8').digest();
    // Constant-time compare: an early-exit compare leaks how many leading bytes matched, a timing
    // oracle that lets an attacker build a valid signature for a forged request byte by byte.
    if (timingSafeEqual(expected, provided)) matched = true;
  }
  if (!matched) throw new Ec2Error('SignatureDoesNotMatch', SIGNATURE_MISMATCH);
  return { key, region: auth.scope.region, service: auth.scope.service };
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
 * The payload hash the signer declared (`x-amz-content-sha256`, or presigned
 * `X-Amz-Content-Sha256`), checked for shape: the hex SHA-256 of a body, or `UNSIGNED-PAYLOAD`
 * for a request without one (so an announced body under `UNSIGNED-PAYLOAD` is refused before it
 * is read).
 */
function declaredPayloadHash(req: SigV4Head, query: URLSearchParams, presigned: boolean): string | undefined {
  const declared =
    singleHeader(req.headers, 'x-amz-content-sha256') ??
    (presigned ? (query.get('X-Amz-Content-Sha256') ?? undefined) : undefined);
  if (declared === undefined) return undefined;
  if (declared === UNSIGNED_PAYLOAD) {
    // For the EC2 Query protocol the body *is* the call (Action=…). Accepting an unsigned body
    // would let anyone holding a captured request or presigned URL send a different action
    // under its signature, so UNSIGNED-PAYLOAD is only accepted when there is no body.
    const length = singleHeader(req.headers, 'content-length');
    if ((length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined) {
      throw unsignedBody();
    }
    return declared;
  }
  if (!HEX_SHA256.test(declared)) {
    throw new Ec2Error(
      'IncompleteSignature',
      `x-amz-content-sha256 must be the hex SHA-256 of the body or UNSIGNED-PAYLOAD, got '${declared.slice(0, 64)}'.`,
    );
  }
  return declared;
}

const unsignedBody = (): Ec2Error =>
  new Ec2Error(
    'IncompleteSignature',
    'UNSIGNED-PAYLOAD is not accepted for a request with a body; sign the payload.',
  );

/**
 * The payload hashes the signer may have used. Usually one; a presigned request with an empty
 * body and no declared hash may have been signed over `sha256("")` (botocore, smithy) or
 * `UNSIGNED-PAYLOAD` (S3-style presigners), and both describe the same empty body.
 */
function payloadHashCandidates(req: SigV4Request, query: URLSearchParams, presigned: boolean): string[] {
  const declared = declaredPayloadHash(req, query, presigned);
  const empty = req.body.length === 0;
  if (declared === UNSIGNED_PAYLOAD) {
    if (!empty) throw unsignedBody();
    return [UNSIGNED_PAYLOAD];
  }
  const actual = empty ? EMPTY_SHA256 : sha256Hex(req.body);
  if (declared !== undefined) {
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
