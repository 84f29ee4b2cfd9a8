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
  // Every API write serialises its audit event (and its parameters, to bound their size): plain
  // loops and string appends, not map/filter/join, since their arrays showed in the API's profile.
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON has no form for ${value}`);
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const v: unknown = value[i];
          out += (i === 0 ? '' : ',') + canonicalJson(v === undefined ? null : v);
        }
        return out + ']';
      }
      const obj = value as Record<string, unknown>;
      // Default sort compares UTF-16 code units, which is what RFC 8785 asks for.
      const keys = Object.keys(obj).sort();
      let out = '{';
      let first = true;
      for (const k of keys) {
        const v = obj[k];
        if (v === undefined) continue;
        out += (first ? '' : ',') + JSON.stringify(k) + ':' + canonicalJson(v);
        first = false;
      }
      return out + '}';
    }
    default:
      throw new TypeError(`canonical JSON has no form for a ${typeof value}`);
  }
}
