/**
 * @module engine — the compiled decision snapshot and `decide()`: compile a policy set once
 * (`compilePolicySet`), then ask the immutable `Snapshot` for decisions and explanations. The
 * naive evaluator is the reference the compiled engine is tested against.
 */
export * from './types.js';
export type { CompileOptions, CompileStats, Explanation, Matcher, Snapshot } from './matcher.js';
export { ANY_PROTOCOL, BAD_PROTOCOL, fqdnMatches, protocolNumber } from './matcher.js';
export { compilePolicySet } from './compile.js';
export { EngineError } from './compile-tables.js';
export type { EngineErrorCode } from './compile-tables.js';
export { NaiveEvaluator } from './naive.js';
// The guardrail table and the address parser live in the model (the policy linter needs them
// too); re-exported here for the engine's callers.
export { GUARDRAILS, GUARDRAIL_HITS, guardrailFor, parseAddress } from '../model/index.js';
export type { Guardrail, GuardrailMatch, ParsedAddress } from '../model/index.js';
export {
  compileWithControlPlane,
  controlPlaneRefs,
  groupPolicies,
  groupPolicyName,
  ruleLocation,
  withControlPlane,
} from './groups.js';
export type { AttachedGroup, ControlPlaneInput } from './groups.js';
export { ControlPlaneCompiler } from './groups-incremental.js';
export type { PrefixListContent } from './groups-incremental.js';
export { UnionSnapshot } from './groups-union.js';
export {
  GrantedSnapshot,
  compileGrants,
  everythingMayPass,
  grantRefOf,
  liveGrants,
  nextGrantBoundary,
  withGrants,
} from './grants.js';
export type { CompiledGrant, CompiledGrants } from './grants.js';
