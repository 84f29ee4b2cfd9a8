/**
 * @module api/actions/rules — Authorize, Revoke, Modify and describe security-group rules.
 * Each call runs in one store transaction: all of its rules are written, or none.
 */
import {
  Ec2Error,
  assertSecurityGroupRuleId,
  expandIpPermissions,
  isSecurityGroupId,
  parseTagSpecifications,
  ruleKey,
  securityGroupRuleRequestToDraft,
  validateRuleDescription,
} from '../../model/index.js';
import type {
  Direction,
  IpPermissionInput,
  RuleDraft,
  RuleSpec,
  SecurityGroup,
  SecurityGroupRule,
  TagSpecificationInput,
} from '../../model/index.js';
import { DuplicateRuleKeyError } from '../../store/index.js';
import type { NewRule, StoreTx } from '../../store/index.js';
import { checkDryRun } from '../context.js';
import type { ActionContext } from '../context.js';
import { applyFilters } from '../filters.js';
import type { FilterInput } from '../filters.js';
import { paginate } from '../paging.js';
import { renderRevokedRule, renderRule } from '../render.js';
import { awsPrefixListById } from './aws-prefix-lists.js';
import { findGroup, resolveDrafts } from './resolve.js';

type Out = Record<string, unknown>;

interface RuleChangeInput {
  readonly GroupId?: string;
  readonly GroupName?: string;
  readonly IpPermissions?: readonly IpPermissionInput[];
  readonly IpProtocol?: string;
  readonly FromPort?: number;
  readonly ToPort?: number;
  readonly CidrIp?: string;
  readonly SourceSecurityGroupName?: string;
  readonly SourceSecurityGroupOwnerId?: string;
  readonly TagSpecifications?: readonly TagSpecificationInput[];
  readonly SecurityGroupRuleIds?: readonly string[];
}

/**
 * EC2's older top-level form (`IpProtocol`, `CidrIp`, `SourceSecurityGroupName` …) is kept
 * for ingress; for egress EC2 documents it as unsupported, so it is refused, naming the fix.
 */
function permissionsOf(input: RuleChangeInput, direction: Direction): readonly IpPermissionInput[] {
  const legacy =
    input.IpProtocol !== undefined ||
    input.FromPort !== undefined ||
    input.ToPort !== undefined ||
    input.CidrIp !== undefined ||
    input.SourceSecurityGroupName !== undefined ||
    input.SourceSecurityGroupOwnerId !== undefined;
  if (!legacy) return input.IpPermissions ?? [];
  if (direction === 'egress') {
    throw new Ec2Error(
      'InvalidParameterCombination',
      'The parameters IpProtocol, FromPort, ToPort, CidrIp, SourceSecurityGroupName and SourceSecurityGroupOwnerId ' +
        'are not supported for egress rules. Use IpPermissions instead.',
    );
  }
  if (input.IpPermissions?.length) {
    throw new Ec2Error(
      'InvalidParameterCombination',
      'The parameter IpPermissions cannot be used with IpProtocol, FromPort, ToPort, CidrIp or SourceSecurityGroupName.',
    );
  }
  const perm: IpPermissionInput = {
    // A source group alone means all traffic from that group, as in EC2.
    IpProtocol: input.IpProtocol ?? (input.SourceSecurityGroupName !== undefined ? '-1' : undefined),
    ...(input.FromPort !== undefined ? { FromPort: input.FromPort } : {}),
    ...(input.ToPort !== undefined ? { ToPort: input.ToPort } : {}),
    ...(input.CidrIp !== undefined ? { IpRanges: [{ CidrIp: input.CidrIp }] } : {}),
    ...(input.SourceSecurityGroupName !== undefined
      ? {
          UserIdGroupPairs: [
            {
              GroupName: input.SourceSecurityGroupName,
              ...(input.SourceSecurityGroupOwnerId !== undefined
                ? { UserId: input.SourceSecurityGroupOwnerId }
                : {}),
            },
          ],
        }
      : {}),
  } as IpPermissionInput;
  return [perm];
}

/** EC2's wording for a rule in duplicate and not-found errors. */
function describeRule(spec: RuleSpec): string {
  const t = spec.target;
  const peer =
    t.kind === 'ipv4' || t.kind === 'ipv6' ? t.cidr : t.kind === 'prefixList' ? t.prefixListId : t.groupId;
  const proto = spec.ipProtocol === '-1' ? 'ALL' : spec.ipProtocol.toUpperCase();
  const ports = spec.ipProtocol === '-1' ? '' : `, from port: ${spec.fromPort}, to port: ${spec.toPort}`;
  return `peer: ${peer}, ${proto}${ports}, ALLOW`;
}

function duplicateError(spec: RuleSpec): Ec2Error {
  return new Ec2Error(
    'InvalidPermission.Duplicate',
    `the specified rule "${describeRule(spec)}" already exists`,
  );
}

export async function authorize(
  ctx: ActionContext,
  input: RuleChangeInput,
  direction: Direction,
): Promise<Out> {
  const perms = permissionsOf(input, direction);
  if (perms.length === 0) {
    throw new Ec2Error('MissingParameter', 'The request must contain the parameter IpPermissions');
  }
  const drafts = expandIpPermissions(perms, { direction });
  const tags = parseTagSpecifications(input.TagSpecifications, 'security-group-rule');
  return ctx.store.transaction(ctx.scope, async (tx) => {
    const group = await findGroup(tx, ctx.scope, direction === 'egress' ? { GroupId: input.GroupId } : input);
    const specs = (await resolveDrafts(ctx, tx, group, drafts, 'throw')) as RuleSpec[];
    const seen = new Set<string>();
    const rules: NewRule[] = [];
    // A rule repeated within the call; rules before it may still duplicate stored ones.
    let repeated: RuleSpec | undefined;
    for (const spec of specs) {
      const key = ruleKey(direction, spec);
      if (seen.has(key)) {
        repeated = spec;
        break;
      }
      seen.add(key);
      rules.push({
        key,
        rule: {
          ...spec,
          ruleId: ctx.ids.next('sgr'),
          groupId: group.groupId,
          groupOwnerId: group.ownerId,
          direction,
          tags,
        },
      });
    }
    // No read first: the unique index on (group, direction, rule key) finds a stored duplicate
    // as the insert runs, in call order, so the error names the same rule a lookup would have.
    // Quota and DryRun are checked after the insert; any error rolls the transaction back.
    try {
      await tx.insertRules(ctx.scope, rules);
    } catch (err) {
      if (err instanceof DuplicateRuleKeyError) {
        const dup = rules.find((r) => r.key === err.key);
        throw dup ? duplicateError(dup.rule) : err;
      }
      throw err;
    }
    if (repeated) throw duplicateError(repeated);
    // The group's quota use now includes the new rules (a prefix list weighs its MaxEntries).
    if ((await quotaUsed(ctx, tx, group.groupId, direction)) > ctx.config.rulesPerGroup) {
      throw new Ec2Error(
        'RulesPerSecurityGroupLimitExceeded',
        `The maximum number of rules per security group has been reached (${ctx.config.rulesPerGroup} ${direction} rules).`,
      );
    }
    checkDryRun(ctx);
    return { Return: true, SecurityGroupRules: rules.map((r) => renderRule(ctx.scope, r.rule)) };
  });
}

/** What a rule naming a prefix list weighs against the rules-per-group quota: the list's MaxEntries, as in EC2. */
async function prefixListWeight(ctx: ActionContext, tx: StoreTx, prefixListId: string): Promise<number> {
  const own = await tx.getPrefixList(ctx.scope, prefixListId);
  return Math.max(1, own?.maxEntries ?? awsPrefixListById(ctx, prefixListId)?.cidrs.length ?? 1);
}

async function quotaUsed(
  ctx: ActionContext,
  tx: StoreTx,
  groupId: string,
  direction: Direction,
): Promise<number> {
  const count = await tx.countRules(ctx.scope, groupId, direction);
  let extra = 0;
  for (const id of await tx.prefixListRefs(ctx.scope, groupId, direction)) {
    extra += (await prefixListWeight(ctx, tx, id)) - 1;
  }
  return count + extra;
}

function draftToPermission(d: RuleDraft): IpPermissionInput {
  const t = d.target;
  const ports = d.ipProtocol === '-1' ? {} : { FromPort: d.fromPort, ToPort: d.toPort };
  const base = { IpProtocol: d.ipProtocol, ...ports };
  switch (t.kind) {
    case 'ipv4':
      return { ...base, IpRanges: [{ CidrIp: t.cidr }] };
    case 'ipv6':
      return { ...base, Ipv6Ranges: [{ CidrIpv6: t.cidr }] };
    case 'prefixList':
      return { ...base, PrefixListIds: [{ PrefixListId: t.prefixListId }] };
    case 'group':
      return { ...base, UserIdGroupPairs: [{ GroupId: t.groupId, UserId: t.userId }] };
    case 'groupRef':
      return {
        ...base,
        UserIdGroupPairs: [
          {
            ...(t.groupId !== undefined ? { GroupId: t.groupId } : {}),
            ...(t.groupName !== undefined ? { GroupName: t.groupName } : {}),
            ...(t.userId !== undefined ? { UserId: t.userId } : {}),
          },
        ],
      };
  }
}

async function rulesById(
  tx: StoreTx,
  ctx: ActionContext,
  group: SecurityGroup,
  direction: Direction,
  ids: readonly string[],
): Promise<SecurityGroupRule[]> {
  ids.forEach((id) => assertSecurityGroupRuleId(id));
  const found = await tx.listRules(ctx.scope, { groupIds: [group.groupId], ruleIds: ids, direction });
  const byId = new Map(found.map((r) => [r.ruleId, r]));
  return ids.map((id) => {
    const r = byId.get(id);
    if (!r) {
      throw new Ec2Error(
        'InvalidSecurityGroupRuleId.NotFound',
        `The security group rule ID '${id}' does not exist in security group '${group.groupId}'`,
      );
    }
    return r;
  });
}

export async function revoke(ctx: ActionContext, input: RuleChangeInput, direction: Direction): Promise<Out> {
  // A repeated ID revokes (and reports) its rule once, as a repeated permission does.
  const ids = [...new Set(input.SecurityGroupRuleIds ?? [])];
  const perms = permissionsOf(input, direction);
  if (ids.length > 0 && perms.length > 0) {
    throw new Ec2Error(
      'InvalidParameterCombination',
      'Specify either SecurityGroupRuleIds or IpPermissions, not both.',
    );
  }
  if (ids.length === 0 && perms.length === 0) {
    throw new Ec2Error(
      'MissingParameter',
      'The request must contain the parameter IpPermissions or SecurityGroupRuleIds',
    );
  }
  const drafts = expandIpPermissions(perms, { direction, forRevoke: true });
  return ctx.store.transaction(ctx.scope, async (tx) => {
    const group = await findGroup(tx, ctx.scope, direction === 'egress' ? { GroupId: input.GroupId } : input);
    let revoked: SecurityGroupRule[];
    const unknown: RuleDraft[] = [];
    if (ids.length > 0) {
      revoked = await rulesById(tx, ctx, group, direction, ids);
    } else {
      const specs = await resolveDrafts(ctx, tx, group, drafts, 'skip');
      revoked = [];
      const seen = new Set<string>();
      for (const [i, spec] of specs.entries()) {
        const rule =
          spec && (await tx.findRuleByKey(ctx.scope, group.groupId, direction, ruleKey(direction, spec)));
        if (rule) {
          if (!seen.has(rule.ruleId)) revoked.push(rule);
          seen.add(rule.ruleId);
        } else unknown.push(drafts[i]!);
      }
      // Outside the default VPC EC2 refuses the whole call; in it, unknown rules are reported.
      const vpc = await tx.getVpc(ctx.scope, group.vpcId);
      if (unknown.length > 0 && !vpc?.isDefault) {
        throw new Ec2Error(
          'InvalidPermission.NotFound',
          'The specified rule does not exist in this security group.',
        );
      }
    }
    checkDryRun(ctx);
    await tx.deleteRules(
      ctx.scope,
      revoked.map((r) => r.ruleId),
    );
    return {
      Return: true,
      ...(unknown.length > 0 ? { UnknownIpPermissions: unknown.map(draftToPermission) } : {}),
      RevokedSecurityGroupRules: revoked.map(renderRevokedRule),
    };
  });
}

interface UpdateDescriptionsInput {
  readonly GroupId?: string;
  readonly GroupName?: string;
  readonly IpPermissions?: readonly IpPermissionInput[];
  readonly SecurityGroupRuleDescriptions?: readonly { SecurityGroupRuleId?: string; Description?: string }[];
}

export async function updateDescriptions(
  ctx: ActionContext,
  input: UpdateDescriptionsInput,
  direction: Direction,
): Promise<Out> {
  const byId = input.SecurityGroupRuleDescriptions ?? [];
  const perms = input.IpPermissions ?? [];
  if (byId.length === 0 && perms.length === 0) {
    throw new Ec2Error(
      'MissingParameter',
      'The request must contain the parameter IpPermissions or SecurityGroupRuleDescriptions',
    );
  }
  const drafts = expandIpPermissions(perms, { direction });
  return ctx.store.transaction(ctx.scope, async (tx) => {
    const group = await findGroup(tx, ctx.scope, input);
    const updates: { rule: SecurityGroupRule; description: string | undefined }[] = [];
    if (byId.length > 0) {
      const rules = await rulesById(
        tx,
        ctx,
        group,
        direction,
        byId.map((d, i) => {
          if (d.SecurityGroupRuleId === undefined) {
            throw new Ec2Error(
              'MissingParameter',
              `The request must contain the parameter SecurityGroupRuleDescription.${i + 1}.SecurityGroupRuleId`,
            );
          }
          return d.SecurityGroupRuleId;
        }),
      );
      rules.forEach((rule, i) => {
        const d = byId[i]!.Description;
        updates.push({
          rule,
          description:
            d === undefined
              ? undefined
              : validateRuleDescription(d, `SecurityGroupRuleDescription.${i + 1}.Description`, {
                  cidr: rule.target.kind === 'ipv4' || rule.target.kind === 'ipv6',
                }),
        });
      });
    } else {
      const specs = (await resolveDrafts(ctx, tx, group, drafts, 'throw')) as RuleSpec[];
      for (const spec of specs) {
        const rule = await tx.findRuleByKey(ctx.scope, group.groupId, direction, ruleKey(direction, spec));
        if (!rule) {
          throw new Ec2Error(
            'InvalidPermission.NotFound',
            `The specified rule "${describeRule(spec)}" does not exist in this security group.`,
          );
        }
        updates.push({ rule, description: spec.description });
      }
    }
    checkDryRun(ctx);
    for (const { rule, description } of updates) {
      const { description: _old, ...rest } = rule;
      const next = description === undefined || description === '' ? rest : { ...rest, description };
      await tx.replaceRule(ctx.scope, { rule: next, key: ruleKey(direction, next) });
    }
    return { Return: true };
  });
}

interface ModifyRulesInput {
  readonly GroupId: string;
  readonly SecurityGroupRules: readonly {
    readonly SecurityGroupRuleId: string;
    readonly SecurityGroupRule?: Parameters<typeof securityGroupRuleRequestToDraft>[0];
  }[];
}

export async function modifyRules(ctx: ActionContext, input: ModifyRulesInput): Promise<Out> {
  const changes = input.SecurityGroupRules.map((c, i) => {
    if (!c.SecurityGroupRule) {
      throw new Ec2Error(
        'MissingParameter',
        `The request must contain the parameter SecurityGroupRule.${i + 1}.SecurityGroupRule`,
      );
    }
    return {
      id: assertSecurityGroupRuleId(c.SecurityGroupRuleId),
      draft: securityGroupRuleRequestToDraft(
        c.SecurityGroupRule,
        `SecurityGroupRule.${i + 1}.SecurityGroupRule`,
      ),
    };
  });
  return ctx.store.transaction(ctx.scope, async (tx) => {
    const group = await findGroup(tx, ctx.scope, { GroupId: input.GroupId });
    const existing = await tx.listRules(ctx.scope, {
      groupIds: [group.groupId],
      ruleIds: changes.map((c) => c.id),
    });
    const byId = new Map(existing.map((r) => [r.ruleId, r]));
    const next: NewRule[] = [];
    for (const c of changes) {
      const old = byId.get(c.id);
      if (!old) {
        throw new Ec2Error(
          'InvalidSecurityGroupRuleId.NotFound',
          `The security group rule ID '${c.id}' does not exist in security group '${group.groupId}'`,
        );
      }
      const [spec] = (await resolveDrafts(ctx, tx, group, [c.draft], 'throw')) as RuleSpec[];
      const { description: _d, ...keep } = old;
      const rule: SecurityGroupRule = { ...keep, ...spec!, ruleId: old.ruleId, tags: old.tags };
      next.push({ rule, key: ruleKey(old.direction, rule) });
    }
    checkDryRun(ctx);
    for (const n of next) {
      try {
        await tx.replaceRule(ctx.scope, n);
      } catch (err) {
        if (err instanceof DuplicateRuleKeyError) throw duplicateError(n.rule);
        throw err;
      }
    }
    return { Return: true };
  });
}

interface DescribeRulesInput {
  readonly Filters?: readonly FilterInput[];
  readonly SecurityGroupRuleIds?: readonly string[];
  readonly MaxResults?: number;
  readonly NextToken?: string;
}

export async function describeRules(ctx: ActionContext, input: DescribeRulesInput): Promise<Out> {
  const ids = input.SecurityGroupRuleIds;
  ids?.forEach((id) => assertSecurityGroupRuleId(id));
  // Push an exact group-id filter down to the store: a describe of one big group must not
  // read every rule of the account. Not with rule IDs: those already narrow the read, and an
  // ID filtered out by group must not be reported as nonexistent below.
  // As EC2: a group-id value that cannot be a group ID (and is no wildcard pattern) is an error,
  // not an empty answer, so a caller's typo is not read as "this group has no rules".
  for (const f of input.Filters ?? []) {
    if (f.Name !== 'group-id') continue;
    const bad = f.Values?.find((v) => !/[*?]/.test(v) && !isSecurityGroupId(v));
    if (bad !== undefined)
      throw new Ec2Error('InvalidGroupId.Malformed', `The security group ID '${bad}' is malformed`);
  }
  const groupFilter = ids ? undefined : input.Filters?.find((f) => f.Name === 'group-id');
  const groupIds =
    groupFilter?.Values && groupFilter.Values.every((v) => !/[*?]/.test(v)) ? groupFilter.Values : undefined;
  const rules = await ctx.store.transaction(
    ctx.scope,
    (tx) => tx.listRules(ctx.scope, { ...(groupIds ? { groupIds } : {}), ...(ids ? { ruleIds: ids } : {}) }),
    { readOnly: true },
  );
  if (ids) {
    const found = new Set(rules.map((r) => r.ruleId));
    const missing = ids.find((id) => !found.has(id));
    if (missing) {
      throw new Ec2Error(
        'InvalidSecurityGroupRuleId.NotFound',
        `The security group rule ID '${missing}' does not exist`,
      );
    }
  }
  const filtered = applyFilters(
    rules,
    input.Filters,
    { 'group-id': (r) => [r.groupId], 'security-group-rule-id': (r) => [r.ruleId] },
    (r) => r.tags,
  );
  checkDryRun(ctx);
  const { page, nextToken } = paginate('DescribeSecurityGroupRules', filtered, input, { min: 5, max: 1000 });
  return {
    SecurityGroupRules: page.map((r) => renderRule(ctx.scope, r, { emptyTags: true })),
    ...(nextToken !== undefined ? { NextToken: nextToken } : {}),
  };
}

/** Filter values for the `ip-permission.*` / `egress.ip-permission.*` families. */
export function permissionFilterValues(
  rules: readonly SecurityGroupRule[],
  field: string,
  groupName: (groupId: string) => string | undefined,
): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  for (const r of rules) {
    const t = r.target;
    switch (field) {
      case 'protocol':
        out.push(r.ipProtocol);
        break;
      case 'from-port':
        out.push(String(r.fromPort));
        break;
      case 'to-port':
        out.push(String(r.toPort));
        break;
      case 'cidr':
        if (t.kind === 'ipv4') out.push(t.cidr);
        break;
      case 'ipv6-cidr':
        if (t.kind === 'ipv6') out.push(t.cidr);
        break;
      case 'prefix-list-id':
        if (t.kind === 'prefixList') out.push(t.prefixListId);
        break;
      case 'group-id':
        if (t.kind === 'group') out.push(t.groupId);
        break;
      case 'group-name':
        if (t.kind === 'group') out.push(groupName(t.groupId));
        break;
      case 'user-id':
        if (t.kind === 'group') out.push(t.userId);
        break;
    }
  }
  return out;
}
