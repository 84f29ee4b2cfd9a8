/**
 * @module policy/plan-desired — the desired security groups of a loaded policy set: one group
 * per policy, one egress rule per destination × port range, intent in description and tags
 * (fitted to EC2's charsets), and a note for everything left out.
 */
import type { Destination, Policy, PolicyRule, PolicySet } from './types.js';
import {
  FQDN_FAMILIES,
  fqdnListName,
  formatRule,
  GROUP_PREFIX,
  refKey,
  ruleIdentity,
  TAG,
} from './plan-model.js';
import type { DesiredGroup, DesiredRule, FqdnList, RuleTarget } from './plan-model.js';

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
