/**
 * @module cli/check — `weir check --from IDENTITY --to HOST[:PORT][/PROTO]`: one decision with
 * its full explanation, against a policy set on disk. A name is resolved as the gateway resolves
 * it (`--dns-hosts` first, then `--dns-server` or the system resolver: the same resolver factory
 * and flags as `weir serve`) and each address decided as the gateway decides it (name rules by
 * name, CIDR rules and guardrails by address); the first line is the gateway's outcome.
 * `--no-resolve` checks the name alone. With `--endpoint` the server answers, against what it
 * enforces (Weir API `check`), resolving with its own resolver. Exit 0 allow, 1 deny, 2 when
 * the question cannot be asked (bad options, a policy set that does not load).
 */
import { existsSync } from 'node:fs';
import { Option } from 'commander';
import type { Command } from 'commander';
import { createDnsResolver, hostsProblemLines, loadDnsSettings } from '../dns/index.js';
import type { Resolve } from '../dns/index.js';
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
  /**
   * `false` with `--no-resolve`: the name alone is checked. Otherwise (absent, or `true` from
   * `--resolve`, kept as a no-op so that older scripts still run) the name is resolved.
   */
  resolve?: boolean;
  /** The hosts file consulted first, as the gateway's `--dns-hosts`. */
  dnsHosts?: string;
  /** The DNS server (`IP:PORT`) asked next, as the gateway's `--dns-server`. */
  dnsServer?: string;
}

/** Resolves a name to its addresses (IPv4 and IPv6 text). */
export type Resolver = Resolve;

/** I/O of `runCheck`, replaceable in tests. */
export interface CheckIo {
  readonly write: (s: string) => void;
  /**
   * Default: the gateway's resolver built from `--dns-hosts` and `--dns-server` (without them,
   * the system resolver, `getaddrinfo`, as the gateway's default).
   */
  readonly resolve?: Resolver;
  /** Warnings (hosts-file lines that map nothing); default: none written. */
  readonly warn?: (s: string) => void;
  /** Default: `Date.now`. */
  readonly now?: () => number;
}

const FORMATS = ['text', 'json'] as const;

/**
 * The resolver of `--dns-hosts` / `--dns-server`, built by the gateway's factory so that a check
 * resolves a name as `weir serve` with the same flags would; undefined with `--no-resolve` or
 * `--endpoint` (the server resolves).
 */
function checkResolver(flags: CheckFlags, io: CheckIo): Resolver | undefined {
  const dnsFlag =
    flags.dnsHosts !== undefined ? '--dns-hosts' : flags.dnsServer !== undefined ? '--dns-server' : undefined;
  if (dnsFlag !== undefined && flags.endpoint !== undefined) {
    throw new WeirError(
      'InvalidArgument',
      `${dnsFlag} is for --policy: with --endpoint the server resolves as its gateway does (its own --dns-hosts and --dns-server)`,
    );
  }
  if (dnsFlag !== undefined && flags.resolve === false) {
    throw new WeirError(
      'InvalidArgument',
      `${dnsFlag} says how names are resolved, and --no-resolve resolves none: drop one`,
    );
  }
  if (flags.resolve === false || flags.endpoint !== undefined) return undefined;
  if (io.resolve !== undefined) return io.resolve;
  const settings = loadDnsSettings({
    ...(flags.dnsHosts !== undefined ? { hostsFile: flags.dnsHosts } : {}),
    ...(flags.dnsServer !== undefined ? { server: flags.dnsServer } : {}),
  });
  for (const line of hostsProblemLines(settings)) io.warn?.(`weir: warning: ${line}\n`);
  return createDnsResolver(settings);
}

/**
 * Answers one `weir check` and writes the explanation. Returns the exit code: 0 when the
 * gateway would let the traffic through (some address allowed; in report mode a would-deny is let
 * through, so it counts as allowed), 1 otherwise. Usage mistakes and a policy set that does not load throw `WeirError` (exit 2).
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
  const resolver = checkResolver(flags, io);
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
    ...(resolver !== undefined ? { resolver } : {}),
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
      resolve: flags.resolve !== false,
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
    .addOption(new Option('--resolve', 'resolve the name (the default; kept for older scripts)').hideHelp())
    .option(
      '--no-resolve',
      'check the name only; by default it is resolved as the gateway resolves it and each address is decided',
    )
    .option('--dns-hosts <file>', 'with --policy: static hosts file resolved from first (as weir serve)')
    .option(
      '--dns-server <ip:port>',
      'with --policy: DNS server asked for names not in the hosts file (default: the system resolver)',
    )
    .option('--format <format>', `output format: ${FORMATS.join(' | ')}`, 'text')
    // Exit 1 means deny here, so a broken call must not exit 1.
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
    .action(async (flags: CheckFlags) => {
      process.exitCode = await runCheck(flags, {
        write: (s) => process.stdout.write(s),
        warn: (s) => process.stderr.write(s),
      });
    });
}
