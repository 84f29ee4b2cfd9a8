/**
 * @module api/filters — EC2's `Filters` for Describe actions: each filter name maps to the
 * values an item has for it; an item passes when every filter matches one of its values.
 * Values may use EC2's wildcards `*` (any run) and `?` (one character), escaped with `\`.
 *
 * Wildcards are matched by a greedy two-pointer glob matcher, never by a regex built from the
 * value: a regex of `.*.*.*…x` backtracks exponentially, and one read-only request of thirty
 * stars froze the whole process (API, /healthz, gateway). The matcher costs at most
 * (|text|+1)·(|pattern|+1) steps, and runs of stars cost no more than one star.
 */
import { Ec2Error } from '../model/index.js';
import type { Tag } from '../model/index.js';

export interface FilterInput {
  readonly Name?: string;
  readonly Values?: readonly string[];
}

/** Per filter name, the values an item has for it. `tag:<key>` and `tag-key` come from `tags`. */
export type FilterTable<T> = Record<string, (item: T) => readonly (string | undefined)[]>;

/**
 * EC2's limit on filter values in one call (all filters together; a filter without values
 * counts as one): `FilterLimitExceeded`. With the length limit below it bounds what one
 * request can make the matcher do.
 */
export const MAX_FILTER_VALUES = 200;
/** EC2's limit on the length of one filter value, in characters: `FilterLimitExceeded`. */
export const MAX_FILTER_VALUE_LENGTH = 255;

/** One element of a compiled pattern: a literal character, `?`, or a run of `*`. */
type GlobToken = string | typeof ONE | typeof ANY;
const ONE = Symbol('?');
const ANY = Symbol('*');

/** A filter value with wildcards, compiled once per request. */
export interface Glob {
  readonly tokens: readonly GlobToken[];
}

/** Counts the matcher's loop iterations, so tests can prove its cost without a clock. */
export interface StepMeter {
  steps: number;
}

/**
 * Compiles a filter value: `*` and `?` are wildcards; `\*`, `\?` and `\\` stand for the
 * character itself; a backslash before anything else is a literal backslash. Consecutive `*`
 * become one token (they match the same strings). Characters are code points, so `?` matches
 * one character even outside the BMP.
 */
export function compileGlob(value: string): Glob {
  const chars = Array.from(value);
  const tokens: GlobToken[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    const next = chars[i + 1];
    if (c === '\\' && (next === '*' || next === '?' || next === '\\')) {
      tokens.push(next);
      i++;
    } else if (c === '*') {
      if (tokens.at(-1) !== ANY) tokens.push(ANY);
    } else if (c === '?') {
      tokens.push(ONE);
    } else {
      tokens.push(c);
    }
  }
  return { tokens };
}

/**
 * Whether `text` matches `glob` as a whole. Greedy with one saved star: on a mismatch it
 * retries from the last `*` one character further on, never from earlier stars (a later star
 * can absorb whatever an earlier one would have), so the work is bounded by
 * (|text|+1)·(|pattern|+1) and is linear for patterns such as `***…x`.
 */
export function matchGlob(glob: Glob, text: string, meter?: StepMeter): boolean {
  const p = glob.tokens;
  const t = Array.from(text);
  let i = 0;
  let j = 0;
  let star = -1;
  let resume = 0;
  let steps = 0;
  while (i < t.length) {
    steps++;
    const tok = p[j];
    if (tok === ANY) {
      star = j++;
      resume = i;
    } else if (tok !== undefined && (tok === ONE || tok === t[i])) {
      i++;
      j++;
    } else if (star >= 0) {
      j = star + 1;
      i = ++resume;
    } else {
      break;
    }
  }
  while (p[j] === ANY) j++;
  if (meter) meter.steps += steps;
  return i === t.length && j === p.length;
}

function matcher(values: readonly string[]): (v: string) => boolean {
  const exact = new Set<string>();
  const globs: Glob[] = [];
  for (const v of values) {
    if (!/[*?]/.test(v)) {
      exact.add(v);
      continue;
    }
    const glob = compileGlob(v);
    if (glob.tokens.some((t) => typeof t !== 'string')) globs.push(glob);
    else exact.add(glob.tokens.join(''));
  }
  return (v) => exact.has(v) || globs.some((g) => matchGlob(g, v));
}

/**
 * Refuses filters beyond EC2's limits, with EC2's code and sentence and the parameter at fault.
 * @throws Ec2Error FilterLimitExceeded.
 */
export function checkFilterLimits(filters: readonly FilterInput[] | undefined): void {
  let count = 0;
  for (const [n, f] of (filters ?? []).entries()) {
    const values = f.Values ?? [];
    count += Math.max(1, values.length);
    if (count > MAX_FILTER_VALUES) {
      throw new Ec2Error(
        'FilterLimitExceeded',
        `The maximum number of filter values specified on a single call is ${MAX_FILTER_VALUES} ` +
          `(Filter.${n + 1} goes over it): split the request.`,
      );
    }
    for (const [m, v] of values.entries()) {
      if (v.length > MAX_FILTER_VALUE_LENGTH) {
        throw new Ec2Error(
          'FilterLimitExceeded',
          `The maximum length for a filter value is ${MAX_FILTER_VALUE_LENGTH} characters ` +
            `(Filter.${n + 1}.Value.${m + 1} has ${v.length}).`,
        );
      }
    }
  }
}

/**
 * Applies `filters` to `items`. Unknown filter names are rejected as EC2 does, naming the
 * filter, so a typo never silently returns everything.
 * @throws Ec2Error FilterLimitExceeded beyond EC2's limits, InvalidParameterValue for a bad name.
 */
export function applyFilters<T>(
  items: readonly T[],
  filters: readonly FilterInput[] | undefined,
  table: FilterTable<T>,
  tagsOf?: (item: T) => readonly Tag[],
): T[] {
  checkFilterLimits(filters);
  if (!filters || filters.length === 0) return [...items];
  const tests: ((item: T) => boolean)[] = [];
  for (const f of filters) {
    const name = f.Name;
    if (!name)
      throw new Ec2Error('InvalidParameterValue', 'The filter name must be specified (Filter.N.Name).');
    const match = matcher(f.Values ?? []);
    if (tagsOf && name.startsWith('tag:')) {
      const key = name.slice(4);
      tests.push((item) => tagsOf(item).some((t) => t.key === key && match(t.value)));
    } else if (tagsOf && name === 'tag-key') {
      tests.push((item) => tagsOf(item).some((t) => match(t.key)));
    } else if (tagsOf && name === 'tag-value') {
      tests.push((item) => tagsOf(item).some((t) => match(t.value)));
    } else {
      const get = table[name];
      if (!get) throw new Ec2Error('InvalidParameterValue', `The filter '${name}' is invalid`);
      tests.push((item) => get(item).some((v) => v !== undefined && match(v)));
    }
  }
  return items.filter((item) => tests.every((t) => t(item)));
}
