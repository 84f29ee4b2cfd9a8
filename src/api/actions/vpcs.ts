/**
 * @module api/actions/vpcs — CreateVpc, DescribeVpcs, DeleteVpc: enough VPC for security
 * groups to live in (a CIDR block, an optional IPv6 block, the default group).
 */
import {
  Ec2Error,
  assertVpcId,
  canonicalIpv4Cidr,
  canonicalIpv6Cidr,
  parseTagSpecifications,
} from '../../model/index.js';
import type { TagSpecificationInput, Vpc } from '../../model/index.js';
import { checkDryRun } from '../context.js';
import type { ActionContext } from '../context.js';
import { applyFilters } from '../filters.js';
import type { FilterInput } from '../filters.js';
import { paginate } from '../paging.js';
import { renderVpc } from '../render.js';
import { insertVpcWithDefaultGroup } from '../scope.js';

type Out = Record<string, unknown>;

export async function createVpc(
  ctx: ActionContext,
  input: {
    CidrBlock?: string;
    AmazonProvidedIpv6CidrBlock?: boolean;
    Ipv6CidrBlock?: string;
    TagSpecifications?: readonly TagSpecificationInput[];
  },
): Promise<Out> {
  if (input.CidrBlock === undefined) {
    throw new Ec2Error('MissingParameter', 'The request must contain the parameter CidrBlock');
  }
  const cidr = canonicalIpv4Cidr(input.CidrBlock, 'CidrBlock');
  const prefix = Number(cidr.split('/')[1]);
  // EC2 allows VPC blocks from /16 to /28.
  if (prefix < 16 || prefix > 28)
    throw new Ec2Error('InvalidVpc.Range', `The CIDR '${input.CidrBlock}' is invalid.`);
  const tags = parseTagSpecifications(input.TagSpecifications, 'vpc');
  let ipv6: string | undefined;
  if (input.Ipv6CidrBlock !== undefined) {
    ipv6 = canonicalIpv6Cidr(input.Ipv6CidrBlock, 'Ipv6CidrBlock');
  } else if (input.AmazonProvidedIpv6CidrBlock) {
    // A /56 from the documentation range 2001:db8::/32, distinct per VPC.
    const vpcHex = ctx.ids.next('x').slice(2, 8);
    ipv6 = canonicalIpv6Cidr(`2001:db8:${vpcHex.slice(0, 4)}:${vpcHex.slice(4, 6)}00::/56`, 'Ipv6CidrBlock');
  }
  const vpc: Vpc = {
    vpcId: ctx.ids.next('vpc'),
    cidrBlock: cidr,
    ...(ipv6 !== undefined ? { ipv6CidrBlock: ipv6 } : {}),
    isDefault: false,
    ownerId: ctx.scope.accountId,
    state: 'available',
    tags,
  };
  return ctx.store.transaction(ctx.scope, async (tx) => {
    checkDryRun(ctx);
    await insertVpcWithDefaultGroup(tx, ctx.scope, ctx.ids, vpc);
    return { Vpc: renderVpc(vpc) };
  });
}

export async function describeVpcs(
  ctx: ActionContext,
  input: {
    VpcIds?: readonly string[];
    Filters?: readonly FilterInput[];
    MaxResults?: number;
    NextToken?: string;
  },
): Promise<Out> {
  input.VpcIds?.forEach((id) => assertVpcId(id));
  const vpcs = await ctx.store.transaction(ctx.scope, (tx) => tx.listVpcs(ctx.scope, input.VpcIds), {
    readOnly: true,
  });
  if (input.VpcIds) {
    const found = new Set(vpcs.map((v) => v.vpcId));
    const missing = input.VpcIds.find((id) => !found.has(id));
    if (missing) throw new Ec2Error('InvalidVpcID.NotFound', `The vpc ID '${missing}' does not exist`);
  }
  const filtered = applyFilters(
    vpcs,
    input.Filters,
    {
      cidr: (v) => [v.cidrBlock],
      // Not in EC2's documentation, but EC2 accepts it, and Ansible's ec2_vpc_net finds its VPC by it.
      'cidr-block': (v) => [v.cidrBlock],
      'cidr-block-association.cidr-block': (v) => [v.cidrBlock],
      'ipv6-cidr-block-association.ipv6-cidr-block': (v) => [v.ipv6CidrBlock],
      'dhcp-options-id': () => ['default'],
      'is-default': (v) => [String(v.isDefault)],
      'owner-id': (v) => [v.ownerId],
      state: (v) => [v.state],
      'vpc-id': (v) => [v.vpcId],
    },
    (v) => v.tags,
  );
  checkDryRun(ctx);
  const { page, nextToken } = paginate('DescribeVpcs', filtered, input, { min: 5, max: 1000 });
  return { Vpcs: page.map(renderVpc), ...(nextToken !== undefined ? { NextToken: nextToken } : {}) };
}

export async function deleteVpc(ctx: ActionContext, input: { VpcId: string }): Promise<Out> {
  assertVpcId(input.VpcId);
  return ctx.store.transaction(ctx.scope, async (tx) => {
    const vpc = await tx.getVpc(ctx.scope, input.VpcId);
    if (!vpc) throw new Ec2Error('InvalidVpcID.NotFound', `The vpc ID '${input.VpcId}' does not exist`);
    const groups = await tx.listGroups(ctx.scope, { vpcId: vpc.vpcId });
    if (groups.some((g) => !g.isDefault)) {
      throw new Ec2Error(
        'DependencyViolation',
        `The vpc '${vpc.vpcId}' has dependencies and cannot be deleted.`,
      );
    }
    for (const g of groups) {
      if ((await tx.countReferences(ctx.scope, { groupId: g.groupId }, g.groupId)) > 0) {
        throw new Ec2Error(
          'DependencyViolation',
          `The vpc '${vpc.vpcId}' has dependencies and cannot be deleted.`,
        );
      }
    }
    checkDryRun(ctx);
    for (const g of groups) await tx.deleteGroup(ctx.scope, g.groupId);
    await tx.deleteVpc(ctx.scope, vpc.vpcId);
    return {};
  });
}
