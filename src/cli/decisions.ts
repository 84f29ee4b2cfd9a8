/**
 * @module cli/decisions — `weir decisions`: the gateway's recent decisions as a table (time,
 * decision, identity, destination, reason, decision ID) or JSON lines, from the running server
 * (`GET /weir/v1/decisions`, signed like every client command) or from a decision log file
 * (`--file`). `--follow` polls for new ones until SIGINT/SIGTERM.
 */
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { DECISION_KINDS, MAX_DECISIONS_LIMIT } from '../api/index.js';
import type { DecisionRecord } from '../api/index.js';
import type { GrantRef } from '../policy-types/index.js';
import { canonicalAddress, denialAdvice, WeirError } from '../model/index.js';
import { apiOptions, callWeirApi, resolveApiTarget } from './weir-api-client.js';
import type { ApiFlags } from './weir-api-client.js';

/** The options of `weir decisions`, as commander hands them over. */
export interface DecisionsFlags extends ApiFlags {
  follow?: boolean;
  identity?: string;
  decision?: string;
  destination?: string;
  reason?: string;
  since?: string;
  until?: string;
  limit?: string;
  output?: string;
  file?: string;
}

/** I/O of `runDecisions`, replaceable in tests. */
export interface DecisionsIo {
  readonly write: (s: string) => void;
  /** Stops `--follow`. */
  readonly signal?: AbortSignal;
  /** Between two polls of `--follow`; default 1 s. */
  readonly pollMs?: number;
  readonly now?: () => number;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
}

const OUTPUTS = ['table', 'json'] as const;
const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

interface Selection {
  readonly identity?: string;
  readonly decision?: string;
  readonly destination?: string;
  readonly reason?: string;
  readonly since?: number;
  readonly until?: number;
  readonly limit: number;
}

/** `--since` or `--until`: a duration back from now (`30s`, `15m`, `2h`, `1d`) or an ISO 8601 time. */
export function parseSince(text: string, now: number, flag = '--since'): number {
  const d = /^(\d{1,9})(s|m|h|d)$/.exec(text);
  if (d) return now - Number(d[1]) * UNITS[d[2]!]!;
  const t = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(t)) {
    throw new WeirError(
      'InvalidArgument',
      `${flag} must be a duration (30s, 15m, 2h, 1d) or a time (2026-12-01T10:00:00Z), got '${text}'`,
    );
  }
  return t;
}

function selection(flags: DecisionsFlags, now: number): Selection {
  if (flags.decision !== undefined && !(DECISION_KINDS as readonly string[]).includes(flags.decision)) {
    throw new WeirError(
      'InvalidArgument',
      `--decision must be one of ${DECISION_KINDS.join(', ')}, got '${flags.decision}'`,
    );
  }
  let limit = 50;
  if (flags.limit !== undefined) {
    limit = /^\d{1,6}$/.test(flags.limit) ? Number(flags.limit) : 0;
    if (limit < 1 || limit > MAX_DECISIONS_LIMIT) {
      throw new WeirError(
        'InvalidArgument',
        `--limit must be an integer from 1 to ${MAX_DECISIONS_LIMIT}, got '${flags.limit}'`,
      );
    }
  }
  return {
    limit,
    ...(flags.identity !== undefined ? { identity: flags.identity } : {}),
    ...(flags.decision !== undefined ? { decision: flags.decision } : {}),
    ...(flags.destination !== undefined ? { destination: flags.destination } : {}),
    ...(flags.reason !== undefined ? { reason: flags.reason } : {}),
    ...(flags.since !== undefined ? { since: parseSince(flags.since, now) } : {}),
    ...(flags.until !== undefined ? { until: parseSince(flags.until, now, '--until') } : {}),
  };
}

/** `host:port (ip)`, `ip:port` or `host:port`, as a reader names a destination. */
function destination(r: DecisionRecord): string {
  const port = r.port !== undefined ? `:${r.port}` : '';
  const ip = r.ip !== undefined && r.ip.includes(':') ? `[${r.ip}]` : r.ip;
  if (r.host !== undefined && r.host !== r.ip)
    return `${r.host}${port}${r.ip !== undefined ? ` (${r.ip})` : ''}`;
  return ip !== undefined ? `${ip}${port}` : '-';
}

/**
 * A JSON row of a denial an exception could fix, with `exceptionRequest`: the same
 * `weir exception request …` command the gateway's 403 body printed for it. The destination is
 * the name the client asked for (a rule matches it by name), else the address; the gateway
 * carries only TCP. Other rows are returned as they are.
 */
export function withRequestCommand(r: DecisionRecord): DecisionRecord & { exceptionRequest?: string } {
  if (r.decision !== 'deny' || r.identity === undefined || r.reason === undefined || r.port === undefined) {
    return r;
  }
  // The log names an IP-literal destination in its URL spelling (`[2001:db8::1]`, `10.0.0.1`).
  const h = r.host;
  const bare = h !== undefined && h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
  const literal = bare === undefined ? undefined : canonicalAddress(bare);
  const where =
    r.host !== undefined && literal === undefined ? { host: r.host } : { ip: literal?.ip ?? r.ip ?? '' };
  if ('ip' in where && where.ip === '') return r;
  const a = denialAdvice(r.reason, r.identity, { ...where, port: r.port, protocol: 'tcp' }, r.ip);
  return a?.kind === 'template' ? { ...r, exceptionRequest: a.template.command } : r;
}

const HEAD = ['TIME', 'DECISION', 'IDENTITY', 'DESTINATION', 'REASON', 'DECISION ID'];

/**
 * `exception exc-… (requested by A, approved by B, expires T, reason "…")`: who let it through.
 * The reason is quoted as JSON, so a control character in it cannot rewrite the terminal.
 */
export function grantText(g: GrantRef): string {
  const approved = g.approver !== undefined ? `, approved by ${JSON.stringify(g.approver).slice(1, -1)}` : '';
  return (
    `${g.kind} ${g.id} (requested by ${JSON.stringify(g.requester).slice(1, -1)}${approved}, ` +
    `expires ${g.expires}, reason ${JSON.stringify(g.reason)})`
  );
}

/** The `grant` of a decision log line, when it has the shape the gateway writes. */
function grantOf(o: Record<string, unknown>): { grant: GrantRef } | Record<string, never> {
  const g = o.grant as Record<string, unknown> | null | undefined;
  if (g === null || typeof g !== 'object') return {};
  const s = (k: string): string | undefined => (typeof g[k] === 'string' ? g[k] : undefined);
  const kind = s('kind');
  const [id, requester, reason, expires] = [s('id'), s('requester'), s('reason'), s('expires')];
  if ((kind !== 'exception' && kind !== 'breakglass') || id === undefined || requester === undefined)
    return {};
  if (reason === undefined || expires === undefined) return {};
  const approver = s('approver');
  return { grant: { kind, id, requester, ...(approver !== undefined ? { approver } : {}), reason, expires } };
}

function row(r: DecisionRecord): string[] {
  return [
    r.at.replace(/\.\d{3}Z$/, 'Z'),
    r.decision,
    r.identity ?? '-',
    destination(r),
    r.grant !== undefined ? grantText(r.grant) : (r.reason ?? '-'),
    r.decisionId,
  ];
}

/** Writes records as JSON lines or table rows; the table's header once, widths per batch. */
function printer(output: string, write: (s: string) => void): (rs: readonly DecisionRecord[]) => void {
  let headed = false;
  return (rs) => {
    if (output === 'json') {
      for (const r of rs) write(`${JSON.stringify(withRequestCommand(r))}\n`);
      return;
    }
    const rows = headed ? rs.map(row) : [HEAD, ...rs.map(row)];
    headed = true;
    if (rows.length === 0) return;
    const widths = HEAD.map((_, i) => Math.max(...rows.map((c) => c[i]!.length)));
    for (const c of rows)
      write(`${c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]!))).join('  ')}\n`);
  };
}

function matches(r: DecisionRecord, s: Selection): boolean {
  return (
    (s.identity === undefined || r.identity === s.identity) &&
    (s.decision === undefined || r.decision === s.decision) &&
    (s.destination === undefined || r.host === s.destination || r.ip === s.destination) &&
    (s.reason === undefined || r.reason === s.reason) &&
    (s.since === undefined || Date.parse(r.at) >= s.since) &&
    (s.until === undefined || Date.parse(r.at) < s.until)
  );
}

/** A decision line of the log as a record; other lines (closes, the API's) are skipped. */
function fromLine(line: string, seq: number): DecisionRecord | undefined {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (o === null || typeof o !== 'object' || o.msg !== 'decision' || typeof o.decisionId !== 'string')
    return undefined;
  const str = (k: string): Record<string, string> => (typeof o[k] === 'string' ? { [k]: o[k] } : {});
  return {
    seq,
    at: typeof o.at === 'string' ? o.at : new Date(Number(o.time)).toISOString(),
    decisionId: o.decisionId,
    decision: typeof o.decision === 'string' ? o.decision : 'error',
    src: typeof o.src === 'string' ? o.src : '',
    protocol: typeof o.protocol === 'string' ? o.protocol : '',
    ...str('identity'),
    ...str('host'),
    ...(typeof o.ip === 'string' && o.ip !== '' ? { ip: o.ip } : {}),
    ...(typeof o.port === 'number' ? { port: o.port } : {}),
    ...str('reason'),
    ...str('policy'),
    ...str('ruleId'),
    ...grantOf(o),
  };
}

/**
 * Where the last complete line of `file` between `from` and `size` ends: a last line without its
 * newline may still be being written, and is left for the next read.
 */
function completeLinesEnd(file: string, from: number, size: number): number {
  const tailStart = Math.max(from, size - 65_536);
  const buf = Buffer.alloc(size - tailStart);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, buf.length, tailStart);
  } finally {
    closeSync(fd);
  }
  const nl = buf.lastIndexOf(10);
  if (nl >= 0) return tailStart + nl + 1;
  // No newline in the last 64 KiB: nothing complete if that was all, else one long line ends here.
  return tailStart === from ? from : size;
}

/** Reads `file` from byte `start`: the matching records (the last `limit`), and where it ended. */
async function readLog(
  file: string,
  start: number,
  s: Selection,
): Promise<{ records: DecisionRecord[]; end: number }> {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw new WeirError('InvalidArgument', `--file ${file}: no such file`);
  }
  // Rotated (shorter than where we were): read the new file from its start.
  const from = size < start ? 0 : start;
  const end = completeLinesEnd(file, from, size);
  if (end === from) return { records: [], end: from };
  const records: DecisionRecord[] = [];
  const lines = createInterface({
    input: createReadStream(file, { start: from, end: end - 1 }),
    crlfDelay: Infinity,
  });
  let n = 0;
  for await (const line of lines) {
    const r = fromLine(line, ++n);
    if (r === undefined || !matches(r, s)) continue;
    records.push(r);
    // Only the newest `limit` are kept, so a large log costs a pass, not its size in memory.
    if (records.length > s.limit) records.shift();
  }
  return { records, end };
}

/** Follows `next` until the signal: each poll's records printed. */
async function follow(
  io: DecisionsIo,
  next: () => Promise<readonly DecisionRecord[]>,
  print: (rs: readonly DecisionRecord[]) => void,
): Promise<void> {
  while (io.signal?.aborted !== true) {
    try {
      await sleep(io.pollMs ?? 1000, undefined, io.signal !== undefined ? { signal: io.signal } : {});
    } catch {
      return;
    }
    print(await next());
  }
}

/**
 * `weir decisions`: prints the selected recent decisions, oldest first, and with `--follow` the
 * new ones as they come. Returns 0; usage and connection problems throw `WeirError` (exit 2).
 */
export async function runDecisions(flags: DecisionsFlags, io: DecisionsIo): Promise<number> {
  const output = flags.output ?? 'table';
  if (!(OUTPUTS as readonly string[]).includes(output)) {
    throw new WeirError('InvalidArgument', `--output must be one of ${OUTPUTS.join(', ')}, got '${output}'`);
  }
  const sel = selection(flags, (io.now ?? Date.now)());
  const print = printer(output, io.write);
  if (flags.file !== undefined) {
    if (flags.endpointUrl !== undefined || flags.profile !== undefined) {
      throw new WeirError(
        'InvalidArgument',
        '--file reads a log file; --endpoint-url and --profile ask a server: give one',
      );
    }
    const file = flags.file;
    const first = await readLog(file, 0, sel);
    print(first.records);
    let at = first.end;
    if (flags.follow === true) {
      await follow(
        io,
        async () => {
          const more = await readLog(file, at, { ...sel, limit: MAX_DECISIONS_LIMIT });
          at = more.end;
          return more.records;
        },
        print,
      );
    }
    return 0;
  }
  const target = resolveApiTarget(flags, io.env ?? process.env, io.cwd ?? process.cwd());
  const ask = async (q: Record<string, string>): Promise<{ decisions: DecisionRecord[]; last: number }> => {
    const out = await callWeirApi(target, { method: 'GET', resource: 'decisions', query: q });
    return { decisions: (out.decisions ?? []) as DecisionRecord[], last: Number(out.last ?? 0) };
  };
  const base: Record<string, string> = {
    ...(sel.identity !== undefined ? { identity: sel.identity } : {}),
    ...(sel.decision !== undefined ? { decision: sel.decision } : {}),
    ...(sel.destination !== undefined ? { destination: sel.destination } : {}),
    ...(sel.reason !== undefined ? { reason: sel.reason } : {}),
    ...(sel.since !== undefined ? { since: new Date(sel.since).toISOString() } : {}),
    ...(sel.until !== undefined ? { until: new Date(sel.until).toISOString() } : {}),
  };
  const first = await ask({ ...base, limit: String(sel.limit) });
  print(first.decisions);
  let last = first.last;
  if (flags.follow === true) {
    await follow(
      io,
      async () => {
        const more = await ask({ ...base, after: String(last), limit: String(MAX_DECISIONS_LIMIT) });
        last = more.last;
        return more.decisions;
      },
      print,
    );
  }
  return 0;
}

/** Registers `weir decisions` on the `weir` program. */
export function registerDecisionsCommand(program: Command): void {
  apiOptions(
    program
      .command('decisions')
      .description(
        "The gateway's recent decisions: from the running server's store, or from a decision log file (--file).",
      ),
  )
    .option('--follow', 'keep printing new decisions until Ctrl-C')
    .option('--identity <id>', 'only this workload identity')
    .option('--decision <kind>', `only this decision: ${DECISION_KINDS.join(' | ')}`)
    .option('--destination <host|ip>', 'only to this host name or IP address (exact)')
    .option('--reason <code>', 'only with this reason (no-match, guardrail, expired, matched …)')
    .option('--since <duration|time>', 'only since 30s, 15m, 2h, 1d ago, or since an ISO 8601 time')
    .option('--until <duration|time>', 'only before 30s, 15m, 2h, 1d ago, or before an ISO 8601 time')
    .option('--limit <n>', `the newest N (1-${MAX_DECISIONS_LIMIT}; default 50)`)
    .option('--output <format>', `output format: ${OUTPUTS.join(' | ')} (json: one object per line)`, 'table')
    .option('--file <path>', "read the gateway's JSON decision log file instead of asking the server")
    .action(async (flags: DecisionsFlags) => {
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        process.exitCode = await runDecisions(flags, {
          write: (s) => process.stdout.write(s),
          signal: stop.signal,
        });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
