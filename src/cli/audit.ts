/**
 * @module cli/audit — `weir audit log|verify|export`: the audit trail, read from the data dir's
 * store directly (`--data-dir`, read-only: it takes no lock and writes nothing, so it works
 * with or without a server running) or from a server (`--endpoint-url` / `--profile`, the Weir
 * API's `GET audit` and `GET audit/verify`, any role of the gateway account). docs/audit.md.
 */
import { existsSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { AUDIT_PUBLIC_KEY_FILE, parseSince, readPublicKey, verifyAuditTrail } from '../audit/index.js';
import type { AuditVerification } from '../audit/index.js';
import { WeirError } from '../model/index.js';
import { openSqliteStore } from '../store/index.js';
import type { AuditQuery, Store } from '../store/index.js';
import { localDataDirPath } from './ec2/index.js';
import { apiOptions, callWeirApi, resolveApiTarget } from './weir-api-client.js';
import type { ApiFlags } from './weir-api-client.js';
import { renderTable } from './table.js';

type Write = (s: string) => void;

/** The options every `weir audit` command takes. */
export interface AuditFlags extends ApiFlags {
  dataDir?: string;
  output?: string;
}

/** `weir audit log` and `export`. */
export interface AuditLogFlags extends AuditFlags {
  since?: string;
  principal?: string;
  event?: string;
  format?: string;
}

/** `weir audit verify`. */
export interface AuditVerifyFlags extends AuditFlags {
  publicKey?: string;
}

/** One record as the commands handle it. */
interface Listed {
  readonly seq: number;
  readonly event: Record<string, unknown>;
}

const apiMode = (flags: ApiFlags): boolean => flags.endpointUrl !== undefined || flags.profile !== undefined;

function choice(value: string | undefined, option: string, allowed: readonly string[]): string {
  const v = value ?? allowed[0] ?? '';
  if (!allowed.includes(v))
    throw new WeirError('BAD_OPTION', `${option} must be one of ${allowed.join(', ')}, got '${v}'`);
  return v;
}

/** The data dir's store, opened read-only; a problem names the fix. */
async function withDataDir<T>(
  flags: AuditFlags,
  run: (store: Store, dataDir: string) => Promise<T>,
): Promise<T> {
  const dataDir = resolve(flags.dataDir ?? localDataDirPath({ env: process.env, cwd: process.cwd() }));
  const file = join(dataDir, 'weir.sqlite');
  if (!existsSync(file)) {
    throw new WeirError(
      'BAD_OPTION',
      `--data-dir ${dataDir}: no Weir store (weir.sqlite) there; give the server's --data-dir, or --endpoint-url URL`,
    );
  }
  const store = openSqliteStore({ file, readOnly: true });
  try {
    return await run(store, dataDir);
  } catch (err) {
    if (err instanceof Error && /no such table: audit_/.test(err.message)) {
      throw new WeirError(
        'BAD_OPTION',
        `${file} has no audit trail yet: it was last opened by a weir serve older than the audit trail (start this version once)`,
      );
    }
    throw err;
  } finally {
    await store.close();
  }
}

/** The records matching `flags`, from the store or the server, in seq order. */
async function listRecords(flags: AuditLogFlags): Promise<Listed[]> {
  let since: Date | undefined;
  if (flags.since !== undefined) {
    since = parseSince(flags.since, new Date());
    if (since === undefined) {
      throw new WeirError(
        'BAD_OPTION',
        `--since must be an ISO 8601 time or a duration such as 24h or 7d, got '${flags.since}'`,
      );
    }
  }
  if (apiMode(flags)) {
    const target = resolveApiTarget(flags);
    const out: Listed[] = [];
    const query: Record<string, string> = {
      ...(since !== undefined ? { since: since.toISOString() } : {}),
      ...(flags.principal !== undefined ? { principal: flags.principal } : {}),
      ...(flags.event !== undefined ? { event: flags.event } : {}),
    };
    for (let after: number | undefined = 0; after !== undefined;) {
      const page = await callWeirApi(target, {
        method: 'GET',
        resource: 'audit',
        query: { ...query, after: String(after) },
      });
      out.push(...((page.records ?? []) as Listed[]));
      after = typeof page.nextAfter === 'number' ? page.nextAfter : undefined;
    }
    return out;
  }
  const q: AuditQuery = {
    ...(since !== undefined ? { since } : {}),
    ...(flags.principal !== undefined ? { principal: flags.principal } : {}),
    ...(flags.event !== undefined ? { eventName: flags.event } : {}),
  };
  return withDataDir(flags, (store) =>
    store.transaction(
      undefined,
      async (tx) =>
        (await tx.listAuditRecords(q)).map((r) => ({
          seq: r.seq,
          event: JSON.parse(r.event) as Record<string, unknown>,
        })),
      { readOnly: true },
    ),
  );
}

/** `weir audit log`: a table (seq, time, principal, event, source, result) or CloudTrail's `{"Records":[…]}`. */
export async function runAuditLog(flags: AuditLogFlags, write: Write): Promise<number> {
  const format = choice(flags.output, '--output', ['table', 'json']);
  const records = await listRecords(flags);
  if (format === 'json') {
    write(`${JSON.stringify({ Records: records.map((r) => r.event) }, null, 2)}\n`);
    return 0;
  }
  const rows = records.map((r) => {
    const e = r.event;
    const who = e['userIdentity'] as Record<string, unknown> | undefined;
    return [
      String(r.seq),
      String(e['eventTime']),
      String(who?.['principal'] ?? ''),
      String(e['eventName']),
      String(e['eventSource']),
      e['errorCode'] !== undefined ? String(e['errorCode']) : e['readOnly'] === true ? 'read' : 'ok',
    ];
  });
  write(renderTable(['SEQ', 'TIME', 'PRINCIPAL', 'EVENT', 'SOURCE', 'RESULT'], rows));
  return 0;
}

/** `weir audit export`: one CloudTrail record per line (JSON Lines). */
export async function runAuditExport(flags: AuditLogFlags, write: Write): Promise<number> {
  choice(flags.format, '--format', ['jsonl']);
  for (const r of await listRecords(flags)) write(`${JSON.stringify(r.event)}\n`);
  return 0;
}

/** The public key digests are checked with: `--public-key`, else the data dir's own. */
function publicKeyFor(flags: AuditVerifyFlags, dataDir: string): KeyObject | undefined {
  if (flags.publicKey !== undefined) return readPublicKey(flags.publicKey);
  const own = join(dataDir, AUDIT_PUBLIC_KEY_FILE);
  return existsSync(own) ? readPublicKey(own) : undefined;
}

/** What `verify` prints for people. */
function verificationText(v: AuditVerification, keyChecked: boolean): string {
  const p = v.problem;
  if (p !== undefined) {
    const id = p.eventId !== undefined ? ` (eventID ${p.eventId})` : '';
    return `audit trail NOT intact: record seq ${p.seq}${id}: ${p.reason}\n`;
  }
  const lines = [
    `audit trail intact: ${v.records} records (seq 1–${v.lastSeq}), ${v.digests} signed digests`,
  ];
  if (v.lastDigest !== undefined)
    lines.push(`last digest ${v.lastDigest.seq} signs seq ${v.lastDigest.lastSeq} at ${v.lastDigest.time}`);
  if (v.unsigned > 0)
    lines.push(
      `${v.unsigned} records after the last digest are not signed yet (a digest follows within 5 minutes)`,
    );
  if (!keyChecked) lines.push('no public key: digest signatures were not checked (pass --public-key FILE)');
  return `${lines.join('\n')}\n`;
}

/** `weir audit verify`: exit 0 when intact, 1 naming the first bad record. */
export async function runAuditVerify(flags: AuditVerifyFlags, write: Write): Promise<number> {
  const format = choice(flags.output, '--output', ['text', 'json']);
  let v: AuditVerification;
  let keyChecked = true;
  if (apiMode(flags)) {
    if (flags.publicKey !== undefined) {
      throw new WeirError(
        'BAD_OPTION',
        '--public-key is for --data-dir mode: through the API the server checks with its own key',
      );
    }
    v = (await callWeirApi(resolveApiTarget(flags), {
      method: 'GET',
      resource: 'audit/verify',
    })) as unknown as AuditVerification;
  } else {
    v = await withDataDir(flags, async (store, dataDir) => {
      const key = publicKeyFor(flags, dataDir);
      keyChecked = key !== undefined;
      return verifyAuditTrail(store, key);
    });
  }
  write(format === 'json' ? `${JSON.stringify(v, null, 2)}\n` : verificationText(v, keyChecked));
  return v.ok ? 0 : 1;
}

const DATA_DIR_HELP =
  'read the store of this data dir directly, read-only (default: WEIR_DATA_DIR, else ./weir-data)';

/** `weir audit export | head` closes the pipe early: that ends the export, it is no error. */
function quietOnClosedPipe(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

/** Registers `weir audit` on the `weir` program. */
export function registerAuditCommands(program: Command): void {
  const audit = program
    .command('audit')
    .description(
      'The audit trail: log, verify (hash chain and signed digests), export as CloudTrail records.',
    );
  const filters = (cmd: Command): Command =>
    cmd
      .option(
        '--since <time>',
        'records from this time: ISO 8601 (2026-12-06T10:00:00Z) or a duration back (24h, 7d)',
      )
      .option(
        '--principal <name>',
        'records of this principal only (weir_principal, or local:USER for data-dir CLI writes)',
      )
      .option('--event <name>', 'records of this event only (CreateSecurityGroup, IssueToken …)')
      .option('--data-dir <dir>', DATA_DIR_HELP);
  apiOptions(
    filters(
      audit.command('log').description('List audit records: a table, or CloudTrail JSON ({"Records":[…]}).'),
    ).option('--output <format>', 'table or json', 'table'),
  ).action(async (flags: AuditLogFlags) => {
    quietOnClosedPipe();
    process.exitCode = await runAuditLog(flags, (s) => process.stdout.write(s));
  });
  apiOptions(
    audit
      .command('verify')
      .description(
        'Check the hash chain and the signed digests: exit 0 intact, 1 naming the first bad record.',
      )
      .option('--data-dir <dir>', DATA_DIR_HELP)
      .option(
        '--public-key <file>',
        `check digest signatures with this key (default: DATA/${AUDIT_PUBLIC_KEY_FILE})`,
      )
      .option('--output <format>', 'text or json', 'text'),
  ).action(async (flags: AuditVerifyFlags) => {
    process.exitCode = await runAuditVerify(flags, (s) => process.stdout.write(s));
  });
  apiOptions(
    filters(
      audit
        .command('export')
        .description('Write audit records as CloudTrail records, one JSON object per line.'),
    ).option('--format <format>', 'jsonl', 'jsonl'),
  ).action(async (flags: AuditLogFlags) => {
    quietOnClosedPipe();
    process.exitCode = await runAuditExport(flags, (s) => process.stdout.write(s));
  });
}
