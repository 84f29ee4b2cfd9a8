/**
 * @module cli/policy-plan-apply — performs a plan on an EC2 endpoint, in the order that keeps
 * egress working throughout: FQDN lists first (filled with their names' addresses), then each
 * group (rules added before any is revoked), then the lists no policy names any more. Progress
 * goes to stderr; a failure stops the apply and reports what was done and what was not.
 */
import { createInterface } from 'node:readline/promises';
import {
  AuthorizeSecurityGroupEgressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteManagedPrefixListCommand,
  DeleteSecurityGroupCommand,
  DeleteTagsCommand,
  RevokeSecurityGroupEgressCommand,
  UpdateSecurityGroupRuleDescriptionsEgressCommand,
} from '@aws-sdk/client-ec2';
import type { EC2Client, IpPermission, Tag } from '@aws-sdk/client-ec2';
import { WeirError } from '../model/index.js';
import { diffRules, formatRule, FQDN_LIST_MAX_ENTRIES } from '../policy/index.js';
import type { CurrentRule, DesiredGroup, DesiredRule, GroupPlan, Plan, RuleChange } from '../policy/index.js';
import { createFqdnList, resolveName } from '../policy/index.js';
import type { Resolve, ResolvedName } from '../policy/index.js';
import { describeError } from './policy-plan-errors.js';
import { egressRules } from './policy-plan-read.js';

type Write = (s: string) => void;

/** Progress on stderr: a bar redrawn in place on a terminal, one line per step otherwise. */
export class Progress {
  private done = 0;
  constructor(
    private readonly total: number,
    private readonly err: Write,
    private readonly tty: boolean,
  ) {}
  step(units: number, what: string): void {
    this.done += units;
    if (!this.tty) {
      this.err(`apply: ${what}\n`);
      return;
    }
    const width = 30;
    const filled = this.total === 0 ? width : Math.round((this.done / this.total) * width);
    const bar = `${'='.repeat(filled)}${' '.repeat(width - filled)}`;
    this.err(`\r\x1b[2K[${bar}] ${this.done}/${this.total} ${what}`);
  }
  end(): void {
    if (this.tty) this.err('\n');
  }
}

function sdkTags(tags: Readonly<Record<string, string>>): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

function permission(r: DesiredRule): IpPermission {
  const t = r.target;
  const ports = r.protocol === '-1' ? {} : { FromPort: r.fromPort, ToPort: r.toPort };
  const base = { IpProtocol: r.protocol, ...ports };
  const d = r.description;
  switch (t.kind) {
    case 'ipv4':
      return { ...base, IpRanges: [{ CidrIp: t.cidr, Description: d }] };
    case 'ipv6':
      return { ...base, Ipv6Ranges: [{ CidrIpv6: t.cidr, Description: d }] };
    case 'prefixList':
      return { ...base, PrefixListIds: [{ PrefixListId: t.id, Description: d }] };
    case 'group':
      return { ...base, UserIdGroupPairs: [{ GroupId: t.id, Description: d }] };
  }
}

/** Groups items by a string key, keeping first-seen order. */
function groupBy<T>(items: readonly T[], key: (t: T) => string): T[][] {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = m.get(k);
    if (list) list.push(it);
    else m.set(k, [it]);
  }
  return [...m.values()];
}

/** Performs one group's rule changes: authorize (a call per policy rule: its tags), intent, revoke. */
async function applyRules(
  client: EC2Client,
  groupId: string,
  name: string,
  rules: { add: readonly DesiredRule[]; change: readonly RuleChange[]; revoke: readonly CurrentRule[] },
  progress: Progress,
  log: string[],
): Promise<void> {
  // Add before revoke, so a rule whose ports move is never absent in between.
  for (const batch of groupBy(rules.add, (r) => r.policyRule)) {
    await client.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: groupId,
        IpPermissions: batch.map(permission),
        TagSpecifications: [{ ResourceType: 'security-group-rule', Tags: sdkTags(batch[0]!.tags) }],
      }),
    );
    const what = `${name}: authorized ${batch.map((r) => `${formatRule(r)} (${r.policyRule})`).join(', ')}`;
    log.push(what);
    progress.step(batch.length, what);
  }
  const described = rules.change.filter((c) => c.description !== undefined);
  if (described.length > 0) {
    await client.send(
      new UpdateSecurityGroupRuleDescriptionsEgressCommand({
        GroupId: groupId,
        SecurityGroupRuleDescriptions: described.map((c) => ({
          SecurityGroupRuleId: c.rule.ruleId,
          Description: c.description!,
        })),
      }),
    );
    log.push(`${name}: updated ${described.length} description(s)`);
  }
  for (const batch of groupBy(
    rules.change.filter((c) => Object.keys(c.setTags).length > 0),
    (c) => JSON.stringify(c.setTags),
  )) {
    await client.send(
      new CreateTagsCommand({ Resources: batch.map((c) => c.rule.ruleId), Tags: sdkTags(batch[0]!.setTags) }),
    );
    log.push(`${name}: tagged ${batch.map((c) => c.rule.ruleId).join(', ')}`);
  }
  for (const batch of groupBy(
    rules.change.filter((c) => c.deleteTags.length > 0),
    (c) => c.deleteTags.join(','),
  )) {
    await client.send(
      new DeleteTagsCommand({
        Resources: batch.map((c) => c.rule.ruleId),
        Tags: batch[0]!.deleteTags.map((Key) => ({ Key })),
      }),
    );
    log.push(`${name}: untagged ${batch.map((c) => c.rule.ruleId).join(', ')}`);
  }
  if (rules.change.length > 0)
    progress.step(rules.change.length, `${name}: changed ${rules.change.length} rule(s)`);
  if (rules.revoke.length > 0) {
    await client.send(
      new RevokeSecurityGroupEgressCommand({
        GroupId: groupId,
        SecurityGroupRuleIds: rules.revoke.map((r) => r.ruleId),
      }),
    );
    const what = `${name}: revoked ${rules.revoke.map((r) => formatRule(r)).join(', ')}`;
    log.push(what);
    progress.step(rules.revoke.length, what);
  }
}

async function applyGroup(
  client: EC2Client,
  g: GroupPlan,
  desired: DesiredGroup | undefined,
  vpcId: string,
  progress: Progress,
  log: string[],
): Promise<void> {
  if (g.action === 'orphan') return;
  if (g.action === 'delete') {
    await client.send(new DeleteSecurityGroupCommand({ GroupId: g.groupId! }));
    log.push(`deleted sg ${g.name} (${g.groupId!})`);
    progress.step(1, `deleted sg ${g.name}`);
    return;
  }
  if (g.action === 'create') {
    const r = await client.send(
      new CreateSecurityGroupCommand({
        GroupName: g.name,
        Description: g.description!,
        VpcId: vpcId,
        TagSpecifications: [{ ResourceType: 'security-group', Tags: sdkTags(g.tags) }],
      }),
    );
    const groupId = r.GroupId!;
    log.push(`created sg ${g.name} (${groupId})`);
    progress.step(1, `created sg ${g.name}`);
    // The plan predicted the defaults EC2 adds; diff against what it actually added.
    const current = (await egressRules(client, [groupId])).get(groupId) ?? [];
    await applyRules(client, groupId, g.name, diffRules(desired?.rules ?? [], current), progress, log);
    return;
  }
  const groupId = g.groupId!;
  if (Object.keys(g.setTags).length > 0) {
    await client.send(new CreateTagsCommand({ Resources: [groupId], Tags: sdkTags(g.setTags) }));
  }
  if (g.deleteTags.length > 0) {
    await client.send(
      new DeleteTagsCommand({ Resources: [groupId], Tags: g.deleteTags.map((Key) => ({ Key })) }),
    );
  }
  if (Object.keys(g.setTags).length > 0 || g.deleteTags.length > 0) {
    log.push(`retagged sg ${g.name}`);
    progress.step(1, `retagged sg ${g.name}`);
  }
  await applyRules(client, groupId, g.name, g, progress, log);
}

/**
 * Performs the group plans in order; false (after reporting what was and was not done) when
 * one fails. Orphans are left alone.
 */
export async function applyGroups(
  client: EC2Client,
  groups: readonly GroupPlan[],
  desired: readonly DesiredGroup[],
  vpcId: string,
  stderr: Write,
  progress: Progress,
  log: string[],
): Promise<boolean> {
  const byName = new Map(desired.map((g) => [g.name, g]));
  const pending = groups.filter((g) => g.action !== 'orphan');
  for (const [i, g] of pending.entries()) {
    try {
      await applyGroup(client, g, byName.get(g.name), vpcId, progress, log);
    } catch (e) {
      progress.end();
      const rest = pending.slice(i).map((p) => `${p.action} sg ${p.name}`);
      stderr(applyFailure(`weir: apply failed at sg ${g.name}: ${describeError(e)}`, log, rest));
      return false;
    }
  }
  return true;
}

/** Creates the plan's FQDN lists, filled with each name's addresses; a name that does not resolve gets empty lists. */
export async function createLists(
  client: EC2Client,
  plan: Plan,
  resolve: Resolve,
  stderr: Write,
  progress: Progress,
  log: string[],
): Promise<void> {
  const resolved = new Map<string, ResolvedName | undefined>();
  for (const l of plan.prefixLists) {
    if (!resolved.has(l.fqdn)) {
      const r = await resolveName(resolve, l.fqdn);
      if ('error' in r)
        stderr(
          `weir: warning: ${l.fqdn} does not resolve (${r.error}); its prefix lists stay empty until \`weir policy resolve\` finds addresses\n`,
        );
      resolved.set(l.fqdn, 'entries' in r ? r.entries : undefined);
    }
    const entries = resolved.get(l.fqdn);
    const id = await createFqdnList(client, l, entries);
    const all = entries?.[l.family].length ?? 0;
    const n = Math.min(all, FQDN_LIST_MAX_ENTRIES);
    if (all > n)
      stderr(
        `weir: warning: ${l.fqdn} has ${all} ${l.family} addresses; ${l.listName} starts with ${n} and \`weir policy resolve\` grows it\n`,
      );
    const what = `created pl ${l.listName} (${id}, ${n} entr${n === 1 ? 'y' : 'ies'})`;
    log.push(what);
    progress.step(1, what);
  }
}

/**
 * Deletes the FQDN lists no policy names any more; false (after reporting) when a deletion
 * fails for any reason but a rule outside the set still referencing the list.
 */
export async function deleteStaleLists(
  client: EC2Client,
  plan: Plan,
  stderr: Write,
  progress: Progress,
  log: string[],
): Promise<boolean> {
  for (const l of plan.deleteLists) {
    try {
      await client.send(new DeleteManagedPrefixListCommand({ PrefixListId: l.id }));
      const what = `deleted pl ${l.listName} (${l.id})`;
      log.push(what);
      progress.step(1, what);
    } catch (e) {
      if (!(e instanceof Error && e.name === 'DependencyViolation')) {
        progress.end();
        stderr(applyFailure(`weir: apply failed deleting pl ${l.listName}: ${describeError(e)}`, log));
        return false;
      }
      // A rule outside the groups this set manages still points at it: deleting it would
      // break that rule, so it stays, and the next plan lists it again.
      progress.step(1, `kept pl ${l.listName}`);
      stderr(
        `weir: warning: pl ${l.listName} (${l.id}) is still referenced by a rule of a group this policy set does not manage; kept. Remove that rule, then apply again.\n`,
      );
    }
  }
  return true;
}

/** The report of an apply that stopped: what failed, what was done and, when known, what was not. */
export function applyFailure(headline: string, log: readonly string[], notDone?: readonly string[]): string {
  return (
    [
      headline,
      `done:${log.length ? '' : ' nothing'}`,
      ...log.map((l) => `  ${l}`),
      ...(notDone !== undefined ? ['not done (in part or in full):', ...notDone.map((l) => `  ${l}`)] : []),
      'Run `weir policy plan` to see what remains.',
    ].join('\n') + '\n'
  );
}

/** Asks on the terminal; without one, apply needs `--yes`. */
export async function defaultConfirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) {
    throw new WeirError('InvalidArgument', 'apply needs --yes when stdin is not a terminal');
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}
