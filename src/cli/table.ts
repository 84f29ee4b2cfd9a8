/**
 * @module cli/table — the plain-text tables `weir` list commands print: columns padded to their
 * widest cell, two spaces apart, no trailing spaces (so output diffs and greps cleanly).
 */

/** How a table is drawn. */
export interface TableStyle {
  /** A line of dashes under the header (the list commands of workloads and exceptions). */
  readonly rule?: boolean;
  /** Printed after the header when there are no rows, e.g. `(no exceptions)`. */
  readonly empty?: string;
}

/** The table as text, one line per row (header first), each ending in a newline. */
export function renderTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  style: TableStyle = {},
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const out = [line(header)];
  if (style.rule === true) out.push(line(widths.map((w) => '-'.repeat(w))));
  out.push(...rows.map(line));
  if (rows.length === 0 && style.empty !== undefined) out.push(style.empty);
  return `${out.join('\n')}\n`;
}
