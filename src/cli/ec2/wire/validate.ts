/**
 * @module cli/ec2/wire/validate — botocore's client-side parameter validation (ParamValidator): required
 * members, unknown members, types and `min` constraints, every problem reported, in botocore's words
 * (`Invalid type for parameter IpPermissions[0].FromPort, value: x, type: <class 'str'>, valid types:
 * <class 'int'>`).
 * Port of botocore 1.43.11's `botocore/validate.py` (`ParamValidator`, `ValidationErrors`).
 */
import type { ServiceModel } from '../service.js';
import { pyReprValue, pyTypeName } from '../python/index.js';

/** botocore's ParamValidationError; `message` is `Parameter validation failed:\n…`. */
export class ParamValidationError extends Error {
  override readonly name = 'ParamValidationError';
  constructor(readonly report: string) {
    super(`Parameter validation failed:\n${report}`);
  }
}

const PY_TYPES: Readonly<Record<string, string>> = {
  string: "<class 'str'>",
  integer: "<class 'int'>",
  long: "<class 'int'>",
  boolean: "<class 'bool'>",
  float: "<class 'float'>, <class 'decimal.Decimal'>, <class 'int'>",
  double: "<class 'float'>, <class 'decimal.Decimal'>, <class 'int'>",
  structure: "<class 'dict'>",
  list: "<class 'list'>, <class 'tuple'>",
  blob: "<class 'bytes'>, <class 'bytearray'>, file-like object",
  timestamp: "<class 'datetime.datetime'>, timestamp-string",
};

const isDict = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  !(v instanceof Uint8Array) &&
  !(v instanceof Date);

/** Python's `str()` of a parameter value as the report shows it. */
function shown(v: unknown): string {
  return typeof v === 'string' ? v : pyReprValue(v);
}

function typeOk(type: string, v: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof v === 'string';
    case 'integer':
    case 'long':
      // Python's bool is an int.
      return (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'boolean';
    case 'float':
    case 'double':
      return typeof v === 'number' || typeof v === 'boolean';
    case 'boolean':
      return typeof v === 'boolean';
    case 'structure':
      return isDict(v);
    case 'list':
      return Array.isArray(v);
    case 'blob':
      return typeof v === 'string' || v instanceof Uint8Array;
    case 'timestamp':
      return (
        v instanceof Date ||
        (typeof v === 'string' && !Number.isNaN(new Date(v).getTime())) ||
        typeof v === 'number'
      );
    default:
      return true;
  }
}

/**
 * Validates the input of `operation` as botocore does before sending it.
 * @throws ParamValidationError listing every problem.
 */
export function validateParams(model: ServiceModel, operation: string, params: unknown): void {
  const errors: string[] = [];
  const label = (name: string): string =>
    name === '' ? 'input' : name.startsWith('.') ? name.slice(1) : name;
  const invalidType = (name: string, type: string, v: unknown): void => {
    errors.push(
      `Invalid type for parameter ${label(name)}, value: ${shown(v)}, type: <class '${pyTypeName(v)}'>, valid types: ${PY_TYPES[type] ?? type}`,
    );
  };
  const walk = (shapeName: string, v: unknown, name: string): void => {
    const s = model.shape(shapeName);
    if (!typeOk(s.type, v)) {
      invalidType(name, s.type, v);
      return;
    }
    if (s.type === 'structure') {
      const obj = v as Record<string, unknown>;
      for (const req of s.required ?? []) {
        if (!Object.hasOwn(obj, req)) errors.push(`Missing required parameter in ${label(name)}: "${req}"`);
      }
      const known: string[] = [];
      for (const key of Object.keys(obj)) {
        if (!Object.hasOwn(s.members, key)) {
          errors.push(
            `Unknown parameter in ${label(name)}: "${key}", must be one of: ${Object.keys(s.members).join(', ')}`,
          );
        } else known.push(key);
      }
      for (const key of known) walk(s.members[key]!.shape, obj[key], `${name}.${key}`);
      return;
    }
    if (s.type === 'list') {
      const items = v as unknown[];
      if (s.min !== undefined && items.length < s.min) {
        errors.push(
          `Invalid length for parameter ${label(name)}, value: ${items.length}, valid min length: ${s.min}`,
        );
      }
      items.forEach((item, i) => walk(s.member.shape, item, `${name}[${i}]`));
      return;
    }
    if (s.type === 'string' && s.min !== undefined && [...(v as string)].length < s.min) {
      errors.push(
        `Invalid length for parameter ${label(name)}, value: ${[...(v as string)].length}, valid min length: ${s.min}`,
      );
    }
    if (
      (s.type === 'integer' || s.type === 'long' || s.type === 'float' || s.type === 'double') &&
      s.min !== undefined
    ) {
      const n = Number(v);
      if (n < s.min)
        errors.push(
          `Invalid value for parameter ${label(name)}, value: ${shown(v)}, valid min value: ${s.min}`,
        );
    }
  };
  const op = model.operation(operation);
  if (op.input) walk(op.input.shape, params, '');
  if (errors.length > 0) throw new ParamValidationError(errors.join('\n'));
}
