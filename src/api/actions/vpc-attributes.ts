/**
 * @module api/actions/vpc-attributes — DescribeVpcAttribute and ModifyVpcAttribute (the DNS and
 * address-usage flags, stored per VPC), and the ClassicLink describes that tools such as
 * Ansible's `ec2_vpc_net_info` still call for every VPC.
 */
import { Ec2Error, assertVpcId } from '../../model/index.js';
import type { Vpc } from '../../model/index.js';
import type { StoreTx, VpcAttributeName } from '../../store/index.js';
import { checkDryRun } from '../context.js';
import type { ActionContext } from '../context.js';
import { applyFilters } from '../filters.js';
import type { FilterInput } from '../filters.js';
import { paginate } from '../paging.js';
import { renderTags } from '../render.js';

type Out = Record<string, unknown>;

/** The attribute names and their members in DescribeVpcAttributeResult / ModifyVpcAttributeRequest. */
const ATTRIBUTES: readonly (readonly [VpcAttributeName, string])[] = [
  ['enableDnsSupport', 'EnableDnsSupport'],
  ['enableDnsHostnames', 'EnableDnsHostnames'],
  ['enableNetworkAddressUsageMetrics', 'EnableNetworkAddressUsageMetrics'],
];

const notFound = (id: string): Ec2Error =>
  new Ec2Error('InvalidVpcID.NotFound', `The vpc ID '${id}' does not exist`);

async function vpcOrThrow(ctx: ActionContext, tx: StoreTx, vpcId: string): Promise<Vpc> {
  assertVpcId(vpcId);
  const vpc = await tx.getVpc(ctx.scope, vpcId);
  if (!vpc) throw notFound(vpcId);
  return vpc;
}

export async function describeVpcAttribute(
  ctx: ActionContext,
  input: { VpcId: string; Attribute: string },
): Promise<Out> {
  const entry = ATTRIBUTES.find(([name]) => name === input.Attribute);
  if (!entry) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `Value (${input.Attribute}) for parameter attribute is invalid. Valid values: ${ATTRIBUTES.map(([n]) => n).join(', ')}.`,
    );
  }
  const attrs = await ctx.store.transaction(
    ctx.scope,
    async (tx) => {
      await vpcOrThrow(ctx, tx, input.VpcId);
      return tx.getVpcAttributes(ctx.scope, input.VpcId);
    },
    { readOnly: true },
  );
  checkDryRun(ctx);
  return { VpcId: input.VpcId, [entry[1]]: { Value: attrs?.[entry[0]] ?? false } };
}

type ModifyInput = { VpcId: string } & Partial<Record<string, { Value?: boolean } | string>>;

export async function modifyVpcAttribute(ctx: ActionContext, input: ModifyInput): Promise<Out> {
  const given = ATTRIBUTES.filter(([, member]) => input[member] !== undefined);
  // EC2 changes one attribute per call.
  if (given.length === 0) {
    throw new Ec2Error(
      'MissingParameter',
      'The request must contain one of the parameters EnableDnsSupport, EnableDnsHostnames or EnableNetworkAddressUsageMetrics',
    );
  }
  if (given.length > 1) {
    throw new Ec2Error(
      'InvalidParameterCombination',
      'Only one attribute can be modified at a time: give one of EnableDnsSupport, EnableDnsHostnames or EnableNetworkAddressUsageMetrics per request.',
    );
  }
  const [name, member] = given[0]!;
  const value = (input[member] as { Value?: boolean }).Value;
  if (value === undefined) {
    throw new Ec2Error('MissingParameter', `The request must contain the parameter ${member}.Value`);
  }
  return ctx.store.transaction(ctx.scope, async (tx) => {
    await vpcOrThrow(ctx, tx, input.VpcId);
    checkDryRun(ctx);
    await tx.setVpcAttribute(ctx.scope, input.VpcId, name, value);
    return {};
  });
}

/** The VPCs named (all must exist) or all of the scope's. */
async function listNamed(ctx: ActionContext, ids: readonly string[] | undefined): Promise<Vpc[]> {
  ids?.forEach((id) => assertVpcId(id));
  const vpcs = await ctx.store.transaction(ctx.scope, (tx) => tx.listVpcs(ctx.scope, ids), {
    readOnly: true,
  });
  const missing = ids?.find((id) => !vpcs.some((v) => v.vpcId === id));
  if (missing !== undefined) throw notFound(missing);
  return vpcs;
}

/**
 * EC2-Classic and ClassicLink are retired: no VPC can have ClassicLink enabled any more, so
 * every VPC is reported with it off, as EC2 reports a VPC that never had it.
 */
export async function describeVpcClassicLink(
  ctx: ActionContext,
  input: { VpcIds?: readonly string[]; Filters?: readonly FilterInput[] },
): Promise<Out> {
  const vpcs = await listNamed(ctx, input.VpcIds);
  const filtered = applyFilters(
    vpcs,
    input.Filters,
    { 'is-classic-link-enabled': () => ['false'] },
    (v) => v.tags,
  );
  checkDryRun(ctx);
  return {
    Vpcs: filtered.map((v) => ({
      ClassicLinkEnabled: false,
      ...(v.tags.length ? { Tags: renderTags(v.tags) } : {}),
      VpcId: v.vpcId,
    })),
  };
}

/** As {@link describeVpcClassicLink}: ClassicLink DNS support is off for every VPC. */
export async function describeVpcClassicLinkDnsSupport(
  ctx: ActionContext,
  input: { VpcIds?: readonly string[]; MaxResults?: number; NextToken?: string },
): Promise<Out> {
  const vpcs = await listNamed(ctx, input.VpcIds);
  const { page, nextToken } = paginate('DescribeVpcClassicLinkDnsSupport', vpcs, input, {
    min: 5,
    max: 255,
  });
  return {
    Vpcs: page.map((v) => ({ ClassicLinkDnsSupported: false, VpcId: v.vpcId })),
    ...(nextToken !== undefined ? { NextToken: nextToken } : {}),
  };
}
