/**
 * @module console/ui/screens/overview-chart — one time-series chart of the Overview: uPlot on a
 * canvas, its colours read from the page's theme variables (each pair already ≥ 4.5:1 against the
 * background in light and dark) and redrawn when the theme changes, its series told apart by line
 * style as well as colour, with a legend and a text alternative in HTML: a one-line summary and
 * the data as a table (a canvas says nothing to a screen reader).
 */
import type { VNode } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { formatTime, html } from '../lib.js';

/** One line of a chart. */
export interface ChartSeries {
  readonly label: string;
  /** A theme variable for the colour (the legend's swatch class is `swatch<colour>`). */
  readonly colour: '--good' | '--bad' | '--warn-fg' | '--accent';
  /** Solid, dashed or dotted, so that colour is never the only difference. */
  readonly line: 'solid' | 'dashed' | 'dotted';
  readonly values: readonly (number | null)[];
}

/** uPlot's dash pattern of each line style (the legend draws the same with CSS borders). */
const DASH: Readonly<Record<ChartSeries['line'], number[] | undefined>> = {
  solid: undefined,
  dashed: [10, 5],
  dotted: [2, 4],
};

/** The theme's colours now (the variables follow `prefers-color-scheme` and the toggle). */
function themeColour(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || 'currentColor';
}

/** Re-renders when the theme changes: the toggle (html[data-theme]) or the system setting. */
function useThemeGeneration(): number {
  const [gen, setGen] = useState(0);
  useEffect(() => {
    const bump = (): void => setGen((g) => g + 1);
    const media = matchMedia('(prefers-color-scheme: dark)');
    media.addEventListener('change', bump);
    const observer = new MutationObserver(bump);
    observer.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    return () => {
      media.removeEventListener('change', bump);
      observer.disconnect();
    };
  }, []);
  return gen;
}

/** A number for people: integers as they are, others to 3 significant digits. */
export function formatValue(v: number | null | undefined, unit = ''): string {
  if (v === null || v === undefined) return '—';
  const text = Number.isInteger(v) ? v.toLocaleString('en') : Number(v.toPrecision(3)).toLocaleString('en');
  return unit === '' ? text : `${text} ${unit}`;
}

function Canvas(props: {
  buckets: readonly string[];
  series: readonly ChartSeries[];
  unit: string;
  label: string;
}): VNode {
  const host = useRef<HTMLDivElement>(null);
  const theme = useThemeGeneration();
  useEffect(() => {
    const el = host.current;
    if (el === null) return undefined;
    const fg = themeColour('--fg');
    const grid = themeColour('--border');
    const xs = props.buckets.map((b) => Date.parse(b) / 1000);
    const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const plot = new uPlot(
      {
        width: Math.max(280, el.clientWidth),
        height: 220,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true } },
        axes: [axis, { ...axis, label: props.unit, size: 60 }],
        series: [
          {},
          ...props.series.map((s) => {
            const dash = DASH[s.line];
            return {
              label: s.label,
              stroke: themeColour(s.colour),
              width: 2,
              ...(dash !== undefined ? { dash } : {}),
              spanGaps: false,
              points: { show: true, size: 4 },
            };
          }),
        ],
      },
      [xs, ...props.series.map((s) => [...s.values])] as uPlot.AlignedData,
      el,
    );
    return () => plot.destroy();
  }, [props.buckets, props.series, theme]);
  // The canvas repeats what the caption and the table say in words: hidden from assistive tech.
  return html`<div class="chart-canvas" ref=${host} aria-hidden="true" data-chart=${props.label}></div>`;
}

/**
 * A chart in a `<figure>`: heading, summary (the caption), legend in words, the canvas, and the
 * data as a table in a disclosure (buckets with any value only; all empty: said so).
 */
export function Chart(props: {
  id: string;
  title: string;
  summary: string;
  unit: string;
  buckets: readonly string[];
  series: readonly ChartSeries[];
}): VNode {
  const rows = props.buckets
    .map((b, i) => ({ b, values: props.series.map((s) => s.values[i] ?? null) }))
    .filter((r) => r.values.some((v) => v !== null && v !== 0));
  return html`<figure class="chart" aria-labelledby=${`${props.id}-h`}>
    <h3 id=${`${props.id}-h`}>${props.title}</h3>
    <figcaption>${props.summary}</figcaption>
    <ul class="legend">
      ${props.series.map(
        (s) =>
          html`<li>
            <span class=${`swatch swatch${s.colour} swatch-${s.line}`} aria-hidden="true"></span>
            ${s.label} <span class="muted">(${s.line} line)</span>
          </li>`,
      )}
    </ul>
    <${Canvas} buckets=${props.buckets} series=${props.series} unit=${props.unit} label=${props.title} />
    <details>
      <summary>${props.title}: the data as a table</summary>
      ${
        rows.length === 0
          ? html`<p>Nothing in this period.</p>`
          : html`<div class="table-wrap">
              <table>
                <caption>
                  ${props.title}${props.unit !== '' ? ` (${props.unit})` : ''}, per period starting at
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Period start</th>
                    ${props.series.map((s) => html`<th scope="col">${s.label}</th>`)}
                  </tr>
                </thead>
                <tbody>
                  ${rows.map(
                    (r) =>
                      html`<tr key=${r.b}>
                        <th scope="row">${formatTime(r.b)}</th>
                        ${r.values.map((v) => html`<td>${formatValue(v)}</td>`)}
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
      }
    </details>
  </figure>`;
}
