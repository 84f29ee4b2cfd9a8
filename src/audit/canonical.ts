/**
 * @module audit/canonical — the canonical JSON the audit chain hashes and the digests sign: the
 * JSON Canonicalization Scheme (RFC 8785) for the values audit records hold. Object keys sorted
 * by UTF-16 code units, no whitespace, strings and numbers as ECMAScript's JSON.stringify writes
 * them (RFC 8785 adopts exactly those forms). Two writers that agree on the values agree on the
 * bytes, so a verifier in another language can recompute every hash.
 */

/** A JSON value as audit records hold it. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [k: string]: Json };

/**
 * The canonical text of `value`. `undefined` members of objects are left out (as
 * JSON.stringify does); anything else that is not JSON (a function, a bigint, NaN) throws,
 * since its text would differ between writers.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`canonical JSON has no form for ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value))
    return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    // Default sort compares UTF-16 code units, which is what RFC 8785 asks for.
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
  }
  throw new TypeError(`canonical JSON has no form for a ${typeof value}`);
}
