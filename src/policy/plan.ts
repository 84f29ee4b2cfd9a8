/**
 * @module policy/plan — what `weir policy plan` / `apply` compute, without I/O: the desired
 * security groups of a policy set (one per policy, one egress rule per destination × port
 * range, intent in description and tags), the diff against the groups an EC2 endpoint holds,
 * and the plan's text and JSON renderings. The CLI (cli/policy-plan) reads and writes EC2.
 */
import type { Destination, Policy, PolicyRule, PolicySet } from './types.js';

/** Tag keys Weir owns; other tags on managed groups and rules are left alone. */
export const TAG = {
  policy: 'weir:policy',
  owner: 'weir:owner',
  managed: 'weir:managed',
  ruleId: 'weir:rule-id',
  dataClass: 'weir:data-class',
  expires: 'weir:expires',
  fqdn: 'weir:fqdn',
} as const;

/** Prefix of the managed prefix lists that hold a name's addresses: `weir-fqdn-<name>-ipv4`. */
export const FQDN_LIST_PREFIX = 'weir-fqdn-';

/**
 * MaxEntries of an FQDN prefix list. A security-group rule that references a prefix list
 * counts MaxEntries rules against the group's quota (60 by default), and each name has two
 * lists (IPv4, IPv6): 8 holds the 2–8 addresses a typical name (CDN, load balancer) resolves
 * to while one name on one port range costs 16 of those 60 — three names per default group.
 */
export const FQDN_LIST_MAX_ENTRIES = 8;

/** Address families of the FQDN lists, as EC2 names them and as list-name suffixes. */
export const FQDN_FAMILIES = [
  { suffix: 'ipv4', addressFamily: 'IPv4' },
  { suffix: 'ipv6', addressFamily: 'IPv6' },
] as const;

/** The managed prefix list of a name's addresses in one family. */
export function fqdnListName(name: string, family: 'ipv4' | 'ipv6'): string {
  return `${FQDN_LIST_PREFIX}${name}-${family}`;
}

/** One FQDN prefix list the policy set needs; `id` when the endpoint already holds it. */
export interface FqdnList {
  readonly listName: string;
  readonly fqdn: string;
  readonly family: 'ipv4' | 'ipv6';
  readonly id?: string;
}

/** A Weir-managed FQDN list the endpoint holds (tagged `weir:managed`, named `weir-fqdn-…`). */
export interface ManagedFqdnList {
  readonly listName: string;
  readonly id: string;
  readonly fqdn: string;
}

/** Prefix of managed group names: policy `payments-checkout` → `weir-payments-checkout`. */
export const GROUP_PREFIX = 'weir-';

/** Where an egress rule leads: an IP range, a prefix list ID or a security group ID. */
export type RuleTarget =
  | { readonly kind: 'ipv4' | 'ipv6'; readonly cidr: string }
  | { readonly kind: 'prefixList'; readonly id: string }
  | { readonly kind: 'group'; readonly id: string };

/** One egress rule as EC2 sees it: identity (protocol, ports, target) plus intent. */
export interface EgressRule {
  readonly protocol: string;
  readonly fromPort: number;
  readonly toPort: number;
  readonly target: RuleTarget;
  readonly description: string;
  /** Only `weir:*` tags (desired); all tags (current). */
  readonly tags: Readonly<Record<string, string>>;
}

/** A desired rule: which policy rule it comes from. */
export interface DesiredRule extends EgressRule {
  readonly policyRule: string;
}

/** A rule the endpoint holds. */
export interface CurrentRule extends EgressRule {
  readonly ruleId: string;
}

export interface DesiredGroup {
  readonly policy: string;
  readonly name: string;
  readonly description: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly rules: readonly DesiredRule[];
}

/** A group the endpoint holds (managed by tag, or named like a desired group). */
export interface CurrentGroup {
  readonly groupId: string;
  readonly name: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Egress rules only; ingress is not Weir's. */
  readonly rules: readonly CurrentRule[];
}

/** Names and IDs the desired state needs from the endpoint. */
export interface DesiredOptions {
  /** Epoch ms: rules expired by then are not applied. */
  readonly now: number;
  /** Prefix-list / group names (not IDs) of destinations → their IDs; unresolved are skipped. */
  readonly refs?: ReadonlyMap<string, string>;
}

export interface DesiredState {
  readonly groups: readonly DesiredGroup[];
  /** The prefix lists of the set's exact FQDN destinations, in first-use order. */
  readonly fqdnLists: readonly FqdnList[];
  /** One line each: skipped FQDNs, expired rules, unresolved names, duplicates. */
  readonly notes: readonly string[];
}

// EC2 caps prefix-list names at 255 characters.
const MAX_LIST_NAME = 255;

/** The exact names of a set's FQDN destinations whose list names fit EC2 (wildcards have no lists). */
export function fqdnNames(set: PolicySet): string[] {
  const out = new Set<string>();
  for (const p of set.policies)
    for (const r of p.rules)
      for (const d of r.destinations)
        if (d.kind === 'fqdn' && d.match === 'exact' && fqdnListName(d.name, 'ipv4').length <= MAX_LIST_NAME)
          out.add(d.name);
  return [...out];
}

/** `prefixList:<name>` / `group:<name>`: the key of a by-name reference in `refs`. */
export function refKey(kind: 'prefixList' | 'group', name: string): string {
  return `${kind}:${name}`;
}

/** Destinations naming a prefix list or group by name (not ID): the CLI resolves these. */
export function namedRefs(set: PolicySet): { kind: 'prefixList' | 'group'; name: string }[] {
  const out = new Map<string, { kind: 'prefixList' | 'group'; name: string }>();
  for (const p of set.policies)
    for (const r of p.rules)
      for (const d of r.destinations) {
        if (d.kind === 'prefixList' && !d.ref.startsWith('pl-'))
          out.set(refKey('prefixList', d.ref), { kind: d.kind, name: d.ref });
        if (d.kind === 'group' && !d.ref.startsWith('sg-'))
          out.set(refKey('group', d.ref), { kind: d.kind, name: d.ref });
      }
  return [...out.values()];
}

// EC2's rule-description set without `&` (which only IP-range rules accept), so one description
// fits any target.
const DESCRIPTION_DISALLOWED = /[^a-zA-Z0-9. _\-:/()#,@[\]+=;{}!$*]/g;
const MAX_TEXT = 255;
// EC2 tag values: letters, digits, spaces and `+ - = . _ : / @`, at most 256.
const TAG_DISALLOWED = /[^\p{L}\p{N} +\-=._:/@]/gu;

/**
 * Text made to fit EC2's rule-description charset: accents dropped, `&` → `and`, quotes dropped, other misfits →
 * space, whitespace collapsed, at most 255 characters (`...` marks a cut).
 */
export function sanitizeDescription(s: string): string {
  const clean = s
    // Accented letters keep their base letter (`é` → `e`) rather than becoming a space.
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/&/g, 'and')
    .replace(/["'`\u2018\u2019\u201c\u201d]/g, '')
    .replace(DESCRIPTION_DISALLOWED, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return clean.length <= MAX_TEXT ? clean : `${clean.slice(0, MAX_TEXT - 3).trimEnd()}...`;
}

function tagValue(s: string): string {
  return s.replace(TAG_DISALLOWED, '_').slice(0, 256);
}

/** The rule description Weir writes: `weir:<rule id> <justification>`, sanitised. */
export function ruleDescription(rule: PolicyRule): string {
  return sanitizeDescription(`weir:${rule.id}${rule.justification ? ` ${rule.justification}` : ''}`);
}

/**
 * The tags by which an applied security-group rule names the policy rule it came from (what
 * `weir check` against a server looks up to show the rules a policy rule became).
 */
export function ruleOriginTags(policy: string, ruleId: string): Record<string, string> {
  return { [TAG.policy]: policy, [TAG.ruleId]: tagValue(ruleId) };
}

function ruleTags(policy: Policy, rule: PolicyRule): Record<string, string> {
  const tags = ruleOriginTags(policy.name, rule.id);
  if (rule.owner !== undefined) tags[TAG.owner] = tagValue(rule.owner);
  if (rule.dataClass !== undefined) tags[TAG.dataClass] = tagValue(rule.dataClass);
  if (rule.expiresText !== undefined) tags[TAG.expires] = tagValue(rule.expiresText);
  return tags;
}

/** `tcp`/`udp` carry ports; every other protocol (and `-1`) uses -1/-1, as EC2 stores them. */
function portRanges(rule: PolicyRule): { from: number; to: number }[] {
  if (rule.protocol !== 'tcp' && rule.protocol !== 'udp') return [{ from: -1, to: -1 }];
  return rule.ports.length === 0 ? [{ from: 0, to: 65535 }] : rule.ports.map((p) => ({ ...p }));
}

function targetOf(
  d: Exclude<Destination, { kind: 'fqdn' }>,
  refs: ReadonlyMap<string, string> | undefined,
): RuleTarget | undefined {
  if (d.kind === 'cidr') return { kind: d.family === 4 ? 'ipv4' : 'ipv6', cidr: d.cidr };
  const { kind, ref } = d;
  const id = ref.startsWith(kind === 'prefixList' ? 'pl-' : 'sg-') ? ref : refs?.get(refKey(kind, ref));
  return id === undefined ? undefined : { kind, id };
}

/** A rule's identity in its group: protocol, ports and target (what EC2 calls a duplicate). */
export function ruleIdentity(r: Pick<EgressRule, 'protocol' | 'fromPort' | 'toPort' | 'target'>): string {
  const t = r.target;
  const to = 'cidr' in t ? t.cidr : t.id;
  const ports = r.protocol === '-1' ? '-1:-1' : `${r.fromPort}:${r.toPort}`;
  return `${canonicalProtocol(r.protocol)}|${ports}|${t.kind}:${to}`;
}

const PROTOCOL_NUMBERS: Readonly<Record<string, string>> = {
  '6': 'tcp',
  '17': 'udp',
  '1': 'icmp',
  '58': 'icmpv6',
};

/** EC2 answers some protocols by number; policies use names. */
export function canonicalProtocol(p: string): string {
  const lower = p.toLowerCase();
  return PROTOCOL_NUMBERS[lower] ?? lower;
}

/**
 * The desired groups of a loaded policy set (which must have loaded without errors). An exact
 * FQDN destination becomes rules to its two prefix lists (`weir-fqdn-<name>-ipv4|ipv6`, by ID
 * from `refs` when they exist, else by name until apply creates them); wildcard FQDNs are
 * skipped (a list cannot enumerate names); expired rules are not applied; all are noted.
 */
export function desiredState(set: PolicySet, opts: DesiredOptions): DesiredState {
  const notes: string[] = [];
  const groups: DesiredGroup[] = [];
  const fqdnLists = new Map<string, FqdnList>();
  const fqdnTargets = (name: string): RuleTarget[] =>
    FQDN_FAMILIES.map(({ suffix }) => {
      const listName = fqdnListName(name, suffix);
      const id = opts.refs?.get(refKey('prefixList', listName));
      if (!fqdnLists.has(listName))
        fqdnLists.set(listName, {
          listName,
          fqdn: name,
          family: suffix,
          ...(id !== undefined ? { id } : {}),
        });
      return { kind: 'prefixList', id: id ?? listName };
    });
  for (const policy of set.policies) {
    const rules: DesiredRule[] = [];
    const seen = new Map<string, string>();
    for (const rule of policy.rules) {
      const where = `${policy.name}/${rule.id}`;
      if (rule.expires !== undefined && rule.expires < opts.now) {
        notes.push(`${where}: expired ${rule.expiresText ?? ''}; not applied`.replace(' ;', ';'));
        continue;
      }
      const description = ruleDescription(rule);
      const tags = ruleTags(policy, rule);
      for (const d of rule.destinations) {
        let targets: RuleTarget[];
        if (d.kind === 'fqdn') {
          if (d.match !== 'exact') {
            const shown = `${d.match === 'one-label' ? '*' : '**'}.${d.name}`;
            notes.push(
              `${where}: fqdn ${shown} skipped: a prefix list cannot enumerate the names of a wildcard; the gateway enforces it by name`,
            );
            continue;
          }
          if (fqdnListName(d.name, 'ipv4').length > MAX_LIST_NAME) {
            notes.push(`${where}: fqdn ${d.name} skipped: too long for a prefix-list name`);
            continue;
          }
          targets = fqdnTargets(d.name);
        } else {
          const target = targetOf(d, opts.refs);
          if (target === undefined) {
            notes.push(`${where}: ${d.kind} ${'ref' in d ? d.ref : ''} not found; skipped`);
            continue;
          }
          targets = [target];
        }
        for (const target of targets)
          for (const p of portRanges(rule)) {
            const r: DesiredRule = {
              protocol: rule.protocol,
              fromPort: p.from,
              toPort: p.to,
              target,
              description,
              tags,
              policyRule: rule.id,
            };
            const id = ruleIdentity(r);
            const first = seen.get(id);
            if (first !== undefined) {
              notes.push(`${where}: ${formatRule(r)} duplicates rule ${first}; kept ${first}`);
              continue;
            }
            seen.set(id, rule.id);
            rules.push(r);
          }
      }
    }
    if (policy.mode === 'report') {
      // A security group cannot log-and-allow: in report mode it keeps egress open so nothing
      // is blocked, and the gateway reports what enforce mode would deny.
      for (const cidr of ['0.0.0.0/0', '::/0']) {
        const r: DesiredRule = {
          protocol: '-1',
          fromPort: -1,
          toPort: -1,
          target: { kind: cidr.includes(':') ? 'ipv6' : 'ipv4', cidr },
          description: 'weir:report-mode allow-all while the policy is in report mode',
          tags: { [TAG.policy]: policy.name, [TAG.ruleId]: 'report-mode' },
          policyRule: 'report-mode',
        };
        if (!seen.has(ruleIdentity(r))) rules.push(r);
      }
      notes.push(`${policy.name}: mode report: allow-all egress kept`);
    }
    groups.push({
      policy: policy.name,
      name: `${GROUP_PREFIX}${policy.name}`,
      description: groupDescription(policy),
      tags: {
        [TAG.policy]: policy.name,
        [TAG.managed]: 'true',
        ...(policy.owner !== undefined ? { [TAG.owner]: tagValue(policy.owner) } : {}),
      },
      rules,
    });
  }
  return { groups, fqdnLists: [...fqdnLists.values()], notes };
}

function groupDescription(policy: Policy): string {
  const parts = [`Weir policy ${policy.name}`];
  if (policy.owner !== undefined) parts.push(`owner ${policy.owner}`);
  parts.push(`mode ${policy.mode}`);
  // Group descriptions also accept `&`; the rule set is a subset, so this always fits.
  return sanitizeDescription(parts.join(', '));
}

/** A change of a rule's intent: its description and/or its `weir:*` tags. */
export interface RuleChange {
  readonly rule: CurrentRule;
  readonly desired: DesiredRule;
  /** The new description, when it differs. */
  readonly description?: string;
  /** Tags to set (new or changed values). */
  readonly setTags: Readonly<Record<string, string>>;
  /** `weir:*` tag keys to delete. */
  readonly deleteTags: readonly string[];
}

/** What to do to one group. */
export interface GroupPlan {
  readonly name: string;
  readonly policy: string;
  /** `create`: new; `update`: exists; `delete`: policy gone and `prune`; `orphan`: policy gone, kept. */
  readonly action: 'create' | 'update' | 'delete' | 'orphan';
  readonly groupId?: string;
  readonly description?: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Group tags to set / delete (existing groups). */
  readonly setTags: Readonly<Record<string, string>>;
  readonly deleteTags: readonly string[];
  readonly add: readonly DesiredRule[];
  readonly change: readonly RuleChange[];
  /** For a new group, the default allow-all rules EC2 creates with it (ID `(default)`). */
  readonly revoke: readonly CurrentRule[];
}

export interface Plan {
  readonly vpcId: string;
  /** FQDN prefix lists to create (before the groups whose rules reference them). */
  readonly prefixLists: readonly FqdnList[];
  /**
   * FQDN prefix lists no policy names any more, to delete after the groups (whose rules to
   * them are revoked on the way).
   */
  readonly deleteLists: readonly ManagedFqdnList[];
  readonly groups: readonly GroupPlan[];
  readonly notes: readonly string[];
  readonly summary: { readonly add: number; readonly change: number; readonly revoke: number };
}

export interface DiffOptions {
  readonly vpcId: string;
  /** Delete managed groups whose policy is no longer in the set. */
  readonly prune?: boolean;
  /** Whether new groups get a `::/0` default rule too (the VPC has an IPv6 block). */
  readonly vpcHasIpv6?: boolean;
  /** The managed FQDN lists the endpoint holds; those no policy needs are deleted. */
  readonly managedLists?: readonly ManagedFqdnList[];
}

/** The default egress rules EC2 gives a new group in a VPC. */
export function defaultEgressRules(ipv6: boolean): EgressRule[] {
  const all = { protocol: '-1', fromPort: -1, toPort: -1, description: '', tags: {} };
  const rules: EgressRule[] = [{ ...all, target: { kind: 'ipv4', cidr: '0.0.0.0/0' } }];
  if (ipv6) rules.push({ ...all, target: { kind: 'ipv6', cidr: '::/0' } });
  return rules;
}

function weirTags(tags: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).filter(([k]) => k.startsWith('weir:')));
}

function tagDiff(
  current: Readonly<Record<string, string>>,
  desired: Readonly<Record<string, string>>,
): { setTags: Record<string, string>; deleteTags: string[] } {
  const setTags: Record<string, string> = {};
  for (const [k, v] of Object.entries(desired)) if (current[k] !== v) setTags[k] = v;
  const deleteTags = Object.keys(weirTags(current)).filter((k) => !(k in desired));
  return { setTags, deleteTags };
}

/** The rule diff of one group: add what is missing, change intent that drifted, revoke the rest. */
export function diffRules(
  desired: readonly DesiredRule[],
  current: readonly CurrentRule[],
): { add: DesiredRule[]; change: RuleChange[]; revoke: CurrentRule[] } {
  const byId = new Map<string, CurrentRule>();
  const revoke: CurrentRule[] = [];
  for (const r of current) {
    const id = ruleIdentity(r);
    if (byId.has(id)) revoke.push(r);
    else byId.set(id, r);
  }
  const add: DesiredRule[] = [];
  const change: RuleChange[] = [];
  const kept = new Set<string>();
  for (const d of desired) {
    const id = ruleIdentity(d);
    const cur = byId.get(id);
    if (!cur) {
      add.push(d);
      continue;
    }
    kept.add(id);
    const { setTags, deleteTags } = tagDiff(cur.tags, d.tags);
    const description = cur.description !== d.description ? d.description : undefined;
    if (description !== undefined || Object.keys(setTags).length > 0 || deleteTags.length > 0) {
      change.push({
        rule: cur,
        desired: d,
        ...(description !== undefined ? { description } : {}),
        setTags,
        deleteTags,
      });
    }
  }
  for (const [id, r] of byId) if (!kept.has(id)) revoke.push(r);
  return { add, change, revoke };
}

/** Diffs the desired state against the endpoint's groups (managed ones, or named like desired). */
export function diffState(desired: DesiredState, current: readonly CurrentGroup[], opts: DiffOptions): Plan {
  const byName = new Map(current.map((g) => [g.name, g]));
  const groups: GroupPlan[] = [];
  const wanted = new Set<string>();
  for (const g of desired.groups) {
    wanted.add(g.name);
    const cur = byName.get(g.name);
    if (!cur) {
      // EC2 gives a new group its allow-all defaults; they are diffed like any current rule.
      const defaults = defaultEgressRules(opts.vpcHasIpv6 === true).map((r) => ({
        ...r,
        ruleId: '(default)',
      }));
      groups.push({
        name: g.name,
        policy: g.policy,
        action: 'create',
        description: g.description,
        tags: g.tags,
        setTags: {},
        deleteTags: [],
        ...diffRules(g.rules, defaults),
      });
      continue;
    }
    const { setTags, deleteTags } = tagDiff(cur.tags, g.tags);
    groups.push({
      name: g.name,
      policy: g.policy,
      action: 'update',
      groupId: cur.groupId,
      tags: g.tags,
      setTags,
      deleteTags,
      ...diffRules(g.rules, cur.rules),
    });
  }
  for (const cur of current) {
    if (wanted.has(cur.name) || cur.tags[TAG.managed] !== 'true') continue;
    groups.push({
      name: cur.name,
      policy: cur.tags[TAG.policy] ?? '',
      action: opts.prune === true ? 'delete' : 'orphan',
      groupId: cur.groupId,
      tags: cur.tags,
      setTags: {},
      deleteTags: [],
      add: [],
      change: [],
      revoke: [],
    });
  }
  const prefixLists = desired.fqdnLists.filter((l) => l.id === undefined);
  const { deleteLists, keptNotes } = staleLists(desired, groups, current, opts.managedLists ?? []);
  const summary = { add: prefixLists.length, change: 0, revoke: deleteLists.length };
  for (const g of groups) {
    if (g.action === 'create') summary.add++;
    if (g.action === 'delete') summary.revoke++;
    if (Object.keys(g.setTags).length > 0 || g.deleteTags.length > 0) summary.change++;
    summary.add += g.add.length;
    summary.change += g.change.length;
    summary.revoke += g.revoke.length;
  }
  const notes = [...desired.notes];
  for (const g of groups)
    if (g.action === 'orphan')
      notes.push(`${g.name}: policy no longer in the set; kept (--prune deletes it)`);
  notes.push(...keptNotes);
  return { vpcId: opts.vpcId, prefixLists, deleteLists, groups, notes, summary };
}

/**
 * The managed FQDN lists no policy names any more. One that a rule outliving the apply still
 * references (a rule of an orphaned group kept without `--prune`) is kept, with a note:
 * deleting it would fail with `DependencyViolation`.
 */
function staleLists(
  desired: DesiredState,
  groups: readonly GroupPlan[],
  current: readonly CurrentGroup[],
  managed: readonly ManagedFqdnList[],
): { deleteLists: ManagedFqdnList[]; keptNotes: string[] } {
  const wanted = new Set(desired.fqdnLists.map((l) => l.listName));
  const stale = managed.filter((l) => !wanted.has(l.listName));
  if (stale.length === 0) return { deleteLists: [], keptNotes: [] };
  const byId = new Map(current.map((g) => [g.groupId, g]));
  const holders = new Map<string, string>();
  for (const g of groups) {
    if (g.action === 'delete' || g.action === 'create' || g.groupId === undefined) continue;
    const revoked = new Set(g.revoke.map((r) => r.ruleId));
    for (const r of byId.get(g.groupId)?.rules ?? []) {
      if (r.target.kind === 'prefixList' && !revoked.has(r.ruleId)) holders.set(r.target.id, g.name);
    }
  }
  const deleteLists: ManagedFqdnList[] = [];
  const keptNotes: string[] = [];
  for (const l of stale) {
    const holder = holders.get(l.id);
    if (holder === undefined) deleteLists.push(l);
    else
      keptNotes.push(
        `pl ${l.listName} (${l.id}): no policy names ${l.fqdn} any more, but ${holder} still references it; kept`,
      );
  }
  return { deleteLists, keptNotes };
}

/** Whether applying the plan would change anything. */
export function hasChanges(plan: Plan): boolean {
  return plan.summary.add + plan.summary.change + plan.summary.revoke > 0;
}

function isDefaultAllowAll(r: EgressRule): boolean {
  const t = r.target;
  return (
    r.protocol === '-1' &&
    (t.kind === 'ipv4' || t.kind === 'ipv6') &&
    (t.cidr === '0.0.0.0/0' || t.cidr === '::/0') &&
    r.tags[TAG.ruleId] === undefined
  );
}

/** `tcp 443 -> 192.0.2.0/24`, `all -> ::/0`, `udp 0-65535 -> pl-…`. */
export function formatRule(r: Pick<EgressRule, 'protocol' | 'fromPort' | 'toPort' | 'target'>): string {
  const t = r.target;
  const to = 'cidr' in t ? t.cidr : t.id;
  const proto = canonicalProtocol(r.protocol);
  if (proto === '-1') return `all -> ${to}`;
  if (r.fromPort === -1) return `${proto} -> ${to}`;
  const ports = r.fromPort === r.toPort ? `${r.fromPort}` : `${r.fromPort}-${r.toPort}`;
  return `${proto} ${ports} -> ${to}`;
}

function label(r: EgressRule): string {
  if ('policyRule' in r) return (r as DesiredRule).policyRule;
  if (isDefaultAllowAll(r)) return 'default allow-all';
  return r.tags[TAG.ruleId] ?? ('ruleId' in r ? (r as CurrentRule).ruleId : 'unmanaged');
}

function formatChange(c: RuleChange): string {
  const what: string[] = [];
  if (c.description !== undefined) what.push(`description "${c.rule.description}" -> "${c.description}"`);
  for (const [k, v] of Object.entries(c.setTags)) {
    const old = c.rule.tags[k];
    what.push(old === undefined ? `tag ${k}=${v}` : `tag ${k}=${old} -> ${v}`);
  }
  for (const k of c.deleteTags) what.push(`untag ${k}`);
  return `~ egress ${formatRule(c.rule)} (${label(c.desired)}): ${what.join(', ')}`;
}

/** The plan as text: one line per change, notes, and `Plan: N to add, N to change, N to revoke.` */
export function formatPlanText(plan: Plan): string {
  const lines: string[] = [];
  for (const l of plan.prefixLists)
    lines.push(`+ pl ${l.listName} (new, for ${l.fqdn}, max ${FQDN_LIST_MAX_ENTRIES} entries)`);
  for (const l of plan.deleteLists)
    lines.push(`- pl ${l.listName} (${l.id}, no policy names ${l.fqdn}; deleted after the groups)`);
  for (const g of plan.groups) {
    const body: string[] = [];
    for (const r of g.add) body.push(`  + egress ${formatRule(r)} (${label(r)})`);
    for (const c of g.change) body.push(`  ${formatChange(c)}`);
    for (const r of g.revoke) body.push(`  - egress ${formatRule(r)} (${label(r)})`);
    const tagged = [
      ...Object.entries(g.setTags).map(([k, v]) => `tag ${k}=${v}`),
      ...g.deleteTags.map((k) => `untag ${k}`),
    ];
    if (g.action === 'create') lines.push(`+ sg ${g.name} (new, in ${plan.vpcId})`, ...body);
    else if (g.action === 'delete') lines.push(`- sg ${g.name} (${g.groupId ?? ''}, policy removed)`);
    else if (tagged.length > 0)
      lines.push(`~ sg ${g.name} (${g.groupId ?? ''}): ${tagged.join(', ')}`, ...body);
    else if (body.length > 0) lines.push(`  sg ${g.name} (${g.groupId ?? ''})`, ...body);
  }
  for (const n of plan.notes) lines.push(`! ${n}`);
  if (lines.length > 0) lines.push('');
  const { add, change, revoke } = plan.summary;
  lines.push(
    hasChanges(plan)
      ? `Plan: ${add} to add, ${change} to change, ${revoke} to revoke.`
      : 'No changes. The security groups match the policy set.',
  );
  return `${lines.join('\n')}\n`;
}

function jsonRule(r: EgressRule): Record<string, unknown> {
  return {
    ...('ruleId' in r ? { securityGroupRuleId: (r as CurrentRule).ruleId } : {}),
    rule: label(r),
    protocol: r.protocol,
    fromPort: r.fromPort,
    toPort: r.toPort,
    target: r.target,
    description: r.description,
    tags: r.tags,
  };
}

/** The plan as JSON (stable keys; rules carry identity, intent and, when known, their sgr ID). */
export function formatPlanJson(plan: Plan): string {
  const out = {
    vpcId: plan.vpcId,
    changes: hasChanges(plan),
    summary: plan.summary,
    prefixLists: plan.prefixLists.map((l) => ({
      name: l.listName,
      fqdn: l.fqdn,
      family: l.family,
      maxEntries: FQDN_LIST_MAX_ENTRIES,
    })),
    deletePrefixLists: plan.deleteLists.map((l) => ({ name: l.listName, id: l.id, fqdn: l.fqdn })),
    groups: plan.groups.map((g) => ({
      name: g.name,
      policy: g.policy,
      action: g.action,
      ...(g.groupId !== undefined ? { groupId: g.groupId } : {}),
      setTags: g.setTags,
      deleteTags: g.deleteTags,
      add: g.add.map(jsonRule),
      change: g.change.map((c) => ({
        ...jsonRule(c.rule),
        ...(c.description !== undefined ? { newDescription: c.description } : {}),
        setTags: c.setTags,
        deleteTags: c.deleteTags,
      })),
      revoke: g.revoke.map(jsonRule),
    })),
    notes: plan.notes,
  };
  return `${JSON.stringify(out, null, 2)}\n`;
}
