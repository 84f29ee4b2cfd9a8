/**
 * @module api/filters — EC2's `Filters` for Describe actions: each filter name maps to the
 * values an item has for it; an item passes when every filter matches one of its values.
 * Values may use EC2's wildcards `*` (any run) and `?` (one character).
 */
import { Ec2Error } from '../model/index.js';
import type { Tag } from '../model/index.js';

export interface FilterInput {
  readonly Name?: string;
  readonly Values?: readonly string[];
}

/** Per filter name, the values an item has for it. `tag:<key>` and `tag-key` come from `tags`. */
export type FilterTable<T> = Record<string, (item: T) => readonly (string | undefined)[]>;

function matcher(values: readonly string[]): (v: string) => boolean {
  const exact = new Set<string>();
  const patterns: RegExp[] = [];
  for (const v of values) {
    if (/[*?]/.test(v)) {
      // EC2 lets a backslash escape a wildcard character.
      const re = v
        .split(/(\\[*?\\]|[*?])/)
        .map((part) => {
          if (part === '*') return '.*';
          if (part === '?') return '.';
          if (/^\\[*?\\]$/.test(part)) return '\\' + part.slice(1);
          return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        })
        .join('');
      patterns.push(new RegExp(`^${re}$`, 's'));
    } else {
      exact.add(v);
    }
  }
  return (v) => exact.has(v) || patterns.some((p) => p.test(v));
}

/**
 * Applies `filters` to `items`. Unknown filter names are rejected as EC2 does, naming the
 * filter, so a typo never silently returns everything.
 */
export function applyFilters<T>(
  items: readonly T[],
  filters: readonly FilterInput[] | undefined,
  table: FilterTable<T>,
  tagsOf?: (item: T) => readonly Tag[],
): T[] {
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
