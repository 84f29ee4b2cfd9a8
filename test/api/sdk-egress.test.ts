/**
 * AuthorizeSecurityGroupEgress through real HTTP with @aws-sdk/client-ec2: the EC2 reference
 * examples, default VPC/group, region isolation, canonical CIDRs, duplicates, atomicity,
 * protocols, ports, descriptions and tags.
 */
import {
  AuthorizeSecurityGroupEgressCommand,
  CreateSecurityGroupCommand,
  CreateVpcCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
} from '@aws-sdk/client-ec2';
import type { EC2Client, IpPermission } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import {
  addedEgress,
  authorizeEgress,
  describeGroup,
  expectEc2Error,
  newGroup,
  rulesOf,
  tcp,
  uniqueName,
} from './sdk-helpers.js';

const ACCOUNT = '123456789012';

let server: TestServer;
let ec2: EC2Client;

beforeAll(async () => {
  server = await startTestServer();
  ec2 = server.ec2('us-east-1');
});
afterAll(async () => {
  ec2?.destroy();
  await server?.stop();
});

describe('AuthorizeSecurityGroupEgress reference examples', () => {
  it('example 1: TCP 80 to two IPv4 ranges makes two rules, folded into one IpPermission', async () => {
    const g = await newGroup(ec2);
    const out = await ec2.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: g,
        IpPermissions: [tcp(80, '192.0.2.0/24', '198.51.100.0/24')],
      }),
    );
    expect(out.Return).toBe(true);
    expect(out.SecurityGroupRules).toHaveLength(2);
    const [a, b] = out.SecurityGroupRules!;
    for (const r of [a!, b!]) {
      expect(r.SecurityGroupRuleId).toMatch(/^sgr-[0-9a-f]{17}$/);
      expect(r).toMatchObject({
        GroupId: g,
        GroupOwnerId: ACCOUNT,
        IsEgress: true,
        IpProtocol: 'tcp',
        FromPort: 80,
        ToPort: 80,
      });
      expect(r.SecurityGroupRuleArn).toBe(
        `arn:aws:ec2:us-east-1:${ACCOUNT}:security-group-rule/${r.SecurityGroupRuleId}`,
      );
    }
    expect([a!.CidrIpv4, b!.CidrIpv4]).toEqual(['192.0.2.0/24', '198.51.100.0/24']);
    expect(a!.SecurityGroupRuleId).not.toBe(b!.SecurityGroupRuleId);

    const described = await addedEgress(ec2, g);
    expect(described.map((r) => r.CidrIpv4).sort()).toEqual(['192.0.2.0/24', '198.51.100.0/24']);
    expect(described.map((r) => r.SecurityGroupRuleId).sort()).toEqual(
      [a!.SecurityGroupRuleId, b!.SecurityGroupRuleId].sort(),
    );

    const group = await describeGroup(ec2, g);
    const tcp80 = group.IpPermissionsEgress!.filter((p) => p.IpProtocol === 'tcp');
    expect(tcp80).toHaveLength(1);
    expect(tcp80[0]).toMatchObject({ FromPort: 80, ToPort: 80 });
    expect(tcp80[0]!.IpRanges!.map((r) => r.CidrIp).sort()).toEqual(['192.0.2.0/24', '198.51.100.0/24']);
    // The default all-traffic rule is still there, without ports.
    const all = group.IpPermissionsEgress!.find((p) => p.IpProtocol === '-1');
    expect(all?.IpRanges).toEqual([{ CidrIp: '0.0.0.0/0' }]);
    expect(all?.FromPort).toBeUndefined();
  });

  it('example 2: a security-group reference on TCP 1433 gives ReferencedGroupInfo', async () => {
    const g = await newGroup(ec2);
    const target = await newGroup(ec2);
    const [rule, ...rest] = await authorizeEgress(ec2, g, [
      { IpProtocol: 'tcp', FromPort: 1433, ToPort: 1433, UserIdGroupPairs: [{ GroupId: target }] },
    ]);
    expect(rest).toHaveLength(0);
    expect(rule).toMatchObject({
      IsEgress: true,
      IpProtocol: 'tcp',
      FromPort: 1433,
      ToPort: 1433,
      ReferencedGroupInfo: { GroupId: target, UserId: ACCOUNT },
    });
    expect(rule!.CidrIpv4).toBeUndefined();

    const [described] = await addedEgress(ec2, g);
    expect(described?.ReferencedGroupInfo).toMatchObject({ GroupId: target, UserId: ACCOUNT });

    const group = await describeGroup(ec2, g);
    const perm = group.IpPermissionsEgress!.find((p) => p.FromPort === 1433);
    expect(perm?.UserIdGroupPairs).toEqual([expect.objectContaining({ GroupId: target, UserId: ACCOUNT })]);
    expect(perm?.IpRanges ?? []).toEqual([]);
  });

  it('example 3: IPv6 2001:db8:1234:1a00::/64 on TCP 22', async () => {
    const g = await newGroup(ec2);
    const [rule] = await authorizeEgress(ec2, g, [
      { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, Ipv6Ranges: [{ CidrIpv6: '2001:db8:1234:1a00::/64' }] },
    ]);
    expect(rule).toMatchObject({
      IpProtocol: 'tcp',
      FromPort: 22,
      ToPort: 22,
      CidrIpv6: '2001:db8:1234:1a00::/64',
    });
    const group = await describeGroup(ec2, g);
    const perm = group.IpPermissionsEgress!.find((p) => p.FromPort === 22);
    expect(perm?.Ipv6Ranges).toEqual([{ CidrIpv6: '2001:db8:1234:1a00::/64' }]);
  });

  it('example 4: RDP 3389 with the description "Access to London office"', async () => {
    const g = await newGroup(ec2);
    const [rule] = await authorizeEgress(ec2, g, [
      {
        IpProtocol: 'tcp',
        FromPort: 3389,
        ToPort: 3389,
        IpRanges: [{ CidrIp: '192.0.2.0/24', Description: 'Access to London office' }],
      },
    ]);
    expect(rule).toMatchObject({ CidrIpv4: '192.0.2.0/24', Description: 'Access to London office' });
    const [described] = await addedEgress(ec2, g);
    expect(described?.Description).toBe('Access to London office');
    const group = await describeGroup(ec2, g);
    const perm = group.IpPermissionsEgress!.find((p) => p.FromPort === 3389);
    expect(perm?.IpRanges).toEqual([{ CidrIp: '192.0.2.0/24', Description: 'Access to London office' }]);
  });
});

describe('default VPC, default group, regions', () => {
  it('each account+region gets a default VPC and a default group on first use', async () => {
    const ap = server.ec2('ap-southeast-2');
    try {
      const vpcs = await ap.send(
        new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }),
      );
      expect(vpcs.Vpcs).toHaveLength(1);
      const vpc = vpcs.Vpcs![0]!;
      expect(vpc).toMatchObject({
        IsDefault: true,
        CidrBlock: '172.31.0.0/16',
        OwnerId: ACCOUNT,
        State: 'available',
      });

      const groups = await ap.send(
        new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: ['default'] }] }),
      );
      expect(groups.SecurityGroups).toHaveLength(1);
      const def = groups.SecurityGroups![0]!;
      expect(def).toMatchObject({ GroupName: 'default', VpcId: vpc.VpcId, OwnerId: ACCOUNT });
      expect(def.IpPermissionsEgress).toEqual([
        expect.objectContaining({ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }),
      ]);
      // The default group admits traffic from itself.
      expect(def.IpPermissions).toEqual([
        expect.objectContaining({
          IpProtocol: '-1',
          UserIdGroupPairs: [expect.objectContaining({ GroupId: def.GroupId, UserId: ACCOUNT })],
        }),
      ]);

      // A second call finds the same VPC and group, not new ones.
      const again = await ap.send(new DescribeVpcsCommand({}));
      expect(again.Vpcs!.map((v) => v.VpcId)).toEqual([vpc.VpcId]);

      // Another region has its own.
      const sa = server.ec2('sa-east-1');
      const other = await sa.send(new DescribeVpcsCommand({}));
      sa.destroy();
      expect(other.Vpcs).toHaveLength(1);
      expect(other.Vpcs![0]!.VpcId).not.toBe(vpc.VpcId);
    } finally {
      ap.destroy();
    }
  });

  it('a group created in us-east-1 is not visible in eu-west-1', async () => {
    const name = uniqueName('iso');
    const g = await newGroup(ec2, { name });
    const eu = server.ec2('eu-west-1');
    try {
      await expectEc2Error(
        eu.send(new DescribeSecurityGroupsCommand({ GroupIds: [g] })),
        'InvalidGroup.NotFound',
      );
      await expectEc2Error(
        eu.send(new DescribeSecurityGroupsCommand({ GroupNames: [name] })),
        'InvalidGroup.NotFound',
      );
      const all = await eu.send(new DescribeSecurityGroupsCommand({}));
      expect(all.SecurityGroups!.map((x) => x.GroupId)).not.toContain(g);
      await expectEc2Error(
        eu.send(
          new AuthorizeSecurityGroupEgressCommand({ GroupId: g, IpPermissions: [tcp(443, '10.0.0.0/8')] }),
        ),
        'InvalidGroup.NotFound',
      );
      // The same name is free in eu-west-1.
      const there = await newGroup(eu, { name });
      expect(there).not.toBe(g);
      // A rule cannot reference a group of another region.
      await expectEc2Error(
        authorizeEgress(eu, there, [
          { IpProtocol: 'tcp', FromPort: 1, ToPort: 1, UserIdGroupPairs: [{ GroupId: g }] },
        ]),
        'InvalidGroup.NotFound',
      );
    } finally {
      eu.destroy();
    }
  });

  it('a new group gets the default egress rule -1 to 0.0.0.0/0 and no ingress', async () => {
    const out = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: uniqueName(), Description: 'fresh' }),
    );
    expect(out.SecurityGroupArn).toBe(`arn:aws:ec2:us-east-1:${ACCOUNT}:security-group/${out.GroupId}`);
    const rules = await rulesOf(ec2, out.GroupId!);
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({
      IsEgress: true,
      IpProtocol: '-1',
      FromPort: -1,
      ToPort: -1,
      CidrIpv4: '0.0.0.0/0',
      GroupOwnerId: ACCOUNT,
    });
    const group = await describeGroup(ec2, out.GroupId!);
    expect(group.IpPermissions).toEqual([]);
    const def = await ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }),
    );
    expect(group.VpcId).toBe(def.Vpcs![0]!.VpcId);
  });

  it('a group in a VPC with AmazonProvidedIpv6CidrBlock also gets ::/0', async () => {
    const vpc = await ec2.send(
      new CreateVpcCommand({ CidrBlock: '10.20.0.0/16', AmazonProvidedIpv6CidrBlock: true }),
    );
    const vpcId = vpc.Vpc!.VpcId!;
    expect(vpc.Vpc!.Ipv6CidrBlockAssociationSet?.[0]?.Ipv6CidrBlock).toMatch(/::\/56$/);
    const g = await newGroup(ec2, { vpcId });
    const rules = await rulesOf(ec2, g);
    expect(rules.map((r) => r.CidrIpv4 ?? r.CidrIpv6).sort()).toEqual(['0.0.0.0/0', '::/0']);
    expect(rules.every((r) => r.IsEgress && r.IpProtocol === '-1')).toBe(true);

    // Without IPv6, only 0.0.0.0/0.
    const v4 = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.21.0.0/16' }));
    const g4 = await newGroup(ec2, { vpcId: v4.Vpc!.VpcId! });
    expect((await rulesOf(ec2, g4)).map((r) => r.CidrIpv4 ?? r.CidrIpv6)).toEqual(['0.0.0.0/0']);
  });
});

describe('canonical CIDRs and duplicates', () => {
  it('canonicalizes IPv4 host bits: 100.68.0.18/18 is stored as 100.68.0.0/18', async () => {
    const g = await newGroup(ec2);
    const [rule] = await authorizeEgress(ec2, g, [tcp(443, '100.68.0.18/18')]);
    expect(rule?.CidrIpv4).toBe('100.68.0.0/18');
    expect((await addedEgress(ec2, g)).map((r) => r.CidrIpv4)).toEqual(['100.68.0.0/18']);
    // The canonical spelling is the same rule.
    await expectEc2Error(authorizeEgress(ec2, g, [tcp(443, '100.68.0.0/18')]), 'InvalidPermission.Duplicate');
  });

  it('canonicalizes IPv6: upper-case, uncompressed text becomes lower-case compressed', async () => {
    const g = await newGroup(ec2);
    const [rule] = await authorizeEgress(ec2, g, [
      {
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        Ipv6Ranges: [{ CidrIpv6: '2001:0DB8:1234:1A00:0000:0000:0000:0001/64' }],
      },
    ]);
    expect(rule?.CidrIpv6).toBe('2001:db8:1234:1a00::/64');
    await expectEc2Error(
      authorizeEgress(ec2, g, [
        {
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          Ipv6Ranges: [{ CidrIpv6: '2001:db8:1234:1a00::/64' }],
        },
      ]),
      'InvalidPermission.Duplicate',
    );
  });

  it('rejects malformed CIDRs', async () => {
    const g = await newGroup(ec2);
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '300.0.0.0/8', '010.0.0.0/8', 'banana']) {
      await expectEc2Error(authorizeEgress(ec2, g, [tcp(443, bad)]), 'InvalidParameterValue');
    }
    await expectEc2Error(
      authorizeEgress(ec2, g, [
        { IpProtocol: 'tcp', FromPort: 1, ToPort: 1, Ipv6Ranges: [{ CidrIpv6: '2001:db8::/129' }] },
      ]),
      'InvalidParameterValue',
    );
    // An IPv6 CIDR in IpRanges is not an IPv4 CIDR.
    await expectEc2Error(authorizeEgress(ec2, g, [tcp(443, '2001:db8::/32')]), 'InvalidParameterValue');
    expect(await addedEgress(ec2, g)).toEqual([]);
  });

  it('the same canonical rule again is InvalidPermission.Duplicate, whatever its description', async () => {
    const g = await newGroup(ec2);
    await authorizeEgress(ec2, g, [
      {
        IpProtocol: 'tcp',
        FromPort: 5432,
        ToPort: 5432,
        IpRanges: [{ CidrIp: '10.9.0.0/16', Description: 'one' }],
      },
    ]);
    await expectEc2Error(
      authorizeEgress(ec2, g, [
        {
          IpProtocol: 'tcp',
          FromPort: 5432,
          ToPort: 5432,
          IpRanges: [{ CidrIp: '10.9.0.0/16', Description: 'two' }],
        },
      ]),
      'InvalidPermission.Duplicate',
    );
    await expectEc2Error(authorizeEgress(ec2, g, [tcp(5432, '10.9.0.0/16')]), 'InvalidPermission.Duplicate');
    // Protocol number 6 is tcp, so this is the same rule too.
    await expectEc2Error(
      authorizeEgress(ec2, g, [
        { IpProtocol: '6', FromPort: 5432, ToPort: 5432, IpRanges: [{ CidrIp: '10.9.0.0/16' }] },
      ]),
      'InvalidPermission.Duplicate',
    );
    const rules = await addedEgress(ec2, g);
    expect(rules).toHaveLength(1);
    expect(rules[0]?.Description).toBe('one');
    // Different port, protocol or direction is a different rule.
    await authorizeEgress(ec2, g, [tcp(5433, '10.9.0.0/16')]);
    await authorizeEgress(ec2, g, [
      { IpProtocol: 'udp', FromPort: 5432, ToPort: 5432, IpRanges: [{ CidrIp: '10.9.0.0/16' }] },
    ]);
    expect(await addedEgress(ec2, g)).toHaveLength(3);
  });

  it('a duplicate within one request is refused and stores nothing', async () => {
    const g = await newGroup(ec2);
    await expectEc2Error(
      authorizeEgress(ec2, g, [tcp(443, '10.1.0.0/16', '10.1.2.3/16')]),
      'InvalidPermission.Duplicate',
    );
    await expectEc2Error(
      authorizeEgress(ec2, g, [tcp(443, '10.1.0.0/16'), tcp(443, '10.1.0.0/16')]),
      'InvalidPermission.Duplicate',
    );
    expect(await addedEgress(ec2, g)).toEqual([]);
  });
});

describe('atomicity', () => {
  it('a request whose second permission is invalid stores nothing', async () => {
    const g = await newGroup(ec2);
    const before = await rulesOf(ec2, g);
    await expectEc2Error(
      authorizeEgress(ec2, g, [
        tcp(443, '10.2.0.0/16'),
        { IpProtocol: 'tcp', FromPort: 1, ToPort: 70000, IpRanges: [{ CidrIp: '10.3.0.0/16' }] },
      ]),
      'InvalidPermission.Malformed',
    );
    await expectEc2Error(
      authorizeEgress(ec2, g, [tcp(443, '10.2.0.0/16', 'not-a-cidr')]),
      'InvalidParameterValue',
    );
    await expectEc2Error(
      authorizeEgress(ec2, g, [
        tcp(443, '10.2.0.0/16'),
        {
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          UserIdGroupPairs: [{ GroupId: 'sg-0123456789abcdef0' }],
        },
      ]),
      'InvalidGroup.NotFound',
    );
    expect(await rulesOf(ec2, g)).toEqual(before);
  });

  it('a request whose second permission duplicates a stored rule stores nothing', async () => {
    const g = await newGroup(ec2);
    await authorizeEgress(ec2, g, [tcp(22, '10.4.0.0/16')]);
    await expectEc2Error(
      authorizeEgress(ec2, g, [tcp(443, '10.5.0.0/16'), tcp(22, '10.4.0.0/16')]),
      'InvalidPermission.Duplicate',
    );
    expect((await addedEgress(ec2, g)).map((r) => `${r.FromPort} ${r.CidrIpv4}`)).toEqual(['22 10.4.0.0/16']);
  });
});

describe('concurrency', () => {
  it('concurrent identical authorizes store exactly one rule; the others are InvalidPermission.Duplicate', async () => {
    const g = await newGroup(ec2);
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, () => authorizeEgress(ec2, g, [tcp(443, '10.0.0.0/8')])),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect((r.reason as Error).name).toBe('InvalidPermission.Duplicate');
    }
    expect(await addedEgress(ec2, g)).toHaveLength(1);
  });
});

describe('protocols and ports', () => {
  it('canonicalizes protocol numbers: 6 → tcp, 17 → udp', async () => {
    const g = await newGroup(ec2);
    const [t] = await authorizeEgress(ec2, g, [
      { IpProtocol: '6', FromPort: 8080, ToPort: 8081, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
    ]);
    expect(t).toMatchObject({ IpProtocol: 'tcp', FromPort: 8080, ToPort: 8081 });
    const [u] = await authorizeEgress(ec2, g, [
      { IpProtocol: '17', FromPort: 53, ToPort: 53, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
    ]);
    expect(u?.IpProtocol).toBe('udp');
    const [upper] = await authorizeEgress(ec2, g, [
      { IpProtocol: 'TCP', FromPort: 9, ToPort: 9, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
    ]);
    expect(upper?.IpProtocol).toBe('tcp');
  });

  it('protocol 50 (ESP) and -1 allow all ports: given ports become -1/-1', async () => {
    const g = await newGroup(ec2);
    const [esp] = await authorizeEgress(ec2, g, [
      { IpProtocol: '50', FromPort: 100, ToPort: 200, IpRanges: [{ CidrIp: '203.0.113.0/24' }] },
    ]);
    expect(esp).toMatchObject({ IpProtocol: '50', FromPort: -1, ToPort: -1 });
    // Same rule without ports is a duplicate.
    await expectEc2Error(
      authorizeEgress(ec2, g, [{ IpProtocol: '50', IpRanges: [{ CidrIp: '203.0.113.0/24' }] }]),
      'InvalidPermission.Duplicate',
    );
    const [all] = await authorizeEgress(ec2, g, [
      { IpProtocol: '-1', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '203.0.113.0/24' }] },
    ]);
    expect(all).toMatchObject({ IpProtocol: '-1', FromPort: -1, ToPort: -1 });
  });

  it('ICMP: from = type, to = code; type -1 requires code -1', async () => {
    const g = await newGroup(ec2);
    const [echo] = await authorizeEgress(ec2, g, [
      { IpProtocol: 'icmp', FromPort: 8, ToPort: 0, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
    ]);
    expect(echo).toMatchObject({ IpProtocol: 'icmp', FromPort: 8, ToPort: 0 });
    const [anyIcmp] = await authorizeEgress(ec2, g, [
      { IpProtocol: '1', FromPort: -1, ToPort: -1, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
    ]);
    expect(anyIcmp).toMatchObject({ IpProtocol: 'icmp', FromPort: -1, ToPort: -1 });
    const [unreach] = await authorizeEgress(ec2, g, [
      { IpProtocol: 'icmp', FromPort: 3, ToPort: -1, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
    ]);
    expect(unreach).toMatchObject({ FromPort: 3, ToPort: -1 });
    await expectEc2Error(
      authorizeEgress(ec2, g, [
        { IpProtocol: 'icmp', FromPort: -1, ToPort: 3, IpRanges: [{ CidrIp: '10.1.0.0/16' }] },
      ]),
      'InvalidParameterValue',
    );
    await expectEc2Error(
      authorizeEgress(ec2, g, [
        { IpProtocol: 'icmp', FromPort: 256, ToPort: 0, IpRanges: [{ CidrIp: '10.1.0.0/16' }] },
      ]),
      'InvalidParameterValue',
    );
    // ICMP needs type and code.
    await expectEc2Error(
      authorizeEgress(ec2, g, [{ IpProtocol: 'icmp', IpRanges: [{ CidrIp: '10.1.0.0/16' }] }]),
      'InvalidParameterValue',
    );
    expect(await addedEgress(ec2, g)).toHaveLength(3);
  });

  it('ICMPv6 may omit type and code (all of them)', async () => {
    const g = await newGroup(ec2);
    const [r] = await authorizeEgress(ec2, g, [{ IpProtocol: 'icmpv6', Ipv6Ranges: [{ CidrIpv6: '::/0' }] }]);
    expect(r).toMatchObject({ IpProtocol: 'icmpv6', FromPort: -1, ToPort: -1, CidrIpv6: '::/0' });
    const [n] = await authorizeEgress(ec2, g, [
      { IpProtocol: '58', FromPort: 128, ToPort: 0, Ipv6Ranges: [{ CidrIpv6: '::/0' }] },
    ]);
    expect(n).toMatchObject({ IpProtocol: 'icmpv6', FromPort: 128, ToPort: 0 });
  });

  it('rejects unknown protocols', async () => {
    const g = await newGroup(ec2);
    for (const p of ['all', 'tcpx', '256', '-2']) {
      await expectEc2Error(
        authorizeEgress(ec2, g, [
          { IpProtocol: p, FromPort: 1, ToPort: 1, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
        ]),
        'InvalidParameterValue',
      );
    }
    await expectEc2Error(
      authorizeEgress(ec2, g, [{ FromPort: 1, ToPort: 1, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }]),
      'InvalidParameterValue',
    );
  });

  it('validates TCP/UDP ports: both needed, 0–65535, from ≤ to', async () => {
    const g = await newGroup(ec2);
    const bad: [IpPermission, string][] = [
      [{ IpProtocol: 'tcp', IpRanges: [{ CidrIp: '10.0.0.0/8' }] }, 'InvalidParameterValue'],
      [
        { IpProtocol: 'tcp', FromPort: 1, ToPort: 65536, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
        'InvalidPermission.Malformed',
      ],
      [
        { IpProtocol: 'udp', FromPort: -1, ToPort: 80, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
        'InvalidPermission.Malformed',
      ],
      [
        { IpProtocol: 'tcp', FromPort: 90, ToPort: 80, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
        'InvalidParameterValue',
      ],
      [
        { IpProtocol: 'tcp', FromPort: 80, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
        'InvalidPermission.Malformed',
      ],
    ];
    for (const [perm, code] of bad) await expectEc2Error(authorizeEgress(ec2, g, [perm]), code);
    const [full] = await authorizeEgress(ec2, g, [
      { IpProtocol: 'tcp', FromPort: 0, ToPort: 65535, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
    ]);
    expect(full).toMatchObject({ FromPort: 0, ToPort: 65535 });
    expect(await addedEgress(ec2, g)).toHaveLength(1);
  });

  it('a permission without a destination is refused', async () => {
    const g = await newGroup(ec2);
    await expectEc2Error(
      authorizeEgress(ec2, g, [{ IpProtocol: 'tcp', FromPort: 1, ToPort: 1 }]),
      'MissingParameter',
    );
    await expectEc2Error(
      ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: g })),
      'MissingParameter',
    );
  });
});

describe('descriptions', () => {
  it('accepts up to 255 characters of the documented set, refuses longer or other characters', async () => {
    const g = await newGroup(ec2);
    const okText = 'a-zA-Z0-9. _-:/()#,@[]+=;{}!$*'.padEnd(255, 'x');
    const [r] = await authorizeEgress(ec2, g, [
      {
        IpProtocol: 'tcp',
        FromPort: 1,
        ToPort: 1,
        IpRanges: [{ CidrIp: '10.0.0.0/8', Description: okText }],
      },
    ]);
    expect(r?.Description).toBe(okText);
    // `&` is documented for IP-range rule descriptions only, not for group pairs.
    await authorizeEgress(ec2, g, [
      { IpProtocol: 'tcp', FromPort: 3, ToPort: 3, IpRanges: [{ CidrIp: '10.0.0.0/8', Description: 'R&D' }] },
    ]);
    await expectEc2Error(
      authorizeEgress(ec2, g, [
        { IpProtocol: 'tcp', FromPort: 3, ToPort: 3, UserIdGroupPairs: [{ GroupId: g, Description: 'R&D' }] },
      ]),
      'InvalidParameterValue',
    );
    for (const bad of ['x'.repeat(256), 'Zürich office', 'a | b', 'tab\there', 'quote"']) {
      await expectEc2Error(
        authorizeEgress(ec2, g, [
          {
            IpProtocol: 'tcp',
            FromPort: 2,
            ToPort: 2,
            IpRanges: [{ CidrIp: '10.0.0.0/8', Description: bad }],
          },
        ]),
        'InvalidParameterValue',
      );
    }
    expect(await addedEgress(ec2, g)).toHaveLength(2);
  });

  it('validates the group name and description of CreateSecurityGroup', async () => {
    await expectEc2Error(
      ec2.send(new CreateSecurityGroupCommand({ GroupName: 'default', Description: 'x' })),
      'InvalidGroup.Reserved',
    );
    await expectEc2Error(
      ec2.send(new CreateSecurityGroupCommand({ GroupName: 'sg-looks-like-an-id', Description: 'x' })),
      'InvalidParameterValue',
    );
    await expectEc2Error(
      ec2.send(new CreateSecurityGroupCommand({ GroupName: uniqueName(), Description: 'y'.repeat(256) })),
      'InvalidParameterValue',
    );
    const name = uniqueName();
    await newGroup(ec2, { name });
    await expectEc2Error(
      ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: 'again' })),
      'InvalidGroup.Duplicate',
    );
  });
});

describe('tags on new rules and groups', () => {
  it('TagSpecifications on Authorize tag every new rule; tag: and tag-key filters find them', async () => {
    const g = await newGroup(ec2);
    const team = uniqueName('team');
    const out = await ec2.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: g,
        IpPermissions: [tcp(443, '10.0.0.0/8', '172.16.0.0/12')],
        TagSpecifications: [
          {
            ResourceType: 'security-group-rule',
            Tags: [
              { Key: 'team', Value: team },
              { Key: 'env', Value: 'prod' },
            ],
          },
        ],
      }),
    );
    expect(out.SecurityGroupRules).toHaveLength(2);
    for (const r of out.SecurityGroupRules!) {
      expect(r.Tags).toEqual([
        { Key: 'team', Value: team },
        { Key: 'env', Value: 'prod' },
      ]);
    }
    await authorizeEgress(ec2, g, [tcp(80, '10.0.0.0/8')]);
    const byTag = await ec2.send(
      new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: `tag:team`, Values: [team] }] }),
    );
    expect(byTag.SecurityGroupRules!.map((r) => r.SecurityGroupRuleId).sort()).toEqual(
      out.SecurityGroupRules!.map((r) => r.SecurityGroupRuleId).sort(),
    );
    const byKey = await ec2.send(
      new DescribeSecurityGroupRulesCommand({
        Filters: [
          { Name: 'group-id', Values: [g] },
          { Name: 'tag-key', Values: ['env'] },
        ],
      }),
    );
    expect(byKey.SecurityGroupRules).toHaveLength(2);
    // Untagged rules list an empty tag set in DescribeSecurityGroupRules.
    const untagged = (await addedEgress(ec2, g)).find((r) => r.FromPort === 80);
    expect(untagged?.Tags).toEqual([]);
  });

  it('TagSpecifications on CreateSecurityGroup tag the group; tag filters find it', async () => {
    const owner = uniqueName('owner');
    const out = await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: uniqueName(),
        Description: 'tagged',
        TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'owner', Value: owner }] }],
      }),
    );
    expect(out.Tags).toEqual([{ Key: 'owner', Value: owner }]);
    const found = await ec2.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'tag:owner', Values: [owner] }] }),
    );
    expect(found.SecurityGroups!.map((g) => g.GroupId)).toEqual([out.GroupId]);
    expect(found.SecurityGroups![0]!.Tags).toEqual([{ Key: 'owner', Value: owner }]);
    const wild = await ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: 'tag-key', Values: ['own*'] },
          { Name: 'tag:owner', Values: [`${owner.slice(0, -2)}??`] },
        ],
      }),
    );
    expect(wild.SecurityGroups!.map((g) => g.GroupId)).toEqual([out.GroupId]);
  });

  it('enforces tag limits: aws: prefix, 128-character key, 257-character value, wrong resource type', async () => {
    const g = await newGroup(ec2);
    const withTags = (ResourceType: string, Key: string, Value = 'v') =>
      ec2.send(
        new AuthorizeSecurityGroupEgressCommand({
          GroupId: g,
          IpPermissions: [tcp(443, '10.0.0.0/8')],
          TagSpecifications: [
            { ResourceType: ResourceType as 'security-group-rule', Tags: [{ Key, Value }] },
          ],
        }),
      );
    await expectEc2Error(withTags('security-group-rule', 'aws:owner'), 'InvalidParameterValue');
    await expectEc2Error(withTags('security-group-rule', 'AWS:owner'), 'InvalidParameterValue');
    await expectEc2Error(withTags('security-group-rule', 'k'.repeat(128)), 'InvalidParameterValue');
    await expectEc2Error(withTags('security-group-rule', 'k', 'v'.repeat(257)), 'InvalidParameterValue');
    await expectEc2Error(withTags('security-group', 'k'), 'InvalidParameterValue');
    expect(await addedEgress(ec2, g)).toEqual([]);
    // The limits themselves are allowed.
    const out = await withTags('security-group-rule', 'k'.repeat(127), 'v'.repeat(256));
    expect(out.SecurityGroupRules?.[0]?.Tags).toEqual([{ Key: 'k'.repeat(127), Value: 'v'.repeat(256) }]);
  });
});
