/**
 * @module identity — who a request comes from: bearer tokens (issue, verify, revoke), the
 * request authenticator (client certificate, bearer token, source-address map), the identity map
 * file, and the TLS material client certificates are verified against. The API issues and
 * revokes tokens; the gateway authenticates with all of it. Imports nothing of Weir's but the
 * model.
 */
export {
  certificateIdentity,
  checkClientCertificate,
  createAuthenticator,
  parseSubjectAltNames,
  spiffeIdProblem,
} from './authenticate.js';
export type {
  AuthenticatorOptions,
  CertificateCheck,
  CertificateProblem,
  IdentityProblem,
  IdentityRefusal,
  IdentitySource,
  RequestIdentity,
} from './authenticate.js';
export { EMPTY_IDENTITY_MAP, parseIdentityMap } from './identity-map.js';
export type { IdentityMap, IdentityMapEntry, IdentityMapLoad } from './identity-map.js';
export { loadGatewayTls } from './tls.js';
export type { GatewayTls, GatewayTlsFiles } from './tls.js';
export {
  createTokenVerifier,
  issueToken,
  loadTokenKey,
  parseTtl,
  TOKEN_KEY_FILE,
  TokenRevocations,
  signedTokenClaims,
  verifyToken,
} from './token.js';
export type { TokenCheck, TokenClaims, TokenProblem } from './token.js';
