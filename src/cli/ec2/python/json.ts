/**
 * @module cli/ec2/python/json — JSON as the AWS CLI's Python reads and writes it: `json.loads` with the
 * C scanner's grammar (NaN/Infinity accepted, control characters refused) and its exact error
 * messages (`Expecting ',' delimiter: line 1 column 22 (char 21)`), and `json.dumps(indent=4,
 * ensure_ascii=False)` with Python's number layout.
 * Port of CPython 3.11's `Lib/json/decoder.py` with `Modules/_json.c`'s scanner (`json.loads`) and
 * `Lib/json/encoder.py` (`json.dumps`), as awscli 1.45.11's `awscli/utils.py` (`json_encoder`) and
 * `awscli/formatter.py` call them.
 */
import { codePointLength, pyFloatRepr } from './builtins.js';

/** Python's `json.JSONDecodeError`; `message` is `str(e)`. */
export class JsonDecodeError extends Error {
  override readonly name = 'JsonDecodeError';
  constructor(
    /** The message without its position, e.g. `Expecting value`. */
    readonly msg: string,
    /** The position, in code points as Python counts. */
    readonly pos: number,
    readonly lineno: number,
    readonly colno: number,
  ) {
    super(`${msg}: line ${lineno} column ${colno} (char ${pos})`);
  }
}

/** A JSON value as the CLI's parser produces it (objects keep key order). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Sets `obj[key]` as an own property, even for `__proto__`. */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

class StopIteration {
  constructor(readonly index: number) {}
}

const WS = new Set([' ', '\t', '\n', '\r']);
const ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};
const NUMBER_RE = /(-?(?:0|[1-9][0-9]*))(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;
const HEX4_RE = /^[0-9a-fA-F]{4}$/;

class Scanner {
  constructor(private readonly s: string) {}

  error(msg: string, jsIndex: number): JsonDecodeError {
    const before = this.s.slice(0, jsIndex);
    const pos = codePointLength(before);
    const lineno = before.split('\n').length;
    const lastNl = before.lastIndexOf('\n');
    const colno = lastNl < 0 ? pos + 1 : codePointLength(this.s.slice(lastNl + 1, jsIndex)) + 1;
    return new JsonDecodeError(msg, pos, lineno, colno);
  }

  skipWs(i: number): number {
    while (i < this.s.length && WS.has(this.s[i]!)) i++;
    return i;
  }

  /** Python's scan_once: the value at `i` and the index after it. */
  scan(i: number): [JsonValue, number] {
    const s = this.s;
    if (i >= s.length) throw new StopIteration(i);
    const c = s[i];
    if (c === '"') return this.string(i + 1);
    if (c === '{') return this.object(i + 1);
    if (c === '[') return this.array(i + 1);
    if (c === 'n' && s.startsWith('null', i)) return [null, i + 4];
    if (c === 't' && s.startsWith('true', i)) return [true, i + 4];
    if (c === 'f' && s.startsWith('false', i)) return [false, i + 5];
    if (c === 'N' && s.startsWith('NaN', i)) return [NaN, i + 3];
    if (c === 'I' && s.startsWith('Infinity', i)) return [Infinity, i + 8];
    if (c === '-' && s.startsWith('-Infinity', i)) return [-Infinity, i + 9];
    NUMBER_RE.lastIndex = i;
    const m = NUMBER_RE.exec(s);
    if (!m) throw new StopIteration(i);
    const isFloat = m[2] !== undefined || m[3] !== undefined;
    const n = Number(m[0]);
    return [isFloat || n !== 0 ? n : 0, i + m[0].length];
  }

  string(end: number): [string, number] {
    const s = this.s;
    const begin = end - 1;
    let out = '';
    for (;;) {
      let next = end;
      let c = '';
      for (; next < s.length; next++) {
        c = s[next]!;
        if (c === '"' || c === '\\') break;
        if (c.charCodeAt(0) <= 0x1f) throw this.error('Invalid control character at', next);
      }
      if (next >= s.length) throw this.error('Unterminated string starting at', begin);
      out += s.slice(end, next);
      if (c === '"') return [out, next + 1];
      next++;
      if (next >= s.length) throw this.error('Unterminated string starting at', begin);
      const e = s[next]!;
      if (e !== 'u') {
        const esc = ESCAPES[e];
        if (esc === undefined) throw this.error('Invalid \\escape', next - 1);
        out += esc;
        end = next + 1;
        continue;
      }
      next++;
      end = next + 4;
      const hex = s.slice(next, end);
      if (end >= s.length || !HEX4_RE.test(hex)) throw this.error('Invalid \\uXXXX escape', next - 1);
      let code = parseInt(hex, 16);
      if (code >= 0xd800 && code <= 0xdbff && end + 6 < s.length && s[end] === '\\' && s[end + 1] === 'u') {
        const hex2 = s.slice(end + 2, end + 6);
        if (!HEX4_RE.test(hex2)) throw this.error('Invalid \\uXXXX escape', end + 1);
        const low = parseInt(hex2, 16);
        if (low >= 0xdc00 && low <= 0xdfff) {
          code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
          end += 6;
        }
      }
      out += String.fromCodePoint(code);
    }
  }

  object(i: number): [JsonValue, number] {
    const s = this.s;
    const obj: Record<string, JsonValue> = {};
    i = this.skipWs(i);
    if (i >= s.length || s[i] !== '}') {
      for (;;) {
        if (i >= s.length || s[i] !== '"') {
          throw this.error('Expecting property name enclosed in double quotes', i);
        }
        const [key, afterKey] = this.string(i + 1);
        i = this.skipWs(afterKey);
        if (i >= s.length || s[i] !== ':') throw this.error("Expecting ':' delimiter", i);
        i = this.skipWs(i + 1);
        const [value, afterValue] = this.scan(i);
        setOwn(obj, key, value);
        i = this.skipWs(afterValue);
        if (i < s.length && s[i] === '}') break;
        if (i >= s.length || s[i] !== ',') throw this.error("Expecting ',' delimiter", i);
        i = this.skipWs(i + 1);
      }
    }
    return [obj, i + 1];
  }

  array(i: number): [JsonValue, number] {
    const s = this.s;
    const list: JsonValue[] = [];
    i = this.skipWs(i);
    if (i >= s.length || s[i] !== ']') {
      for (;;) {
        const [value, after] = this.scan(i);
        list.push(value);
        i = this.skipWs(after);
        if (i < s.length && s[i] === ']') break;
        if (i >= s.length || s[i] !== ',') throw this.error("Expecting ',' delimiter", i);
        i = this.skipWs(i + 1);
      }
    }
    return [list, i + 1];
  }
}

/**
 * Python's `json.loads(text)` (the AWS CLI passes `object_pairs_hook=OrderedDict`, which keeps key
 * order as JavaScript objects do, bar integer-like keys).
 * @throws JsonDecodeError with Python's message.
 */
export function pyJsonLoads(text: string): JsonValue {
  const scanner = new Scanner(text);
  if (text.startsWith('\ufeff')) throw scanner.error('Unexpected UTF-8 BOM (decode using utf-8-sig)', 0);
  let value: JsonValue;
  let end: number;
  try {
    [value, end] = scanner.scan(scanner.skipWs(0));
  } catch (err) {
    if (err instanceof StopIteration) throw scanner.error('Expecting value', err.index);
    throw err;
  }
  end = scanner.skipWs(end);
  if (end !== text.length) throw scanner.error('Extra data', end);
  return value;
}

/** Options for {@link pyJsonDumps}. */
export interface PyJsonDumpsOptions {
  /** Spaces per level; none gives Python's compact-with-spaces `, ` / `: ` single line. */
  readonly indent?: number;
}

function dumpNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  // A parsed response cannot tell 1.0 from 1 in JavaScript; botocore's integers are the common case.
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return BigInt(n).toString();
  return pyFloatRepr(n);
}

/**
 * Python's `json.dumps(value, indent=…, ensure_ascii=False)`: key order as given, strings with
 * non-ASCII characters kept, control characters as `\u00XX`.
 */
export function pyJsonDumps(value: unknown, opts: PyJsonDumpsOptions = {}): string {
  const indent = opts.indent;
  const walk = (v: unknown, level: number): string => {
    if (v === null || v === undefined) return 'null';
    if (v === true) return 'true';
    if (v === false) return 'false';
    if (typeof v === 'number') return dumpNumber(v);
    if (typeof v === 'string') return JSON.stringify(v);
    const items: string[] = Array.isArray(v)
      ? v.map((x) => walk(x, level + 1))
      : Object.entries(v as Record<string, unknown>).map(
          ([k, x]) => `${JSON.stringify(k)}: ${walk(x, level + 1)}`,
        );
    const [open, close] = Array.isArray(v) ? ['[', ']'] : ['{', '}'];
    if (items.length === 0) return open + close;
    if (indent === undefined) return open + items.join(', ') + close;
    const pad = '\n' + ' '.repeat(indent * (level + 1));
    return open + pad + items.join(',' + pad) + '\n' + ' '.repeat(indent * level) + close;
  };
  return walk(value, 0);
}
