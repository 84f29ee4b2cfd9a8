/**
 * @module policy/plan-format — the plan's renderings: text (one line per change, notes and a
 * summary, as `weir policy plan` prints it) and JSON (stable keys for scripts).
 */
import { hasChanges } from './plan-diff.js';
import type { Plan, RuleChange } from './plan-diff.js';
import { FQDN_LIST_MAX_ENTRIES, formatRule, TAG } from './plan-model.js';
import type { CurrentRule, DesiredRule, EgressRule } from './plan-model.js';

function isDefaultAllowAll(r: EgressRule): boolean {
  const t = r.target;
  return (
    r.protocol === '-1' &&
    (t.kind === 'ipv4' || t.kind === 'ipv6') &&
    (t.cidr === '0.0.0.0/0' || t.cidr === '::/0') &&
    r.tags[TAG.ruleId] === undefined
  );
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
