/**
 * @module cli/ec2/input/argparse — the part of Python's argparse the AWS CLI's parsers rely on, with its
 * decisions and messages: options by full name or unambiguous prefix, `--opt=value`, values that
 * look like negative numbers or contain spaces read as values, `nargs` none/one/`?`/`*`, choices
 * (in awscli's `Invalid choice, valid choices are:` layout), required options, and unknown options
 * and stray values returned as extras (`parse_known_args`).
 * Port of CPython 3.11's `Lib/argparse.py` (`ArgumentParser.parse_known_args`) and `Lib/difflib.py`
 * (`get_close_matches`), with the choices message of awscli 1.45.11's `awscli/argparser.py`
 * (`CLIArgParser._check_value`).
 */

/** One option of a parser. */
export interface OptionSpec {
  /** Without dashes: `group-id`. */
  readonly name: string;
  /** Where the value lands; two options (`--x`/`--no-x`) may share one. */
  readonly dest: string;
  /** `flag`: no value (stores `flagValue`); `one`: one value; `optional`: zero or one (`const` if zero); `star`: zero or more. */
  readonly nargs: 'flag' | 'one' | 'optional' | 'star';
  readonly flagValue?: boolean;
  readonly const?: string;
  readonly choices?: readonly string[];
  readonly type?: 'int';
  readonly required?: boolean;
}

/** A parse failure: argparse prints usage and `prog: error: message`. */
export class ArgParseError extends Error {
  override readonly name = 'ArgParseError';
}

/** The parse result. */
export interface ParsedArgs {
  /** Values by dest: string, string[] (`star`), boolean (`flag`) or number (`int`). */
  readonly values: Map<string, string | readonly string[] | boolean | number>;
  /** Unknown options and values nothing consumed, in order. */
  readonly extras: string[];
  /** The first value no option consumed, when the parser has an optional positional (`help`). */
  readonly positional?: string;
}

const NEGATIVE_NUMBER = /^-\d+$|^-\d*\.\d+$/;

/** awscli's `Invalid choice, valid choices are:` message, two choices a line padded to 40. */
export function invalidChoiceMessage(choices: readonly string[], value: string): string {
  const lines = ['Invalid choice, valid choices are:\n'];
  for (let i = 0; i < choices.length; i += 2) {
    lines.push(
      choices
        .slice(i, i + 2)
        .map((c) => c.padEnd(40))
        .join(' | '),
    );
  }
  const close = closeMatches(value, choices);
  if (close.length > 0) {
    lines.push(`\n\nInvalid choice: ${pyQuote(value)}, maybe you meant:\n`);
    for (const c of close) lines.push(`  * ${c}`);
  }
  return lines.join('\n');
}

function pyQuote(s: string): string {
  return s.includes("'") && !s.includes('"')
    ? `"${s}"`
    : `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/** difflib's SequenceMatcher.ratio() (no junk heuristics: the strings here are short). */
function ratio(a: string, b: string): number {
  const matches = (alo: number, ahi: number, blo: number, bhi: number): number => {
    let besti = alo;
    let bestj = blo;
    let bestsize = 0;
    let j2len = new Map<number, number>();
    for (let i = alo; i < ahi; i++) {
      const next = new Map<number, number>();
      for (let j = blo; j < bhi; j++) {
        if (a[i] !== b[j]) continue;
        const k = (j2len.get(j - 1) ?? 0) + 1;
        next.set(j, k);
        if (k > bestsize) {
          besti = i - k + 1;
          bestj = j - k + 1;
          bestsize = k;
        }
      }
      j2len = next;
    }
    if (bestsize === 0) return 0;
    return bestsize + matches(alo, besti, blo, bestj) + matches(besti + bestsize, ahi, bestj + bestsize, bhi);
  };
  const total = a.length + b.length;
  return total === 0 ? 1 : (2 * matches(0, a.length, 0, b.length)) / total;
}

/** difflib's `get_close_matches(word, possibilities, n=3, cutoff=0.8)`. */
export function closeMatches(word: string, possibilities: readonly string[]): string[] {
  return possibilities
    .map((p) => ({ p, score: ratio(p, word) }))
    .filter((x) => x.score >= 0.8)
    .sort((x, y) => y.score - x.score || (x.p < y.p ? 1 : x.p > y.p ? -1 : 0))
    .slice(0, 3)
    .map((x) => x.p);
}

type Token =
  | { readonly kind: 'A'; readonly value: string }
  | { readonly kind: 'O'; readonly raw: string; readonly spec?: OptionSpec; readonly explicit?: string };

function classify(arg: string, byName: ReadonlyMap<string, OptionSpec>): Token {
  if (arg === '' || arg[0] !== '-' || arg === '-') return { kind: 'A', value: arg };
  const exact = byName.get(arg);
  if (exact) return { kind: 'O', raw: arg, spec: exact };
  let prefix = arg;
  let explicit: string | undefined;
  const eq = arg.indexOf('=');
  if (eq >= 0) {
    prefix = arg.slice(0, eq);
    explicit = arg.slice(eq + 1);
    const withValue = byName.get(prefix);
    if (withValue) return { kind: 'O', raw: arg, spec: withValue, explicit };
  }
  if (prefix.startsWith('--')) {
    const candidates = [...byName.keys()].filter((k) => k.startsWith(prefix));
    if (candidates.length > 1) {
      throw new ArgParseError(`ambiguous option: ${prefix} could match ${candidates.join(', ')}`);
    }
    if (candidates.length === 1) {
      return {
        kind: 'O',
        raw: arg,
        spec: byName.get(candidates[0]!)!,
        ...(explicit !== undefined ? { explicit } : {}),
      };
    }
  }
  if (NEGATIVE_NUMBER.test(arg)) return { kind: 'A', value: arg };
  if (arg.includes(' ')) return { kind: 'A', value: arg };
  return { kind: 'O', raw: arg };
}

function convert(spec: OptionSpec, value: string): string | number {
  if (spec.choices && !spec.choices.includes(value)) {
    throw new ArgParseError(`argument --${spec.name}: ${invalidChoiceMessage(spec.choices, value)}`);
  }
  if (spec.type === 'int') {
    if (!/^\s*[+-]?\d+\s*$/.test(value))
      throw new ArgParseError(`argument --${spec.name}: invalid int value: ${pyQuote(value)}`);
    return Number.parseInt(value, 10);
  }
  return value;
}

/**
 * Parses `args` against `specs` like argparse's `parse_known_args`.
 * @param positionalOpen whether the parser has an optional positional (the operation's `help`): it
 *   takes the first value no option consumed, as argparse's interleaving gives it.
 * @throws ArgParseError with argparse's message (without the `prog: error:` prefix).
 */
export function parseKnownArgs(
  args: readonly string[],
  specs: readonly OptionSpec[],
  positionalOpen = false,
): ParsedArgs {
  const byName = new Map<string, OptionSpec>(specs.map((s) => [`--${s.name}`, s]));
  const tokens: Token[] = [];
  let afterDashes = false;
  for (const arg of args) {
    if (afterDashes) tokens.push({ kind: 'A', value: arg });
    else if (arg === '--') afterDashes = true;
    else tokens.push(classify(arg, byName));
  }
  const values = new Map<string, string | readonly string[] | boolean | number>();
  const extras: string[] = [];
  let positional: string | undefined;
  let i = 0;
  const seen = new Set<string>();
  while (i < tokens.length) {
    const t = tokens[i]!;
    i++;
    if (t.kind === 'A') {
      if (positionalOpen && positional === undefined) positional = t.value;
      else extras.push(t.value);
      continue;
    }
    const spec = t.spec;
    if (!spec) {
      extras.push(t.raw);
      continue;
    }
    seen.add(spec.dest);
    const optionName = `--${spec.name}`;
    switch (spec.nargs) {
      case 'flag':
        if (t.explicit !== undefined) {
          throw new ArgParseError(`argument ${optionName}: ignored explicit argument ${pyQuote(t.explicit)}`);
        }
        values.set(spec.dest, spec.flagValue ?? true);
        break;
      case 'one': {
        if (t.explicit !== undefined) {
          values.set(spec.dest, convert(spec, t.explicit));
          break;
        }
        const next = tokens[i];
        if (!next || next.kind !== 'A')
          throw new ArgParseError(`argument ${optionName}: expected one argument`);
        values.set(spec.dest, convert(spec, next.value));
        i++;
        break;
      }
      case 'optional': {
        if (t.explicit !== undefined) {
          values.set(spec.dest, convert(spec, t.explicit));
          break;
        }
        const next = tokens[i];
        if (next && next.kind === 'A') {
          values.set(spec.dest, convert(spec, next.value));
          i++;
        } else values.set(spec.dest, spec.const ?? '');
        break;
      }
      case 'star': {
        const list: string[] = t.explicit !== undefined ? [t.explicit] : [];
        while (t.explicit === undefined && i < tokens.length && tokens[i]!.kind === 'A') {
          list.push((tokens[i] as { value: string }).value);
          i++;
        }
        values.set(spec.dest, list);
        break;
      }
    }
  }
  const missing = specs.filter((s) => s.required && !seen.has(s.dest)).map((s) => `--${s.name}`);
  if (missing.length > 0) {
    throw new ArgParseError(`the following arguments are required: ${missing.join(', ')}`);
  }
  return { values, extras, ...(positional !== undefined ? { positional } : {}) };
}
