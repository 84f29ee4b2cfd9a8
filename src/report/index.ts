/**
 * @module report — the evidence report: `buildReport` reads one period's proof from the store and
 * the policy in force into a versioned JSON document (`weir.report/v1`), `renderReportHtml` makes
 * it one self-contained HTML file, `printPdf` prints that with headless Chromium. Used by
 * `GET /weir/v1/report` and `weir report`. docs/report.md.
 */
export * from './types.js';
export { buildReport, MAX_SECTION_ROWS, CALENDAR_AHEAD_MS } from './build.js';
export type { ReportInput } from './build.js';
export { DEFAULT_SINCE, MAX_PERIOD_MS, reportSince } from './period.js';
export { renderReportHtml } from './html.js';
export { escapeHtml } from './html-kit.js';
export { CHROMIUM_NAMES, findChromium, printPdf } from './pdf.js';
