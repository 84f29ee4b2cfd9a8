/**
 * @module engine — the compiled decision snapshot and `decide()`: compile a policy set once
 * (`compilePolicySet`), then ask the immutable `Snapshot` for decisions and explanations. The
 * naive evaluator is the reference the compiled engine is tested against.
 */
export * from './types.js';
export type { CompileOptions, CompileStats, Explanation, Matcher, Snapshot } from './matcher.js';
export { ANY_PROTOCOL, BAD_PROTOCOL, fqdnMatches, protocolNumber } from './matcher.js';
export { EngineError, compilePolicySet } from './compile.js';
export type { EngineErrorCode } from './compile.js';
export { NaiveEvaluator } from './naive.js';
export { GUARDRAILS, GUARDRAIL_HITS, guardrailFor } from './guardrails.js';
export type { Guardrail, GuardrailMatch } from './guardrails.js';
export { parseAddress } from './address.js';
export type { ParsedAddress } from './address.js';
export {
  compileWithControlPlane,
  controlPlaneRefs,
  groupPolicies,
  groupPolicyName,
  ruleLocation,
  withControlPlane,
} from './groups.js';
export type { AttachedGroup, ControlPlaneInput } from './groups.js';
