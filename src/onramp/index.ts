/**
 * @module onramp — the on-ramp's domain: break-glass sessions (onramp/breakglass), their
 * destinations (onramp/breakglass-dest) and RFC 6238 codes (onramp/totp), and the grants open
 * sessions give the engine.
 */
export * from './totp.js';
export * from './breakglass.js';
export * from './breakglass-dest.js';
export * from './code-attempts.js';
