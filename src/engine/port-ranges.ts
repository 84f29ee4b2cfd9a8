/**
 * @module engine/port-ranges — per-rule port interval sets in one flat table: each rule's
 * ranges are merged and sorted at compile time, so `contains` reads one small record (and
 * binary-searches the rest for rules with several ranges) with no objects on the way.
 */
import type { PortRange } from '../policy-types/index.js';

/** Sorts and merges inclusive ranges (overlapping or adjacent ones become one). */
export function mergePortRanges(ranges: readonly PortRange[]): PortRange[] {
  const sorted = [...ranges].sort((a, b) => a.from - b.from || a.to - b.to);
  const out: { from: number; to: number }[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && r.from <= last.to + 1) last.to = Math.max(last.to, r.to);
    else out.push({ from: r.from, to: r.to });
  }
  return out;
}

/** Whether `r` is a valid inclusive port range within 0–65535. */
export function isValidPortRange(r: PortRange): boolean {
  return Number.isInteger(r.from) && Number.isInteger(r.to) && r.from >= 0 && r.to <= 65535 && r.from <= r.to;
}

const STRIDE = 4;

/** Collects each rule's ranges in rule-index order, then `build()`s a `PortRangeTable`. */
export class PortRangeTableBuilder {
  readonly #records: number[] = [];
  readonly #overflow: number[] = [];

  /**
   * Adds the next rule's ranges (rule indices are assigned in call order from 0).
   * An empty list means every port.
   * @returns the rule's index in the table.
   */
  add(ranges: readonly PortRange[]): number {
    const merged = mergePortRanges(ranges);
    const first = merged[0];
    this.#records.push(merged.length, first?.from ?? 0, first?.to ?? 0, this.#overflow.length);
    if (merged.length > 1) for (const r of merged) this.#overflow.push(r.from, r.to);
    return this.#records.length / STRIDE - 1;
  }

  build(): PortRangeTable {
    return new PortRangeTable(Int32Array.from(this.#records), Int32Array.from(this.#overflow));
  }
}

/**
 * Immutable port sets for every rule of a snapshot; see `PortRangeTableBuilder`. Each rule has
 * a four-word record (range count, first range, where the rest start), so the common one-range
 * rule is answered from a single cache line.
 */
export class PortRangeTable {
  readonly #records: Int32Array;
  readonly #overflow: Int32Array;

  /** @internal use `PortRangeTableBuilder`. */
  constructor(records: Int32Array, overflow: Int32Array) {
    this.#records = records;
    this.#overflow = overflow;
    Object.freeze(this);
  }

  /** Number of rules in the table. */
  get size(): number {
    return this.#records.length / STRIDE;
  }

  /** Whether rule `rule` allows every port (it listed none). */
  isAll(rule: number): boolean {
    return this.#records[rule * STRIDE] === 0;
  }

  /** Whether `port` is in rule `rule`'s set (always true for a rule that listed no ports). */
  contains(rule: number, port: number): boolean {
    const rec = this.#records;
    const i = rule * STRIDE;
    const count = rec[i] ?? 0;
    if (count === 0) return true;
    if (port >= (rec[i + 1] ?? 0) && port <= (rec[i + 2] ?? 0)) return true;
    if (count === 1) return false;
    // Binary search the sorted, disjoint pairs for the last range starting at or before `port`.
    const bounds = this.#overflow;
    const base = rec[i + 3] ?? 0;
    let lo = 0;
    let hi = count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((bounds[base + 2 * mid] ?? 0) <= port) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found >= 0 && port <= (bounds[base + 2 * found + 1] ?? 0);
  }

  /** The merged ranges of rule `rule` (allocates; for explanations). */
  ranges(rule: number): PortRange[] {
    const i = rule * STRIDE;
    const count = this.#records[i] ?? 0;
    if (count === 1) return [{ from: this.#records[i + 1] ?? 0, to: this.#records[i + 2] ?? 0 }];
    const base = this.#records[i + 3] ?? 0;
    return Array.from({ length: count }, (_, k) => ({
      from: this.#overflow[base + 2 * k] ?? 0,
      to: this.#overflow[base + 2 * k + 1] ?? 0,
    }));
  }
}
