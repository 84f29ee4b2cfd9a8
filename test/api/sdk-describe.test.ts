/**
 * Filters, MaxResults and NextToken on every Describe action, collected with the SDK's
 * paginators, and the egress.ip-permission.* / ip-permission.* filter families.
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateManagedPrefixListCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DescribeManagedPrefixListsCommand,
  DescribePrefixListsCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeTagsCommand,
  DescribeVpcsCommand,
  GetManagedPrefixListEntriesCommand,
  paginateDescribeManagedPrefixLists,
  paginateDescribePrefixLists,
  paginateDescribeSecurityGroupRules,
  paginateDescribeSecurityGroups,
  paginateDescribeTags,
  paginateDescribeVpcs,
  paginateGetManagedPrefixListEntries,
} from '@aws-sdk/client-ec2';
import type { EC2Client, Filter } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { authorizeEgress, expectEc2Error, newGroup, tcp, uniqueName } from './sdk-helpers.js';

const ACCOUNT = '123456789012';

let server: TestServer;
let ec2: EC2Client;

beforeAll(async () => {
  server = await startTestServer();
  ec2 = server.ec2();
});
afterAll(async () => {
  ec2?.destroy();
  await server?.stop();
});

/** Collects every page of a paginator, returning the page sizes and the items. */
async function collect<P, T>(
  pages: AsyncIterable<P>,
  items: (p: P) => T[] | undefined,
): Promise<{ sizes: number[]; all: T[] }> {
  const sizes: number[] = [];
  const all: T[] = [];
  for await (const page of pages) {
    const got = items(page) ?? [];
    sizes.push(got.length);
    all.push(...got);
  }
  return { sizes, all };
}

describe('pagination with the SDK paginators', () => {
  it('DescribeSecurityGroups pages through filtered groups', async () => {
    const batch = uniqueName('batch');
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const g = await newGroup(ec2);
      ids.push(g);
      await ec2.send(new CreateTagsCommand({ Resources: [g], Tags: [{ Key: 'batch', Value: batch }] }));
    }
    const filter: Filter[] = [{ Name: 'tag:batch', Values: [batch] }];
    const { sizes, all } = await collect(
      paginateDescribeSecurityGroups({ client: ec2, pageSize: 5 }, { Filters: filter }),
      (p) => p.SecurityGroups,
    );
    expect(sizes).toEqual([5, 2]);
    expect(all.map((g) => g.GroupId)).toEqual(ids);

    // By hand: the token leads to the rest, and the last page has none.
    const first = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: filter, MaxResults: 6 }));
    expect(first.SecurityGroups).toHaveLength(6);
    expect(first.NextToken).toBeTruthy();
    const second = await ec2.send(
      new DescribeSecurityGroupsCommand({ Filters: filter, MaxResults: 6, NextToken: first.NextToken! }),
    );
    expect(second.SecurityGroups!.map((g) => g.GroupId)).toEqual([ids[6]]);
    expect(second.NextToken).toBeUndefined();
  });

  it('DescribeSecurityGroupRules pages through a group with many rules', async () => {
    const g = await newGroup(ec2);
    const cidrs = Array.from({ length: 11 }, (_, i) => `10.${i}.0.0/16`);
    await authorizeEgress(ec2, g, [tcp(443, ...cidrs)]);
    const { sizes, all } = await collect(
      paginateDescribeSecurityGroupRules(
        { client: ec2, pageSize: 5 },
        { Filters: [{ Name: 'group-id', Values: [g] }] },
      ),
      (p) => p.SecurityGroupRules,
    );
    expect(sizes).toEqual([5, 5, 2]);
    expect(new Set(all.map((r) => r.SecurityGroupRuleId)).size).toBe(12);
    expect(
      all
        .filter((r) => r.FromPort === 443)
        .map((r) => r.CidrIpv4)
        .sort(),
    ).toEqual([...cidrs].sort());
  });

  it('DescribeTags, DescribeVpcs, DescribeManagedPrefixLists, GetManagedPrefixListEntries, DescribePrefixLists page', async () => {
    const stamp = uniqueName('stamp');
    const vpcIds: string[] = [];
    for (let i = 0; i < 6; i++) {
      const vpc = await ec2.send(
        new CreateVpcCommand({
          CidrBlock: `10.${100 + i}.0.0/16`,
          TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'stamp', Value: stamp }] }],
        }),
      );
      vpcIds.push(vpc.Vpc!.VpcId!);
    }
    const vpcs = await collect(
      paginateDescribeVpcs(
        { client: ec2, pageSize: 5 },
        { Filters: [{ Name: 'tag:stamp', Values: [stamp] }] },
      ),
      (p) => p.Vpcs,
    );
    expect(vpcs.sizes).toEqual([5, 1]);
    expect(vpcs.all.map((v) => v.VpcId)).toEqual(vpcIds);

    const tags = await collect(
      paginateDescribeTags({ client: ec2, pageSize: 5 }, { Filters: [{ Name: 'value', Values: [stamp] }] }),
      (p) => p.Tags,
    );
    expect(tags.sizes).toEqual([5, 1]);
    expect(tags.all.map((t) => t.ResourceId).sort()).toEqual([...vpcIds].sort());
    expect(tags.all.every((t) => t.ResourceType === 'vpc' && t.Key === 'stamp')).toBe(true);

    const plIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      const pl = await ec2.send(
        new CreateManagedPrefixListCommand({
          PrefixListName: `${stamp}-${i}`,
          AddressFamily: 'IPv4',
          MaxEntries: 10,
          Entries: Array.from({ length: 5 }, (_, j) => ({ Cidr: `192.168.${i * 10 + j}.0/24` })),
        }),
      );
      plIds.push(pl.PrefixList!.PrefixListId!);
    }
    const pls = await collect(
      paginateDescribeManagedPrefixLists(
        { client: ec2, pageSize: 2 },
        { Filters: [{ Name: 'prefix-list-name', Values: [`${stamp}-*`] }] },
      ),
      (p) => p.PrefixLists,
    );
    expect(pls.sizes).toEqual([2, 1]);
    expect(pls.all.map((p) => p.PrefixListId)).toEqual(plIds);

    const entries = await collect(
      paginateGetManagedPrefixListEntries({ client: ec2, pageSize: 2 }, { PrefixListId: plIds[0]! }),
      (p) => p.Entries,
    );
    expect(entries.sizes).toEqual([2, 2, 1]);
    expect(entries.all.map((e) => e.Cidr)).toEqual(Array.from({ length: 5 }, (_, j) => `192.168.${j}.0/24`));

    const aws = await collect(
      paginateDescribePrefixLists({ client: ec2, pageSize: 5 }, {}),
      (p) => p.PrefixLists,
    );
    expect(aws.all.every((p) => p.PrefixListName?.startsWith('com.amazonaws.'))).toBe(true);
  });

  it('MaxResults out of range, tokens of another action, and MaxResults with GroupIds are refused', async () => {
    const g = await newGroup(ec2);
    await expectEc2Error(
      ec2.send(new DescribeSecurityGroupsCommand({ MaxResults: 4 })),
      'InvalidParameterValue',
    );
    await expectEc2Error(
      ec2.send(new DescribeSecurityGroupsCommand({ MaxResults: 1001 })),
      'InvalidParameterValue',
    );
    await expectEc2Error(
      ec2.send(new DescribeSecurityGroupRulesCommand({ MaxResults: 4 })),
      'InvalidParameterValue',
    );
    await expectEc2Error(
      ec2.send(new DescribeSecurityGroupRulesCommand({ MaxResults: 1001 })),
      'InvalidParameterValue',
    );
    await expectEc2Error(ec2.send(new DescribeTagsCommand({ MaxResults: 4 })), 'InvalidParameterValue');
    await expectEc2Error(ec2.send(new DescribeVpcsCommand({ MaxResults: 4 })), 'InvalidParameterValue');
    await expectEc2Error(
      ec2.send(new DescribeManagedPrefixListsCommand({ MaxResults: 0 })),
      'InvalidParameterValue',
    );
    await expectEc2Error(
      ec2.send(new DescribeManagedPrefixListsCommand({ MaxResults: 101 })),
      'InvalidParameterValue',
    );
    await expectEc2Error(
      ec2.send(new DescribePrefixListsCommand({ MaxResults: 4 })),
      'InvalidParameterValue',
    );
    const pl = await ec2.send(
      new CreateManagedPrefixListCommand({
        PrefixListName: uniqueName('pl'),
        AddressFamily: 'IPv4',
        MaxEntries: 1,
      }),
    );
    await expectEc2Error(
      ec2.send(
        new GetManagedPrefixListEntriesCommand({
          PrefixListId: pl.PrefixList!.PrefixListId!,
          MaxResults: 101,
        }),
      ),
      'InvalidParameterValue',
    );
    await expectEc2Error(
      ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [g], MaxResults: 5 })),
      'InvalidParameterCombination',
    );
    const page = await ec2.send(new DescribeSecurityGroupsCommand({ MaxResults: 5 }));
    expect(page.NextToken).toBeTruthy();
    await expectEc2Error(
      ec2.send(new DescribeSecurityGroupRulesCommand({ MaxResults: 5, NextToken: page.NextToken! })),
      'InvalidNextToken',
    );
    await expectEc2Error(
      ec2.send(new DescribeSecurityGroupsCommand({ MaxResults: 5, NextToken: 'garbage' })),
      'InvalidNextToken',
    );
  });
});

describe('filters', () => {
  it('an unknown filter name is an error on every Describe action', async () => {
    const bogus = [{ Name: 'no-such-filter', Values: ['x'] }];
    await expectEc2Error(
      ec2.send(new DescribeSecurityGroupsCommand({ Filters: bogus })),
      'InvalidParameterValue',
    );
    await expectEc2Error(
      ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: bogus })),
      'InvalidParameterValue',
    );
    await expectEc2Error(ec2.send(new DescribeTagsCommand({ Filters: bogus })), 'InvalidParameterValue');
    await expectEc2Error(ec2.send(new DescribeVpcsCommand({ Filters: bogus })), 'InvalidParameterValue');
    await expectEc2Error(
      ec2.send(new DescribeManagedPrefixListsCommand({ Filters: bogus })),
      'InvalidParameterValue',
    );
    await expectEc2Error(
      ec2.send(new DescribePrefixListsCommand({ Filters: bogus })),
      'InvalidParameterValue',
    );
  });

  it('DescribeSecurityGroups: egress.ip-permission.* and ip-permission.* filters', async () => {
    const stamp = uniqueName('perm');
    const tagged = async (): Promise<string> => {
      const g = await newGroup(ec2);
      await ec2.send(new CreateTagsCommand({ Resources: [g], Tags: [{ Key: 'perm', Value: stamp }] }));
      return g;
    };
    const cidrGroup = await tagged();
    const v6Group = await tagged();
    const plGroup = await tagged();
    const refGroup = await tagged();
    const ingressGroup = await tagged();
    const pl = (
      await ec2.send(
        new CreateManagedPrefixListCommand({
          PrefixListName: uniqueName('pl'),
          AddressFamily: 'IPv4',
          MaxEntries: 1,
        }),
      )
    ).PrefixList!.PrefixListId!;
    await authorizeEgress(ec2, cidrGroup, [tcp(8443, '10.77.0.0/16')]);
    await authorizeEgress(ec2, v6Group, [
      { IpProtocol: 'udp', FromPort: 53, ToPort: 53, Ipv6Ranges: [{ CidrIpv6: '2001:db8:77::/48' }] },
    ]);
    await authorizeEgress(ec2, plGroup, [
      { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, PrefixListIds: [{ PrefixListId: pl }] },
    ]);
    await authorizeEgress(ec2, refGroup, [
      { IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: cidrGroup }] },
    ]);
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: ingressGroup,
        IpPermissions: [tcp(8443, '10.77.0.0/16')],
      }),
    );

    const find = async (...filters: Filter[]): Promise<string[]> => {
      const out = await ec2.send(
        new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'tag:perm', Values: [stamp] }, ...filters] }),
      );
      return out.SecurityGroups!.map((g) => g.GroupId!);
    };
    expect(await find({ Name: 'egress.ip-permission.cidr', Values: ['10.77.0.0/16'] })).toEqual([cidrGroup]);
    expect(await find({ Name: 'ip-permission.cidr', Values: ['10.77.0.0/16'] })).toEqual([ingressGroup]);
    expect(await find({ Name: 'egress.ip-permission.ipv6-cidr', Values: ['2001:db8:77::/48'] })).toEqual([
      v6Group,
    ]);
    expect(await find({ Name: 'egress.ip-permission.prefix-list-id', Values: [pl] })).toEqual([plGroup]);
    expect(await find({ Name: 'egress.ip-permission.group-id', Values: [cidrGroup] })).toEqual([refGroup]);
    expect(await find({ Name: 'egress.ip-permission.user-id', Values: [ACCOUNT] })).toEqual([refGroup]);
    expect(await find({ Name: 'egress.ip-permission.protocol', Values: ['udp'] })).toEqual([v6Group]);
    expect(
      await find(
        { Name: 'egress.ip-permission.from-port', Values: ['8443', '5432'] },
        { Name: 'egress.ip-permission.to-port', Values: ['8443', '5432'] },
      ),
    ).toEqual([cidrGroup, refGroup]);
    // Every group has the default -1 0.0.0.0/0 egress rule.
    expect(await find({ Name: 'egress.ip-permission.cidr', Values: ['0.0.0.0/0'] })).toHaveLength(5);
    expect(await find({ Name: 'egress.ip-permission.protocol', Values: ['-1'] })).toHaveLength(5);
    // Wildcards.
    expect(await find({ Name: 'egress.ip-permission.cidr', Values: ['10.77.*'] })).toEqual([cidrGroup]);
  });

  it('DescribeSecurityGroups: group-id, group-name, description, vpc-id, owner-id', async () => {
    const name = uniqueName('flt');
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.99.0.0/16' }))).Vpc!.VpcId!;
    const g = await newGroup(ec2, { name, vpcId: vpc });
    const find = async (...filters: Filter[]) =>
      (await ec2.send(new DescribeSecurityGroupsCommand({ Filters: filters }))).SecurityGroups!.map(
        (x) => x.GroupId,
      );
    expect(await find({ Name: 'group-name', Values: [name] })).toEqual([g]);
    expect(await find({ Name: 'group-id', Values: [g] })).toEqual([g]);
    const inVpc = await find({ Name: 'vpc-id', Values: [vpc] });
    expect(inVpc).toHaveLength(2); // its default group and ours
    expect(inVpc).toContain(g);
    expect(
      await find({ Name: 'vpc-id', Values: [vpc] }, { Name: 'description', Values: ['api-sdk test*'] }),
    ).toEqual([g]);
    expect(
      await find({ Name: 'group-name', Values: [name] }, { Name: 'owner-id', Values: ['999999999999'] }),
    ).toEqual([]);
  });

  it('DescribeSecurityGroupRules: group-id, security-group-rule-id, and rule IDs', async () => {
    const g = await newGroup(ec2);
    const [a, b] = await authorizeEgress(ec2, g, [tcp(443, '10.0.0.0/8', '10.1.0.0/16')]);
    const byRule = await ec2.send(
      new DescribeSecurityGroupRulesCommand({
        Filters: [{ Name: 'security-group-rule-id', Values: [a!.SecurityGroupRuleId!] }],
      }),
    );
    expect(byRule.SecurityGroupRules!.map((r) => r.SecurityGroupRuleId)).toEqual([a!.SecurityGroupRuleId]);
    const byIds = await ec2.send(
      new DescribeSecurityGroupRulesCommand({
        SecurityGroupRuleIds: [b!.SecurityGroupRuleId!, a!.SecurityGroupRuleId!],
      }),
    );
    expect(byIds.SecurityGroupRules!.map((r) => r.SecurityGroupRuleId).sort()).toEqual(
      [a!.SecurityGroupRuleId, b!.SecurityGroupRuleId].sort(),
    );
    // Rule IDs and a group-id filter combine: a rule of another group is filtered out, not "missing".
    const other = await newGroup(ec2);
    const filteredOut = await ec2.send(
      new DescribeSecurityGroupRulesCommand({
        SecurityGroupRuleIds: [a!.SecurityGroupRuleId!],
        Filters: [{ Name: 'group-id', Values: [other] }],
      }),
    );
    expect(filteredOut.SecurityGroupRules).toEqual([]);
    const kept = await ec2.send(
      new DescribeSecurityGroupRulesCommand({
        SecurityGroupRuleIds: [a!.SecurityGroupRuleId!],
        Filters: [{ Name: 'group-id', Values: [g] }],
      }),
    );
    expect(kept.SecurityGroupRules!.map((r) => r.SecurityGroupRuleId)).toEqual([a!.SecurityGroupRuleId]);
    const wild = await ec2.send(
      new DescribeSecurityGroupRulesCommand({
        Filters: [{ Name: 'group-id', Values: [`${g.slice(0, -3)}*`] }],
      }),
    );
    expect(wild.SecurityGroupRules).toHaveLength(3);
  });

  it('DescribeVpcs and DescribeManagedPrefixLists filters', async () => {
    const vpc = await ec2.send(
      new CreateVpcCommand({ CidrBlock: '10.98.0.0/16', AmazonProvidedIpv6CidrBlock: true }),
    );
    const id = vpc.Vpc!.VpcId!;
    const v6 = vpc.Vpc!.Ipv6CidrBlockAssociationSet![0]!.Ipv6CidrBlock!;
    const find = async (...filters: Filter[]) =>
      (await ec2.send(new DescribeVpcsCommand({ Filters: filters }))).Vpcs!.map((v) => v.VpcId);
    expect(await find({ Name: 'cidr', Values: ['10.98.0.0/16'] })).toEqual([id]);
    expect(await find({ Name: 'ipv6-cidr-block-association.ipv6-cidr-block', Values: [v6] })).toEqual([id]);
    expect(await find({ Name: 'vpc-id', Values: [id] }, { Name: 'is-default', Values: ['false'] })).toEqual([
      id,
    ]);
    expect(await find({ Name: 'vpc-id', Values: [id] }, { Name: 'state', Values: ['pending'] })).toEqual([]);

    const owned = await ec2.send(
      new DescribeManagedPrefixListsCommand({ Filters: [{ Name: 'owner-id', Values: [ACCOUNT] }] }),
    );
    expect(owned.PrefixLists!.every((p) => p.OwnerId === ACCOUNT)).toBe(true);
  });
});
