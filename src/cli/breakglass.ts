/**
 * @module cli/breakglass — `weir breakglass open|close|list|drill|secret`: the emergency path,
 * through the Weir API as `weir token` and `weir decisions` call it (`--endpoint-url`,
 * `--profile`, else the local server). `open` prints the session ID alone on stdout (for
 * `BG=$(weir breakglass open …)`); `secret` makes a TOTP secret and its `otpauth://` URI.
 */
import type { Command } from 'commander';
import { WeirError } from '../model/index.js';
import { newTotpSecret, otpauthUri } from '../onramp/index.js';
import { apiOptions, callWeirApi, resolveApiTarget } from './weir-api-client.js';
import type { ApiFlags, WeirApiTarget } from './weir-api-client.js';
import { renderTable } from './table.js';

type Write = (s: string) => void;

/** Where a command writes: stdout for what scripts capture, stderr for people. */
export interface BreakglassIo {
  readonly out: Write;
  readonly err: Write;
}

/** The options of `weir breakglass open` and `drill`. */
export interface BreakglassOpenFlags extends ApiFlags {
  identity: string;
  to: string[];
  reason: string;
  ttl?: string;
  otp: string;
}

/** The options of `weir breakglass list`. */
export interface BreakglassListFlags extends ApiFlags {
  all?: boolean;
  output?: string;
}

type Session = Record<string, unknown>;

const destinationsOf = (s: Session): string =>
  Array.isArray(s.destinations) && s.destinations.length > 0
    ? s.destinations.map(String).join(', ')
    : 'everything but the guardrails';

/** Opens a session (or records a drill); prints its ID alone on stdout. */
export async function runBreakglassOpen(
  flags: BreakglassOpenFlags,
  drill: boolean,
  io: BreakglassIo,
  target?: WeirApiTarget,
): Promise<string> {
  if (!/^[0-9]{6}$/.test(flags.otp)) {
    throw new WeirError(
      'BAD_OPTION',
      `--otp must be the 6-digit code your authenticator shows, got '${flags.otp}'`,
    );
  }
  const out = await callWeirApi(target ?? resolveApiTarget(flags), {
    method: 'POST',
    resource: drill ? 'breakglass/drill' : 'breakglass',
    json: {
      identity: flags.identity,
      ...(flags.to.length > 0 ? { to: flags.to } : {}),
      reason: flags.reason,
      ...(flags.ttl !== undefined ? { ttl: flags.ttl } : {}),
      otp: flags.otp,
    },
  });
  const s = (out.session ?? {}) as Session;
  const id = String(s.id);
  io.out(`${id}\n`);
  io.err(
    drill
      ? `drill ${id} recorded for ${String(s.identity)} (${destinationsOf(s)}): the code, the request and the notification all worked; it granted nothing\n`
      : `break-glass ${id} open for ${String(s.identity)} to ${destinationsOf(s)} until ${String(s.expires)}; ` +
          `close it when done: weir breakglass close ${id}\n`,
  );
  return id;
}

/** Closes an open session. */
export async function runBreakglassClose(
  id: string,
  flags: ApiFlags & { reason?: string },
  io: BreakglassIo,
  target?: WeirApiTarget,
): Promise<void> {
  const out = await callWeirApi(target ?? resolveApiTarget(flags), {
    method: 'POST',
    resource: 'breakglass/close',
    json: { id, ...(flags.reason !== undefined ? { reason: flags.reason } : {}) },
  });
  const s = (out.session ?? {}) as Session;
  io.out(
    `closed ${String(s.id)} (${String(s.identity)}), opened by ${String(s.principal)} at ${String(s.openedAt)}\n`,
  );
}

/** Lists open sessions (every session and drill with `--all`). */
export async function runBreakglassList(
  flags: BreakglassListFlags,
  write: Write,
  target?: WeirApiTarget,
): Promise<void> {
  const format = flags.output ?? 'table';
  if (format !== 'table' && format !== 'json') {
    throw new WeirError('BAD_OPTION', `--output must be table or json, got '${format}'`);
  }
  const out = await callWeirApi(target ?? resolveApiTarget(flags), {
    method: 'GET',
    resource: 'breakglass',
    ...(flags.all === true ? { query: { all: 'true' } } : {}),
  });
  const sessions = (out.sessions ?? []) as Session[];
  if (format === 'json') {
    write(`${JSON.stringify({ sessions }, null, 2)}\n`);
    return;
  }
  const rows = sessions.map((s) => [
    String(s.id),
    String(s.state),
    String(s.identity),
    destinationsOf(s),
    String(s.principal),
    String(s.expires),
    String(s.reason),
  ]);
  write(renderTable(['ID', 'State', 'Identity', 'To', 'Opened by', 'Expires', 'Reason'], rows));
}

/** Prints a new secret and its `otpauth://` URI (stdout), and where each goes (stderr). */
export function runBreakglassSecret(principal: string, io: BreakglassIo): string {
  if (principal === '' || /[\s\p{Cc}]/u.test(principal)) {
    throw new WeirError(
      'BAD_OPTION',
      `--principal must be one name without spaces (e.g. oncall@example.com), got '${principal}'`,
    );
  }
  const secret = newTotpSecret();
  io.out(`${secret}\n${otpauthUri(principal, secret)}\n`);
  io.err(
    `put the URI in an authenticator app (as text, or: qrencode -t ansiutf8 'URI'), and add to ${principal}'s profile in the server's credentials file:\n` +
      `  weir_breakglass_totp = ${secret}\nthen restart weir serve. Keep the secret as secret as the key.\n`,
  );
  return secret;
}

const stdio: BreakglassIo = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };
const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Registers `weir breakglass` on the `weir` program. */
export function registerBreakglassCommands(program: Command): void {
  const bg = program
    .command('breakglass')
    .description(
      'Emergency egress: open a short, audited session with a one-time code (RFC 6238), close, list, drill.',
    );
  apiOptions(
    bg
      .command('open')
      .description(
        'Open egress for an identity now (prints the session ID); needs weir_breakglass_totp on your key.',
      )
      .requiredOption('--identity <id>', 'the workload identity')
      .option(
        '--to <dest>',
        'host[:port][/proto], CIDR:port or pl-… (repeatable; none: everything but the guardrails)',
        collect,
        [],
      )
      .requiredOption('--reason <text>', 'why: the incident or ticket')
      .requiredOption(
        '--ttl <duration>',
        "how long: 90s, 30m, 1h (at most the server's --breakglass-max-ttl, default 1h)",
      )
      .requiredOption('--otp <code>', 'the 6-digit code your authenticator shows now'),
  ).action(async (flags: BreakglassOpenFlags) => {
    await runBreakglassOpen(flags, false, stdio);
  });
  apiOptions(
    bg
      .command('close <id>')
      .description('Close an open session (its opener, an approver or an admin).')
      .option('--reason <text>', 'why it is closed'),
  ).action(async (id: string, flags: ApiFlags & { reason?: string }) => {
    await runBreakglassClose(id, flags, stdio);
  });
  apiOptions(
    bg
      .command('list')
      .description('Open sessions; with --all every session and drill.')
      .option('--all', 'closed, expired sessions and drills too')
      .option('--output <format>', 'table or json', 'table'),
  ).action(async (flags: BreakglassListFlags) => {
    await runBreakglassList(flags, stdio.out);
  });
  apiOptions(
    bg
      .command('drill')
      .description(
        'Practise: run the whole open path (key, code, checks, notification); records a drill that grants nothing.',
      )
      .requiredOption('--identity <id>', 'the workload identity')
      .option('--to <dest>', 'destinations, checked as for open (repeatable)', collect, [])
      .requiredOption('--reason <text>', 'why (e.g. quarterly drill)')
      .option('--ttl <duration>', 'checked as for open (default 30m)')
      .requiredOption('--otp <code>', 'the 6-digit code your authenticator shows now'),
  ).action(async (flags: BreakglassOpenFlags) => {
    await runBreakglassOpen(flags, true, stdio);
  });
  bg.command('secret')
    .description('Make a TOTP secret: prints it and an otpauth:// URI for an authenticator app.')
    .option('--principal <name>', 'the principal it is for (weir_principal of the key)', 'default')
    .action((flags: { principal: string }) => {
      runBreakglassSecret(flags.principal, stdio);
    });
}
