/**
 * @module api/actions/resolve — lookups shared by the actions: a group by ID or (default VPC)
 * name, group references and prefix-list references inside rules, all with EC2's errors.
 */
import { Ec2Error, assertSecurityGroupId } from '../../model/index.js';
import type { RuleDraft, RuleSpec, Scope, SecurityGroup } from '../../model/index.js';
import type { StoreTx } from '../../store/index.js';
import type { ActionContext } from '../context.js';
import { awsPrefixListById } from './aws-prefix-lists.js';

export async function getGroupOrThrow(tx: StoreTx, scope: Scope, groupId: string): Promise<SecurityGroup> {
  assertSecurityGroupId(groupId);
  const g = await tx.getGroup(scope, groupId);
  if (!g) throw new Ec2Error('InvalidGroup.NotFound', `The security group '${groupId}' does not exist`);
  return g;
}

/** The default VPC's ID, or EC2's error when the account has deleted it. */
export async function defaultVpcId(tx: StoreTx, scope: Scope): Promise<string> {
  const rec = await tx.getScope(scope);
  if (!rec || !(await tx.getVpc(scope, rec.defaultVpcId))) {
    throw new Ec2Error('VPCIdNotSpecified', 'No default VPC for this user');
  }
  return rec.defaultVpcId;
}

/**
 * A group named by ID, or by name in the default VPC (EC2 accepts names only there).
 */
export async function findGroup(
  tx: StoreTx,
  scope: Scope,
  ref: { readonly GroupId?: string | undefined; readonly GroupName?: string | undefined },
): Promise<SecurityGroup> {
  if (ref.GroupId !== undefined) return getGroupOrThrow(tx, scope, ref.GroupId);
  if (ref.GroupName !== undefined) {
    const vpcId = await defaultVpcId(tx, scope);
    const g = await tx.findGroupByName(scope, vpcId, ref.GroupName);
    if (!g) {
      throw new Ec2Error(
        'InvalidGroup.NotFound',
        `The security group '${ref.GroupName}' does not exist in default VPC '${vpcId}'`,
      );
    }
    return g;
  }
  throw new Ec2Error('MissingParameter', 'The request must contain the parameter groupName or groupId');
}

/**
 * Turns drafts into rules the store can key: group references resolved to the referenced
 * group's ID and owner, prefix lists checked to exist. `onMissing` decides what a reference
 * to nothing does (authorize: error; revoke: the permission is simply unknown).
 */
export async function resolveDrafts(
  ctx: ActionContext,
  tx: StoreTx,
  group: SecurityGroup,
  drafts: readonly RuleDraft[],
  onMissing: 'throw' | 'skip',
): Promise<(RuleSpec | undefined)[]> {
  const out: (RuleSpec | undefined)[] = [];
  for (const d of drafts) {
    try {
      out.push(await resolveDraft(ctx, tx, group, d));
    } catch (err) {
      if (onMissing === 'skip' && err instanceof Ec2Error && err.code.endsWith('.NotFound'))
        out.push(undefined);
      else throw err;
    }
  }
  return out;
}

async function resolveDraft(
  ctx: ActionContext,
  tx: StoreTx,
  group: SecurityGroup,
  d: RuleDraft,
): Promise<RuleSpec> {
  const ref = d.target;
  if (ref.kind !== 'groupRef') {
    if (ref.kind === 'prefixList') {
      const id = ref.prefixListId;
      const exists = (await tx.getPrefixList(ctx.scope, id)) ?? awsPrefixListById(ctx, id);
      if (!exists)
        throw new Ec2Error('InvalidPrefixListID.NotFound', `The prefix list ID '${id}' does not exist`);
    }
    return { ...d, target: ref };
  }
  // Another account's group is looked up in that account's namespace in the same region.
  const userId = ref.userId ?? ctx.scope.accountId;
  const refScope: Scope = { accountId: userId, region: ctx.scope.region };
  let target: SecurityGroup | undefined;
  if (ref.groupId !== undefined) {
    target = await tx.getGroup(refScope, ref.groupId);
    if (!target)
      throw new Ec2Error('InvalidGroup.NotFound', `The security group '${ref.groupId}' does not exist`);
  } else if (ref.groupName !== undefined) {
    // By name only within the same VPC: EC2 asks for IDs everywhere else.
    target = await tx.findGroupByName(refScope, group.vpcId, ref.groupName);
    if (!target) {
      throw new Ec2Error(
        'InvalidGroup.NotFound',
        `The security group '${ref.groupName}' does not exist in VPC '${group.vpcId}'`,
      );
    }
  } else {
    throw new Ec2Error('MissingParameter', 'A security group reference needs a GroupId or GroupName');
  }
  // Without VPC peering, a rule may only name groups of its own VPC (this also rules out other
  // accounts' groups, which live in their own VPCs).
  if (target.vpcId !== group.vpcId) {
    throw new Ec2Error(
      'InvalidGroup.NotFound',
      'You have specified two resources that belong to different networks.',
    );
  }
  const { target: _ref, ...rest } = d;
  return {
    ...rest,
    target: {
      kind: 'group',
      groupId: target.groupId,
      userId,
      ...(ref.vpcId !== undefined && ref.vpcId !== group.vpcId ? { vpcId: ref.vpcId } : {}),
    },
  };
}
