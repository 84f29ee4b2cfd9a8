/**
 * @module cli/ec2/output/table — the AWS CLI's `--output table`: a section per dict or list of dicts,
 * titled by the operation and then by each key, nested sections framed by one more `|` per level,
 * columns sized to content, scaled to the widest section (Python's `round`, half to even), and
 * single-row sections turned into key/value rows when the table is wider than the terminal (80
 * columns when stdout is not a terminal). With color, values are bright blue and the nesting bars
 * dim yellow, and — as colorama's autoreset does to the CLI's stdout — every write ends in a reset.
 * Port of awscli 1.45.11's `awscli/table.py` (`MultiTable`, `Section`, `ColorizedStyler`) and
 * `awscli/formatter.py` (`TableFormatter`).
 */
import { compareCodePoints, pyReprValue, pyStr, textWidth } from '../python/index.js';

const RESET = '\x1b[0m';
const ROW_STYLE = '\x1b[1m\x1b[34m';
const INDENT_STYLE = '\x1b[2m\x1b[33m';

type Dict = Record<string, unknown>;
const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalar = (v: unknown): boolean => typeof v !== 'object' || v === null;

/** Python truthiness of a JSON-like value. */
function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return !Number.isNaN(v);
}

function cellText(v: unknown): string {
  return isScalar(v) ? pyStr(v) : pyReprValue(v);
}

/** Python's `round()` to an integer: halves go to the even neighbour. */
function pyRound(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

function rep(s: string, n: number): string {
  return n > 0 ? s.repeat(n) : '';
}

class Section {
  title = '';
  headers: string[] = [];
  rows: string[][] = [];
  indentLevel = 0;
  private numCols: number | undefined;
  private maxWidths: number[] = [];

  addHeader(headers: readonly string[]): void {
    this.updateMaxWidths(headers);
    if (this.numCols === undefined) this.numCols = headers.length;
    this.headers = [...headers];
  }

  addRow(row: readonly unknown[]): void {
    if (this.numCols === undefined) this.numCols = row.length;
    if (row.length !== this.numCols) {
      throw new Error(`Row should have ${this.numCols} elements, instead it has ${row.length}`);
    }
    const cells = row.map(cellText);
    this.rows.push(cells);
    this.updateMaxWidths(cells);
  }

  private updateMaxWidths(row: readonly string[]): void {
    if (this.maxWidths.length === 0) {
      this.maxWidths = row.map(textWidth);
    } else {
      row.forEach((el, i) => {
        this.maxWidths[i] = Math.max(textWidth(el), this.maxWidths[i] ?? 0);
      });
    }
  }

  columnWidths(padding = 0, maxWidth?: number): number[] {
    const unscaled = this.maxWidths.map((w) => w + padding);
    if (maxWidth === undefined || unscaled.length === 0) return unscaled;
    const scale = maxWidth / unscaled.reduce((a, b) => a + b, 0);
    const scaled = unscaled.map((w) => pyRound(scale * w));
    let offBy = scaled.reduce((a, b) => a + b, 0) - maxWidth;
    while (offBy !== 0) {
      const order = [...scaled.keys()];
      if (offBy < 0) order.reverse();
      for (const i of order) {
        if (offBy > 0) {
          scaled[i]!--;
          offBy--;
        } else {
          scaled[i]!++;
          offBy++;
        }
        if (offBy === 0) break;
      }
    }
    return scaled;
  }

  totalWidth(padding: number, withBorder: boolean, outerPadding: number): number {
    let total = 0;
    for (const w of this.columnWidths()) total += w + padding;
    if (withBorder) total += 2;
    total += outerPadding * 2;
    return Math.max(textWidth(this.title) + 2 + outerPadding * 2, total);
  }
}

function centerText(
  text: string,
  length: number,
  leftEdge: string,
  rightEdge: string,
  textLength: number,
): string {
  const charStart = Math.floor(length / 2) - Math.floor(textLength / 2) - 1;
  const lengthSoFar = textWidth(leftEdge) + charStart + textLength;
  const rightSpaces = length - textWidth(rightEdge) - lengthSoFar;
  return leftEdge + rep(' ', charStart) + text + rep(' ', rightSpaces) + rightEdge;
}

function alignLeft(
  text: string,
  length: number,
  leftEdge: string,
  rightEdge: string,
  textLength: number,
): string {
  const computed = textLength + 2 + textWidth(leftEdge) + textWidth(rightEdge);
  const padding = length - computed >= 0 ? 2 : 0;
  const soFar = Array.from(leftEdge).length + padding + textLength;
  return (
    leftEdge + rep(' ', padding) + text + rep(' ', length - soFar - Array.from(rightEdge).length) + rightEdge
  );
}

/** The CLI's stdout for table output: with color, colorama appends a reset to every write. */
class Sink {
  readonly out: string[] = [];
  constructor(private readonly color: boolean) {}
  write(s: string): void {
    this.out.push(s);
    if (this.color) this.out.push(RESET);
  }
}

class MultiTable {
  private readonly sections: Section[] = [];
  private current: Section | undefined;

  constructor(
    private readonly color: boolean,
    private readonly terminalWidth: number,
  ) {}

  newSection(title: string, indentLevel: number): void {
    const s = new Section();
    s.title = title;
    s.indentLevel = indentLevel;
    this.sections.push(s);
    this.current = s;
  }

  addRowHeader(headers: readonly string[]): void {
    this.section().addHeader(headers);
  }

  addRow(row: readonly unknown[]): void {
    this.section().addRow(row);
  }

  private section(): Section {
    if (!this.current) throw new Error("'NoneType' object has no attribute 'add_row'");
    return this.current;
  }

  render(): string {
    let maxWidth = this.maxWidth();
    if (maxWidth > this.terminalWidth) {
      this.convertToVertical();
      maxWidth = this.maxWidth();
    }
    const sink = new Sink(this.color);
    sink.write(rep('-', maxWidth) + '\n');
    for (const section of this.sections) this.renderSection(section, maxWidth, sink);
    return sink.out.join('');
  }

  private maxWidth(): number {
    return Math.max(...this.sections.map((s) => s.totalWidth(4, true, s.indentLevel)));
  }

  private convertToVertical(): void {
    this.sections.forEach((section, i) => {
      if (section.rows.length !== 1 || section.headers.length === 0) return;
      const vertical = new Section();
      vertical.title = section.title;
      vertical.indentLevel = section.indentLevel;
      const row = section.rows[0]!;
      section.headers.forEach((h, j) => {
        if (j < row.length) vertical.addRow([h, row[j]]);
      });
      this.sections[i] = vertical;
    });
  }

  private style(text: string, style: string): string {
    return this.color ? style + text + RESET : text;
  }

  private renderSection(section: Section, maxWidth: number, sink: Sink): void {
    const bar = this.style('|', INDENT_STYLE);
    const level = section.indentLevel;
    // awscli's IndentedStream: the left bars, the line, the right bars and the newline are separate writes.
    const write = (text: string): void => {
      sink.write(rep(bar, level));
      if (text.endsWith('\n')) {
        sink.write(text.slice(0, -1));
        sink.write(rep(bar, level));
        sink.write('\n');
      } else {
        sink.write(text);
      }
    };
    const width = maxWidth - level * 2;
    if (section.title) {
      write(centerText(section.title, width, '|', '|', textWidth(section.title)) + '\n');
      if (section.headers.length === 0 && section.rows.length === 0) write(`+${rep('-', width - 2)}+\n`);
    }
    if (section.headers.length > 0) {
      const widths = section.columnWidths(4, width);
      let line = '';
      section.headers.forEach((header, i) => {
        if (i >= widths.length) return;
        line += centerText(header, widths[i]!, i === 0 ? '|' : '', '|', textWidth(header));
      });
      write(lineBreak(widths));
      write(line + '\n');
    }
    if (section.rows.length > 0) {
      const widths = section.columnWidths(4, width);
      if (widths.length === 0) return;
      write(lineBreak(widths));
      for (const row of section.rows) {
        let line = '';
        row.forEach((cell, i) => {
          if (i >= widths.length) return;
          line += alignLeft(
            this.style(cell, ROW_STYLE),
            widths[i]!,
            i === 0 ? '|' : '',
            '|',
            textWidth(cell),
          );
        });
        write(line + '\n');
      }
      write(lineBreak(widths));
    }
  }
}

function lineBreak(widths: readonly number[]): string {
  return widths.map((w, i) => (i === 0 ? `+${rep('-', w - 2)}+` : `${rep('-', w - 1)}+`)).join('') + '\n';
}

class TableBuilder {
  constructor(private readonly table: MultiTable) {}

  /** awscli's TableFormatter._build_table; false when there is nothing to print. */
  build(title: string | undefined, current: unknown, indentLevel = 0): boolean {
    if (!truthy(current)) return false;
    if (title !== undefined) this.table.newSection(title, indentLevel);
    if (Array.isArray(current)) {
      if (isDict(current[0])) {
        this.subTableFromList(current, indentLevel, title);
      } else {
        for (const item of current) {
          if (isScalar(item)) this.table.addRow([item]);
          else if (isDict(item)) this.table.addRow(Object.keys(item));
          else if ((item as unknown[]).every(isScalar)) this.table.addRow(item as unknown[]);
          else this.build(undefined, item);
        }
      }
    }
    if (isDict(current)) this.subTableFromDict(current, indentLevel);
    return true;
  }

  private subTableFromDict(current: Dict, indentLevel: number): void {
    const [headers, more] = groupScalarKeys(current);
    if (headers.length === 1) this.table.addRow([headers[0], current[headers[0]!]]);
    else if (headers.length > 0) {
      this.table.addRowHeader(headers);
      this.table.addRow(headers.map((k) => current[k]));
    }
    for (const key of more) this.build(key, current[key], indentLevel + 1);
  }

  private subTableFromList(
    current: readonly unknown[],
    indentLevel: number,
    title: string | undefined,
  ): void {
    const headerSet = new Set<string>();
    const moreSet = new Set<string>();
    for (const item of current) {
      if (!isDict(item)) throw new TypeError(`'${typeof item}' object is not iterable`);
      const [h, m] = groupScalarKeys(item);
      h.forEach((k) => headerSet.add(k));
      m.forEach((k) => moreSet.add(k));
    }
    const headers = [...headerSet].sort(compareCodePoints);
    const more = [...moreSet].sort(compareCodePoints);
    this.table.addRowHeader(headers);
    current.forEach((element, i) => {
      const el = element as Dict;
      if (i > 0 && more.length > 0) {
        this.table.newSection(title ?? '', indentLevel);
        this.table.addRowHeader(headers);
      }
      this.table.addRow(headers.map((h) => (Object.hasOwn(el, h) ? el[h] : '')));
      for (const key of more) {
        if (Object.hasOwn(el, key)) this.build(key, el[key], indentLevel + 1);
      }
    });
  }
}

function groupScalarKeys(current: Dict): [string[], string[]] {
  const headers: string[] = [];
  const more: string[] = [];
  for (const [k, v] of Object.entries(current)) (isScalar(v) ? headers : more).push(k);
  return [headers.sort(compareCodePoints), more.sort(compareCodePoints)];
}

/** Options of {@link formatTable}. */
export interface TableOptions {
  /** Colorize as `--color on` does. */
  readonly color?: boolean;
  /** Columns before single-row sections turn vertical; the CLI uses the terminal's, else 80. */
  readonly terminalWidth?: number;
}

/** awscli's TableFormatter for one (already queried) response; `''` when it prints nothing. */
export function formatTable(title: string, data: unknown, opts: TableOptions = {}): string {
  const table = new MultiTable(opts.color ?? false, opts.terminalWidth ?? 80);
  if (!new TableBuilder(table).build(title, data)) return '';
  return table.render();
}
