/**
 * @module cli/check — `weir check --from IDENTITY --to HOST[:PORT][/PROTO]`: one decision with
 * its full explanation, against a policy set on disk. A name is matched by name (FQDN rules);
 * with `--resolve` its addresses are also checked one by one, as the gateway would see them
 * (name rules by name, CIDR rules and guardrails by address). With `--endpoint` the server
 * answers, against what it enforces (Weir API `check`). Exit 0 allow, 1 deny, 2 when
 * the question cannot be asked (bad options, a policy set that does not load).
 */
import { existsSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import type { Command } from 'commander';
import { WeirError } from '../model/index.js';
import { compilePolicySet } from '../engine/index.js';
import { checkExitCode, checkJson, checkText, runCheckQuestion } from '../api/index.js';
import { formatDiagnostic, loadPolicySet, parseTime } from '../policy/index.js';
import { requestFor } from '../explain/index.js';
import { callWeirApi, resolveApiTarget } from './weir-api-client.js';

/** The options of `weir check`, as commander hands them over. */
export interface CheckFlags {
  from: string;
  to: string;
  at?: string;
  policy?: string;
  /** A URL, or `true` (given without one): the local `weir serve` of ./weir-data. */
  endpoint?: string | true;
  profile?: string;
  region?: string;
  format: string;
  resolve?: boolean;
}

/** Resolves a name to its addresses (IPv4 and IPv6 text). */
export type Resolver = (host: string) => Promise<string[]>;

/** I/O of `runCheck`, replaceable in tests. */
export interface CheckIo {
  readonly write: (s: string) => void;
  /** Default: the system resolver (`getaddrinfo`, as the gateway's default). */
  readonly resolve?: Resolver;
  /** Default: `Date.now`. */
  readonly now?: () => number;
}

const FORMATS = ['text', 'json'] as const;

const systemResolver: Resolver = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/**
 * Answers one `weir check` and writes the explanation. Returns the exit code: 0 when every
 * decision allows (in report mode a would-deny is let through, so it counts as allowed), 1
 * otherwise. Usage mistakes and a policy set that does not load throw `WeirError` (exit 2).
 */
export async function runCheck(flags: CheckFlags, io: CheckIo): Promise<number> {
  if (!(FORMATS as readonly string[]).includes(flags.format)) {
    throw new WeirError(
      'InvalidArgument',
      `--format must be one of ${FORMATS.join(', ')} (got '${flags.format}')`,
    );
  }
  if (flags.from.includes('*') || /\s/.test(flags.from)) {
    throw new WeirError(
      'InvalidArgument',
      `--from is one workload identity, not a pattern (got '${flags.from}')`,
    );
  }
  let now = (io.now ?? Date.now)();
  if (flags.at !== undefined) {
    const t = parseTime(flags.at, 'start');
    if (!t.ok) throw new WeirError('InvalidArgument', `--at: ${t.problem.message} (got '${flags.at}')`);
    now = t.value;
  }
  const built = requestFor(flags.from, flags.to, now);
  if (!built.ok) {
    const hint = built.problem.hint === undefined ? '' : `; ${built.problem.hint}`;
    throw new WeirError('InvalidArgument', `--to ${flags.to}: ${built.problem.message}${hint}`);
  }
  if ((flags.policy === undefined) === (flags.endpoint === undefined)) {
    throw new WeirError(
      'InvalidArgument',
      'give exactly one of --policy DIR (a policy set on disk) and --endpoint [URL] (what a running server enforces)',
    );
  }
  if (flags.policy === undefined) return checkRemote(flags, built.value.now, io);
  if (!existsSync(flags.policy)) {
    throw new WeirError('InvalidArgument', `--policy ${flags.policy}: no such file or directory`);
  }
  const loaded = loadPolicySet(flags.policy);
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    throw new WeirError(
      'InvalidPolicy',
      `${flags.policy}: the policy set does not load (weir policy lint ${flags.policy} says more):\n` +
        errors.map(formatDiagnostic).join('\n'),
    );
  }
  const snapshot = compilePolicySet(loaded.set, { skipUnresolved: true });
  const report = await runCheckQuestion((r) => snapshot.explain(r), built.value, {
    ...(flags.resolve === true ? { resolver: io.resolve ?? systemResolver } : {}),
    unresolved: snapshot.stats.unresolved,
    ctx: { set: loaded.set },
  });
  io.write(flags.format === 'json' ? `${JSON.stringify(checkJson(report), null, 2)}\n` : checkText(report));
  return checkExitCode(report);
}

/**
 * Asks the server (Weir API `check`) and prints its answer: the same explanation, computed
 * against what its gateway enforces (its `--policy` directory, or the bundle applied last).
 */
async function checkRemote(flags: CheckFlags, now: number, io: CheckIo): Promise<number> {
  const target = resolveApiTarget({
    ...(typeof flags.endpoint === 'string' ? { endpointUrl: flags.endpoint } : {}),
    ...(flags.profile !== undefined ? { profile: flags.profile } : {}),
    ...(flags.region !== undefined ? { region: flags.region } : {}),
  });
  const out = await callWeirApi(target, {
    method: 'POST',
    resource: 'check',
    json: {
      from: flags.from,
      to: flags.to,
      // The time is fixed here, so --at and "now" mean the caller's clock, as with --policy.
      at: new Date(now).toISOString(),
      ...(flags.resolve === true ? { resolve: true } : {}),
    },
  });
  io.write(flags.format === 'json' ? `${JSON.stringify(out.result, null, 2)}\n` : String(out.text));
  return out.exitCode === 0 ? 0 : 1;
}

/** Registers `weir check` on the `weir` program. */
export function registerCheckCommand(program: Command): void {
  program
    .command('check')
    .description(
      'Explain one decision: may IDENTITY reach HOST[:PORT][/PROTO]? Exit 0 allow, 1 deny, 2 usage error.',
    )
    .requiredOption('--from <identity>', 'the workload identity (SPIFFE ID or service account)')
    .requiredOption(
      '--to <target>',
      'HOST[:PORT][/PROTO]: a name or an IP (IPv6 in brackets with a port); protocol tcp unless given; tcp and udp need a port',
    )
    .option('--policy <dir>', 'the policy set (directory or file)')
    .option(
      '--endpoint [url]',
      'ask a running weir serve instead (what its gateway enforces); without URL: the one of ./weir-data or WEIR_DATA_DIR',
    )
    .option('--profile <name>', 'with --endpoint: credentials profile')
    .option('--region <region>', 'with --endpoint: signing region (default us-east-1)')
    .option('--at <time>', 'decide at this time (YYYY-MM-DD or ISO 8601 with zone) instead of now')
    .option('--resolve', 'also resolve a name (system resolver) and check each address')
    .option('--format <format>', `output format: ${FORMATS.join(' | ')}`, 'text')
    // Exit 1 means deny here, so a broken call must not exit 1.
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
    .action(async (flags: CheckFlags) => {
      process.exitCode = await runCheck(flags, { write: (s) => process.stdout.write(s) });
    });
}
