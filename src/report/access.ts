/**
 * @module report/access — "who may reach what and why": for each workload the gateway knows (the
 * registry, policies' exact identities, API and declared attachments, grants), every destination
 * it may reach with the rule, owner, justification, data class and expiry that allow it. Pure:
 * the caller reads the store and hands the rows in.
 */
import type { SecurityGroupRule } from '../model/index.js';
import type { Destination, Policy, PolicyRule, PolicySet, PortRange } from '../policy-types/index.js';
import { formatFqdnPattern, TAG } from '../policy/index.js';
import { policiesFor, untilOf } from '../onramp/index.js';
import type { BreakglassSession, ExceptionRecord } from '../store/index.js';
import type { AccessEntry, ExpiryEntry, WorkloadAccess } from './types.js';

/** What the access section is computed from. */
export interface AccessInput {
  readonly set: PolicySet | undefined;
  /** (identity, group) pairs: API attachments of the account's namespaces and declared ones. */
  readonly attachments: readonly { readonly identity: string; readonly groupId: string }[];
  /** Egress rules of the attached groups. */
  readonly groupRules: ReadonlyMap<string, readonly SecurityGroupRule[]>;
  /** Exceptions in force at `now`. */
  readonly exceptions: readonly ExceptionRecord[];
  /** Break-glass sessions (not drills) open at `now`. */
  readonly sessions: readonly BreakglassSession[];
  readonly now: Date;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function portsText(ports: readonly PortRange[]): string {
  if (ports.length === 0) return '';
  return `:${ports.map((p) => (p.from === p.to ? String(p.from) : `${p.from}-${p.to}`)).join(',')}`;
}

function protoText(protocol: string): string {
  if (protocol === 'tcp') return '';
  return protocol === '-1' ? '/all' : `/${protocol}`;
}

function destinationName(d: Destination): string {
  switch (d.kind) {
    case 'fqdn':
      return formatFqdnPattern(d);
    case 'cidr':
      return d.cidr;
    case 'prefixList':
    case 'group':
      return d.ref;
  }
}

/** A policy rule's destinations as `weir check --to` reads them (one text per destination). */
export function policyRuleTargets(rule: PolicyRule): string[] {
  const tail = `${portsText(rule.ports)}${protoText(rule.protocol)}`;
  return rule.destinations.map((d) => `${destinationName(d)}${tail}`);
}

/** A security-group rule's target: `CIDR[:ports][/proto]`, `pl-…`, `sg-…`. */
export function groupRuleTarget(r: SecurityGroupRule): string {
  const t = r.target;
  const where =
    t.kind === 'ipv4' || t.kind === 'ipv6' ? t.cidr : t.kind === 'prefixList' ? t.prefixListId : t.groupId;
  const ports =
    r.fromPort === -1 ? '' : r.fromPort === r.toPort ? `:${r.fromPort}` : `:${r.fromPort}-${r.toPort}`;
  return `${where}${ports}${protoText(r.ipProtocol)}`;
}

function policyEntries(p: Policy, now: number): AccessEntry[] {
  const out: AccessEntry[] = [];
  for (const rule of p.rules) {
    for (const to of policyRuleTargets(rule)) {
      out.push({
        to,
        via: 'policy',
        policy: p.name,
        rule: rule.id,
        ...(rule.owner !== undefined ? { owner: rule.owner } : {}),
        ...(rule.justification !== undefined ? { justification: rule.justification } : {}),
        ...(rule.dataClass !== undefined ? { dataClass: rule.dataClass } : {}),
        ...(rule.expires !== undefined ? { expires: iso(rule.expires), expired: rule.expires <= now } : {}),
        declaredIn: `${rule.loc.file}:${rule.loc.line}:${rule.loc.col}`,
        ...(p.mode === 'report' ? { reportMode: true } : {}),
      });
    }
  }
  return out;
}

const tagOf = (r: SecurityGroupRule, key: string): string | undefined =>
  r.tags.find((t) => t.key === key)?.value;

function groupEntries(groupId: string, rules: readonly SecurityGroupRule[], now: number): AccessEntry[] {
  return rules.map((r) => {
    const policy = tagOf(r, TAG.policy);
    const owner = tagOf(r, TAG.owner);
    const dataClass = tagOf(r, TAG.dataClass);
    const expiresText = tagOf(r, TAG.expires);
    const expires = expiresText !== undefined ? Date.parse(expiresText) : Number.NaN;
    return {
      to: groupRuleTarget(r),
      via: 'security-group',
      rule: r.ruleId,
      groupId,
      ...(policy !== undefined ? { policy } : {}),
      ...(owner !== undefined ? { owner } : {}),
      ...(r.description !== undefined && r.description !== '' ? { justification: r.description } : {}),
      ...(dataClass !== undefined ? { dataClass } : {}),
      ...(Number.isNaN(expires) ? {} : { expires: iso(expires), expired: expires <= now }),
    } satisfies AccessEntry;
  });
}

function exceptionEntries(e: ExceptionRecord): AccessEntry[] {
  const until = untilOf(e);
  return e.destinations.map((to) => ({
    to,
    via: 'exception',
    rule: e.id,
    owner: e.requester,
    justification: e.reason,
    ...(e.dataClass !== undefined ? { dataClass: e.dataClass } : {}),
    ...(until !== undefined ? { expires: iso(until) } : {}),
  }));
}

function sessionEntries(s: BreakglassSession): AccessEntry[] {
  const dests = s.destinations.length > 0 ? s.destinations : ['*'];
  return dests.map((to) => ({
    to,
    via: 'breakglass',
    rule: s.id,
    owner: s.principal,
    justification: s.reason,
    expires: s.expires.toISOString(),
  }));
}

/** Every identity the input names, in a stable order (registry first, then the rest sorted). */
function knownIdentities(input: AccessInput): string[] {
  const set = input.set;
  const seen = new Set<string>(set?.workloads.map((w) => w.identity) ?? []);
  const rest = new Set<string>();
  const add = (id: string): void => {
    if (!seen.has(id)) rest.add(id);
  };
  for (const p of set?.policies ?? []) {
    for (const s of p.workloads) if (s.identity?.kind === 'exact') add(s.identity.value);
  }
  for (const a of input.attachments) add(a.identity);
  for (const e of input.exceptions) add(e.identity);
  for (const s of input.sessions) add(s.identity);
  return [...seen, ...[...rest].sort()];
}

/**
 * Who may reach what and why, one row per workload, at most `maxRows` rows (the caller says the
 * section was cut). A policy whose selectors match no known workload is listed under its pattern,
 * so a rule is never left out of the report because no workload of it was seen yet.
 */
export function accessSection(input: AccessInput, maxRows: number): { rows: WorkloadAccess[]; cut: boolean } {
  const now = input.now.getTime();
  const set = input.set;
  const rows: WorkloadAccess[] = [];
  const covered = new Set<string>();
  const ids = knownIdentities(input);
  for (const identity of ids) {
    if (rows.length >= maxRows) return { rows, cut: true };
    const policies = policiesFor(set, identity);
    for (const p of policies) covered.add(p.name);
    const groups = [
      ...new Set(input.attachments.filter((a) => a.identity === identity).map((a) => a.groupId)),
    ];
    const labels = set?.workloads.find((w) => w.identity === identity)?.labels;
    rows.push({
      identity,
      ...(labels !== undefined && Object.keys(labels).length > 0 ? { labels } : {}),
      policies: policies.map((p) => p.name),
      groups,
      destinations: [
        ...policies.flatMap((p) => policyEntries(p, now)),
        ...groups.flatMap((g) => groupEntries(g, input.groupRules.get(g) ?? [], now)),
        ...input.exceptions.filter((e) => e.identity === identity).flatMap(exceptionEntries),
        ...input.sessions.filter((s) => s.identity === identity).flatMap(sessionEntries),
      ],
    });
  }
  for (const p of set?.policies ?? []) {
    if (covered.has(p.name)) continue;
    if (rows.length >= maxRows) return { rows, cut: true };
    const selector = p.workloads
      .map((s) =>
        [
          s.identity?.value,
          s.labels !== undefined
            ? Object.entries(s.labels)
                .map(([k, v]) => `${k}=${v}`)
                .join(',')
            : undefined,
        ]
          .filter((x) => x !== undefined)
          .join(' '),
      )
      .join(' | ');
    rows.push({
      identity: selector || p.name,
      pattern: true,
      policies: [p.name],
      groups: [],
      destinations: policyEntries(p, now),
    });
  }
  return { rows, cut: false };
}

const dayOf = (isoText: string): string => isoText.slice(0, 10);

/**
 * The expiry calendar: every rule, exception and session of the access section with an expiry
 * from the period's start to `horizon` (past ones marked), soonest first, each once.
 */
export function expiryCalendar(
  access: readonly WorkloadAccess[],
  range: { readonly from: Date; readonly now: Date; readonly horizon: Date },
): ExpiryEntry[] {
  const out = new Map<string, ExpiryEntry>();
  const from = range.from.getTime();
  const to = range.horizon.getTime();
  for (const w of access) {
    for (const d of w.destinations) {
      if (d.expires === undefined) continue;
      const at = Date.parse(d.expires);
      if (at < from || at > to) continue;
      const kind =
        d.via === 'policy'
          ? 'policy-rule'
          : d.via === 'security-group'
            ? 'security-group-rule'
            : d.via === 'exception'
              ? 'exception'
              : 'breakglass';
      const what = d.via === 'policy' ? `${d.policy ?? ''}/${d.rule}` : d.rule;
      const key = `${kind}\n${what}`;
      if (out.has(key)) continue;
      out.set(key, {
        at: d.expires,
        day: dayOf(d.expires),
        kind,
        what,
        ...(d.via === 'exception' || d.via === 'breakglass' ? { identity: w.identity } : {}),
        ...(d.owner !== undefined ? { owner: d.owner } : {}),
        past: at <= range.now.getTime(),
      });
    }
  }
  return [...out.values()].sort((a, b) => a.at.localeCompare(b.at) || a.what.localeCompare(b.what));
}
