/**
 * @module identity/authenticate — who a proxy request comes from. Three proofs: a client certificate
 * verified against `--proxy-client-ca` (its SPIFFE URI SAN, else its subject CN), a bearer token
 * (`Proxy-Authorization: Bearer …`), and, for legacy hosts that can do neither, the
 * source-address identity map. A proof that is presented and fails is a refusal, never a fall
 * through to a weaker proof: otherwise a stolen or broken credential would quietly be replaced by
 * whatever the source address maps to.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { IdentityMap } from './identity-map.js';
import { createTokenVerifier } from './token.js';
import type { TokenProblem } from './token.js';

/** How the identity of a request was proven (logged as `identitySource`). */
export type IdentitySource = 'token' | 'certificate' | 'source-address';

/** A request's proven identity. */
export interface RequestIdentity {
  readonly identity: string;
  readonly source: IdentitySource;
  /**
   * The token presented, when one was (its ID and expiry, epoch ms): the gateway cuts the
   * request's tunnel or connection when the token is revoked or expires.
   */
  readonly token?: { readonly id: string; readonly expires: number };
}

/** Why a client certificate proves nothing (sent back in `Weir-Reason`). */
export type CertificateProblem =
  | 'certificate-untrusted'
  | 'certificate-expired'
  | 'certificate-not-yet-valid'
  | 'certificate-malformed'
  | 'certificate-spiffe-multiple'
  | 'certificate-spiffe-malformed'
  | 'certificate-cn-multiple'
  | 'certificate-cn-invalid'
  | 'certificate-no-identity';

/**
 * Every `Weir-Reason` of a 407. `unsupported-scheme`: `Proxy-Authorization` uses a scheme other
 * than Bearer and Basic (Digest, NTLM, Negotiate…); the text names it.
 */
export type IdentityProblem =
  'no-identity' | 'identity-conflict' | 'unsupported-scheme' | TokenProblem | CertificateProblem;

/**
 * A 407 answer: reason, text for the body, and the `Proxy-Authenticate` challenges (Bearer and
 * Basic, one field line each).
 */
export interface IdentityRefusal {
  readonly status: 407;
  readonly reason: IdentityProblem;
  readonly text: string;
  readonly headers: Record<string, readonly string[]>;
}

/** What a TLS connection's client certificate says. */
export type CertificateCheck =
  | { readonly kind: 'none' }
  | { readonly kind: 'verified'; readonly identity: string }
  | { readonly kind: 'refused'; readonly reason: CertificateProblem; readonly text: string };

const NO_CERTIFICATE: CertificateCheck = { kind: 'none' };
const MAX_SPIFFE_ID = 2048;

/**
 * Checks a SPIFFE ID as the SPIFFE spec writes it: `spiffe://` in lower case, a trust domain of
 * `[a-z0-9._-]`, and a non-empty path of non-empty segments of `[A-Za-z0-9._-]`, none `.` or
 * `..`, no trailing slash, query, fragment, port, user info or percent-encoding. One identity
 * must have exactly one spelling: `spiffe://Prod/ns/a/../b` must not be a second name for a
 * workload that policies know as `spiffe://prod/ns/b`.
 * @returns undefined when valid, else what is wrong.
 */
export function spiffeIdProblem(id: string): string | undefined {
  if (id.length > MAX_SPIFFE_ID) return `longer than ${MAX_SPIFFE_ID} characters`;
  if (!id.startsWith('spiffe://')) return "it must start with 'spiffe://' (lower case)";
  const rest = id.slice('spiffe://'.length);
  const slash = rest.indexOf('/');
  const domain = slash < 0 ? rest : rest.slice(0, slash);
  if (domain === '') return 'the trust domain is empty';
  if (!/^[a-z0-9._-]+$/.test(domain)) {
    return `trust domain '${domain}' may hold only lower-case letters, digits, '.', '-' and '_'`;
  }
  if (slash < 0 || slash === rest.length - 1) return 'it names no workload (the path is empty)';
  for (const segment of rest.slice(slash + 1).split('/')) {
    if (segment === '') return 'the path has an empty segment (// or a trailing /)';
    if (segment === '.' || segment === '..') return `the path has a '${segment}' segment`;
    if (!/^[A-Za-z0-9._-]+$/.test(segment)) {
      return `path segment '${segment}' may hold only letters, digits, '.', '-' and '_'`;
    }
  }
  return undefined;
}

/**
 * Splits Node's `subjectaltname` text (`DNS:a, URI:spiffe://…, IP Address:…`) into names. Node
 * writes a value that holds a separator or quote as a JSON string, so `URI:"a, URI:b"` is one
 * name: reading it naively would let a certificate smuggle a second SAN into our view.
 * @returns undefined when the text does not follow that format.
 */
export function parseSubjectAltNames(text: string): { type: string; value: string }[] | undefined {
  const names: { type: string; value: string }[] = [];
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(':', i);
    if (colon < 0) return undefined;
    const type = text.slice(i, colon);
    let j = colon + 1;
    let value: string;
    if (text[j] === '"') {
      let k = j + 1;
      while (k < text.length && text[k] !== '"') k += text[k] === '\\' ? 2 : 1;
      if (k >= text.length) return undefined;
      try {
        value = JSON.parse(text.slice(j, k + 1)) as string;
      } catch {
        return undefined;
      }
      j = k + 1;
    } else {
      const end = text.indexOf(', ', j);
      j = end < 0 ? text.length : end;
      value = text.slice(colon + 1, j);
    }
    names.push({ type, value });
    if (j < text.length) {
      if (!text.startsWith(', ', j)) return undefined;
      j += 2;
    }
    i = j;
  }
  return names;
}

/**
 * The identity a verified certificate names: its SPIFFE URI SAN (exactly one), else its subject
 * CN (exactly one). URI SANs of other schemes are ignored.
 */
export function certificateIdentity(
  subjectAltName: string | undefined,
  commonName: string | readonly string[] | undefined,
): CertificateCheck {
  const names = parseSubjectAltNames(subjectAltName ?? '');
  if (names === undefined) {
    return refused(
      'certificate-malformed',
      'The client certificate has unreadable subject alternative names.',
    );
  }
  // Any URI that says `spiffe:` in any case counts, so a `SPIFFE://…` twin cannot hide beside a
  // valid one: it is either the one SPIFFE ID (and then refused as malformed) or a second one.
  const spiffe = names.filter((n) => n.type === 'URI' && n.value.toLowerCase().startsWith('spiffe:'));
  if (spiffe.length > 1) {
    return refused(
      'certificate-spiffe-multiple',
      `The client certificate names ${spiffe.length} SPIFFE IDs; an identity certificate names exactly one.`,
    );
  }
  const id = spiffe[0]?.value;
  if (id !== undefined) {
    const problem = spiffeIdProblem(id);
    if (problem !== undefined) {
      return refused(
        'certificate-spiffe-malformed',
        `The client certificate's SPIFFE ID '${id}' is malformed: ${problem}.`,
      );
    }
    return { kind: 'verified', identity: id };
  }
  const cns = typeof commonName === 'string' ? [commonName] : (commonName ?? []);
  if (cns.length > 1) {
    return refused(
      'certificate-cn-multiple',
      'The client certificate has several subject CNs and no SPIFFE ID.',
    );
  }
  const cn = cns[0];
  if (cn === undefined || cn === '') {
    return refused(
      'certificate-no-identity',
      'The client certificate has neither a SPIFFE URI SAN nor a subject CN.',
    );
  }
  // Policies cannot name an identity with white space or control characters; refusing here
  // explains the problem instead of a no-match later.
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(cn)) {
    return refused(
      'certificate-cn-invalid',
      `The client certificate's CN ${JSON.stringify(cn)} is not an identity (white space or control characters).`,
    );
  }
  return { kind: 'verified', identity: cn };
}

function refused(reason: CertificateProblem, text: string): CertificateCheck {
  return { kind: 'refused', reason, text };
}

/** Maps OpenSSL's verification error to a reason a client can act on. */
function verificationProblem(code: string): CertificateProblem {
  if (code === 'CERT_HAS_EXPIRED') return 'certificate-expired';
  if (code === 'CERT_NOT_YET_VALID') return 'certificate-not-yet-valid';
  return 'certificate-untrusted';
}

/**
 * What the client certificate of a TLS connection proves. The handshake accepts any certificate
 * (`rejectUnauthorized: false`) so that a bad one is answered with a 407 and a reason instead of
 * a reset; the verdict of the chain check against the client CA is read here.
 */
export function checkClientCertificate(socket: TLSSocket): CertificateCheck {
  const cert: PeerCertificate | null = socket.getPeerCertificate();
  if (cert === null || Object.keys(cert).length === 0) return NO_CERTIFICATE;
  if (!socket.authorized) {
    const code = String(socket.authorizationError ?? 'UNKNOWN');
    return refused(
      verificationProblem(code),
      `The client certificate is not accepted: ${code} (it must be valid now and signed by the gateway's client CA).`,
    );
  }
  return certificateIdentity(cert.subjectaltname, cert.subject.CN);
}

/** What `createAuthenticator` needs. */
export interface AuthenticatorOptions {
  /** The token signing key (`loadTokenKey`). */
  readonly tokenKey: Buffer;
  /** Epoch ms, for token validity. */
  readonly now: () => number;
  /** The source-address map in force, read once per request; none when absent. */
  readonly identityMap?: () => IdentityMap;
  /** Whether the listener asks for client certificates (named in the 407 text). */
  readonly clientCertificates?: boolean;
  /** Token IDs revoked (`TokenRevocations`): such a token is refused with 407 `token-revoked`. */
  readonly revokedTokens?: { has(id: string): boolean };
  /**
   * The account whose security groups the gateway enforces: a token issued for another account,
   * or for none (issued before tokens carried one), is refused with 407 `token-wrong-account`.
   * Absent (a gateway embedded without the API): tokens of any account are accepted.
   */
  readonly tokenAccount?: string;
}

/** What `Proxy-Authorization` presents: nothing, a token, or credentials that prove nothing. */
export type PresentedCredentials =
  | { readonly kind: 'none' }
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'refused'; readonly reason: IdentityProblem; readonly text: string };

const NO_CREDENTIALS: PresentedCredentials = { kind: 'none' };
/** RFC 9110 `token` characters, for a scheme name. */
const SCHEME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Reads `Proxy-Authorization`. `Bearer TOKEN`, or `Basic base64(user:TOKEN)`: the token is the
 * password and the user name is not read (any name, `weir` by convention), because clients that
 * take credentials from a proxy URL (`http://weir:TOKEN@host:port`: pip, git, curl, requests)
 * send Basic, and an identity such as `spiffe://…` does not fit a URL's user part. The token
 * alone proves the identity; a user name that had to match would add no proof. A header in any
 * other scheme, or a malformed one, is refused with its own reason: a proof that was presented
 * and fails never falls through to the source-address map.
 */
export function presentedCredentials(header: string | undefined): PresentedCredentials {
  if (header === undefined) return NO_CREDENTIALS;
  const value = header.trim();
  const space = value.search(/[ \t]/);
  const scheme = space < 0 ? value : value.slice(0, space);
  const rest = space < 0 ? '' : value.slice(space + 1).trim();
  const lower = scheme.toLowerCase();
  if (lower === 'bearer') {
    if (!TOKEN68.test(rest)) return malformed('the Bearer credentials are not one token');
    return { kind: 'token', token: rest };
  }
  if (lower === 'basic') {
    if (!BASE64.test(rest) || rest.length % 4 !== 0 || rest === '') {
      return malformed('the Basic credentials are not base64');
    }
    const decoded = Buffer.from(rest, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    if (password === '') {
      return malformed(
        'the Basic credentials have no password; the token is the password (http://weir:TOKEN@HOST:PORT)',
      );
    }
    return { kind: 'token', token: password };
  }
  const named = SCHEME.test(scheme) ? `'${scheme}'` : 'an unreadable scheme';
  return {
    kind: 'refused',
    reason: 'unsupported-scheme',
    text: `Proxy authentication failed: Proxy-Authorization uses ${named}; the gateway accepts Bearer <token>, or Basic with the token as the password (http://weir:TOKEN@HOST:PORT).`,
  };
}

function malformed(what: string): PresentedCredentials {
  return { kind: 'refused', reason: 'token-malformed', text: `Proxy authentication failed: ${what}.` };
}

function isTlsSocket(socket: unknown): socket is TLSSocket {
  return (socket as Partial<TLSSocket>).encrypted === true;
}

/** What authentication reads of a request: its headers and the connection it came on. */
export interface AuthenticatedHead {
  readonly headers: IncomingHttpHeaders;
  readonly socket: Socket;
}

/**
 * Creates the gateway's `authenticate(req)`. Order: a presented certificate is checked first
 * (a bad one refuses the request), then the token (a bad one refuses; one naming another
 * identity than the certificate is `identity-conflict`), and only a request with neither is
 * looked up in the source-address map.
 */
export function createAuthenticator(
  opts: AuthenticatorOptions,
): (req: AuthenticatedHead) => RequestIdentity | IdentityRefusal {
  const verify = createTokenVerifier(opts.tokenKey, undefined, opts.revokedTokens);
  // The certificate is fixed for the life of a connection: check it once, not per request.
  const certificates = new WeakMap<TLSSocket, CertificateCheck>();
  const token =
    'Proxy-Authorization: Bearer <token>, or a proxy URL http://weir:<token>@HOST:PORT (weir token issue)';
  const how = opts.clientCertificates
    ? `send ${token}, or a client certificate the gateway trusts`
    : `send ${token}`;
  /**
   * Both challenges, one field line each: Bearer for clients that send a header, Basic for those
   * that take credentials from a proxy URL (libcurl with `CURLAUTH_ANY`, as git sets it, answers
   * the challenge it understands). `tokenError`: the refusal is about the token (RFC 6750).
   */
  const refuse = (reason: IdentityProblem, text: string, tokenError = true): IdentityRefusal => ({
    status: 407,
    reason,
    text,
    headers: {
      'Proxy-Authenticate': [
        tokenError ? 'Bearer realm="weir", error="invalid_token"' : 'Bearer realm="weir"',
        'Basic realm="weir"',
      ],
    },
  });

  function certificateOf(req: AuthenticatedHead): CertificateCheck {
    const socket = req.socket;
    if (!isTlsSocket(socket)) return NO_CERTIFICATE;
    let check = certificates.get(socket);
    if (check === undefined) {
      check = checkClientCertificate(socket);
      certificates.set(socket, check);
    }
    return check;
  }

  return (req) => {
    const cert = certificateOf(req);
    if (cert.kind === 'refused') {
      return refuse(cert.reason, `Proxy authentication failed: ${cert.text}`, false);
    }
    const presented = presentedCredentials(req.headers['proxy-authorization']);
    if (presented.kind === 'refused') {
      return refuse(presented.reason, presented.text, presented.reason !== 'unsupported-scheme');
    }
    if (presented.kind === 'token') {
      const check = verify(presented.token, opts.now());
      if (!check.ok) return refuse(check.reason, `Proxy authentication failed: ${check.reason}.`);
      const account = opts.tokenAccount;
      if (account !== undefined && check.claims.account !== account) {
        // The key is server-wide; the account binds a token to the tenant that issued it, so a
        // key of another account (or a token minted before the binding) cannot act as
        // an identity that the gateway account attached to its groups.
        return refuse(
          'token-wrong-account',
          `Proxy authentication failed: token-wrong-account: the token was issued ${check.claims.account !== undefined ? `for account ${check.claims.account}` : 'without an account (before tokens carried one)'}; ` +
            `this gateway enforces account ${account}'s security groups: issue a new token with a key of account ${account} (weir token issue).`,
        );
      }
      if (cert.kind === 'verified' && cert.identity !== check.claims.identity) {
        // Two proofs naming two workloads: which one the request acts for is not ours to guess.
        return refuse(
          'identity-conflict',
          `Proxy authentication failed: the client certificate names ${cert.identity} but the token names ${check.claims.identity}.`,
        );
      }
      return cert.kind === 'verified'
        ? { identity: cert.identity, source: 'certificate', token: check.claims }
        : { identity: check.claims.identity, source: 'token', token: check.claims };
    }
    if (cert.kind === 'verified') return { identity: cert.identity, source: 'certificate' };
    const mapped = opts.identityMap?.().lookup(req.socket.remoteAddress ?? '');
    if (mapped !== undefined) return { identity: mapped, source: 'source-address' };
    return refuse('no-identity', `Proxy authentication required: ${how}.`, false);
  };
}
