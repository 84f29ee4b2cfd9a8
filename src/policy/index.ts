/**
 * @module policy — policy files: types, parser, linter, plan/apply, bundles. Running a set's
 * tests and explaining decisions use the engine and live above both, in `explain`.
 */
export type * from './types.js';
export { closest, compareDiagnostics, DIAGNOSTIC_CODES, formatDiagnostic } from './diagnostics.js';
export type { Diagnostic, DiagnosticCode, Severity } from './diagnostics.js';
export {
  API_VERSION,
  DOCUMENT_KINDS,
  PROTOCOL_NAMES,
  TEST_REASONS,
  policyJsonSchema,
  type DocumentKind,
} from './schema.js';
export {
  formatFqdnPattern,
  formatTime,
  matchIdentity,
  mergePorts,
  normalizeCidr,
  normalizeFqdn,
  normalizeProtocol,
  parseDuration,
  parseIdentityPattern,
  parsePort,
  parsePrincipal,
  MAX_EXCEPTION_TTL_MS,
  parseTestTarget,
  parseTime,
  type CanonicalCidr,
  type Checked,
  type FqdnPattern,
  type Problem,
  type TestTarget,
} from './normalize.js';
export { loadPolicySet, loadPolicySources, type LoadResult, type PolicySource } from './load.js';
export {
  dataClassFits,
  destinationCovers,
  guardedNameAddress,
  lintPolicySet,
  MIN_EXCEPTION_TTL_MS,
  spansPublicSuffix,
  ruleCovers,
  type GuardrailLookup,
  type LintOptions,
  type LintReport,
} from './lint.js';
export {
  formatJson,
  formatReport,
  formatSarif,
  formatText,
  REPORT_FORMATS,
  type ReportFormat,
} from './report.js';
export { declaredAttachments, type DeclaredAttachment } from './attachments.js';
export {
  audienceProblem,
  checkBundleSources,
  createBundle,
  generateSigningKey,
  openBundle,
  PRIVATE_KEY_FILE,
  PUBLIC_KEY_FILE,
  readBundleSources,
  readPrivateKey,
  readPublicKey,
  serializeBundle,
  trustKeys,
  type PolicyBundle,
  type TrustedKeys,
} from './bundle.js';
// Plan/apply's pure core (desired state, diff, rendering) and the FQDN prefix-list sync, for
// `weir policy plan|apply|resolve` and the API.
export * from './plan.js';
export * from './resolve.js';
