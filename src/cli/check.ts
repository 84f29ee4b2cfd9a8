/**
 * @module cli/check — `weir check --from IDENTITY --to HOST[:PORT][/PROTO]`: one decision with
 * its full explanation, against a policy set on disk. A name is matched by name (FQDN rules);
 * with `--resolve` its addresses are also checked one by one, as the gateway would see them
 * (name rules by name, CIDR rules and guardrails by address). Exit 0 allow, 1 deny, 2 when
 * the question cannot be asked (bad options, a policy set that does not load).
 */
import { existsSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import type { Command } from 'commander';
import { WeirError } from '../model/index.js';
import { compilePolicySet } from '../engine/index.js';
import type { DecisionRequest, Explanation } from '../engine/index.js';
import { formatDiagnostic, loadPolicySet, parseTime } from '../policy/index.js';
import type { PolicySet } from '../policy/index.js';
import {
  describeTarget,
  explanationJson,
  formatExplanation,
  keyLine,
  requestFor,
} from '../policy/explain.js';

/** The options of `weir check`, as commander hands them over. */
export interface CheckFlags {
  from: string;
  to: string;
  at?: string;
  policy: string;
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

interface Checked {
  readonly request: DecisionRequest;
  readonly explanation: Explanation;
}

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
  const ask = (request: DecisionRequest): Checked => ({ request, explanation: snapshot.explain(request) });

  const main = ask(built.value);
  const byAddress: Checked[] = [];
  let resolveError: string | undefined;
  const host = built.value.host;
  if (flags.resolve === true && host !== undefined) {
    try {
      const addresses = [...new Set(await (io.resolve ?? systemResolver)(host))];
      for (const ip of addresses) byAddress.push(ask({ ...built.value, ip }));
      if (addresses.length === 0) resolveError = `${host} has no addresses`;
    } catch (err) {
      const code = err instanceof Error && 'code' in err ? String(err.code) : String(err);
      resolveError = `${host} does not resolve (${code})`;
    }
  }
  const unresolved = snapshot.stats.unresolved;
  const ctx = { set: loaded.set };
  if (flags.format === 'json') {
    io.write(
      `${JSON.stringify(checkJson(main, byAddress, resolveError, unresolved, flags.resolve === true, ctx), null, 2)}\n`,
    );
  } else {
    io.write(checkText(main, byAddress, resolveError, unresolved, flags.resolve === true, ctx));
  }
  return [main, ...byAddress].every((c) => c.explanation.decision.allow) ? 0 : 1;
}

function block(c: Checked, ctx: { set: PolicySet }): string[] {
  return [
    keyLine('request', `${c.request.identity} -> ${describeTarget(c.request)}`),
    keyLine('at', new Date(c.request.now).toISOString().replace('.000Z', 'Z')),
    ...formatExplanation(c.request, c.explanation, ctx),
  ];
}

function checkText(
  main: Checked,
  byAddress: readonly Checked[],
  resolveError: string | undefined,
  unresolved: readonly string[],
  resolved: boolean,
  ctx: { set: PolicySet },
): string {
  const out = block(main, ctx);
  if (resolved && main.request.host !== undefined) {
    if (resolveError !== undefined)
      out.push(keyLine('resolve', `${resolveError}; only the name was checked`));
    if (byAddress.length > 0) {
      const addresses = byAddress.map((c) => c.request.ip ?? '').join(', ');
      out.push(keyLine('resolved', `${main.request.host} -> ${addresses}; each address checked below`));
    }
    for (const c of byAddress) out.push('', ...block(c, ctx));
  }
  if (unresolved.length > 0) {
    out.push(keyLine('note', `not resolved offline, so matching nothing here: ${unresolved.join(', ')}`));
  }
  return `${out.join('\n')}\n`;
}

function checkJson(
  main: Checked,
  byAddress: readonly Checked[],
  resolveError: string | undefined,
  unresolved: readonly string[],
  resolved: boolean,
  ctx: { set: PolicySet },
): Record<string, unknown> {
  const out = explanationJson(main.request, main.explanation, ctx);
  if (resolved && main.request.host !== undefined) {
    out.addresses = byAddress.map((c) => explanationJson(c.request, c.explanation, ctx));
    if (resolveError !== undefined) out.resolveError = resolveError;
  }
  if (unresolved.length > 0) out.unresolved = [...unresolved];
  return out;
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
    .requiredOption('--policy <dir>', 'the policy set (directory or file)')
    .option('--at <time>', 'decide at this time (YYYY-MM-DD or ISO 8601 with zone) instead of now')
    .option('--resolve', 'also resolve a name (system resolver) and check each address')
    .option('--format <format>', `output format: ${FORMATS.join(' | ')}`, 'text')
    // Exit 1 means deny here, so a broken call must not exit 1.
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
    .action(async (flags: CheckFlags) => {
      process.exitCode = await runCheck(flags, { write: (s) => process.stdout.write(s) });
    });
}
