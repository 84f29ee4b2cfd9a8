/**
 * @module report/html-kit — the little the report's HTML needs: a tagged template that escapes
 * every interpolated value (only fragments it made itself pass through as markup), tables, and
 * bar charts as inline SVG. Values come from the store and policy files, which other people
 * write: a justification of `<script>…` must print as text, so nothing is ever concatenated
 * into markup unescaped.
 */

/** Markup made by {@link markup}: the only thing interpolated unescaped. */
export class Markup {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** `value` as HTML text (also safe inside a quoted attribute). */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function part(v: unknown): string {
  if (v instanceof Markup) return v.text;
  if (Array.isArray(v)) return v.map(part).join('');
  if (v === undefined || v === null || v === false) return '';
  return escapeHtml(String(v));
}

/** A template whose interpolations are escaped, unless they are {@link Markup} (or arrays of it). */
export function markup(strings: TemplateStringsArray, ...values: readonly unknown[]): Markup {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += part(v) + (strings[i + 1] ?? '');
  });
  return new Markup(out);
}

/** A duration for people: `3d 4h`, `2h 5m`, `45m`, `30s`. */
export function humanDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return h > 0 ? `${d}d ${h}h` : `${d}d`;
  if (h > 0) return m > 0 ? `${h}h ${m}m` : `${h}h`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}

/** An ISO time as `2026-12-08 03:35 UTC` (the report is read on paper, in any time zone). */
export function humanTime(iso: string | undefined): string {
  if (iso === undefined) return '';
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** A table with a caption and column headers (`<th scope="col">`); `empty` when there are no rows. */
export function table(
  caption: string,
  headers: readonly string[],
  rows: readonly (readonly unknown[])[],
  empty: string,
): Markup {
  if (rows.length === 0) return markup`<p class="empty">${empty}</p>`;
  return markup`<table>
    <caption>
      ${caption}
    </caption>
    <thead>
      <tr>
        ${headers.map((h) => markup`<th scope="col">${h}</th>`)}
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (r) =>
          markup`<tr>
            ${r.map((c) => markup`<td>${c}</td>`)}
          </tr> `,
      )}
    </tbody>
  </table>`;
}

/** One bar of a chart. */
export interface Bar {
  readonly label: string;
  readonly value: number;
}

const CHART_WIDTH = 640;
const LABEL_WIDTH = 200;
const BAR_HEIGHT = 18;
const GAP = 6;

/**
 * A horizontal bar chart as inline SVG (no script, no external anything). Every bar carries its
 * label and value as text, so the chart never says anything by colour or length alone, and the
 * SVG has a title for screen readers.
 */
export function barChart(title: string, bars: readonly Bar[]): Markup {
  if (bars.length === 0) return markup``;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const height = bars.length * (BAR_HEIGHT + GAP) + GAP;
  const span = CHART_WIDTH - LABEL_WIDTH - 60;
  const rows = bars.map((b, i) => {
    const y = GAP + i * (BAR_HEIGHT + GAP);
    const w = Math.max(b.value > 0 ? 2 : 0, Math.round((b.value / max) * span));
    const label = b.label.length > 30 ? `${b.label.slice(0, 29)}…` : b.label;
    return markup`<text x="${LABEL_WIDTH - 8}" y="${y + 13}" text-anchor="end" font-size="12" fill="#1f2328"
        >${label}</text
      >
      <rect x="${LABEL_WIDTH}" y="${y}" width="${w}" height="${BAR_HEIGHT}" fill="#0a5cad"></rect>
      <text x="${LABEL_WIDTH + w + 6}" y="${y + 13}" font-size="12" fill="#1f2328"
        >${String(b.value)}</text
      > `;
  });
  return markup`<figure class="chart">
    <svg
      role="img"
      aria-label="${title}"
      width="${CHART_WIDTH}"
      height="${height}"
      viewBox="0 0 ${CHART_WIDTH} ${height}"
    >
      <title>${title}</title>
      ${rows}
    </svg>
    <figcaption>${title}</figcaption>
  </figure>`;
}

/** One line of a {@link lineChart}. */
export interface Series {
  readonly name: string;
  readonly values: readonly number[];
  readonly colour: string;
  /** SVG `stroke-dasharray`: lines differ by pattern too, not by colour alone. */
  readonly dash: string;
}

/**
 * A line chart over days as inline SVG: one line per series, each with its own colour and dash
 * pattern, a legend naming them and the largest value on the axis. The caller adds the numbers
 * as a table (the chart's text alternative).
 */
export function lineChart(title: string, days: readonly string[], series: readonly Series[]): Markup {
  if (days.length === 0) return markup``;
  const w = CHART_WIDTH;
  const h = 180;
  const left = 48;
  const top = 24;
  const bottom = 28;
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const x = (i: number): number => left + (days.length === 1 ? 0 : (i * (w - left - 10)) / (days.length - 1));
  const y = (v: number): number => top + (h - top - bottom) * (1 - v / max);
  const lines = series.map(
    (s) =>
      markup`<polyline fill="none" stroke="${s.colour}" stroke-width="2" stroke-dasharray="${s.dash}" points="${s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"></polyline>
`,
  );
  const legend = series.map(
    (s, i) =>
      markup`<line x1="${left + i * 150}" y1="10" x2="${left + i * 150 + 24}" y2="10" stroke="${s.colour}" stroke-width="2" stroke-dasharray="${s.dash}"></line><text x="${left + i * 150 + 30}" y="14" font-size="12" fill="#1f2328">${s.name}</text>
`,
  );
  const first = days[0] ?? '';
  const last = days[days.length - 1] ?? '';
  return markup`<figure class="chart"><svg role="img" aria-label="${title}" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}"><title>${title}</title>
<line x1="${left}" y1="${y(0)}" x2="${w - 10}" y2="${y(0)}" stroke="#57606a"></line>
<text x="${left - 6}" y="${y(max) + 4}" text-anchor="end" font-size="11" fill="#1f2328">${String(max)}</text>
<text x="${left - 6}" y="${y(0) + 4}" text-anchor="end" font-size="11" fill="#1f2328">0</text>
<text x="${left}" y="${h - 8}" font-size="11" fill="#1f2328">${first}</text>
<text x="${w - 10}" y="${h - 8}" text-anchor="end" font-size="11" fill="#1f2328">${last}</text>
${legend}${lines}</svg><figcaption>${title}</figcaption></figure>`;
}
