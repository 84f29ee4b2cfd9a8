/**
 * @module policy/report — renders a lint report for people (text), for tools (JSON), and for
 * code scanning (SARIF 2.1.0, which GitHub turns into pull-request annotations).
 */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DIAGNOSTIC_CODES } from './diagnostics.js';
import type { Diagnostic, DiagnosticCode } from './diagnostics.js';
import type { LintReport } from './lint.js';

/** The output formats of `weir policy lint`. */
export const REPORT_FORMATS = ['text', 'json', 'sarif'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * One line per finding (`file:line:col: severity code: message (got 'value')`), its hint
 * indented below, and a summary line.
 */
export function formatText(report: LintReport): string {
  const lines: string[] = [];
  for (const d of report.diagnostics) {
    const got = d.value !== undefined ? ` (got '${d.value}')` : '';
    lines.push(`${d.file}:${d.line}:${d.col}: ${d.severity} ${d.code}: ${d.message}${got}`);
    if (d.hint !== undefined) lines.push(`  hint: ${d.hint}`);
  }
  const s = report.stats;
  lines.push(
    `${plural(report.errors, 'error')}, ${plural(report.warnings, 'warning')} ` +
      `(${plural(s.policies, 'policy', 'policies')}, ${plural(s.rules, 'rule')}, ` +
      `${plural(s.workloads, 'registered workload')}, ${plural(s.tests, 'test')})`,
  );
  return `${lines.join('\n')}\n`;
}

/** The report as JSON: counts, stats and every diagnostic. */
export function formatJson(report: LintReport): string {
  return `${JSON.stringify(
    {
      errors: report.errors,
      warnings: report.warnings,
      stats: report.stats,
      diagnostics: report.diagnostics,
    },
    null,
    2,
  )}\n`;
}

function uri(file: string): string {
  return isAbsolute(file) ? pathToFileURL(file).href : file.split('\\').join('/');
}

function region(d: Diagnostic): Record<string, number> {
  const r: Record<string, number> = { startLine: d.line, startColumn: d.col };
  if (d.endLine !== undefined && d.endCol !== undefined && (d.endLine > d.line || d.endCol > d.col)) {
    r.endLine = d.endLine;
    r.endColumn = d.endCol;
  }
  return r;
}

/**
 * The report as SARIF 2.1.0: every code as a rule (with its fix as help), every finding as a
 * result with a physical location. Relative paths stay relative (to the directory lint ran
 * in), which is what GitHub code scanning resolves against the checkout.
 */
export function formatSarif(report: LintReport): string {
  const codes = Object.keys(DIAGNOSTIC_CODES) as DiagnosticCode[];
  const rules = codes.map((code) => {
    const info = DIAGNOSTIC_CODES[code];
    return {
      id: code,
      name: code.replace(/(^|-)([a-z])/g, (_m, _d: string, c: string) => c.toUpperCase()),
      shortDescription: { text: info.title },
      fullDescription: { text: info.title },
      help: { text: info.fix, markdown: info.fix },
      defaultConfiguration: { level: info.severity },
      properties: { tags: ['weir', 'egress-policy'] },
    };
  });
  const results = report.diagnostics.map((d) => ({
    ruleId: d.code,
    ruleIndex: codes.indexOf(d.code),
    level: d.severity,
    message: {
      text: `${d.message}${d.value !== undefined ? ` (got '${d.value}')` : ''}${d.hint !== undefined ? `. Hint: ${d.hint}` : ''}`,
    },
    locations: [
      {
        physicalLocation: {
          artifactLocation: isAbsolute(d.file)
            ? { uri: uri(d.file) }
            : { uri: uri(d.file), uriBaseId: '%SRCROOT%' },
          region: region(d),
        },
      },
    ],
  }));
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'weir-policy-lint',
            rules,
          },
        },
        // yaml counts columns in JavaScript string units.
        columnKind: 'utf16CodeUnits',
        results,
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

/** Renders a report in one of {@link REPORT_FORMATS}. */
export function formatReport(report: LintReport, format: ReportFormat): string {
  return format === 'json'
    ? formatJson(report)
    : format === 'sarif'
      ? formatSarif(report)
      : formatText(report);
}
