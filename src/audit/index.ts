/**
 * @module audit — the audit trail: CloudTrail-shaped records appended in the transaction of each
 * change (record.ts), their hash chain over canonical JSON (canonical.ts), Ed25519-signed
 * digests (digest.ts) and the verifier (verify.ts). Where records are written: api/audit-hook.ts
 * (API calls) and the CLI's data-dir writes. docs/audit.md.
 */
export { canonicalJson } from './canonical.js';
export type { Json } from './canonical.js';
export {
  appendAudit,
  auditEvent,
  EC2_EVENT_SOURCE,
  EVENT_VERSION,
  GENESIS_HASH,
  HIDDEN,
  isSecretName,
  parseSince,
  recordHash,
  redact,
  WEIR_EVENT_SOURCE,
} from './record.js';
export type { AuditActor, AuditCall, AuditEvent, AuditOutcome, AuditUserIdentity } from './record.js';
export {
  AUDIT_KEY_FILE,
  AUDIT_PUBLIC_KEY_FILE,
  DIGEST_INTERVAL_MS,
  digestSignatureHolds,
  keyFingerprint,
  loadAuditKey,
  publicKeyPem,
  readPublicKey,
  startAuditDigests,
  writeAuditDigest,
} from './digest.js';
export type { AuditDigester } from './digest.js';
export { verifyAuditTrail } from './verify.js';
export { auditLocalWrite, localAuditCall } from './local.js';
export type { AuditProblem, AuditVerification } from './verify.js';
