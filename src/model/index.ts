/**
 * @module model — the control plane's domain model: types, EC2 errors, and the pure
 * validation and canonicalisation every entry point (API, policy compiler) shares.
 */

export * from './errors.js';
export type * from './types.js';
export * from './cidr.js';
export * from './ids.js';
export * from './text.js';
export * from './tags.js';
export * from './permissions.js';
export * from './address.js';
export * from './hostname.js';
export * from './guardrails.js';
export * from './rule-template.js';
export * from './denial-template.js';
