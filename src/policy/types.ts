/**
 * @module policy/types — the normalised policy-set types, as policy's files and callers import
 * them. They are defined in `policy-types` (below both policy and engine, so the engine compiles
 * them without importing policy) and re-exported here unchanged.
 */
export type * from '../policy-types/index.js';
