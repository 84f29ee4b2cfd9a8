/**
 * @module cli/ec2/output/text — the AWS CLI's `--output text`: each dict's scalar values on one
 * tab-separated line (keys sorted, the enclosing key upper-cased in front), lists of dicts sharing
 * the union of their scalar keys as columns, scalar lists tab-joined, and Python's `str()` of every
 * value (`True`, `None`).
 * Port of awscli 1.45.11's `awscli/text.py` (`format_text`) as `awscli/formatter.py`
 * (`TextFormatter`) calls it.
 */
import { compareCodePoints, pyReprValue, pyStr } from '../python/index.js';

type Dict = Record<string, unknown>;

const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCollection = (v: unknown): boolean => typeof v === 'object' && v !== null;

function str(v: unknown): string {
  return isCollection(v) ? pyReprValue(v) : pyStr(v);
}

function sortedKeys(keys: Iterable<string>): string[] {
  return [...keys].sort(compareCodePoints);
}

class TextWriter {
  readonly out: string[] = [];

  format(item: unknown, identifier?: string, scalarKeys?: readonly string[]): void {
    if (isDict(item)) this.dict(item, identifier, scalarKeys);
    else if (Array.isArray(item)) this.list(item, identifier);
    else this.out.push(pyStr(item) + '\n');
  }

  private list(item: readonly unknown[], identifier: string | undefined): void {
    if (item.length === 0) return;
    if (item.some(isDict)) {
      const allKeys = allScalarKeys(item);
      for (const element of item) this.format(element, identifier, allKeys);
    } else if (item.some(Array.isArray)) {
      const scalars = item.filter((e) => !isCollection(e));
      const nonScalars = item.filter(isCollection);
      if (scalars.length > 0) this.scalarList(scalars, identifier);
      for (const ns of nonScalars) this.format(ns, identifier);
    } else {
      this.scalarList(item, identifier);
    }
  }

  private scalarList(elements: readonly unknown[], identifier: string | undefined): void {
    if (identifier !== undefined) {
      for (const e of elements) this.out.push(`${identifier.toUpperCase()}\t${str(e)}\n`);
    } else {
      this.out.push(elements.map(str).join('\t') + '\n');
    }
  }

  private dict(item: Dict, identifier: string | undefined, scalarKeys: readonly string[] | undefined): void {
    const scalars: string[] = [];
    const nonScalars: [string, unknown][] = [];
    if (scalarKeys === undefined) {
      for (const key of sortedKeys(Object.keys(item))) {
        const value = item[key];
        if (isCollection(value)) nonScalars.push([key, value]);
        else scalars.push(pyStr(value));
      }
    } else {
      for (const key of scalarKeys) scalars.push(Object.hasOwn(item, key) ? str(item[key]) : '');
      const known = new Set(scalarKeys);
      for (const key of sortedKeys(Object.keys(item).filter((k) => !known.has(k)))) {
        nonScalars.push([key, item[key]]);
      }
    }
    if (scalars.length > 0) {
      if (identifier !== undefined) scalars.unshift(identifier.toUpperCase());
      this.out.push(scalars.join('\t') + '\n');
    }
    for (const [key, value] of nonScalars) this.format(value, key);
  }
}

function allScalarKeys(listOfDicts: readonly unknown[]): string[] {
  const seen = new Set<string>();
  for (const d of listOfDicts) {
    if (!isDict(d))
      throw new TypeError(`'${Array.isArray(d) ? 'list' : typeof d}' object has no attribute 'items'`);
    for (const [k, v] of Object.entries(d)) if (!isCollection(v)) seen.add(k);
  }
  return sortedKeys(seen);
}

/** awscli's `text.format_text`: the whole text output for one (already queried) response. */
export function formatText(data: unknown): string {
  const w = new TextWriter();
  w.format(data);
  return w.out.join('');
}
