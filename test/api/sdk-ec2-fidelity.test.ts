/**
 * EC2 behaviours that real clients depend on (issue #15, items 13 and 14), through
 * @aws-sdk/client-ec2 against a real Weir server: numbered protocols rendered without ports,
 * VPC attributes, the retired ClassicLink describes, AWS-managed prefix lists, the errors of
 * ModifySecurityGroupRules, and IPv6 CIDRs in canonical form. The cases follow the behaviour
 * moto's suite records as verified against AWS.
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateManagedPrefixListCommand,
  CreateVpcCommand,
  DeleteManagedPrefixListCommand,
  DescribeManagedPrefixListsCommand,
  DescribePrefixListsCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcClassicLinkCommand,
  DescribeVpcClassicLinkDnsSupportCommand,
  DescribeVpcsCommand,
  GetManagedPrefixListEntriesCommand,
  ModifyManagedPrefixListCommand,
  ModifySecurityGroupRulesCommand,
  ModifyVpcAttributeCommand,
} from '@aws-sdk/client-ec2';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { describeGroup, expectEc2Error, newGroup, uniqueName } from './sdk-helpers.js';

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

async function newVpc(): Promise<string> {
  const out = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }));
  return out.Vpc!.VpcId!;
}

describe('numbered protocols', () => {
  it('leaves FromPort/ToPort out of IpPermissions for protocols other than TCP, UDP, ICMP, ICMPv6', async () => {
    const groupId = await newGroup(ec2);
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [
          { IpProtocol: '47', IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
          { IpProtocol: '50', FromPort: 5, ToPort: 9, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
          { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
          { IpProtocol: 'icmp', FromPort: 8, ToPort: -1, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
        ],
      }),
    );
    const group = await describeGroup(ec2, groupId);
    const byProto = new Map(group.IpPermissions!.map((p) => [p.IpProtocol, p]));
    for (const proto of ['47', '50']) {
      const perm = byProto.get(proto)!;
      expect(perm).toBeDefined();
      expect('FromPort' in perm, `protocol ${proto} has no FromPort`).toBe(false);
      expect('ToPort' in perm, `protocol ${proto} has no ToPort`).toBe(false);
    }
    expect(byProto.get('tcp')).toMatchObject({ FromPort: 22, ToPort: 22 });
    expect(byProto.get('icmp')).toMatchObject({ FromPort: 8, ToPort: -1 });
  });
});

describe('VPC attributes', () => {
  it('answers EC2 defaults: DNS support on, DNS hostnames on only in the default VPC, usage metrics off', async () => {
    const vpcId = await newVpc();
    const get = async (
      id: string,
      attr: 'enableDnsSupport' | 'enableDnsHostnames' | 'enableNetworkAddressUsageMetrics',
    ) => ec2.send(new DescribeVpcAttributeCommand({ VpcId: id, Attribute: attr }));
    expect(await get(vpcId, 'enableDnsSupport')).toMatchObject({
      VpcId: vpcId,
      EnableDnsSupport: { Value: true },
    });
    const hostnames = await get(vpcId, 'enableDnsHostnames');
    expect(hostnames.EnableDnsHostnames).toEqual({ Value: false });
    expect(hostnames.EnableDnsSupport).toBeUndefined();
    expect((await get(vpcId, 'enableNetworkAddressUsageMetrics')).EnableNetworkAddressUsageMetrics).toEqual({
      Value: false,
    });
    const { Vpcs } = await ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }),
    );
    const defaultVpc = Vpcs![0]!.VpcId!;
    expect((await get(defaultVpc, 'enableDnsHostnames')).EnableDnsHostnames).toEqual({ Value: true });
  });

  it('stores what ModifyVpcAttribute sets, per VPC', async () => {
    const a = await newVpc();
    const b = await newVpc();
    await ec2.send(new ModifyVpcAttributeCommand({ VpcId: a, EnableDnsHostnames: { Value: true } }));
    await ec2.send(
      new ModifyVpcAttributeCommand({ VpcId: a, EnableNetworkAddressUsageMetrics: { Value: true } }),
    );
    await ec2.send(new ModifyVpcAttributeCommand({ VpcId: a, EnableDnsSupport: { Value: false } }));
    const read = async (id: string) => ({
      support: (await ec2.send(new DescribeVpcAttributeCommand({ VpcId: id, Attribute: 'enableDnsSupport' })))
        .EnableDnsSupport?.Value,
      hostnames: (
        await ec2.send(new DescribeVpcAttributeCommand({ VpcId: id, Attribute: 'enableDnsHostnames' }))
      ).EnableDnsHostnames?.Value,
      metrics: (
        await ec2.send(
          new DescribeVpcAttributeCommand({ VpcId: id, Attribute: 'enableNetworkAddressUsageMetrics' }),
        )
      ).EnableNetworkAddressUsageMetrics?.Value,
    });
    expect(await read(a)).toEqual({ support: false, hostnames: true, metrics: true });
    expect(await read(b)).toEqual({ support: true, hostnames: false, metrics: false });
  });

  it("finds a VPC by the 'cidr-block' filter, as EC2 does for Ansible's ec2_vpc_net", async () => {
    const out = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.77.0.0/16' }));
    const found = await ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: 'cidr-block', Values: ['10.77.0.0/16'] }] }),
    );
    expect(found.Vpcs!.map((v) => v.VpcId)).toEqual([out.Vpc!.VpcId]);
  });

  it('refuses two attributes in one call, none, and an unknown VPC', async () => {
    const vpcId = await newVpc();
    await expectEc2Error(
      ec2.send(
        new ModifyVpcAttributeCommand({
          VpcId: vpcId,
          EnableDnsHostnames: { Value: true },
          EnableDnsSupport: { Value: true },
        }),
      ),
      'InvalidParameterCombination',
    );
    await expectEc2Error(ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId })), 'MissingParameter');
    await expectEc2Error(
      ec2.send(
        new DescribeVpcAttributeCommand({ VpcId: 'vpc-0123456789abcdef0', Attribute: 'enableDnsSupport' }),
      ),
      'InvalidVpcID.NotFound',
    );
  });
});

describe('ClassicLink (retired)', () => {
  it('reports ClassicLink and its DNS support off for every VPC, and unknown VPCs as not found', async () => {
    const vpcId = await newVpc();
    const link = await ec2.send(new DescribeVpcClassicLinkCommand({ VpcIds: [vpcId] }));
    expect(link.Vpcs).toEqual([{ VpcId: vpcId, ClassicLinkEnabled: false }]);
    const all = await ec2.send(new DescribeVpcClassicLinkCommand({}));
    expect(all.Vpcs!.length).toBeGreaterThanOrEqual(2);
    expect(all.Vpcs!.every((v) => v.ClassicLinkEnabled === false)).toBe(true);
    const dns = await ec2.send(new DescribeVpcClassicLinkDnsSupportCommand({ VpcIds: [vpcId] }));
    expect(dns.Vpcs).toEqual([{ VpcId: vpcId, ClassicLinkDnsSupported: false }]);
    await expectEc2Error(
      ec2.send(new DescribeVpcClassicLinkCommand({ VpcIds: ['vpc-0123456789abcdef0'] })),
      'InvalidVpcID.NotFound',
    );
  });
});

describe('AWS-managed prefix lists', () => {
  it('exist by default, owned by AWS, in DescribeManagedPrefixLists and DescribePrefixLists', async () => {
    const own = await ec2.send(
      new CreateManagedPrefixListCommand({
        PrefixListName: uniqueName('pl'),
        MaxEntries: 2,
        AddressFamily: 'IPv4',
      }),
    );
    const lists = (await ec2.send(new DescribeManagedPrefixListsCommand({}))).PrefixLists!;
    expect(lists.map((l) => l.PrefixListId)).toContain(own.PrefixList!.PrefixListId);
    expect(lists.every((l) => !('StateMessage' in l))).toBe(true);
    const aws = lists.filter((l) => l.OwnerId === 'AWS').map((l) => l.PrefixListName);
    expect(aws).toEqual(
      expect.arrayContaining(['com.amazonaws.us-east-1.s3', 'com.amazonaws.us-east-1.dynamodb']),
    );
    const services = (await ec2.send(new DescribePrefixListsCommand({}))).PrefixLists!.map(
      (l) => l.PrefixListName,
    );
    expect(services).toEqual(
      expect.arrayContaining(['com.amazonaws.us-east-1.s3', 'com.amazonaws.us-east-1.dynamodb']),
    );
    // Per region, and a lookup by ID finds exactly the one list.
    const west = server.ec2('us-west-2');
    const westLists = (await west.send(new DescribeManagedPrefixListsCommand({}))).PrefixLists!;
    const s3 = westLists.find((l) => l.PrefixListName === 'com.amazonaws.us-west-2.s3')!;
    expect(s3.OwnerId).toBe('AWS');
    const byId = await west.send(
      new DescribeManagedPrefixListsCommand({ PrefixListIds: [s3.PrefixListId!] }),
    );
    expect(byId.PrefixLists!.map((l) => l.PrefixListName)).toEqual(['com.amazonaws.us-west-2.s3']);
    expect(
      (await west.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: s3.PrefixListId! }))).Entries,
    ).toEqual([]);
    west.destroy();
  });

  it('are read-only: modify and delete are refused, and the list stays', async () => {
    const lists = (await ec2.send(new DescribeManagedPrefixListsCommand({}))).PrefixLists!;
    const s3 = lists.find((l) => l.PrefixListName === 'com.amazonaws.us-east-1.s3')!;
    await expectEc2Error(
      ec2.send(
        new ModifyManagedPrefixListCommand({
          PrefixListId: s3.PrefixListId!,
          AddEntries: [{ Cidr: '10.0.0.0/8' }],
        }),
      ),
      'UnsupportedOperation',
    );
    await expectEc2Error(
      ec2.send(new DeleteManagedPrefixListCommand({ PrefixListId: s3.PrefixListId! })),
      'UnsupportedOperation',
    );
    const again = (
      await ec2.send(new DescribeManagedPrefixListsCommand({ PrefixListIds: [s3.PrefixListId!] }))
    ).PrefixLists!;
    expect(again).toHaveLength(1);
  });

  it('can be named by a security group rule', async () => {
    const lists = (await ec2.send(new DescribeManagedPrefixListsCommand({}))).PrefixLists!;
    const dynamo = lists.find((l) => l.PrefixListName === 'com.amazonaws.us-east-1.dynamodb')!;
    const groupId = await newGroup(ec2);
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [
          {
            IpProtocol: 'tcp',
            FromPort: 443,
            ToPort: 443,
            PrefixListIds: [{ PrefixListId: dynamo.PrefixListId! }],
          },
        ],
      }),
    );
    const group = await describeGroup(ec2, groupId);
    expect(group.IpPermissions![0]!.PrefixListIds).toEqual([{ PrefixListId: dynamo.PrefixListId }]);
  });
});

describe('ModifySecurityGroupRules', () => {
  async function groupWithRule(): Promise<{ groupId: string; ruleId: string }> {
    const groupId = await newGroup(ec2);
    const out = await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '10.1.0.0/16' }] },
        ],
      }),
    );
    return { groupId, ruleId: out.SecurityGroupRules![0]!.SecurityGroupRuleId! };
  }

  it('names an unknown rule ID with InvalidSecurityGroupRuleId.NotFound', async () => {
    const { groupId } = await groupWithRule();
    const err = await expectEc2Error(
      ec2.send(
        new ModifySecurityGroupRulesCommand({
          GroupId: groupId,
          SecurityGroupRules: [
            {
              SecurityGroupRuleId: 'sgr-0123456789abcdef0',
              SecurityGroupRule: { IpProtocol: 'tcp', FromPort: 81, ToPort: 81, CidrIpv4: '10.1.0.0/16' },
            },
          ],
        }),
      ),
      'InvalidSecurityGroupRuleId.NotFound',
    );
    expect(err.message).toContain("'sgr-0123456789abcdef0'");
  });

  it('refuses TCP or UDP without ports with InvalidParameterValue', async () => {
    const { groupId, ruleId } = await groupWithRule();
    for (const proto of ['tcp', 'udp']) {
      await expectEc2Error(
        ec2.send(
          new ModifySecurityGroupRulesCommand({
            GroupId: groupId,
            SecurityGroupRules: [
              {
                SecurityGroupRuleId: ruleId,
                SecurityGroupRule: { IpProtocol: proto, CidrIpv4: '10.1.0.0/16' },
              },
            ],
          }),
        ),
        'InvalidParameterValue',
      );
    }
  });
});

describe('IPv6 CIDRs in canonical form', () => {
  it('comes back lowercase and compressed from rules, prefix lists and VPCs', async () => {
    const groupId = await newGroup(ec2);
    const out = await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [
          {
            IpProtocol: 'tcp',
            FromPort: 443,
            ToPort: 443,
            Ipv6Ranges: [{ CidrIpv6: '2001:0DB8:0000:0000::/64' }],
          },
        ],
      }),
    );
    expect(out.SecurityGroupRules![0]!.CidrIpv6).toBe('2001:db8::/64');
    const rules = await ec2.send(
      new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] }),
    );
    expect(rules.SecurityGroupRules!.find((r) => !r.IsEgress)!.CidrIpv6).toBe('2001:db8::/64');
    const ruleId = out.SecurityGroupRules![0]!.SecurityGroupRuleId!;
    await ec2.send(
      new ModifySecurityGroupRulesCommand({
        GroupId: groupId,
        SecurityGroupRules: [
          {
            SecurityGroupRuleId: ruleId,
            SecurityGroupRule: {
              IpProtocol: 'tcp',
              FromPort: 443,
              ToPort: 443,
              CidrIpv6: '2001:DB8:0:1:0:0:0:0/64',
            },
          },
        ],
      }),
    );
    const group = await describeGroup(ec2, groupId);
    expect(group.IpPermissions![0]!.Ipv6Ranges).toEqual([{ CidrIpv6: '2001:db8:0:1::/64' }]);

    const pl = await ec2.send(
      new CreateManagedPrefixListCommand({
        PrefixListName: uniqueName('pl6'),
        MaxEntries: 2,
        AddressFamily: 'IPv6',
        Entries: [{ Cidr: '2001:DB8:AB:0::/64' }],
      }),
    );
    const entries = await ec2.send(
      new GetManagedPrefixListEntriesCommand({ PrefixListId: pl.PrefixList!.PrefixListId! }),
    );
    expect(entries.Entries).toEqual([{ Cidr: '2001:db8:ab::/64' }]);

    const vpc = await ec2.send(
      new CreateVpcCommand({ CidrBlock: '10.30.0.0/16', Ipv6CidrBlock: '2001:DB8:1234:5600::/56' }),
    );
    expect(vpc.Vpc!.Ipv6CidrBlockAssociationSet![0]!.Ipv6CidrBlock).toBe('2001:db8:1234:5600::/56');
  });
});
