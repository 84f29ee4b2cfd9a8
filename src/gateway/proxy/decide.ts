/**
 * @module gateway/proxy/decide — the decision for one request: resolve the target's name once,
 * then decide every address on the snapshot in force when the request arrived; only allowed
 * addresses are ever connected to. Pure given its inputs: the snapshot, the resolver and the
 * clock are passed in, and what it finds is written to the request's decision line only.
 */
import { performance } from 'node:perf_hooks';
import type { Decision, Snapshot } from '../../engine/index.js';
import type { LogEntry } from '../decision-line.js';
import { canonicalAddress } from '../host.js';
import type { Authority } from '../host.js';
import type { Resolve } from '../../dns/index.js';
import { isRefusal } from './refusals.js';
import type { Refusal } from './refusals.js';

/** What a decision reads besides the request and the snapshot. */
export interface DecisionEnv {
  readonly resolve: Resolve;
  /** Epoch ms: the time rules are judged at (expiry). */
  readonly now: () => number;
  /** Seconds each lookup took (the `dnsLookup` histogram); none when absent. */
  readonly dnsLookup?: { observe(seconds: number): void } | undefined;
}

/**
 * Resolves and decides. Name rules match by name and address rules and guardrails by address,
 * so every address of the name is decided; only allowed ones are returned, in resolver order.
 * `snapshot` is the one in force when the request arrived: it decides, however long the lookup
 * takes.
 */
export async function decideTarget(
  entry: LogEntry,
  snapshot: Snapshot,
  identity: string,
  target: Authority,
  env: DecisionEnv,
): Promise<string[] | Refusal> {
  if (target.host.kind === 'ip') return decideLiteral(entry, snapshot, identity, target, target.host.ip, env);
  entry.snapshot = snapshot.version;
  const addresses = await resolveTarget(target.host.name, env);
  if (isRefusal(addresses)) return addresses;
  return decideAddresses(entry, snapshot, identity, target, addresses, env.now());
}

/** An IP-literal target needs no lookup, so it is decided without a promise. */
export function decideLiteral(
  entry: LogEntry,
  snapshot: Snapshot,
  identity: string,
  target: Authority,
  ip: string,
  env: DecisionEnv,
): string[] | Refusal {
  entry.snapshot = snapshot.version;
  return decideAddresses(entry, snapshot, identity, target, [ip], env.now());
}

/** The name's addresses in canonical text, or a 502 when it has no usable one. */
export async function resolveTarget(host: string, env: DecisionEnv): Promise<string[] | Refusal> {
  const t0 = performance.now();
  let addresses: string[];
  try {
    const answer = await env.resolve(host);
    env.dnsLookup?.observe((performance.now() - t0) / 1000);
    // Canonical text only: a resolver answer we cannot parse strictly is not connected to.
    addresses = [...new Set(answer.map((a) => canonicalAddress(a)?.ip ?? ''))];
  } catch (err) {
    env.dnsLookup?.observe((performance.now() - t0) / 1000);
    const code = err instanceof Error && 'code' in err ? String(err.code) : 'error';
    return { status: 502, reason: 'dns-failure', text: `Cannot resolve ${host} (${code}).` };
  }
  if (addresses.length === 0 || addresses.includes('')) {
    return { status: 502, reason: 'dns-failure', text: `${host} has no usable address.` };
  }
  return addresses;
}

/**
 * Decides every address of the target on `snapshot` at `now`; the allowed ones in order, or a
 * 403 with the first denial. The decision shown on the line is the first allow, else the first
 * denial.
 */
function decideAddresses(
  entry: LogEntry,
  snapshot: Snapshot,
  identity: string,
  target: Authority,
  addresses: readonly string[],
  now: number,
): string[] | Refusal {
  const name = target.host.kind === 'name' ? target.host.name : undefined;
  const allowed: string[] = [];
  let first: Decision | undefined;
  let firstDenied: Decision | undefined;
  for (const ip of addresses) {
    const d = snapshot.decide(
      {
        identity,
        ...(name !== undefined ? { host: name } : {}),
        ip,
        port: target.port,
        protocol: 'tcp',
        now,
      },
      true,
    );
    // A guardrail-denied address (a name that also resolves to 169.254.169.254 or 127.0.0.1)
    // is never used, whatever the other addresses allow.
    if (d.allow) {
      allowed.push(ip);
      first ??= d;
    } else {
      firstDenied ??= d;
    }
  }
  const shown = first ?? firstDenied;
  if (shown) recordDecision(entry, shown);
  if (first === undefined) {
    entry.ip = addresses[0] ?? '';
    const d = firstDenied as Decision;
    // What the denial's template names: the name when one was asked for (a rule matches it by
    // name, whatever it resolves to), else the address; the gateway carries only TCP.
    const denied = name !== undefined ? { host: name } : { ip: addresses[0] ?? '' };
    return {
      status: 403,
      reason: d.reason,
      text: `Denied by Weir: ${d.reason}.`,
      decision: d,
      target: { ...denied, port: target.port, protocol: 'tcp' },
    };
  }
  return allowed;
}

/** Fills the decision line from the decision shown. */
function recordDecision(entry: LogEntry, d: Decision): void {
  entry.mode = d.mode;
  entry.reason = d.reason;
  entry.evalNs = d.evalNs;
  // A report-mode pass keeps its deny reason (would-deny); a rule or a grant allows.
  entry.decision = !d.allow
    ? 'deny'
    : d.reason === 'matched' || d.grant !== undefined
      ? 'allow'
      : 'would-deny';
  if (d.grant !== undefined) entry.grant = d.grant;
  if (d.matched) {
    // Line 0: a control-plane rule, whose location is its ARN rather than a file.
    entry.policy = d.matched.line > 0 ? `${d.matched.file}:${d.matched.line}` : d.matched.file;
    entry.policyName = d.matched.policy;
    entry.ruleId = d.matched.ruleId;
    if (d.matched.securityGroupRuleId !== undefined) {
      entry.securityGroupRuleId = d.matched.securityGroupRuleId;
    }
  }
  // A would-deny with no rule near enough to be shown still belongs to its report-mode policy.
  else if (d.policy !== undefined) entry.policyName = d.policy;
  if (d.guardrail !== undefined) entry.guardrail = d.guardrail;
}
