/**
 * @module api/actions/security-groups — CreateSecurityGroup, DeleteSecurityGroup and
 * DescribeSecurityGroups.
 */
import {
  Ec2Error,
  assertSecurityGroupId,
  assertVpcId,
  parseTagSpecifications,
  validateGroupDescription,
  validateGroupName,
} from '../../model/index.js';
import type { SecurityGroup, SecurityGroupRule, TagSpecificationInput } from '../../model/index.js';
import { checkDryRun, arn, declaredAttachmentsOf } from '../context.js';
import type { ActionContext } from '../context.js';
import { applyFilters } from '../filters.js';
import type { FilterInput, FilterTable } from '../filters.js';
import { paginate } from '../paging.js';
import { renderGroup, renderTags } from '../render.js';
import { insertDefaultRules } from '../scope.js';
import { defaultVpcId, findGroup } from './resolve.js';
import { permissionFilterValues } from './rules.js';

type Out = Record<string, unknown>;

export async function createSecurityGroup(
  ctx: ActionContext,
  input: {
    GroupName: string;
    Description: string;
    VpcId?: string;
    TagSpecifications?: readonly TagSpecificationInput[];
  },
): Promise<Out> {
  const name = validateGroupName(input.GroupName);
  const description = validateGroupDescription(input.Description);
  if (name.toLowerCase() === 'default') {
    throw new Ec2Error('InvalidGroup.Reserved', 'The security group name "default" is reserved.');
  }
  if (input.VpcId !== undefined) assertVpcId(input.VpcId);
  const tags = parseTagSpecifications(input.TagSpecifications, 'security-group');
  return ctx.store.transaction(ctx.scope, async (tx) => {
    const vpcId = input.VpcId ?? (await defaultVpcId(tx, ctx.scope));
    const vpc = await tx.getVpc(ctx.scope, vpcId);
    if (!vpc) throw new Ec2Error('InvalidVpcID.NotFound', `The vpc ID '${vpcId}' does not exist`);
    if (await tx.findGroupByName(ctx.scope, vpcId, name)) {
      throw new Ec2Error(
        'InvalidGroup.Duplicate',
        `The security group '${name}' already exists for VPC '${vpcId}'`,
      );
    }
    if ((await tx.countGroups(ctx.scope, vpcId)) >= ctx.config.groupsPerVpc) {
      throw new Ec2Error(
        'SecurityGroupLimitExceeded',
        `The maximum number of security groups for VPC '${vpcId}' has been reached.`,
      );
    }
    checkDryRun(ctx);
    const groupId = ctx.ids.next('sg');
    const group: SecurityGroup = {
      groupId,
      groupName: name,
      description,
      vpcId,
      ownerId: ctx.scope.accountId,
      isDefault: false,
      tags,
    };
    await tx.insertGroup(ctx.scope, group);
    await insertDefaultRules(tx, ctx.scope, ctx.ids, groupId, vpc, false);
    return {
      GroupId: groupId,
      ...(tags.length ? { Tags: renderTags(tags) } : {}),
      SecurityGroupArn: arn(ctx.scope, 'security-group', groupId),
    };
  });
}

export async function deleteSecurityGroup(
  ctx: ActionContext,
  input: { GroupId?: string; GroupName?: string },
): Promise<Out> {
  return ctx.store.transaction(ctx.scope, async (tx) => {
    const group = await findGroup(tx, ctx.scope, input);
    if (group.isDefault) {
      throw new Ec2Error(
        'CannotDelete',
        `the specified group: "${group.groupId}" name: "default" cannot be deleted by a user`,
      );
    }
    if ((await tx.countReferences(ctx.scope, { groupId: group.groupId }, group.groupId)) > 0) {
      throw new Ec2Error('DependencyViolation', `resource ${group.groupId} has a dependent object`);
    }
    // An attached group is enforced for its workloads: deleting it would silently widen or cut
    // their egress. EC2 refuses to delete a group an instance still uses the same way.
    const attached = await tx.listWorkloadAttachments(ctx.scope, { groupId: group.groupId });
    if (attached.length > 0) {
      const first = attached[0]?.identity ?? '';
      throw new Ec2Error(
        'DependencyViolation',
        `resource ${group.groupId} has a dependent object: it is attached to ${attached.length} workload` +
          `${attached.length === 1 ? '' : 's'} (e.g. ${first}); detach them first (weir workload detach)`,
      );
    }
    // A group the gateway's policy set declares attached is enforced the same way; it stays
    // until the declaration is removed from the file.
    const declared = declaredAttachmentsOf(ctx.declaredAttachments, ctx.scope, group.groupId);
    if (declared.length > 0) {
      const first = declared[0];
      const where = first?.loc !== undefined ? ` in ${first.loc.file}:${first.loc.line}` : '';
      throw new Ec2Error(
        'DependencyViolation',
        `resource ${group.groupId} has a dependent object: the gateway's policy set declares it attached to ` +
          `${declared.length} workload${declared.length === 1 ? '' : 's'} (e.g. ${first?.identity ?? ''}${where}); ` +
          'remove it from the WorkloadRegistry securityGroups first',
      );
    }
    checkDryRun(ctx);
    await tx.deleteGroup(ctx.scope, group.groupId);
    return { Return: true, GroupId: group.groupId };
  });
}

interface DescribeGroupsInput {
  readonly GroupIds?: readonly string[];
  readonly GroupNames?: readonly string[];
  readonly Filters?: readonly FilterInput[];
  readonly MaxResults?: number;
  readonly NextToken?: string;
}

interface GroupView {
  readonly group: SecurityGroup;
  readonly rules: readonly SecurityGroupRule[];
}

const PERMISSION_FIELDS = [
  'cidr',
  'from-port',
  'group-id',
  'group-name',
  'ipv6-cidr',
  'prefix-list-id',
  'protocol',
  'to-port',
  'user-id',
];

export async function describeSecurityGroups(ctx: ActionContext, input: DescribeGroupsInput): Promise<Out> {
  if (input.MaxResults !== undefined && (input.GroupIds?.length || input.GroupNames?.length)) {
    throw new Ec2Error(
      'InvalidParameterCombination',
      'The parameter groupIds or groupNames cannot be used with the parameter maxResults',
    );
  }
  input.GroupIds?.forEach((id) => assertSecurityGroupId(id));
  const { groups, rules, names } = await ctx.store.transaction(
    ctx.scope,
    async (tx) => {
      let groups: SecurityGroup[];
      if (input.GroupIds?.length || input.GroupNames?.length) {
        groups = [];
        for (const id of input.GroupIds ?? []) groups.push(await findGroup(tx, ctx.scope, { GroupId: id }));
        for (const n of input.GroupNames ?? []) groups.push(await findGroup(tx, ctx.scope, { GroupName: n }));
      } else {
        groups = await tx.listGroups(ctx.scope);
      }
      const rules = await tx.listRules(ctx.scope, { groupIds: groups.map((g) => g.groupId) });
      // Names of every group in scope, for the *.group-name filters on referenced groups.
      const names = new Map((await tx.listGroups(ctx.scope)).map((g) => [g.groupId, g.groupName]));
      return { groups, rules, names };
    },
    { readOnly: true },
  );
  const seen = new Set<string>();
  const unique = groups.filter((g) => !seen.has(g.groupId) && seen.add(g.groupId));
  const rulesByGroup = new Map<string, SecurityGroupRule[]>();
  for (const r of rules) {
    let list = rulesByGroup.get(r.groupId);
    if (!list) rulesByGroup.set(r.groupId, (list = []));
    list.push(r);
  }
  const views: GroupView[] = unique.map((group) => ({ group, rules: rulesByGroup.get(group.groupId) ?? [] }));
  const table: FilterTable<GroupView> = {
    description: (v) => [v.group.description],
    'group-id': (v) => [v.group.groupId],
    'group-name': (v) => [v.group.groupName],
    'owner-id': (v) => [v.group.ownerId],
    'vpc-id': (v) => [v.group.vpcId],
  };
  const nameOf = (id: string) => names.get(id);
  for (const field of PERMISSION_FIELDS) {
    table[`ip-permission.${field}`] = (v) =>
      permissionFilterValues(
        v.rules.filter((r) => r.direction === 'ingress'),
        field,
        nameOf,
      );
    table[`egress.ip-permission.${field}`] = (v) =>
      permissionFilterValues(
        v.rules.filter((r) => r.direction === 'egress'),
        field,
        nameOf,
      );
  }
  const filtered = applyFilters(views, input.Filters, table, (v) => v.group.tags);
  checkDryRun(ctx);
  const { page, nextToken } = paginate('DescribeSecurityGroups', filtered, input, { min: 5, max: 1000 });
  return {
    SecurityGroups: page.map((v) => renderGroup(ctx.scope, v.group, v.rules)),
    ...(nextToken !== undefined ? { NextToken: nextToken } : {}),
  };
}
