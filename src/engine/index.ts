/** @module engine — the compiled decision snapshot and `decide()`. */
export * from './types.js';
