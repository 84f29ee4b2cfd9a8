/**
 * @module cli/ec2/python/builtins — the few Python built-ins whose exact behaviour shows through the AWS
 * CLI's messages and output: `str.isspace`/`strip`, `repr(str)`, `int()`/`float()` of a string
 * (with their error messages), `repr(float)`, and code-point lengths (Python indexes strings by code
 * point, JavaScript by UTF-16 unit).
 * Follows CPython 3.11's built-ins as the AWS CLI runs on them here (awscli 1.45.11, Python
 * 3.11.7): `str.isspace`/`strip`, `repr`, `int()`, `float()`, `float.__repr__`.
 */

/** Python's `str.isspace` set, which is also what its Unicode `\s` matches. */
export const PY_WHITESPACE_CLASS =
  '\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

const PY_WS_RE = new RegExp(`[${PY_WHITESPACE_CLASS}]`);
const RSTRIP_RE = new RegExp(`[${PY_WHITESPACE_CLASS}]+$`);
const LSTRIP_RE = new RegExp(`^[${PY_WHITESPACE_CLASS}]+`);

/** Whether `ch` (one character) is whitespace to Python. */
export function isPyWhitespace(ch: string): boolean {
  return PY_WS_RE.test(ch);
}

/** Python's `str.rstrip()` with no argument. */
export function pyRstrip(s: string): string {
  return s.replace(RSTRIP_RE, '');
}

/** Python's `str.lstrip()` with no argument. */
export function pyLstrip(s: string): string {
  return s.replace(LSTRIP_RE, '');
}

/** Python's `str.strip()` with no argument. */
export function pyStrip(s: string): string {
  return pyRstrip(pyLstrip(s));
}

/** Python's `len(s)`: the number of code points. */
export function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

const NOT_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** Python's `repr()` of a string. */
export function pyRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === quote || ch === '\\') out += '\\' + ch;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (cp < 0x20 || cp === 0x7f) out += '\\x' + hex(cp, 2);
    else if (cp < 0x7f || ch === ' ' || !NOT_PRINTABLE.test(ch)) out += ch;
    else if (cp < 0x100) out += '\\x' + hex(cp, 2);
    else if (cp < 0x10000) out += '\\u' + hex(cp, 4);
    else out += '\\U' + hex(cp, 8);
  }
  return out + quote;
}

/** The Python exception classes whose messages the AWS CLI lets through as they are. */
export type PythonErrorType = 'ValueError' | 'TypeError' | 'AttributeError' | 'IndexError';

/**
 * An error the AWS CLI does not wrap: Python raised it (`int('x')`, `'list'.lower()`…) and the CLI
 * prints its message alone and exits 255.
 */
export class PythonError extends Error {
  override readonly name = 'PythonError';
  constructor(
    /** The Python exception class. */
    readonly pythonType: PythonErrorType,
    message: string,
  ) {
    super(message);
  }
}

/** Python's type name for a JSON-like value, as its error messages print it. */
export function pyTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (Array.isArray(value)) return 'list';
  if (value instanceof Uint8Array) return 'bytes';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  return 'dict';
}

const INT_RE = /^[+-]?[0-9](?:_?[0-9])*$/;
const FLOAT_RE =
  /^[+-]?(?:[0-9](?:_?[0-9])*(?:\.(?:[0-9](?:_?[0-9])*)?)?|\.[0-9](?:_?[0-9])*)(?:[eE][+-]?[0-9](?:_?[0-9])*)?$/;
const FLOAT_WORD_RE = /^([+-]?)(inf|infinity|nan)$/i;

function asText(value: unknown, fn: 'int' | 'float'): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('latin1');
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? '1' : '0';
  const accepted =
    fn === 'int' ? 'a string, a bytes-like object or a real number' : 'a string or a real number';
  throw new PythonError('TypeError', `${fn}() argument must be ${accepted}, not '${pyTypeName(value)}'`);
}

/**
 * Python's `int(value)` for what a shorthand or JSON value can be.
 * @throws PythonError with Python's ValueError/TypeError message.
 */
export function pyInt(value: unknown): number {
  if (typeof value === 'number') return Math.trunc(value);
  const text = asText(value, 'int');
  const s = pyStrip(text);
  if (!INT_RE.test(s)) {
    const shown = value instanceof Uint8Array ? `b${pyRepr(text)}` : pyRepr(text);
    throw new PythonError('ValueError', `invalid literal for int() with base 10: ${shown}`);
  }
  const n = Number(s.replaceAll('_', ''));
  return n === 0 ? 0 : n;
}

/**
 * Python's `float(value)`.
 * @throws PythonError with Python's ValueError/TypeError message.
 */
export function pyFloat(value: unknown): number {
  if (typeof value === 'number') return value;
  const text = asText(value, 'float');
  const s = pyStrip(text);
  const word = FLOAT_WORD_RE.exec(s);
  if (word) {
    if (word[2]!.toLowerCase() === 'nan') return NaN;
    return word[1] === '-' ? -Infinity : Infinity;
  }
  if (!FLOAT_RE.test(s)) {
    throw new PythonError('ValueError', `could not convert string to float: ${pyRepr(text)}`);
  }
  return Number(s.replaceAll('_', ''));
}

/**
 * Python's `repr(float)`: the shortest round-tripping digits (as JavaScript finds them), laid out
 * with Python's rule — scientific notation below 1e-4 and from 1e16 up, `e-05`-style exponents.
 */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa = '', expText = '0'] = x.toExponential().split('e');
  const exp = Number(expText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  let body: string;
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    body = `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  } else if (exp < 0) {
    body = `0.${'0'.repeat(-exp - 1)}${digits}`;
  } else if (digits.length <= exp + 1) {
    body = `${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
  } else {
    body = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  }
  return negative ? `-${body}` : body;
}

/**
 * Python's `str()` of a JSON-like scalar as the CLI's text and table output print it. Whole numbers
 * print as Python ints: a parsed response cannot tell `1.0` from `1` once in JavaScript.
 */
export function pyStr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') {
    return Number.isInteger(value) && Math.abs(value) < 1e21 ? BigInt(value).toString() : pyFloatRepr(value);
  }
  if (typeof value === 'string') return value;
  return String(value);
}

/** Python's `repr` of a JSON-like value, which is what `str()` of a dict or list prints. */
export function pyReprValue(v: unknown): string {
  if (typeof v === 'string') {
    const quote = v.includes("'") && !v.includes('"') ? '"' : "'";
    const body = Array.from(v)
      .map((c) => {
        if (c === quote || c === '\\') return '\\' + c;
        if (c === '\n') return '\\n';
        if (c === '\t') return '\\t';
        if (c === '\r') return '\\r';
        const cp = c.codePointAt(0)!;
        return cp < 0x20 || cp === 0x7f ? '\\x' + cp.toString(16).padStart(2, '0') : c;
      })
      .join('');
    return quote + body + quote;
  }
  if (Array.isArray(v)) return `[${v.map(pyReprValue).join(', ')}]`;
  if (typeof v === 'object' && v !== null) {
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${pyReprValue(k)}: ${pyReprValue(x)}`)
      .join(', ')}}`;
  }
  return pyStr(v);
}

/** Orders strings by code point, as Python's `sorted` does. */
export function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}
