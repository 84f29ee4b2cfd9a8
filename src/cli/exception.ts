/**
 * @module cli/exception — `weir exception request|approve|deny|revoke|list|show|promote`: the
 * on-ramp from a denial to temporary, approved access, through the Weir API of the running server
 * (`--endpoint-url`, `--profile`, credentials as `weir token` finds them). `request` prints the
 * new ID alone on stdout (for `ID=$(weir exception request …)`); `promote` prints the policy rule
 * to add to the policy files, the way from a temporary exception to reviewed policy.
 */
import type { Command } from 'commander';
import { EXCEPTION_VIEW_STATES, promoteYaml } from '../onramp/index.js';
import { WeirError } from '../model/index.js';
import { apiOptions, callWeirApi, resolveApiTarget } from './weir-api-client.js';
import type { ApiFlags, WeirApiTarget } from './weir-api-client.js';
import { renderTable } from './table.js';

type Write = (s: string) => void;

/** Where a command writes: stdout, and stderr for what a script capturing stdout should not get. */
export interface ExceptionIo {
  readonly out: Write;
  readonly err: Write;
}

/** An exception as the API answers it. */
export interface ExceptionView {
  readonly id: string;
  readonly identity: string;
  readonly destinations: readonly string[];
  readonly reason: string;
  readonly dataClass?: string;
  readonly ttl: string;
  readonly window?: { readonly start: string; readonly end: string };
  readonly requester: string;
  readonly requestedAt: string;
  readonly state: string;
  readonly decidedBy?: string;
  readonly decidedAt?: string;
  readonly comment?: string;
  readonly expires?: string;
  readonly revokedBy?: string;
  readonly revokedAt?: string;
  readonly revokeReason?: string;
}

export interface RequestFlags extends ApiFlags {
  identity: string;
  to: string[];
  reason: string;
  ttl?: string;
  dataClass?: string;
  window?: string;
}

export interface ListFlags extends ApiFlags {
  state?: string;
  identity?: string;
  output?: string;
}

const target = (flags: ApiFlags, given?: WeirApiTarget): WeirApiTarget => given ?? resolveApiTarget(flags);

function outputFormat(value: string | undefined, formats: readonly string[]): string {
  const format = value ?? formats[0] ?? 'table';
  if (!formats.includes(format)) {
    throw new WeirError('BAD_OPTION', `--output must be one of ${formats.join(', ')}, got '${format}'`);
  }
  return format;
}

/** `weir exception request`: prints the new exception's ID alone on stdout. */
export async function runExceptionRequest(
  flags: RequestFlags,
  io: ExceptionIo,
  t?: WeirApiTarget,
): Promise<string> {
  const out = await callWeirApi(target(flags, t), {
    method: 'POST',
    resource: 'exceptions',
    json: {
      identity: flags.identity,
      to: flags.to,
      reason: flags.reason,
      ...(flags.ttl !== undefined ? { ttl: flags.ttl } : {}),
      ...(flags.dataClass !== undefined ? { dataClass: flags.dataClass } : {}),
      ...(flags.window !== undefined ? { window: flags.window } : {}),
    },
  });
  const e = out.exception as ExceptionView;
  io.out(`${e.id}\n`);
  io.err(
    `requested ${e.id} (${e.state}, ${e.ttl} once approved); an approver runs: weir exception approve ${e.id}\n`,
  );
  return e.id;
}

/** `weir exception approve|deny|revoke ID`: says what the exception is now. */
export async function runExceptionDecision(
  action: 'approve' | 'deny' | 'revoke',
  id: string,
  flags: ApiFlags & { ttl?: string; comment?: string; reason?: string },
  io: ExceptionIo,
  t?: WeirApiTarget,
): Promise<ExceptionView> {
  const json: Record<string, string> = { id };
  if (action === 'approve') {
    if (flags.ttl !== undefined) json.ttl = flags.ttl;
    if (flags.comment !== undefined) json.comment = flags.comment;
  } else if (flags.reason !== undefined) json.reason = flags.reason;
  const out = await callWeirApi(target(flags, t), { method: 'POST', resource: `exceptions/${action}`, json });
  const e = out.exception as ExceptionView;
  const done = { approve: 'approved', deny: 'denied', revoke: 'revoked' }[action];
  const until = action === 'approve' && e.expires !== undefined ? `; allows until ${e.expires}` : '';
  io.out(`${done} ${e.id} for ${e.identity} to ${e.destinations.join(', ')}${until}\n`);
  return e;
}

/** `weir exception list`: a table, or JSON. */
export async function runExceptionList(
  flags: ListFlags,
  io: ExceptionIo,
  t?: WeirApiTarget,
): Promise<number> {
  const format = outputFormat(flags.output, ['table', 'json']);
  if (flags.state !== undefined && !(EXCEPTION_VIEW_STATES as readonly string[]).includes(flags.state)) {
    throw new WeirError(
      'BAD_OPTION',
      `--state must be one of ${EXCEPTION_VIEW_STATES.join(', ')}, got '${flags.state}'`,
    );
  }
  const query: Record<string, string> = {};
  if (flags.state !== undefined) query.state = flags.state;
  if (flags.identity !== undefined) query.identity = flags.identity;
  const out = await callWeirApi(target(flags, t), { method: 'GET', resource: 'exceptions', query });
  const list = (out.exceptions ?? []) as ExceptionView[];
  if (format === 'json') {
    io.out(`${JSON.stringify({ exceptions: list }, null, 2)}\n`);
    return 0;
  }
  const header = ['ID', 'State', 'Identity', 'Destinations', 'Requester', 'Approver', 'Expires'];
  const rows = list.map((e) => [
    e.id,
    e.state,
    e.identity,
    e.destinations.join(','),
    e.requester,
    e.decidedBy ?? '-',
    e.expires ?? '-',
  ]);
  io.out(renderTable(header, rows, { rule: true, empty: '(no exceptions)' }));
  return 0;
}

async function fetchException(id: string, flags: ApiFlags, t?: WeirApiTarget): Promise<ExceptionView> {
  const out = await callWeirApi(target(flags, t), {
    method: 'GET',
    resource: 'exceptions/show',
    query: { id },
  });
  return out.exception as ExceptionView;
}

/** `weir exception show ID`: every field, one per line (or JSON). */
export async function runExceptionShow(
  id: string,
  flags: ApiFlags & { output?: string },
  io: ExceptionIo,
  t?: WeirApiTarget,
): Promise<number> {
  const format = outputFormat(flags.output, ['text', 'json']);
  const e = await fetchException(id, flags, t);
  if (format === 'json') {
    io.out(`${JSON.stringify(e, null, 2)}\n`);
    return 0;
  }
  const rows: [string, string | undefined][] = [
    ['id', e.id],
    ['state', e.state],
    ['identity', e.identity],
    ['to', e.destinations.join(', ')],
    ['reason', e.reason],
    ['dataClass', e.dataClass],
    ['ttl', e.ttl],
    ['window', e.window !== undefined ? `${e.window.start}/${e.window.end}` : undefined],
    ['requester', e.requester],
    ['requested', e.requestedAt],
    ['decidedBy', e.decidedBy],
    ['decided', e.decidedAt],
    ['comment', e.comment],
    ['expires', e.expires],
    ['revokedBy', e.revokedBy],
    ['revoked', e.revokedAt],
    ['revokeReason', e.revokeReason],
  ];
  for (const [k, v] of rows) if (v !== undefined) io.out(`${`${k}:`.padEnd(14)}${v}\n`);
  return 0;
}

/** The rule YAML of `weir exception promote` (shared with the Weir API's `exceptions/promote`). */
export { promoteYaml };

/** `weir exception promote ID`: prints the rule YAML to add to the policy files. */
export async function runExceptionPromote(
  id: string,
  flags: ApiFlags,
  io: ExceptionIo,
  t?: WeirApiTarget,
): Promise<number> {
  io.out(promoteYaml(await fetchException(id, flags, t)));
  return 0;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];
const stdio: ExceptionIo = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

/** Registers `weir exception` on the `weir` program. */
export function registerExceptionCommands(program: Command): void {
  const exception = program
    .command('exception')
    .description(
      'Temporary exceptions: request, approve, deny, revoke, list, show, promote (docs/exceptions.md).',
    );
  apiOptions(
    exception
      .command('request')
      .description('Ask for temporary access for a workload; prints the new exception ID alone.')
      .requiredOption('--identity <id>', 'the workload identity (SPIFFE ID or service account)')
      .requiredOption('--to <dest>', 'host[:port][/proto], CIDR:port or pl-…:port (repeatable)', collect)
      .requiredOption('--reason <text>', 'why it is needed (the approver and the audit trail read it)')
      .option(
        '--ttl <duration>',
        'how long once approved: 5s to the policy maximum (default 24h, at most 7d)',
      )
      .option('--data-class <class>', "the data class it is for (must fit the workload's)")
      .option('--window <start/end>', 'ISO 8601 interval: allow only inside this change window'),
  ).action(async (flags: RequestFlags) => {
    await runExceptionRequest(flags, stdio);
  });
  apiOptions(
    exception
      .command('approve <id>')
      .description('Approve a pending exception (never your own): the gateway allows it within 1 s.')
      .option('--ttl <duration>', 'a shorter TTL than requested')
      .option('--comment <text>', 'a comment for the record'),
  ).action(async (id: string, flags: ApiFlags & { ttl?: string; comment?: string }) => {
    await runExceptionDecision('approve', id, flags, stdio);
  });
  for (const [action, what] of [
    ['deny', 'Deny a pending exception.'],
    ['revoke', 'Revoke a pending or active exception (an approver, or its requester withdrawing it).'],
  ] as const) {
    apiOptions(
      exception.command(`${action} <id>`).description(what).requiredOption('--reason <text>', 'why'),
    ).action(async (id: string, flags: ApiFlags & { reason: string }) => {
      await runExceptionDecision(action, id, flags, stdio);
    });
  }
  apiOptions(
    exception
      .command('list')
      .description('List exceptions, optionally of one state or identity.')
      .option('--state <state>', EXCEPTION_VIEW_STATES.join(' | '))
      .option('--identity <id>', 'only this workload identity')
      .option('--output <format>', 'table | json', 'table'),
  ).action(async (flags: ListFlags) => {
    process.exitCode = await runExceptionList(flags, stdio);
  });
  apiOptions(
    exception
      .command('show <id>')
      .description('Show one exception.')
      .option('--output <format>', 'text | json', 'text'),
  ).action(async (id: string, flags: ApiFlags & { output?: string }) => {
    process.exitCode = await runExceptionShow(id, flags, stdio);
  });
  apiOptions(
    exception
      .command('promote <id>')
      .description('Print the policy rule (YAML) that makes an exception permanent, for review.'),
  ).action(async (id: string, flags: ApiFlags) => {
    process.exitCode = await runExceptionPromote(id, flags, stdio);
  });
}
