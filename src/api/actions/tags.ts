/**
 * @module api/actions/tags — CreateTags, DeleteTags, DescribeTags across every taggable
 * resource Weir keeps (security groups, rules, VPCs, prefix lists).
 */
import {
  Ec2Error,
  MAX_TAGS_PER_RESOURCE,
  resourceTypeOfId,
  validateTagKey,
  validateTags,
} from '../../model/index.js';
import type { Scope, TagInput } from '../../model/index.js';
import type { StoreTx } from '../../store/index.js';
import { checkDryRun } from '../context.js';
import type { ActionContext } from '../context.js';
import { applyFilters } from '../filters.js';
import type { FilterInput } from '../filters.js';
import { paginate } from '../paging.js';

type Out = Record<string, unknown>;

/** Checks the resource exists in the caller's scope and returns its EC2 resource type. */
async function resourceType(tx: StoreTx, scope: Scope, id: string): Promise<string> {
  const type = resourceTypeOfId(id);
  const missing = (code: ConstructorParameters<typeof Ec2Error>[0], what: string) =>
    new Ec2Error(code, `The ${what} '${id}' does not exist`);
  switch (type) {
    case 'security-group':
      if (!(await tx.getGroup(scope, id))) throw missing('InvalidGroup.NotFound', 'security group');
      return type;
    case 'security-group-rule':
      if ((await tx.listRules(scope, { ruleIds: [id] })).length === 0) {
        throw missing('InvalidSecurityGroupRuleId.NotFound', 'security group rule ID');
      }
      return type;
    case 'vpc':
      if (!(await tx.getVpc(scope, id))) throw missing('InvalidVpcID.NotFound', 'vpc ID');
      return type;
    case 'prefix-list':
      if (!(await tx.getPrefixList(scope, id)))
        throw missing('InvalidPrefixListID.NotFound', 'prefix list ID');
      return type;
    default:
      throw new Ec2Error('InvalidID', `The ID '${id}' is not valid`);
  }
}

export async function createTags(
  ctx: ActionContext,
  input: { Resources: readonly string[]; Tags: readonly TagInput[] },
): Promise<Out> {
  const tags = validateTags(input.Tags);
  return ctx.store.transaction(ctx.scope, async (tx) => {
    const targets: { id: string; type: string }[] = [];
    for (const id of input.Resources) targets.push({ id, type: await resourceType(tx, ctx.scope, id) });
    const existing = await tx.listTags(
      ctx.scope,
      targets.map((t) => t.id),
    );
    for (const t of targets) {
      const keys = new Set(existing.filter((e) => e.resourceId === t.id).map((e) => e.key));
      for (const tag of tags) keys.add(tag.key);
      if (keys.size > MAX_TAGS_PER_RESOURCE) {
        throw new Ec2Error(
          'TagLimitExceeded',
          `The maximum number of tags per resource (${MAX_TAGS_PER_RESOURCE}) would be exceeded for '${t.id}'`,
        );
      }
    }
    checkDryRun(ctx);
    for (const t of targets) await tx.putTags(ctx.scope, t.id, t.type, tags);
    return {};
  });
}

export async function deleteTags(
  ctx: ActionContext,
  input: { Resources: readonly string[]; Tags?: readonly TagInput[] },
): Promise<Out> {
  // Value absent: delete the key whatever its value. Value given (even ""): only that value.
  const tags = input.Tags?.map((t, i) => ({
    key: validateTagKey(t.Key, `Tag.${i + 1}.Key`),
    ...(t.Value !== undefined ? { value: t.Value } : {}),
  }));
  return ctx.store.transaction(ctx.scope, async (tx) => {
    for (const id of input.Resources) await resourceType(tx, ctx.scope, id);
    checkDryRun(ctx);
    for (const id of input.Resources) await tx.deleteTags(ctx.scope, id, tags?.length ? tags : undefined);
    return {};
  });
}

export async function describeTags(
  ctx: ActionContext,
  input: { Filters?: readonly FilterInput[]; MaxResults?: number; NextToken?: string },
): Promise<Out> {
  const all = await ctx.store.transaction(ctx.scope, (tx) => tx.listTags(ctx.scope), { readOnly: true });
  const filtered = applyFilters(
    all,
    input.Filters,
    {
      key: (t) => [t.key],
      value: (t) => [t.value],
      'resource-id': (t) => [t.resourceId],
      'resource-type': (t) => [t.resourceType],
    },
    (t) => [t],
  );
  checkDryRun(ctx);
  const { page, nextToken } = paginate('DescribeTags', filtered, input, { min: 5, max: 1000 });
  return {
    Tags: page.map((t) => ({
      Key: t.key,
      ResourceId: t.resourceId,
      ResourceType: t.resourceType,
      Value: t.value,
    })),
    ...(nextToken !== undefined ? { NextToken: nextToken } : {}),
  };
}
