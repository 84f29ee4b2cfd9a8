/**
 * @module cli/ec2/python/yaml — YAML exactly as AWS CLI v2 prints it. The CLI dumps with ruamel.yaml
 * `YAML(typ='safe')`, `default_flow_style = False`, which (with ruamel.yaml.clib, as the v2
 * installers ship it) is ruamel's safe representer and YAML 1.2 resolver in front of libyaml's C
 * emitter. So: mapping keys sorted, block style with indentless sequences under keys, `[]`/`{}` for
 * empty collections, strings quoted only when they would read back as something else (or the
 * emitter cannot write them plain), long lines folded at spaces past column 80, and characters
 * outside libyaml's printable set — tabs, and astral characters such as emoji — escaped in double
 * quotes. The `yaml` package makes different choices on all of these, hence this emitter.
 * Port of ruamel.yaml 0.17's `representer.py` (`SafeRepresenter`) and `resolver.py`
 * (`VersionedResolver`, YAML 1.2) and of libyaml 0.2's `src/emitter.c`, as AWS CLI v2's YAML output
 * formatter (`awscli/formatter.py`, `YAMLFormatter`) drives them; test/tools/awscli_format.py
 * checks it against the ruamel.yaml it can import (Debian 12: python3-ruamel.yaml 0.17.21 with
 * python3-ruamel.yaml.clib 0.2.7).
 */
import { compareCodePoints, pyFloatRepr } from './builtins.js';

type Tag = 'str' | 'int' | 'float' | 'bool' | 'null';

type Node =
  | { readonly kind: 'scalar'; readonly tag: Tag; readonly value: string }
  | { readonly kind: 'seq'; readonly items: readonly Node[] }
  | { readonly kind: 'map'; readonly pairs: readonly (readonly [Node, Node])[] };

function representFloat(n: number): string {
  if (Number.isNaN(n)) return '.nan';
  if (n === Infinity) return '.inf';
  if (n === -Infinity) return '-.inf';
  return pyFloatRepr(n).toLowerCase();
}

/** ruamel's SafeRepresenter for JSON-like data. */
function represent(value: unknown): Node {
  if (value === null || value === undefined) return { kind: 'scalar', tag: 'null', value: 'null' };
  if (typeof value === 'boolean') return { kind: 'scalar', tag: 'bool', value: value ? 'true' : 'false' };
  if (typeof value === 'number') {
    // A parsed response cannot tell 1.0 from 1 in JavaScript; whole numbers are ints here.
    if (Number.isInteger(value) && Math.abs(value) < 1e21) {
      return { kind: 'scalar', tag: 'int', value: BigInt(value).toString() };
    }
    return { kind: 'scalar', tag: 'float', value: representFloat(value) };
  }
  if (typeof value === 'string') return { kind: 'scalar', tag: 'str', value };
  if (Array.isArray(value)) return { kind: 'seq', items: value.map(represent) };
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  entries.sort(([a], [b]) => compareCodePoints(a, b));
  return {
    kind: 'map',
    pairs: entries.map(([k, v]) => [{ kind: 'scalar', tag: 'str', value: k }, represent(v)] as const),
  };
}

// ruamel.yaml's YAML 1.2 implicit resolvers, keyed by the first character as ruamel dispatches.
const RESOLVERS: readonly (readonly [Tag | 'merge' | 'timestamp' | 'value' | 'yaml', RegExp, string])[] = [
  ['bool', /^(?:true|True|TRUE|false|False|FALSE)$/, 'tTfF'],
  [
    'float',
    /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)|[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
    '-+0123456789.',
  ],
  ['int', /^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$/, '-+0123456789'],
  ['merge', /^(?:<<)$/, '<'],
  ['null', /^(?:~|null|Null|NULL|)$/, '~nN'],
  [
    'timestamp',
    /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/,
    '0123456789',
  ],
  ['value', /^(?:=)$/, '='],
  ['yaml', /^(?:!|&|\*)$/, '!&*'],
];

/** The tag a plain scalar would resolve to (Python's `re.match` `$` also matches before a final newline). */
function resolvePlain(value: string): string {
  const first = value === '' ? '' : value[0]!;
  for (const [tag, re, firsts] of RESOLVERS) {
    const applies = value === '' ? tag === 'null' : firsts.includes(first);
    if (!applies) continue;
    if (re.test(value) || (value.endsWith('\n') && re.test(value.slice(0, -1)))) return tag;
  }
  return 'str';
}

const isBreak = (c: string): boolean =>
  c === '\n' || c === '\r' || c === '\u0085' || c === '\u2028' || c === '\u2029';
const isBlankz = (c: string | undefined): boolean =>
  c === undefined || c === ' ' || c === '\t' || c === '\0' || isBreak(c);

/** libyaml's IS_PRINTABLE, which leaves out tabs, C1 controls, U+FEFF and everything astral. */
function isPrintable(c: string): boolean {
  const cp = c.codePointAt(0)!;
  return (
    cp === 0x0a ||
    (cp >= 0x20 && cp <= 0x7e) ||
    (cp >= 0xa0 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd && cp !== 0xfeff)
  );
}

interface ScalarAnalysis {
  readonly multiline: boolean;
  readonly flowPlainAllowed: boolean;
  readonly blockPlainAllowed: boolean;
  readonly singleQuotedAllowed: boolean;
}

/** libyaml's yaml_emitter_analyze_scalar (with unicode output on). */
function analyzeScalar(value: string): ScalarAnalysis {
  if (value === '') {
    return { multiline: false, flowPlainAllowed: false, blockPlainAllowed: true, singleQuotedAllowed: true };
  }
  const chars = Array.from(value);
  let blockIndicators = value.startsWith('---') || value.startsWith('...');
  let flowIndicators = blockIndicators;
  let lineBreaks = false;
  let special = false;
  let leadingSpace = false;
  let leadingBreak = false;
  let trailingSpace = false;
  let trailingBreak = false;
  let breakSpace = false;
  let spaceBreak = false;
  let precededByWhitespace = true;
  let followedByWhitespace = isBlankz(chars[1]);
  let previousSpace = false;
  let previousBreak = false;
  chars.forEach((c, i) => {
    const first = i === 0;
    const last = i === chars.length - 1;
    if (first) {
      if ('#,[]{}&*!|>\'"%@`'.includes(c)) {
        flowIndicators = true;
        blockIndicators = true;
      }
      if (c === '?' || c === ':') {
        flowIndicators = true;
        if (followedByWhitespace) blockIndicators = true;
      }
      if (c === '-' && followedByWhitespace) {
        flowIndicators = true;
        blockIndicators = true;
      }
    } else {
      if (',?[]{}'.includes(c)) flowIndicators = true;
      if (c === ':') {
        flowIndicators = true;
        if (followedByWhitespace) blockIndicators = true;
      }
      if (c === '#' && precededByWhitespace) {
        flowIndicators = true;
        blockIndicators = true;
      }
    }
    if (!isPrintable(c)) special = true;
    if (isBreak(c)) lineBreaks = true;
    if (c === ' ') {
      if (first) leadingSpace = true;
      if (last) trailingSpace = true;
      if (previousBreak) breakSpace = true;
      previousSpace = true;
      previousBreak = false;
    } else if (isBreak(c)) {
      if (first) leadingBreak = true;
      if (last) trailingBreak = true;
      if (previousSpace) spaceBreak = true;
      previousSpace = false;
      previousBreak = true;
    } else {
      previousSpace = false;
      previousBreak = false;
    }
    precededByWhitespace = isBlankz(c);
    if (!last) followedByWhitespace = isBlankz(chars[i + 2]);
  });
  let flowPlain = true;
  let blockPlain = true;
  let single = true;
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) flowPlain = blockPlain = false;
  if (breakSpace) flowPlain = blockPlain = single = false;
  if (spaceBreak || special) flowPlain = blockPlain = single = false;
  if (lineBreaks) flowPlain = blockPlain = false;
  if (flowIndicators) flowPlain = false;
  if (blockIndicators) blockPlain = false;
  return {
    multiline: lineBreaks,
    flowPlainAllowed: flowPlain,
    blockPlainAllowed: blockPlain,
    singleQuotedAllowed: single,
  };
}

const SHORT_ESCAPES: Readonly<Record<number, string>> = {
  0x00: '0',
  0x07: 'a',
  0x08: 'b',
  0x09: 't',
  0x0a: 'n',
  0x0b: 'v',
  0x0c: 'f',
  0x0d: 'r',
  0x1b: 'e',
  0x22: '"',
  0x5c: '\\',
  0x85: 'N',
  0xa0: '_',
  0x2028: 'L',
  0x2029: 'P',
};

const BEST_INDENT = 2;
const BEST_WIDTH = 80;

/** libyaml's emitter, for block collections of scalars (what the CLI's dumper produces). */
class Emitter {
  private readonly out: string[] = [];
  private column = 0;
  private indent = -1;
  private readonly indents: number[] = [];
  private whitespace = true;
  private indention = true;
  private flowLevel = 0;
  private simpleKeyContext = false;
  private mappingContext = false;

  document(root: Node): string {
    this.node(root, false, false);
    this.writeIndent();
    return this.out.join('');
  }

  private node(node: Node, mapping: boolean, simpleKey: boolean): void {
    this.mappingContext = mapping;
    this.simpleKeyContext = simpleKey;
    if (node.kind === 'scalar') this.scalar(node);
    else if (node.kind === 'seq') this.sequence(node);
    else this.mapping(node);
  }

  private scalar(node: Extract<Node, { kind: 'scalar' }>): void {
    const a = analyzeScalar(node.value);
    const plainImplicit = resolvePlain(node.value) === node.tag;
    let style: 'plain' | 'single' | 'double' = 'plain';
    if (this.simpleKeyContext && a.multiline) style = 'double';
    if (style === 'plain') {
      if ((this.flowLevel > 0 && !a.flowPlainAllowed) || (this.flowLevel === 0 && !a.blockPlainAllowed)) {
        style = 'single';
      }
      if (node.value === '' && (this.flowLevel > 0 || this.simpleKeyContext)) style = 'single';
      if (!plainImplicit) style = 'single';
    }
    if (style === 'single' && !a.singleQuotedAllowed) style = 'double';
    this.increaseIndent(true, false);
    const allowBreaks = !this.simpleKeyContext;
    if (style === 'plain') this.writePlain(node.value, allowBreaks);
    else if (style === 'single') this.writeSingleQuoted(node.value, allowBreaks);
    else this.writeDoubleQuoted(node.value, allowBreaks);
    this.indent = this.indents.pop()!;
  }

  private sequence(node: Extract<Node, { kind: 'seq' }>): void {
    if (this.flowLevel > 0 || node.items.length === 0) {
      this.writeIndicator('[', true, true, false);
      this.increaseIndent(true, false);
      this.indent = this.indents.pop()!;
      this.writeIndicator(']', false, false, false);
      return;
    }
    this.increaseIndent(false, this.mappingContext && !this.indention);
    for (const item of node.items) {
      this.writeIndent();
      this.writeIndicator('-', true, false, true);
      this.node(item, false, false);
    }
    this.indent = this.indents.pop()!;
  }

  private mapping(node: Extract<Node, { kind: 'map' }>): void {
    if (this.flowLevel > 0 || node.pairs.length === 0) {
      this.writeIndicator('{', true, true, false);
      this.increaseIndent(true, false);
      this.indent = this.indents.pop()!;
      this.writeIndicator('}', false, false, false);
      return;
    }
    this.increaseIndent(false, false);
    for (const [key, value] of node.pairs) {
      this.writeIndent();
      if (this.isSimpleKey(key)) {
        this.node(key, true, true);
        this.writeIndicator(':', false, false, false);
      } else {
        this.writeIndicator('?', true, false, true);
        this.node(key, true, false);
        this.writeIndent();
        this.writeIndicator(':', true, false, true);
      }
      this.node(value, true, false);
    }
    this.indent = this.indents.pop()!;
  }

  private isSimpleKey(key: Node): boolean {
    if (key.kind !== 'scalar') return false;
    if (analyzeScalar(key.value).multiline) return false;
    return Buffer.byteLength(key.value, 'utf8') <= 128;
  }

  private increaseIndent(flow: boolean, indentless: boolean): void {
    this.indents.push(this.indent);
    if (this.indent < 0) this.indent = flow ? BEST_INDENT : 0;
    else if (!indentless) this.indent += BEST_INDENT;
  }

  private put(s: string): void {
    this.out.push(s);
    this.column += Array.from(s).length;
  }

  private putBreak(): void {
    this.out.push('\n');
    this.column = 0;
  }

  private writeIndent(): void {
    const indent = Math.max(this.indent, 0);
    if (!this.indention || this.column > indent || (this.column === indent && !this.whitespace)) {
      this.putBreak();
    }
    while (this.column < indent) this.put(' ');
    this.whitespace = true;
    this.indention = true;
  }

  private writeIndicator(
    indicator: string,
    needWhitespace: boolean,
    isWhitespace: boolean,
    isIndention: boolean,
  ): void {
    if (needWhitespace && !this.whitespace) this.put(' ');
    this.put(indicator);
    this.whitespace = isWhitespace;
    this.indention = this.indention && isIndention;
  }

  /** A line break inside a scalar: a `\n` is written as the output line break, others as they are. */
  private writeBreak(c: string): void {
    if (c === '\n') this.putBreak();
    else {
      this.out.push(c);
      this.column = 0;
    }
  }

  private writePlain(value: string, allowBreaks: boolean): void {
    if (!this.whitespace && (value.length > 0 || this.flowLevel > 0)) this.put(' ');
    const chars = Array.from(value);
    let spaces = false;
    let breaks = false;
    chars.forEach((c, i) => {
      if (c === ' ') {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && chars[i + 1] !== ' ') this.writeIndent();
        else this.put(c);
        spaces = true;
      } else if (isBreak(c)) {
        if (!breaks && c === '\n') this.putBreak();
        this.writeBreak(c);
        this.indention = true;
        breaks = true;
      } else {
        if (breaks) this.writeIndent();
        this.put(c);
        this.indention = false;
        spaces = false;
        breaks = false;
      }
    });
    this.whitespace = false;
    this.indention = false;
  }

  private writeSingleQuoted(value: string, allowBreaks: boolean): void {
    this.writeIndicator("'", true, false, false);
    const chars = Array.from(value);
    let spaces = false;
    let breaks = false;
    chars.forEach((c, i) => {
      if (c === ' ') {
        if (
          allowBreaks &&
          !spaces &&
          this.column > BEST_WIDTH &&
          i !== 0 &&
          i !== chars.length - 1 &&
          chars[i + 1] !== ' '
        ) {
          this.writeIndent();
        } else this.put(c);
        spaces = true;
      } else if (isBreak(c)) {
        if (!breaks && c === '\n') this.putBreak();
        this.writeBreak(c);
        this.indention = true;
        breaks = true;
      } else {
        if (breaks) this.writeIndent();
        if (c === "'") this.put("'");
        this.put(c);
        this.indention = false;
        spaces = false;
        breaks = false;
      }
    });
    if (breaks) this.writeIndent();
    this.writeIndicator("'", false, false, false);
    this.whitespace = false;
    this.indention = false;
  }

  private writeDoubleQuoted(value: string, allowBreaks: boolean): void {
    this.writeIndicator('"', true, false, false);
    const chars = Array.from(value);
    let spaces = false;
    chars.forEach((c, i) => {
      const cp = c.codePointAt(0)!;
      if (!isPrintable(c) || cp === 0xfeff || isBreak(c) || c === '"' || c === '\\') {
        const short = SHORT_ESCAPES[cp];
        if (short !== undefined) this.put('\\' + short);
        else if (cp <= 0xff) this.put('\\x' + cp.toString(16).toUpperCase().padStart(2, '0'));
        else if (cp <= 0xffff) this.put('\\u' + cp.toString(16).toUpperCase().padStart(4, '0'));
        else this.put('\\U' + cp.toString(16).toUpperCase().padStart(8, '0'));
        spaces = false;
      } else if (c === ' ') {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && i !== 0 && i !== chars.length - 1) {
          this.writeIndent();
          if (chars[i + 1] === ' ') this.put('\\');
        } else this.put(c);
        spaces = true;
      } else {
        this.put(c);
        spaces = false;
      }
    });
    this.writeIndicator('"', false, false, false);
    this.whitespace = false;
    this.indention = false;
  }
}

/**
 * Dumps a JSON-like value as ruamel.yaml's safe dumper does in the AWS CLI v2. (The CLI prints
 * top-level scalars as JSON instead; output.ts does that.)
 */
export function dumpYaml(value: unknown): string {
  return new Emitter().document(represent(value));
}
