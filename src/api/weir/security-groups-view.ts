/**
 * @module api/weir/security-groups-view — the console's Security groups screen as a Weir API read
 * (`ListSecurityGroupsView`): the EC2 side of the caller's namespace (the gateway account, the
 * signing region) as the gateway sees it: groups with their egress and ingress rules, tags, the
 * prefix lists and groups the rules reference, the workloads each group is attached to, and for
 * a rule `weir policy apply` made, the policy and rule that made it (its origin tags).
 */
import type { ManagedPrefixList, SecurityGroup, SecurityGroupRule } from '../../model/index.js';
import { assertSecurityGroupId } from '../../model/index.js';
import type { StoreTx } from '../../store/index.js';
import { declaredAttachmentsOf } from '../context.js';
import type { OperationContext } from './operations.js';
import { groupRulePorts, limitQuery, madeByPolicy, targetText, textQuery } from './inventory-format.js';

type Json = Record<string, unknown>;

/** Groups answered by default and at most (EC2 allows 2,500 per VPC; each has at most 120 rules). */
const DEFAULT_GROUPS = 200;
const MAX_GROUPS = 1000;
/** Entries shown of one referenced prefix list (a managed list holds at most 1,000). */
const MAX_LIST_ENTRIES = 100;

const tagsJson = (tags: readonly { key: string; value: string }[]): Json =>
  Object.fromEntries(tags.map((t) => [t.key, t.value]));

function ruleJson(r: SecurityGroupRule, names: ReadonlyMap<string, string>): Json {
  const made = madeByPolicy(r);
  const target = targetText(r);
  const name = names.get(target);
  return {
    ruleId: r.ruleId,
    direction: r.direction,
    protocol: r.ipProtocol,
    ports: groupRulePorts(r),
    target,
    targetKind: r.target.kind,
    ...(name !== undefined ? { targetName: name } : {}),
    ...(r.description !== undefined && r.description !== '' ? { description: r.description } : {}),
    tags: tagsJson(r.tags),
    ...(made !== undefined ? { madeBy: made } : {}),
  };
}

/** The page's groups, their rules, and what those rules reference, read in one transaction. */
async function readPage(
  ctx: OperationContext,
  tx: StoreTx,
  pick: (all: SecurityGroup[]) => SecurityGroup[],
): Promise<{
  all: number;
  groups: SecurityGroup[];
  rules: SecurityGroupRule[];
  lists: { list: ManagedPrefixList; cidrs: string[] }[];
  refGroups: SecurityGroup[];
  attached: { identity: string; groupId: string; source: string }[];
}> {
  const every = await tx.listGroups(ctx.scope);
  const groups = pick(every);
  const groupIds = groups.map((g) => g.groupId);
  const rules = groupIds.length === 0 ? [] : await tx.listRules(ctx.scope, { groupIds });
  const listIds = [
    ...new Set(rules.flatMap((r) => (r.target.kind === 'prefixList' ? [r.target.prefixListId] : []))),
  ];
  const lists = [];
  for (const list of listIds.length === 0 ? [] : await tx.listPrefixLists(ctx.scope, listIds)) {
    const entries = await tx.getPrefixListEntries(ctx.scope, list.prefixListId);
    lists.push({ list, cidrs: entries.slice(0, MAX_LIST_ENTRIES).map((e) => e.cidr) });
  }
  const refIds = [...new Set(rules.flatMap((r) => (r.target.kind === 'group' ? [r.target.groupId] : [])))];
  const refGroups = every.filter((g) => refIds.includes(g.groupId));
  const wanted = new Set(groupIds);
  const attached = [
    ...(await tx.listWorkloadAttachments(ctx.scope))
      .filter((a) => wanted.has(a.groupId))
      .map((a) => ({ identity: a.identity, groupId: a.groupId, source: 'api' })),
    ...declaredAttachmentsOf(ctx.options.declaredAttachments, ctx.scope)
      .filter((a) => wanted.has(a.groupId))
      .map((a) => ({ identity: a.identity, groupId: a.groupId, source: 'policy' })),
  ];
  return { all: every.length, groups, rules, lists, refGroups, attached };
}

/** `GET security-groups[?groupId=&q=&limit=]`: the namespace's groups, rules and references. */
export async function listSecurityGroupsViewOp(
  ctx: OperationContext,
  query: Readonly<Record<string, string>>,
): Promise<Json> {
  const op = 'ListSecurityGroupsView';
  const limit = limitQuery(query, op, DEFAULT_GROUPS, MAX_GROUPS);
  const groupId = query.groupId === undefined ? undefined : assertSecurityGroupId(query.groupId);
  const q = textQuery(query, 'q', op)?.toLowerCase();
  const pick = (all: SecurityGroup[]): SecurityGroup[] =>
    all
      .filter((g) => groupId === undefined || g.groupId === groupId)
      .filter(
        (g) =>
          q === undefined ||
          `${g.groupId} ${g.groupName} ${g.description} ${JSON.stringify(g.tags)}`.toLowerCase().includes(q),
      )
      .slice(0, limit + 1);
  const page = await ctx.store.transaction(ctx.scope, (tx) => readPage(ctx, tx, pick), { readOnly: true });
  const shown = page.groups.slice(0, limit);
  const names = new Map<string, string>([
    ...page.lists.map((l): [string, string] => [l.list.prefixListId, l.list.prefixListName]),
    ...page.refGroups.map((g): [string, string] => [g.groupId, g.groupName]),
  ]);
  return {
    namespace: { account: ctx.scope.accountId, region: ctx.scope.region },
    groups: shown.map((g) => ({
      groupId: g.groupId,
      groupName: g.groupName,
      description: g.description,
      vpcId: g.vpcId,
      isDefault: g.isDefault,
      tags: tagsJson(g.tags),
      attachedTo: page.attached
        .filter((a) => a.groupId === g.groupId)
        .map((a) => ({ identity: a.identity, source: a.source })),
      egress: page.rules
        .filter((r) => r.groupId === g.groupId && r.direction === 'egress')
        .map((r) => ruleJson(r, names)),
      ingress: page.rules
        .filter((r) => r.groupId === g.groupId && r.direction === 'ingress')
        .map((r) => ruleJson(r, names)),
    })),
    prefixLists: page.lists.map((l) => ({
      prefixListId: l.list.prefixListId,
      name: l.list.prefixListName,
      addressFamily: l.list.addressFamily,
      version: l.list.version,
      entries: l.cidrs,
      tags: tagsJson(l.list.tags),
    })),
    ...(page.groups.length > limit ? { truncated: true } : {}),
  };
}
