/**
 * @module api/weir/input — reads and checks a JSON request body: an object with only the
 * fields the operation knows (an unknown field is refused by name, with the nearest known one),
 * each of the expected type. Errors name the field and say what to send.
 */
import { WeirApiError } from './errors.js';

/** The fields of one operation: name → type (`string[]`: a list of at most 100 strings). */
export type FieldSpec = Readonly<Record<string, 'string' | 'boolean' | 'string[]'>>;

/** A parsed body: each field present is of its declared type. */
export type Fields = Readonly<Record<string, string | boolean | readonly string[] | undefined>>;

/** The most items a `string[]` field holds: a list is bounded like the body is. */
const MAX_LIST = 100;

/** Parses `body` as a JSON object holding only `spec`'s fields. An empty body is `{}`. */
export function parseFields(body: Buffer, spec: FieldSpec, operation: string): Fields {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new WeirApiError(
      'InvalidRequest',
      `${operation}: the body is not JSON (${err instanceof Error ? err.message : String(err)}); send a JSON object`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new WeirApiError('InvalidRequest', `${operation}: the body must be a JSON object`);
  }
  const out: Record<string, string | boolean | readonly string[]> = {};
  const known = Object.keys(spec);
  for (const [name, value] of Object.entries(parsed)) {
    const type = spec[name];
    if (type === undefined) {
      throw new WeirApiError(
        'UnknownParameter',
        `${operation}: unknown field '${name}'; the fields are ${known.join(', ') || '(none)'}`,
      );
    }
    if (type === 'string[]') {
      if (!Array.isArray(value) || value.length > MAX_LIST || !value.every((v) => typeof v === 'string')) {
        throw new WeirApiError(
          'InvalidParameterValue',
          `${operation}: field '${name}' must be a list of at most ${MAX_LIST} strings (e.g. ["api.stripe.com:443"])`,
        );
      }
      out[name] = value as string[];
      continue;
    }
    if (typeof value !== type) {
      throw new WeirApiError(
        'InvalidParameterValue',
        `${operation}: field '${name}' must be a ${type}, got ${value === null ? 'null' : typeof value}`,
      );
    }
    out[name] = value as string | boolean;
  }
  return out;
}

/** A query string's parameters, refusing unknown and repeated ones. */
export function parseQuery(
  query: string,
  names: readonly string[],
  operation: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(query)) {
    if (!names.includes(name)) {
      throw new WeirApiError(
        'UnknownParameter',
        `${operation}: unknown query parameter '${name}'; the parameters are ${names.join(', ') || '(none)'}`,
      );
    }
    if (name in out)
      throw new WeirApiError('InvalidParameterValue', `${operation}: '${name}' is given twice`);
    out[name] = value;
  }
  return out;
}

/** The string field `name`, which must be present. */
export function required(fields: Fields, name: string, operation: string, example: string): string {
  const v = fields[name];
  if (v === undefined) {
    throw new WeirApiError(
      'MissingParameter',
      `${operation}: field '${name}' is required (e.g. "${name}": "${example}")`,
    );
  }
  return v as string;
}

/**
 * A workload identity as the gateway sees it: one SPIFFE ID or service-account string, not a
 * pattern, without spaces or control characters (they could forge lines in logs and tables).
 */
export function checkIdentity(value: string, field: string, operation: string): string {
  if (value === '' || value.length > 2048 || /[\s\p{Cc}]/u.test(value) || value.includes('*')) {
    throw new WeirApiError(
      'InvalidParameterValue',
      `${operation}: field '${field}' must be one workload identity (e.g. spiffe://prod.example/ns/payments/sa/checkout), ` +
        `without spaces, '*' or control characters, at most 2048 characters; got ${JSON.stringify(value.slice(0, 80))}`,
    );
  }
  return value;
}

/**
 * A `true|false` query parameter (absent: false).
 * @throws WeirApiError `InvalidParameterValue` naming it when it is anything else.
 */
export function booleanQuery(
  query: Readonly<Record<string, string>>,
  name: string,
  operation: string,
): boolean {
  const v = query[name];
  if (v === undefined || v === 'false') return false;
  if (v === 'true') return true;
  throw new WeirApiError(
    'InvalidParameterValue',
    `${operation}: '${name}' must be true or false, got ${JSON.stringify(v)}`,
  );
}
