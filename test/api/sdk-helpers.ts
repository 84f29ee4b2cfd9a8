/**
 * Shared helpers of the @aws-sdk/client-ec2 integration tests (test/api-sdk-*.test.ts).
 */
import { randomUUID } from 'node:crypto';
import {
  AuthorizeSecurityGroupEgressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  paginateDescribeSecurityGroupRules,
} from '@aws-sdk/client-ec2';
import type { EC2Client, IpPermission, SecurityGroup, SecurityGroupRule } from '@aws-sdk/client-ec2';
import { expect } from 'vitest';

interface SdkError {
  readonly name: string;
  readonly message: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

/** Awaits `p`, expects it to fail with EC2 error `code` and HTTP `status`, returns the error. */
export async function expectEc2Error(p: Promise<unknown>, code: string, status = 400): Promise<SdkError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected ${code}, but the call succeeded`).toBeDefined();
  const err = caught as SdkError;
  expect({ name: err.name, status: err.$metadata?.httpStatusCode }, err.message).toEqual({
    name: code,
    status,
  });
  return err;
}

/** A group name unique across the run. */
export const uniqueName = (prefix = 'grp'): string => `${prefix}-${randomUUID().slice(0, 8)}`;

/** Creates a fresh group (in the default VPC unless `vpcId` is given) and returns its ID. */
export async function newGroup(
  ec2: EC2Client,
  opts: { vpcId?: string; name?: string } = {},
): Promise<string> {
  const out = await ec2.send(
    new CreateSecurityGroupCommand({
      GroupName: opts.name ?? uniqueName(),
      Description: 'api-sdk test group',
      ...(opts.vpcId !== undefined ? { VpcId: opts.vpcId } : {}),
    }),
  );
  expect(out.GroupId).toMatch(/^sg-[0-9a-f]{17}$/);
  return out.GroupId!;
}

/** Every rule of one group (all pages). */
export async function rulesOf(ec2: EC2Client, groupId: string): Promise<SecurityGroupRule[]> {
  const out: SecurityGroupRule[] = [];
  for await (const page of paginateDescribeSecurityGroupRules(
    { client: ec2, pageSize: 5 },
    { Filters: [{ Name: 'group-id', Values: [groupId] }] },
  )) {
    out.push(...(page.SecurityGroupRules ?? []));
  }
  return out;
}

/** The group's egress rules other than the default `-1 0.0.0.0/0` / `::/0` ones. */
export async function addedEgress(ec2: EC2Client, groupId: string): Promise<SecurityGroupRule[]> {
  return (await rulesOf(ec2, groupId)).filter((r) => r.IsEgress && r.IpProtocol !== '-1');
}

export async function describeGroup(ec2: EC2Client, groupId: string): Promise<SecurityGroup> {
  const out = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
  expect(out.SecurityGroups).toHaveLength(1);
  return out.SecurityGroups![0]!;
}

export async function authorizeEgress(
  ec2: EC2Client,
  groupId: string,
  perms: IpPermission[],
): Promise<SecurityGroupRule[]> {
  const out = await ec2.send(
    new AuthorizeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: perms }),
  );
  expect(out.Return).toBe(true);
  return out.SecurityGroupRules ?? [];
}

/** A TCP egress permission to IPv4 CIDRs. */
export const tcp = (port: number, ...cidrs: string[]): IpPermission => ({
  IpProtocol: 'tcp',
  FromPort: port,
  ToPort: port,
  IpRanges: cidrs.map((c) => ({ CidrIp: c })),
});
