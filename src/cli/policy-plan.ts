/**
 * @module cli/policy-plan — `weir policy plan|apply|resolve DIR`: read the security groups an
 * EC2 endpoint (Weir or AWS) holds for a policy set, print the diff, and perform it; keep the
 * FQDN prefix lists at their names' addresses. The pure parts (desired state, diff, rendering)
 * are in policy/plan, the prefix-list sync in policy/resolve.
 *
 * This file is the shell of the three commands (flags, client, resolver, exit codes);
 * policy-plan-read reads the set and the endpoint, policy-plan-apply performs a plan.
 */
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { EC2Client } from '@aws-sdk/client-ec2';
import { createDnsResolver, hostsProblemLines, loadDnsSettings, parseDnsServer } from '../dns/index.js';
import type { Resolve } from '../dns/index.js';
import { WeirError } from '../model/index.js';
import { PLAN_FORMATS } from './policy-plan-command.js';
import {
  desiredState,
  diffState,
  fqdnNames,
  formatPlanJson,
  formatPlanText,
  hasChanges,
} from '../policy/index.js';
import { formatSync, resolveNames } from '../policy/index.js';
import type { DesiredState, Plan } from '../policy/index.js';
import {
  applyFailure,
  applyGroups,
  createLists,
  defaultConfirm,
  deleteStaleLists,
  Progress,
} from './policy-plan-apply.js';
import { describeError } from './policy-plan-errors.js';
import { loadSet, readState } from './policy-plan-read.js';
import type { EndpointState } from './policy-plan-read.js';

export { readState } from './policy-plan-read.js';
export type { EndpointState } from './policy-plan-read.js';

import type { PlanTarget } from './policy-plan-target.js';

type Write = (s: string) => void;

/** Flags shared by `plan` and `apply`. */
export interface PlanFlags {
  /** Where the calls go (`policy-plan-target.ts`); absent: the SDK's defaults and the flags below. */
  target?: PlanTarget;
  endpointUrl?: string;
  profile?: string;
  region?: string;
  vpcId?: string;
  format?: string;
  detailedExitcode?: boolean;
  prune?: boolean;
  yes?: boolean;
  /** `IP:PORT` of the DNS server FQDNs are resolved with (default: the system resolver). */
  dnsServer?: string;
  /** Hosts file consulted before DNS, as the gateway's `--dns-hosts`. */
  dnsHosts?: string;
  /** Epoch ms for expiry (tests); default now. */
  now?: number;
}

/** Where output goes, and (tests) a ready client instead of one built from the flags. */
export interface PlanIo {
  readonly out: Write;
  readonly err: Write;
  /** Whether stderr is a terminal (progress bar) — default: process.stderr.isTTY. */
  readonly tty?: boolean;
  readonly client?: EC2Client;
  /** Asks the user to confirm apply; default: a prompt on a terminal stdin, else refuse. */
  readonly confirm?: (question: string) => Promise<boolean>;
  /** Resolves FQDNs; default: from `--dns-hosts` / `--dns-server` / the system resolver. */
  readonly resolve?: Resolve;
}

/** The resolver of `--dns-hosts FILE` (first) and `--dns-server IP:PORT` (else the system's). */
export function makeResolver(flags: Pick<PlanFlags, 'dnsServer' | 'dnsHosts'>, warn?: Write): Resolve {
  // The plan commands keep their own wording for a bad server; the rest is the gateway's factory,
  // so `plan`/`resolve` see a name exactly as the gateway resolves it.
  if (flags.dnsServer !== undefined && !parseDnsServer(flags.dnsServer).ok)
    throw new WeirError('InvalidArgument', `--dns-server must be IP:PORT (got '${flags.dnsServer}')`);
  if (flags.dnsHosts !== undefined && !existsSync(flags.dnsHosts))
    throw new WeirError('InvalidArgument', `--dns-hosts: file ${flags.dnsHosts} does not exist`);
  const settings = loadDnsSettings({
    ...(flags.dnsHosts !== undefined ? { hostsFile: flags.dnsHosts } : {}),
    ...(flags.dnsServer !== undefined ? { server: flags.dnsServer } : {}),
  });
  for (const line of hostsProblemLines(settings)) warn?.(`weir: warning: ${line}\n`);
  return createDnsResolver(settings);
}

/** An EC2 client from `--endpoint-url`, `--profile`, `--region` and the default credential chain. */
export function makeClient(flags: PlanFlags): EC2Client {
  const t = flags.target;
  if (t !== undefined && t.kind === 'weir') {
    const { accessKeyId, secretAccessKey, sessionToken } = t.credentials;
    return new EC2Client({
      endpoint: t.endpoint,
      region: t.region,
      credentials: { accessKeyId, secretAccessKey, ...(sessionToken !== undefined ? { sessionToken } : {}) },
    });
  }
  return new EC2Client({
    ...(flags.endpointUrl !== undefined ? { endpoint: flags.endpointUrl } : {}),
    ...(flags.profile !== undefined ? { profile: flags.profile } : {}),
    ...(flags.region !== undefined ? { region: flags.region } : {}),
  });
}

function checkFormat(flags: PlanFlags): 'text' | 'json' {
  const f = flags.format ?? 'text';
  if (!(PLAN_FORMATS as readonly string[]).includes(f)) {
    throw new WeirError('InvalidArgument', `--format must be one of ${PLAN_FORMATS.join(', ')} (got '${f}')`);
  }
  return f as 'text' | 'json';
}

async function computePlan(
  dir: string,
  flags: PlanFlags,
  client: EC2Client,
): Promise<{ plan: Plan; desired: DesiredState; state: EndpointState }> {
  const set = loadSet(dir);
  const state = await readState(client, set, flags.vpcId);
  const desired = desiredState(set, { now: flags.now ?? Date.now(), refs: state.refs });
  const plan = diffState(desired, state.groups, {
    vpcId: state.vpcId,
    vpcHasIpv6: state.vpcHasIpv6,
    prune: flags.prune === true,
    managedLists: state.managedLists,
  });
  return { plan, desired, state };
}
/**
 * `weir policy plan DIR`: prints the plan. Returns the exit code: 0 (no changes, or changes
 * without `--detailed-exitcode`), 2 (changes with `--detailed-exitcode`), 1 on error (the EC2
 * error code and message on stderr). Usage mistakes throw `WeirError`.
 */
export async function runPolicyPlan(dir: string, flags: PlanFlags, io: PlanIo): Promise<number> {
  const format = checkFormat(flags);
  const client = io.client ?? makeClient(flags);
  try {
    const { plan } = await computePlan(dir, flags, client);
    io.out(format === 'json' ? formatPlanJson(plan) : formatPlanText(plan));
    return hasChanges(plan) && flags.detailedExitcode === true ? 2 : 0;
  } catch (err) {
    if (err instanceof WeirError) throw err;
    io.err(`weir: plan failed: ${describeError(err)}\n`);
    return 1;
  }
}

/**
 * `weir policy apply DIR`: prints the plan, asks (unless `--yes`), performs it with progress on
 * stderr, and returns 0, or 1 on error after reporting what was done and what was not.
 */
export async function runPolicyApply(dir: string, flags: PlanFlags, io: PlanIo): Promise<number> {
  const format = checkFormat(flags);
  const client = io.client ?? makeClient(flags);
  let computed: Awaited<ReturnType<typeof computePlan>>;
  try {
    computed = await computePlan(dir, flags, client);
  } catch (err) {
    if (err instanceof WeirError) throw err;
    io.err(`weir: apply failed before any change: ${describeError(err)}\n`);
    return 1;
  }
  const { plan } = computed;
  let { desired } = computed;
  io.out(format === 'json' ? formatPlanJson(plan) : formatPlanText(plan));
  if (!hasChanges(plan)) return 0;
  const resolve = plan.prefixLists.length > 0 ? (io.resolve ?? makeResolver(flags, io.err)) : undefined;
  if (flags.yes !== true) {
    const ok = await (io.confirm ?? defaultConfirm)('Apply these changes? [y/N] ');
    if (!ok) {
      io.err('weir: apply cancelled; nothing changed\n');
      return 1;
    }
  }
  const { add, change, revoke } = plan.summary;
  const progress = new Progress(add + change + revoke, io.err, io.tty ?? process.stderr.isTTY === true);
  const log: string[] = [];
  let groups = plan.groups;
  if (plan.prefixLists.length > 0 && resolve !== undefined) {
    try {
      await createLists(client, plan, resolve, io.err, progress, log);
      // The rules of the plan name the new lists; the re-read state has their IDs.
      ({
        plan: { groups },
        desired,
      } = await computePlan(dir, flags, client));
    } catch (err) {
      progress.end();
      io.err(applyFailure(`weir: apply failed creating prefix lists: ${describeError(err)}`, log));
      return 1;
    }
  }
  if (!(await applyGroups(client, groups, desired.groups, plan.vpcId, io.err, progress, log))) return 1;
  if (!(await deleteStaleLists(client, plan, io.err, progress, log))) return 1;
  progress.end();
  if (format === 'text') io.out(`Apply complete: ${add} added, ${change} changed, ${revoke} revoked.\n`);
  return 0;
}

/** Flags of `weir policy resolve`. */
export interface ResolveFlags {
  target?: PlanTarget;
  endpointUrl?: string;
  profile?: string;
  region?: string;
  dnsServer?: string;
  dnsHosts?: string;
  /** Repeat every DURATION (`30s`, `5m`, `1h`) until stopped. */
  every?: string;
}

/** `weir policy resolve` I/O: `signal` stops `--every` (the CLI aborts it on SIGINT/SIGTERM). */
export interface ResolveIo extends Pick<PlanIo, 'out' | 'err' | 'client' | 'resolve'> {
  readonly signal?: AbortSignal;
}

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `30s`, `5m`, `1h` → milliseconds; a usage error otherwise. */
export function parseDuration(text: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(text.trim());
  const ms = m ? Number(m[1]) * UNITS[m[2]!]! : NaN;
  if (!(ms > 0))
    throw new WeirError('InvalidArgument', `--every must be a duration like 30s, 5m or 1h (got '${text}')`);
  return ms;
}

async function resolvePass(dir: string, client: EC2Client, resolve: Resolve, io: ResolveIo): Promise<number> {
  const names = fqdnNames(loadSet(dir));
  let code = 0;
  let updated = 0;
  let unchanged = 0;
  let unresolved = 0;
  for (const o of await resolveNames(client, names, resolve)) {
    if (o.kind === 'unresolved') {
      unresolved++;
      io.err(
        `weir: warning: ${o.fqdn} does not resolve (${o.error}); its prefix lists are left as they are\n`,
      );
    } else if (o.kind === 'failed') {
      code = 1;
      io.err(`weir: ${o.listName}: ${describeError(o.error)}\n`);
    } else {
      for (const r of o.results) {
        if (r.added.length + r.removed.length > 0) {
          updated++;
          io.out(`${formatSync(r)}\n`);
        } else unchanged++;
        if (r.dropped > 0)
          io.err(
            `weir: warning: ${r.listName}: ${o.fqdn} has ${r.dropped} more address(es) than the list's MaxEntries; left out` +
              (r.resizeError !== undefined ? ` (the list could not grow: ${r.resizeError})` : '') +
              '\n',
          );
      }
    }
  }
  io.out(
    `Resolved ${names.length} name(s): ${updated} list(s) updated, ${unchanged} unchanged, ${unresolved} name(s) unresolved.\n`,
  );
  return code;
}

/**
 * `weir policy resolve DIR`: resolves each exact FQDN of the set and makes its prefix lists hold
 * exactly the current addresses. Returns 0, or 1 when an EC2 call failed (a name that does not
 * resolve is a warning). With `--every`, repeats until `io.signal` aborts and returns the last
 * pass's code.
 */
export async function runPolicyResolve(dir: string, flags: ResolveFlags, io: ResolveIo): Promise<number> {
  const every = flags.every !== undefined ? parseDuration(flags.every) : undefined;
  const resolve = io.resolve ?? makeResolver(flags, io.err);
  const client = io.client ?? makeClient(flags);
  for (;;) {
    let code: number;
    try {
      code = await resolvePass(dir, client, resolve, io);
    } catch (err) {
      if (err instanceof WeirError) throw err;
      io.err(`weir: resolve failed: ${describeError(err)}\n`);
      code = 1;
    }
    if (every === undefined || io.signal?.aborted === true) return code;
    try {
      await sleep(every, undefined, io.signal !== undefined ? { signal: io.signal } : {});
    } catch {
      return code;
    }
  }
}
