/**
 * @module cli/ec2/input/params — turns a parameter's command-line value into the API value, in the AWS
 * CLI's order: `file://`/`fileb://` first, then shorthand or JSON chosen by the first character
 * (`[` or `{` means JSON), then the model-aware pass of awscli's ParamShorthandParser (integers and
 * booleans coerced per shape, a lone value wrapped where the model wants a list), or awscli's
 * unpack_cli_arg for JSON and scalars. A list-of-structures parameter takes several space-separated
 * structures as separate argv items.
 * Port of awscli 1.45.11's `awscli/argprocess.py` (`unpack_argument`, `unpack_cli_arg`,
 * `ParamShorthandParser`, `ParamError`).
 */
import { shape as ec2Shape } from '../../../ec2-model/index.js';
import { ResourceLoadingError, getParamfile } from './paramfile.js';
import type { ParamfileOptions } from './paramfile.js';
import {
  JsonDecodeError,
  PythonError,
  pyFloat,
  pyInt,
  pyJsonLoads,
  pyLstrip,
  pyStrip,
  pyTypeName,
  setOwn,
} from '../python/index.js';
import { ShorthandParseError, parseShorthand } from './shorthand.js';

/** A reference to a named shape, as in botocore models. */
export interface ParamShapeRef {
  readonly shape: string;
}

/** The shape kinds the CLI distinguishes (botocore's type names). */
export type ParamShape =
  | { readonly type: 'structure'; readonly members: Readonly<Record<string, ParamShapeRef>> }
  | { readonly type: 'list'; readonly member: ParamShapeRef }
  | { readonly type: 'map'; readonly key: ParamShapeRef; readonly value: ParamShapeRef }
  | {
      readonly type: 'string' | 'integer' | 'long' | 'boolean' | 'timestamp' | 'double' | 'float' | 'blob';
    };

/** Looks shapes up by name. */
export type ShapeLookup = (name: string) => ParamShape;

/** Weir's EC2 model (src/ec2-model/ec2-model.json). */
export const ec2ShapeLookup: ShapeLookup = (name) => ec2Shape(name) as ParamShape;

/** The AWS CLI's `ParamError`: `Error parsing parameter '--x': …`. */
export class ParamError extends Error {
  override readonly name = 'ParamError';
  constructor(
    /** The option, e.g. `--ip-permissions`. */
    readonly cliName: string,
    /** The message after the prefix. */
    readonly detail: string,
  ) {
    super(`Error parsing parameter '${cliName}': ${detail}`);
  }
}

/** A value on the command line: one string, or several for a list parameter (`nargs='+'`). */
export type CliArgValue = string | readonly string[];

/** A value after unpacking: what goes into the API request. */
export type ParamValue = null | boolean | number | string | Uint8Array | ParamValue[] | ParamObject;

/** An unpacked structure or map. */
export interface ParamObject {
  [key: string]: ParamValue;
}

/** Options of {@link unpackParameter}. */
export interface UnpackOptions {
  /** How `file://`/`fileb://` are read. */
  readonly paramfile?: ParamfileOptions;
  /** Shapes by name; default: Weir's EC2 model. */
  readonly shapes?: ShapeLookup;
  /** False for the few parameters whose values must not be read as paramfiles. Default true. */
  readonly resolveParamfiles?: boolean;
}

const COMPLEX = new Set(['structure', 'list', 'map']);

function isObject(v: unknown): v is ParamObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function firstChar(value: string): string {
  const stripped = pyLstrip(value);
  if (stripped === '') throw new PythonError('IndexError', 'string index out of range');
  return stripped[0]!;
}

/** Whether the CLI offers shorthand for this shape: complex, and not a list of scalars. */
export function supportsShorthand(shape: ParamShape, shapes: ShapeLookup = ec2ShapeLookup): boolean {
  if (!COMPLEX.has(shape.type)) return false;
  if (shape.type === 'list') return COMPLEX.has(shapes(shape.member.shape).type);
  return true;
}

/**
 * awscli's BackCompatVisitor: coerce scalars per the model and wrap lone values in lists, in place.
 * Like the CLI it does not descend into a value it had to wrap.
 */
function visit(
  parent: ParamObject | ParamValue[],
  key: string | number,
  shape: ParamShape,
  value: ParamValue | undefined,
  shapes: ShapeLookup,
): void {
  const set = (v: ParamValue): void => {
    if (Array.isArray(parent)) parent[key as number] = v;
    else setOwn(parent, String(key), v);
  };
  switch (shape.type) {
    case 'structure':
      if (!isObject(value)) return;
      for (const [name, ref] of Object.entries(shape.members)) {
        visit(value, name, shapes(ref.shape), Object.hasOwn(value, name) ? value[name] : undefined, shapes);
      }
      return;
    case 'list':
      if (!Array.isArray(value)) {
        if (value !== undefined) set([value]);
        return;
      }
      value.forEach((element, i) => visit(value, i, shapes(shape.member.shape), element, shapes));
      return;
    case 'map':
      if (!isObject(value)) return;
      for (const [k, v] of Object.entries(value)) visit(value, k, shapes(shape.value.shape), v, shapes);
      return;
    default:
      if (value === undefined || value === null) return;
      if (shape.type === 'integer' || shape.type === 'long') set(pyInt(value));
      else if (shape.type === 'double' || shape.type === 'float') set(pyFloat(value));
      else if (shape.type === 'boolean') {
        if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
          throw new PythonError('AttributeError', `'${pyTypeName(value)}' object has no attribute 'lower'`);
        }
        if (typeof value === 'string' && value.toLowerCase() === 'true') set(true);
        else if (typeof value === 'string' && value.toLowerCase() === 'false') set(false);
      }
  }
}

function parseJson(value: string, cliName: string): ParamValue {
  try {
    return pyJsonLoads(value) as ParamValue;
  } catch (err) {
    if (err instanceof JsonDecodeError) {
      throw new ParamError(cliName, `Invalid JSON: ${err.message}\nJSON received: ${value}`);
    }
    throw err;
  }
}

function asText(value: string | Uint8Array): string {
  return typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
}

function unpackScalar(shape: ParamShape, value: string | Uint8Array): ParamValue {
  switch (shape.type) {
    case 'integer':
    case 'long':
      return pyInt(value);
    case 'float':
    case 'double':
      return pyFloat(value);
    case 'boolean':
      if (typeof value === 'string' && value.toLowerCase() === 'false') return false;
      return value.length > 0;
    default:
      return value;
  }
}

/** awscli's unpack_cli_arg: JSON for complex shapes, Python conversions for scalars. */
function unpackCliArg(
  shape: ParamShape,
  value: string | Uint8Array | readonly string[],
  cliName: string,
  shapes: ShapeLookup,
): ParamValue {
  if (!COMPLEX.has(shape.type)) {
    if (Array.isArray(value)) return value.map((v: string) => unpackScalar(shape, v));
    return unpackScalar(shape, value as string | Uint8Array);
  }
  if (shape.type === 'structure' || shape.type === 'map') {
    const text = Array.isArray(value) ? (value[0] ?? '') : asText(value as string | Uint8Array);
    if (firstChar(text) === '{') return parseJson(text, cliName);
    throw new ParamError(cliName, `Invalid JSON:\n${text}`);
  }
  if (shape.type !== 'list') return asText(value as string | Uint8Array);
  if (typeof value === 'string' || value instanceof Uint8Array) {
    const text = asText(value);
    if (firstChar(text) === '[') return parseJson(text, cliName);
  } else if (value.length === 1) {
    const single = pyStrip(value[0]!);
    if (single !== '' && single[0] === '[') return parseJson(value[0]!, cliName);
  }
  // A string that is not a JSON list is iterated character by character, as the CLI does.
  const items: readonly string[] = Array.isArray(value)
    ? value
    : Array.from(asText(value as string | Uint8Array));
  const member = shapes(shape.member.shape);
  try {
    return items.map((v) => unpackCliArg(member, v, cliName, shapes));
  } catch (err) {
    if (err instanceof PythonError && (err.pythonType === 'ValueError' || err.pythonType === 'TypeError')) {
      throw new ParamError(cliName, items[0] ?? '');
    }
    throw err;
  }
}

function isStringValueStructure(shape: ParamShape, shapes: ShapeLookup): boolean {
  if (shape.type !== 'structure') return false;
  const names = Object.keys(shape.members);
  return names.length === 1 && names[0] === 'Value' && shapes(shape.members.Value!.shape).type === 'string';
}

/**
 * Unpacks one parameter's command-line value into its API value, exactly as the AWS CLI does for an
 * operation parameter of shape `shapeName` given as `cliName`.
 * @param value one string, or the list of argv items of a list parameter.
 * @throws ParamError `Error parsing parameter '--x': …` (shorthand and JSON syntax errors, files).
 * @throws PythonError what the CLI lets through unwrapped (`invalid literal for int() …`).
 * @throws ResourceLoadingError for an unreadable `key@=file://…` inside shorthand.
 */
export function unpackParameter(
  value: CliArgValue,
  cliName: string,
  shapeName: string,
  opts: UnpackOptions = {},
): ParamValue {
  const shapes = opts.shapes ?? ec2ShapeLookup;
  const model = shapes(shapeName);
  let current: string | Uint8Array | readonly string[] = value;
  if (opts.resolveParamfiles !== false) {
    const single = Array.isArray(value) && value.length === 1 ? value[0] : value;
    if (typeof single === 'string') {
      try {
        const content = getParamfile(single, opts.paramfile);
        if (content !== undefined) current = content;
      } catch (err) {
        if (err instanceof ResourceLoadingError) throw new ParamError(cliName, err.message);
        throw err;
      }
    }
  }

  const check = Array.isArray(current) && current.length > 0 ? current[0] : current;
  const looksLikeJson = typeof check === 'string' && /^[[{]/.test(pyStrip(check));
  if (!looksLikeJson && supportsShorthand(model, shapes)) {
    try {
      if (typeof current === 'string' && isStringValueStructure(model, shapes) && !current.includes('=')) {
        return { Value: current };
      }
      const parse = (v: string | Uint8Array): ParamValue =>
        parseShorthand(asText(v), opts.paramfile ? { paramfile: opts.paramfile } : {}) as ParamValue;
      const parsed: ParamValue = Array.isArray(current)
        ? current.map((v: string) => parse(v))
        : parse(current as string | Uint8Array);
      // The CLI visits from a throwaway parent: a single structure given to a list parameter stays
      // a structure rather than being wrapped.
      visit({}, '', model, parsed, shapes);
      return parsed;
    } catch (err) {
      if (err instanceof ShorthandParseError) throw new ParamError(cliName, err.message);
      throw err;
    }
  }
  return unpackCliArg(model, current, cliName, shapes);
}

/**
 * The shape name of an operation's input member, e.g. `AuthorizeSecurityGroupEgressRequest` +
 * `IpPermissions` → `IpPermissionList`.
 * @throws Error when the shape has no such member.
 */
export function memberShapeName(
  structureShape: string,
  member: string,
  shapes: ShapeLookup = ec2ShapeLookup,
): string {
  const s = shapes(structureShape);
  if (s.type !== 'structure' || !Object.hasOwn(s.members, member)) {
    throw new Error(`${structureShape} has no member ${member}`);
  }
  return s.members[member]!.shape;
}
