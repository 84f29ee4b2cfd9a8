/**
 * @module policy-types — the contract between policy and engine: a policy set after parsing
 * and normalisation (what policy produces and the engine compiles) and the decision reasons
 * both speak of. It sits below both so that the engine never imports policy; it imports nothing
 * of Weir's.
 */
export type * from './types.js';
export { DECISION_REASONS, reasonCode } from './reasons.js';
export type { DecisionReason } from './reasons.js';
export type * from './grants.js';
