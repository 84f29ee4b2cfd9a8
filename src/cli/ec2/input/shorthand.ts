/**
 * @module cli/ec2/input/shorthand — the AWS CLI's shorthand syntax (`Key=value,List=[a,b],Map={k=v}`),
 * parsed by the same grammar as awscli's ShorthandParser: which characters end a plain value, the
 * implicit `a=b,c` list and its backtracking before the next `key=`, quoting and its escapes,
 * whitespace, `key@=file://…`, and errors that draw a caret under the character that is wrong.
 * {@link renderShorthand} goes the other way, for tests and skeletons.
 * Port of awscli 1.45.11's `awscli/shorthand.py` (`ShorthandParser` and its errors).
 */
import { getParamfile } from './paramfile.js';
import type { ParamfileContent, ParamfileOptions } from './paramfile.js';
import { PY_WHITESPACE_CLASS, codePointLength, pyRstrip, setOwn } from '../python/index.js';

/** A parsed shorthand value: strings (bytes for `@=fileb://`), lists and key/value maps. */
export type ShorthandValue = string | Uint8Array | ShorthandValue[] | ShorthandObject;

/** A parsed `key=value,…` map. Keys keep their order (bar integer-like keys, as in any JS object). */
export interface ShorthandObject {
  [key: string]: ShorthandValue;
}

/** Options of {@link parseShorthand}. */
export interface ParseShorthandOptions {
  /** How `key@=file://…` values are read. */
  readonly paramfile?: ParamfileOptions;
}

/**
 * A shorthand value the grammar rejects. `message` is awscli's text (without the
 * `Error parsing parameter '--x': ` prefix the CLI adds), ending in the input and a caret.
 */
export class ShorthandParseError extends Error {
  override readonly name: string = 'ShorthandParseError';
  constructor(
    message: string,
    /** The whole input. */
    readonly input: string,
    /** Where the error is, in code points as Python counts. */
    readonly index: number,
  ) {
    super(message);
  }
}

/** The grammar expected one thing and found another (`received: 'EOF'` at the end). */
export class ShorthandParseSyntaxError extends ShorthandParseError {
  override readonly name = 'ShorthandParseSyntaxError';
  constructor(
    input: string,
    jsIndex: number,
    /** What was expected: a character, or `<second>`-style names of value patterns. */
    readonly expected: string,
    /** What was found: a character, `EOF`, or `<none>`. */
    readonly actual: string,
  ) {
    super(
      `Expected: '${expected}', received: '${actual}' for input:\n${errorLocation(input, jsIndex)}`,
      input,
      codePointLength(input.slice(0, jsIndex)),
    );
  }
}

/** A top-level key given twice, usually a `,` typed where a space separates two structures. */
export class DuplicateKeyInObjectError extends ShorthandParseError {
  override readonly name = 'DuplicateKeyInObjectError';
  constructor(
    input: string,
    jsIndex: number,
    readonly key: string,
  ) {
    super(
      `Second instance of key "${key}" encountered for input:\n${errorLocation(input, jsIndex)}\n` +
        'This is often because there is a preceding "," instead of a space.',
      input,
      codePointLength(input.slice(0, jsIndex)),
    );
  }
}

/** The input with a caret line under `jsIndex`, inserted after the line that holds it. */
function errorLocation(value: string, jsIndex: number): string {
  let consumed = value;
  let remaining = '';
  const before = value.slice(0, jsIndex);
  const lastNewline = before.lastIndexOf('\n');
  const numSpaces = codePointLength(lastNewline < 0 ? before : value.slice(lastNewline + 1, jsIndex));
  const nextNewline = value.indexOf('\n', jsIndex);
  if (nextNewline >= 0) {
    consumed = value.slice(0, nextNewline);
    remaining = value.slice(nextNewline);
  }
  return `${consumed}\n${' '.repeat(numSpaces)}^${remaining}`;
}

// The character classes of awscli's grammar, as code point ranges (astral characters are outside
// them, as in Python's `\u007c-\uffff`).
const START_WORD = '\\x21\\x23-\\x26\\x28-\\x2b\\x2d-\\x3c\\x3e-\\x5a\\x5c-\\x7a\\x7c-\\uffff';
const FIRST_FOLLOW = `${PY_WHITESPACE_CLASS}\\x21\\x23-\\x26\\x28-\\x2b\\x2d-\\x5c\\x5e-\\x7c\\x7e-\\uffff`;
const SECOND_FOLLOW = `${PY_WHITESPACE_CLASS}\\x21\\x23-\\x26\\x28-\\x2b\\x2d-\\x3c\\x3e-\\uffff`;

interface NamedRegex {
  readonly name: string;
  readonly re: RegExp;
}
const FIRST_VALUE: NamedRegex = {
  name: 'first',
  re: new RegExp(`(?:\\\\,|[${START_WORD}])(?:\\\\,|[${FIRST_FOLLOW}])*`, 'uy'),
};
const SECOND_VALUE: NamedRegex = {
  name: 'second',
  re: new RegExp(`(?:\\\\,|[${START_WORD}])(?:\\\\,|[${SECOND_FOLLOW}])*`, 'uy'),
};
const SINGLE_QUOTED: NamedRegex = { name: 'singled quoted', re: /'(?:\\'|[^'])*'/uy };
const DOUBLE_QUOTED: NamedRegex = { name: 'double quoted', re: /"(?:\\"|[^"])*"/uy };

const KEY_CHARS = /[A-Za-z0-9\-_.#/:]/;
const INPUT_WHITESPACE = new Set([' ', '\t', '\n', '\r', '\x0b', '\x0c']);

class Parser {
  private i = 0;
  private resolveParamfiles = false;

  constructor(
    private readonly input: string,
    private readonly opts: ParseShorthandOptions,
  ) {}

  parse(): ShorthandObject {
    const params: ShorthandObject = {};
    const [firstKey, firstValue] = this.keyval();
    setOwn(params, firstKey, firstValue);
    let lastIndex = this.i;
    while (this.i < this.input.length) {
      this.expect(',', true);
      const [key, value] = this.keyval();
      if (Object.hasOwn(params, key)) throw new DuplicateKeyInObjectError(this.input, lastIndex + 1, key);
      setOwn(params, key, value);
      lastIndex = this.i;
    }
    return params;
  }

  private keyval(): [string, ShorthandValue] {
    const key = this.key();
    this.atEquals();
    return [key, this.values()];
  }

  /** `=` or `@=` after a key; `@=` makes file:// values load. */
  private atEquals(): void {
    this.resolveParamfiles = false;
    try {
      this.expect('@', true);
      this.resolveParamfiles = true;
    } catch (err) {
      if (!(err instanceof ShorthandParseSyntaxError)) throw err;
    }
    this.expect('=', true);
  }

  private key(): string {
    const start = this.i;
    while (this.i < this.input.length && KEY_CHARS.test(this.input[this.i]!)) this.i++;
    return this.input.slice(start, this.i);
  }

  private values(): ShorthandValue {
    if (this.atEof()) return '';
    const c = this.current();
    if (c === '[') return this.explicitList();
    if (c === '{') return this.hashLiteral();
    return this.csvValue();
  }

  private csvValue(): ShorthandValue {
    const first = this.firstValue();
    this.consumeWhitespace();
    if (this.atEof() || this.input[this.i] !== ',') return first;
    this.expect(',', true);
    const list: ShorthandValue[] = [first];
    for (;;) {
      try {
        const current = this.secondValue();
        this.consumeWhitespace();
        if (this.atEof()) {
          list.push(current);
          break;
        }
        this.expect(',', true);
        list.push(current);
      } catch (err) {
        // What followed the comma was the next `key=`, not another list item: give the comma back.
        if (!(err instanceof ShorthandParseSyntaxError) || this.atEof()) throw err;
        this.backtrackTo(',');
        break;
      }
    }
    return list.length === 1 ? first : list;
  }

  private plainValue(): ShorthandValue {
    FIRST_VALUE.re.lastIndex = this.i;
    const m = FIRST_VALUE.re.exec(this.input);
    if (!m) return '';
    this.i += m[0].length;
    return this.maybeParamfile(pyRstrip(m[0].replaceAll('\\,', ',')));
  }

  private explicitList(): ShorthandValue[] {
    this.expect('[', true);
    const values: ShorthandValue[] = [];
    while (this.current() !== ']') {
      values.push(this.explicitValues());
      this.consumeWhitespace();
      if (this.current() !== ']') {
        this.expect(',');
        this.consumeWhitespace();
      }
    }
    this.expect(']');
    return values;
  }

  private explicitValues(): ShorthandValue {
    const c = this.current();
    if (c === '[') return this.explicitList();
    if (c === '{') return this.hashLiteral();
    return this.firstValue();
  }

  private hashLiteral(): ShorthandObject {
    this.expect('{', true);
    const keyvals: ShorthandObject = {};
    while (this.current() !== '}') {
      const key = this.key();
      this.atEquals();
      const value = this.explicitValues();
      this.consumeWhitespace();
      if (this.current() !== '}') {
        this.expect(',');
        this.consumeWhitespace();
      }
      setOwn(keyvals, key, value);
    }
    this.expect('}');
    return keyvals;
  }

  private firstValue(): ShorthandValue {
    const c = this.current();
    if (c === "'") return this.maybeParamfile(this.consumeQuoted(SINGLE_QUOTED, "'"));
    if (c === '"') return this.maybeParamfile(this.consumeQuoted(DOUBLE_QUOTED, '"'));
    return this.plainValue();
  }

  private secondValue(): ShorthandValue {
    const c = this.current();
    if (c === "'") return this.maybeParamfile(this.consumeQuoted(SINGLE_QUOTED, "'"));
    if (c === '"') return this.maybeParamfile(this.consumeQuoted(DOUBLE_QUOTED, '"'));
    const consumed = this.mustConsume(SECOND_VALUE);
    return this.maybeParamfile(pyRstrip(consumed.replaceAll('\\,', ',')));
  }

  private consumeQuoted(regex: NamedRegex, quote: string): string {
    return this.mustConsume(regex).slice(1, -1).replaceAll(`\\${quote}`, quote).replaceAll('\\\\', '\\');
  }

  private maybeParamfile(value: string): ShorthandValue {
    if (!this.resolveParamfiles) return value;
    const content: ParamfileContent | undefined = getParamfile(value, this.opts.paramfile);
    return content ?? value;
  }

  private expect(char: string, consumeWhitespace = false): void {
    if (consumeWhitespace) this.consumeWhitespace();
    if (this.i >= this.input.length) {
      throw new ShorthandParseSyntaxError(this.input, this.i, char, 'EOF');
    }
    const actual = String.fromCodePoint(this.input.codePointAt(this.i)!);
    if (actual !== char) throw new ShorthandParseSyntaxError(this.input, this.i, char, actual);
    this.i++;
    if (consumeWhitespace) this.consumeWhitespace();
  }

  private mustConsume(regex: NamedRegex): string {
    regex.re.lastIndex = this.i;
    const m = regex.re.exec(this.input);
    if (!m) throw new ShorthandParseSyntaxError(this.input, this.i, `<${regex.name}>`, '<none>');
    this.i += m[0].length;
    return m[0];
  }

  private current(): string | undefined {
    return this.input[this.i];
  }

  private atEof(): boolean {
    return this.i >= this.input.length;
  }

  private backtrackTo(char: string): void {
    while (this.i >= 0 && this.input[this.i] !== char) this.i--;
  }

  private consumeWhitespace(): void {
    while (this.i < this.input.length && INPUT_WHITESPACE.has(this.input[this.i]!)) this.i++;
  }
}

/**
 * Parses one shorthand value (one argv item) the way awscli's ShorthandParser does, without any
 * model: every scalar is a string (or bytes, for `key@=fileb://…`).
 * @throws ShorthandParseError (a {@link ShorthandParseSyntaxError} or {@link DuplicateKeyInObjectError}).
 * @throws ResourceLoadingError when a `key@=file://…` file cannot be read.
 */
export function parseShorthand(input: string, opts: ParseShorthandOptions = {}): ShorthandObject {
  return new Parser(input, opts).parse();
}

const PLAIN_SAFE = /^[A-Za-z0-9._:/@+*%#-](?:[A-Za-z0-9._:/@+*%# -]*[A-Za-z0-9._:/@+*%#-])?$/;
const KEY_SAFE = /^[A-Za-z0-9\-_.#/:]+$/;

function renderString(s: string): string {
  if (PLAIN_SAFE.test(s)) return s;
  if (s.endsWith('\\')) {
    // Any quoting of a trailing backslash reads as an escaped closing quote when a later quote follows.
    throw new Error(`renderShorthand: cannot write a string ending in a backslash: ${JSON.stringify(s)}`);
  }
  return `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

function renderKey(key: string): string {
  if (!KEY_SAFE.test(key)) throw new Error(`renderShorthand: not a shorthand key: ${JSON.stringify(key)}`);
  return key;
}

function renderNested(value: ShorthandValue): string {
  if (typeof value === 'string') return renderString(value);
  if (value instanceof Uint8Array) throw new Error('renderShorthand: bytes have no shorthand form');
  if (Array.isArray(value)) return `[${value.map(renderNested).join(',')}]`;
  return `{${Object.entries(value)
    .map(([k, v]) => `${renderKey(k)}=${renderNested(v)}`)
    .join(',')}}`;
}

/**
 * Writes `value` (a non-empty map) as shorthand that {@link parseShorthand} reads back to the same
 * structure: plain words where the grammar allows, double quotes otherwise, explicit `[…]` lists.
 * @throws Error for what shorthand cannot express: an empty top-level map, keys outside
 *   `[A-Za-z0-9-_.#/:]`, bytes, strings ending in a backslash.
 */
export function renderShorthand(value: ShorthandObject): string {
  const entries = Object.entries(value);
  if (entries.length === 0) throw new Error('renderShorthand: shorthand needs at least one key');
  return entries.map(([k, v]) => `${renderKey(k)}=${renderNested(v)}`).join(',');
}
