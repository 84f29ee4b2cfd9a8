/**
 * @module cli/report — `weir report [--since 30d] --out FILE [--format html|json|pdf]`: the
 * evidence report of a period, from the data dir's store read directly (`--data-dir`, read-only:
 * no lock taken, nothing written, so a running server may hold it) or from a server
 * (`GET /weir/v1/report`, the local one or `--endpoint-url`, signed with the credentials file).
 * HTML is one self-contained file; PDF is that HTML printed by headless Chromium. docs/report.md.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { extname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_ACCOUNT_ID } from '../api/index.js';
import { AUDIT_PUBLIC_KEY_FILE, readPublicKey } from '../audit/index.js';
import { WeirError } from '../model/index.js';
import { checkBundleSources, loadPolicySet } from '../policy/index.js';
import type { PolicySet } from '../policy/index.js';
import {
  buildReport,
  DEFAULT_SINCE,
  findChromium,
  printPdf,
  renderReportHtml,
  reportSince,
} from '../report/index.js';
import type { ReportDocument } from '../report/index.js';
import { openSqliteStore } from '../store/index.js';
import type { Store } from '../store/index.js';
import { apiOptions, callWeirApi, resolveApiTarget } from './weir-api-client.js';
import type { ApiFlags } from './weir-api-client.js';

/** The options of `weir report`, as commander hands them over. */
export interface ReportFlags extends ApiFlags {
  since?: string;
  out?: string;
  format?: string;
  dataDir?: string;
  policy?: string;
  account?: string;
  publicKey?: string;
  chromium?: string;
}

/** What `runReport` may be handed in tests. */
export interface ReportIo {
  readonly write: (s: string) => void;
  readonly now?: () => Date;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const FORMATS = ['html', 'json', 'pdf'] as const;
type Format = (typeof FORMATS)[number];
const EXTENSIONS: Readonly<Record<string, Format>> = {
  '.html': 'html',
  '.htm': 'html',
  '.json': 'json',
  '.pdf': 'pdf',
};

/** The format: `--format`, else the file's extension; a usage error when neither says. */
export function reportFormat(format: string | undefined, out: string): Format {
  if (format !== undefined) {
    if ((FORMATS as readonly string[]).includes(format)) return format as Format;
    throw new WeirError('BAD_OPTION', `--format must be one of ${FORMATS.join(', ')}, got '${format}'`);
  }
  const byExt = EXTENSIONS[extname(out).toLowerCase()];
  if (byExt !== undefined) return byExt;
  throw new WeirError(
    'BAD_OPTION',
    `--out ${out}: say the format with --format html|json|pdf, or end the file name in .html, .json or .pdf`,
  );
}

/**
 * The policy set a data dir's server enforces: `--policy DIR` when it runs with one, else the
 * bundle applied last. The stored bundle was verified when applied; its sources are loaded here
 * as they are (the server's bundle keys are not in the data dir).
 */
async function dataDirPolicy(
  store: Store,
  flags: ReportFlags,
  now: Date,
): Promise<{ set: PolicySet | undefined; source: string }> {
  if (flags.policy !== undefined) {
    const loaded = loadPolicySet(resolve(flags.policy));
    const errors = loaded.diagnostics.filter((d) => d.severity === 'error' && d.code !== 'expired');
    if (errors.length > 0) {
      const e = errors[0];
      throw new WeirError(
        'BAD_OPTION',
        `--policy ${flags.policy}: ${errors.length} error(s) in the policy files; first: ${e?.file}:${e?.line}:${e?.col}: ${e?.message}`,
      );
    }
    return { set: loaded.set, source: `policy directory ${resolve(flags.policy)}` };
  }
  const b = await store.transaction(undefined, (tx) => tx.getPolicyBundle(), { readOnly: true });
  if (b === undefined)
    return {
      set: undefined,
      source: 'no policy bundle applied (give --policy DIR if the server runs with one)',
    };
  let sources: unknown;
  try {
    sources = (JSON.parse(b.bytes.toString('utf8')) as { sources?: unknown }).sources;
  } catch {
    sources = undefined;
  }
  if (!Array.isArray(sources)) {
    return { set: undefined, source: `policy bundle version ${b.version} (stored bytes unreadable)` };
  }
  const checked = checkBundleSources(sources as { path: string; text: string }[], {
    now: now.getTime(),
    allowExpired: true,
  });
  return { set: checked.set, source: `policy bundle version ${b.version} (${b.hash})` };
}

function auditKey(flags: ReportFlags, dataDir: string): KeyObject | undefined {
  if (flags.publicKey !== undefined) return readPublicKey(flags.publicKey);
  const own = join(dataDir, AUDIT_PUBLIC_KEY_FILE);
  return existsSync(own) ? readPublicKey(own) : undefined;
}

async function fromDataDir(flags: ReportFlags, since: Date, now: Date): Promise<ReportDocument> {
  const dataDir = resolve(flags.dataDir ?? '.');
  const file = join(dataDir, 'weir.sqlite');
  if (!existsSync(file)) {
    throw new WeirError(
      'BAD_OPTION',
      `--data-dir ${dataDir}: no Weir store (weir.sqlite) there; give the server's --data-dir, or --endpoint-url URL`,
    );
  }
  const key = auditKey(flags, dataDir);
  // Read-only: no lock, no write, no migration; a running server may hold the store meanwhile.
  const store = openSqliteStore({ file, readOnly: true });
  try {
    const policy = await dataDirPolicy(store, flags, now);
    return await buildReport({
      store,
      account: flags.account ?? DEFAULT_ACCOUNT_ID,
      set: policy.set,
      policySource: policy.source,
      source: { kind: 'data-dir', dataDir },
      since,
      now,
      ...(key !== undefined ? { auditPublicKey: key } : {}),
      ...(flags.region !== undefined ? { region: flags.region } : {}),
    });
  } finally {
    await store.close();
  }
}

async function fromServer(
  flags: ReportFlags,
  sinceText: string,
  env: ReportIo['env'],
): Promise<ReportDocument> {
  if (flags.policy !== undefined || flags.account !== undefined || flags.publicKey !== undefined) {
    throw new WeirError(
      'BAD_OPTION',
      '--policy, --account and --public-key are for --data-dir mode: a server reports on what it enforces',
    );
  }
  const target = resolveApiTarget(flags, env ?? process.env);
  const doc = await callWeirApi(target, { method: 'GET', resource: 'report', query: { since: sinceText } });
  if (doc.format !== 'weir.report/v1') {
    throw new WeirError(
      'BAD_RESPONSE',
      `${target.endpoint.href} answered no weir.report/v1 document (an older server?)`,
    );
  }
  const report = doc as unknown as ReportDocument;
  return { ...report, source: { kind: 'server', endpoint: target.endpoint.href } };
}

/** Writes `data` to `out` whole: a temp file renamed over it, so a reader never sees half a report. */
function writeWhole(out: string, data: string | Buffer): void {
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, out);
}

/** `weir report`: builds the report and writes it to `--out`; exit 0. */
export async function runReport(flags: ReportFlags, io: ReportIo): Promise<number> {
  if (flags.out === undefined || flags.out === '') {
    throw new WeirError(
      'BAD_OPTION',
      '--out FILE is required (e.g. --out report.html; .json and .pdf work too)',
    );
  }
  const out = resolve(flags.out);
  const format = reportFormat(flags.format, out);
  const now = io.now?.() ?? new Date();
  const sinceText = flags.since ?? DEFAULT_SINCE;
  const period = reportSince(sinceText, now);
  if (!period.ok) throw new WeirError('BAD_OPTION', `--since ${period.problem}`);
  // Found before the report is built: a missing browser is known before any work is done.
  const chromium = format === 'pdf' ? findChromium(flags.chromium, io.env ?? process.env) : undefined;
  const report =
    flags.dataDir !== undefined
      ? await fromDataDir(flags, period.since, now)
      : await fromServer(flags, sinceText, io.env);
  if (format === 'json') writeWhole(out, `${JSON.stringify(report, null, 2)}\n`);
  else if (format === 'html') writeWhole(out, renderReportHtml(report));
  else await printPdf(chromium ?? '', renderReportHtml(report), out);
  const size = readFileSync(out).length;
  io.write(
    `wrote ${out} (${format}, ${Math.max(1, Math.round(size / 1024))} KiB): ${report.period.since} to ${report.period.until}, ${report.access.length} workloads, audit chain ${report.audit.intact ? 'intact' : 'BROKEN'}\n`,
  );
  return 0;
}

/** Registers `weir report` on the `weir` program. */
export function registerReportCommand(program: Command): void {
  apiOptions(
    program
      .command('report')
      .description(
        'The evidence report of a period (access and why, expiries, exceptions, break-glass, audit chain, bundles): HTML, JSON or PDF.',
      )
      .option(
        '--since <time>',
        'the period: a duration back (30d, 12h) or an ISO 8601 time, at most 366d',
        DEFAULT_SINCE,
      )
      .option('--out <file>', 'where to write the report (required)')
      .option('--format <format>', 'html, json or pdf (default: from the --out extension)')
      .option(
        '--data-dir <dir>',
        "read this data dir's store directly, read-only (a running server may hold it); else ask the server",
      )
      .option(
        '--policy <dir>',
        '--data-dir mode: the policy directory the server enforces (default: the stored bundle)',
      )
      .option(
        '--account <id>',
        `--data-dir mode: the gateway account (weir serve --gateway-account; default ${DEFAULT_ACCOUNT_ID})`,
      )
      .option(
        '--public-key <file>',
        `--data-dir mode: the audit digests' key (default: DATA/${AUDIT_PUBLIC_KEY_FILE})`,
      )
      .option(
        '--chromium <path>',
        'the Chromium for --format pdf (default: WEIR_CHROMIUM, else chromium on PATH)',
      ),
  ).action(async (flags: ReportFlags) => {
    process.exitCode = await runReport(flags, { write: (s) => process.stdout.write(s) });
  });
}
