/**
 * @module policy/plan-diff — the plan: the desired groups diffed against the groups an EC2
 * endpoint holds (rules to add, intent to change, rules to revoke; groups to create, update,
 * delete or keep as orphans) and the FQDN prefix lists no policy needs any more.
 */
import type { DesiredState } from './plan-desired.js';
import { ruleIdentity, TAG } from './plan-model.js';
import type {
  CurrentGroup,
  CurrentRule,
  DesiredRule,
  EgressRule,
  FqdnList,
  ManagedFqdnList,
} from './plan-model.js';

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
