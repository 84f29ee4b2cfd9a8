/**
 * Revoke, Modify, UpdateSecurityGroupRuleDescriptions* and the ingress actions through real
 * HTTP with @aws-sdk/client-ec2.
 */
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateVpcCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  ModifySecurityGroupRulesCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  UpdateSecurityGroupRuleDescriptionsEgressCommand,
  UpdateSecurityGroupRuleDescriptionsIngressCommand,
} from '@aws-sdk/client-ec2';
import type { EC2Client } from '@aws-sdk/client-ec2';
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

const MISSING_RULE = 'sgr-0123456789abcdef0';
const MISSING_GROUP = 'sg-0123456789abcdef0';

let server: TestServer;
let ec2: EC2Client;
let customVpc: string;

beforeAll(async () => {
  server = await startTestServer();
  ec2 = server.ec2('us-east-1');
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.50.0.0/16' }));
  customVpc = vpc.Vpc!.VpcId!;
});
afterAll(async () => {
  ec2?.destroy();
  await server?.stop();
});

describe('RevokeSecurityGroupEgress', () => {
  it('revokes by SecurityGroupRuleIds and reports RevokedSecurityGroupRules', async () => {
    const g = await newGroup(ec2);
    const [a, b] = await authorizeEgress(ec2, g, [tcp(443, '10.0.0.0/8', '192.168.0.0/16')]);
    const out = await ec2.send(
      new RevokeSecurityGroupEgressCommand({ GroupId: g, SecurityGroupRuleIds: [a!.SecurityGroupRuleId!] }),
    );
    expect(out.Return).toBe(true);
    expect(out.UnknownIpPermissions ?? []).toEqual([]);
    expect(out.RevokedSecurityGroupRules).toEqual([
      expect.objectContaining({
        SecurityGroupRuleId: a!.SecurityGroupRuleId,
        GroupId: g,
        IsEgress: true,
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        CidrIpv4: '10.0.0.0/8',
      }),
    ]);
    expect((await addedEgress(ec2, g)).map((r) => r.SecurityGroupRuleId)).toEqual([b!.SecurityGroupRuleId]);

    // A repeated ID revokes and reports its rule once.
    const twice = await ec2.send(
      new RevokeSecurityGroupEgressCommand({
        GroupId: g,
        SecurityGroupRuleIds: [b!.SecurityGroupRuleId!, b!.SecurityGroupRuleId!],
      }),
    );
    expect(twice.RevokedSecurityGroupRules?.map((r) => r.SecurityGroupRuleId)).toEqual([
      b!.SecurityGroupRuleId,
    ]);
    expect(await addedEgress(ec2, g)).toEqual([]);
  });

  it('revokes by exact properties without needing the description', async () => {
    const g = await newGroup(ec2);
    const target = await newGroup(ec2);
    await authorizeEgress(ec2, g, [
      {
        IpProtocol: 'tcp',
        FromPort: 3389,
        ToPort: 3389,
        IpRanges: [{ CidrIp: '192.0.2.0/24', Description: 'Access to London office' }],
      },
      {
        IpProtocol: 'tcp',
        FromPort: 1433,
        ToPort: 1433,
        UserIdGroupPairs: [{ GroupId: target, Description: 'db' }],
      },
      { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, Ipv6Ranges: [{ CidrIpv6: '2001:db8:1234:1a00::/64' }] },
    ]);
    const out = await ec2.send(
      new RevokeSecurityGroupEgressCommand({
        GroupId: g,
        IpPermissions: [
          // Non-canonical spellings of stored rules still match.
          tcp(3389, '192.0.2.77/24'),
          { IpProtocol: '6', FromPort: 1433, ToPort: 1433, UserIdGroupPairs: [{ GroupId: target }] },
          {
            IpProtocol: 'tcp',
            FromPort: 22,
            ToPort: 22,
            Ipv6Ranges: [{ CidrIpv6: '2001:DB8:1234:1A00::/64' }],
          },
        ],
      }),
    );
    expect(out.Return).toBe(true);
    expect(out.RevokedSecurityGroupRules).toHaveLength(3);
    expect(out.RevokedSecurityGroupRules!.find((r) => r.FromPort === 1433)?.ReferencedGroupId).toBe(target);
    expect(out.RevokedSecurityGroupRules!.find((r) => r.FromPort === 3389)?.Description).toBe(
      'Access to London office',
    );
    expect(await addedEgress(ec2, g)).toEqual([]);
    // The default rule can be revoked too, leaving the group with no egress at all.
    await ec2.send(
      new RevokeSecurityGroupEgressCommand({
        GroupId: g,
        IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      }),
    );
    expect((await describeGroup(ec2, g)).IpPermissionsEgress).toEqual([]);
  });

  it('in the default VPC, properties that match nothing come back in UnknownIpPermissions', async () => {
    const g = await newGroup(ec2);
    await authorizeEgress(ec2, g, [tcp(443, '10.0.0.0/8')]);
    const out = await ec2.send(
      new RevokeSecurityGroupEgressCommand({
        GroupId: g,
        IpPermissions: [tcp(443, '10.0.0.0/8'), tcp(8443, '10.0.0.0/8')],
      }),
    );
    expect(out.RevokedSecurityGroupRules?.map((r) => r.FromPort)).toEqual([443]);
    expect(out.UnknownIpPermissions).toEqual([
      expect.objectContaining({
        IpProtocol: 'tcp',
        FromPort: 8443,
        ToPort: 8443,
        IpRanges: [{ CidrIp: '10.0.0.0/8' }],
      }),
    ]);
    expect(await addedEgress(ec2, g)).toEqual([]);
  });

  it('outside the default VPC, properties that match nothing are InvalidPermission.NotFound and nothing is revoked', async () => {
    const g = await newGroup(ec2, { vpcId: customVpc });
    await authorizeEgress(ec2, g, [tcp(443, '10.0.0.0/8')]);
    await expectEc2Error(
      ec2.send(
        new RevokeSecurityGroupEgressCommand({
          GroupId: g,
          IpPermissions: [tcp(443, '10.0.0.0/8'), tcp(8443, '10.0.0.0/8')],
        }),
      ),
      'InvalidPermission.NotFound',
    );
    expect((await addedEgress(ec2, g)).map((r) => r.FromPort)).toEqual([443]);
  });

  it('an unknown rule ID is InvalidSecurityGroupRuleId.NotFound and revokes nothing', async () => {
    const g = await newGroup(ec2);
    const [a] = await authorizeEgress(ec2, g, [tcp(443, '10.0.0.0/8')]);
    await expectEc2Error(
      ec2.send(
        new RevokeSecurityGroupEgressCommand({
          GroupId: g,
          SecurityGroupRuleIds: [a!.SecurityGroupRuleId!, MISSING_RULE],
        }),
      ),
      'InvalidSecurityGroupRuleId.NotFound',
    );
    expect(await addedEgress(ec2, g)).toHaveLength(1);
    // A rule of another group is not found in this one.
    const other = await newGroup(ec2);
    await expectEc2Error(
      ec2.send(
        new RevokeSecurityGroupEgressCommand({
          GroupId: other,
          SecurityGroupRuleIds: [a!.SecurityGroupRuleId!],
        }),
      ),
      'InvalidSecurityGroupRuleId.NotFound',
    );
    await expectEc2Error(
      ec2.send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: [MISSING_RULE] })),
      'InvalidSecurityGroupRuleId.NotFound',
    );
  });

  it('refuses rule IDs and IpPermissions together, and neither', async () => {
    const g = await newGroup(ec2);
    const [a] = await authorizeEgress(ec2, g, [tcp(443, '10.0.0.0/8')]);
    await expectEc2Error(
      ec2.send(
        new RevokeSecurityGroupEgressCommand({
          GroupId: g,
          SecurityGroupRuleIds: [a!.SecurityGroupRuleId!],
          IpPermissions: [tcp(443, '10.0.0.0/8')],
        }),
      ),
      'InvalidParameterCombination',
    );
    await expectEc2Error(ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: g })), 'MissingParameter');
    expect(await addedEgress(ec2, g)).toHaveLength(1);
  });

  it('malformed IDs are *.Malformed; well-formed unknown groups are InvalidGroup.NotFound', async () => {
    const g = await newGroup(ec2);
    await expectEc2Error(
      ec2.send(
        new RevokeSecurityGroupEgressCommand({ GroupId: 'sg-nothex', IpPermissions: [tcp(1, '10.0.0.0/8')] }),
      ),
      'InvalidGroupId.Malformed',
    );
    await expectEc2Error(
      ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: g, SecurityGroupRuleIds: ['sgr-123'] })),
      'InvalidSecurityGroupRuleId.Malformed',
    );
    await expectEc2Error(
      ec2.send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: ['rule-1'] })),
      'InvalidSecurityGroupRuleId.Malformed',
    );
    await expectEc2Error(
      ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ['sg-XYZ'] })),
      'InvalidGroupId.Malformed',
    );
    await expectEc2Error(
      ec2.send(
        new AuthorizeSecurityGroupEgressCommand({
          GroupId: 'default',
          IpPermissions: [tcp(1, '10.0.0.0/8')],
        }),
      ),
      'InvalidGroupId.Malformed',
    );
    await expectEc2Error(
      authorizeEgress(ec2, g, [
        { IpProtocol: 'tcp', FromPort: 1, ToPort: 1, UserIdGroupPairs: [{ GroupId: 'sg-1' }] },
      ]),
      'InvalidGroupId.Malformed',
    );
    await expectEc2Error(
      authorizeEgress(ec2, g, [
        { IpProtocol: 'tcp', FromPort: 1, ToPort: 1, PrefixListIds: [{ PrefixListId: 'pl-zz' }] },
      ]),
      'InvalidPrefixListId.Malformed',
    );
    await expectEc2Error(
      ec2.send(
        new AuthorizeSecurityGroupEgressCommand({
          GroupId: MISSING_GROUP,
          IpPermissions: [tcp(1, '10.0.0.0/8')],
        }),
      ),
      'InvalidGroup.NotFound',
    );
    await expectEc2Error(
      ec2.send(new DeleteSecurityGroupCommand({ GroupId: MISSING_GROUP })),
      'InvalidGroup.NotFound',
    );
  });
});

describe('ModifySecurityGroupRules', () => {
  it('replaces a rule in place, keeping its ID; canonicalizes and validates', async () => {
    const g = await newGroup(ec2);
    const [a, b] = await authorizeEgress(ec2, g, [tcp(443, '10.0.0.0/8'), tcp(80, '10.0.0.0/8')]);
    const out = await ec2.send(
      new ModifySecurityGroupRulesCommand({
        GroupId: g,
        SecurityGroupRules: [
          {
            SecurityGroupRuleId: a!.SecurityGroupRuleId,
            SecurityGroupRule: {
              IpProtocol: 'tcp',
              FromPort: 8443,
              ToPort: 8444,
              CidrIpv4: '172.16.9.9/12',
              Description: 'moved',
            },
          },
        ],
      }),
    );
    expect(out.Return).toBe(true);
    const rules = await addedEgress(ec2, g);
    const moved = rules.find((r) => r.SecurityGroupRuleId === a!.SecurityGroupRuleId);
    expect(moved).toMatchObject({
      FromPort: 8443,
      ToPort: 8444,
      CidrIpv4: '172.16.0.0/12',
      Description: 'moved',
    });
    expect(rules).toHaveLength(2);

    // Changing it into a copy of the other rule is a duplicate and changes nothing.
    await expectEc2Error(
      ec2.send(
        new ModifySecurityGroupRulesCommand({
          GroupId: g,
          SecurityGroupRules: [
            {
              SecurityGroupRuleId: a!.SecurityGroupRuleId,
              SecurityGroupRule: { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, CidrIpv4: '10.0.0.0/8' },
            },
          ],
        }),
      ),
      'InvalidPermission.Duplicate',
    );
    expect(
      (await addedEgress(ec2, g)).find((r) => r.SecurityGroupRuleId === a!.SecurityGroupRuleId)?.FromPort,
    ).toBe(8443);

    // Validation errors, unknown and malformed IDs.
    const modify = (id: string, rule: Record<string, unknown>) =>
      ec2.send(
        new ModifySecurityGroupRulesCommand({
          GroupId: g,
          SecurityGroupRules: [{ SecurityGroupRuleId: id, SecurityGroupRule: rule }],
        }),
      );
    const bId = b!.SecurityGroupRuleId!;
    await expectEc2Error(
      modify(bId, { IpProtocol: 'tcp', FromPort: 9, ToPort: 1, CidrIpv4: '10.0.0.0/8' }),
      'InvalidParameterValue',
    );
    await expectEc2Error(
      modify(bId, { IpProtocol: 'tcp', FromPort: 1, ToPort: 1, CidrIpv4: '10.0.0.0/8', CidrIpv6: '::/0' }),
      'InvalidParameterCombination',
    );
    await expectEc2Error(modify(bId, { IpProtocol: 'tcp', FromPort: 1, ToPort: 1 }), 'MissingParameter');
    await expectEc2Error(
      modify(MISSING_RULE, { IpProtocol: 'tcp', FromPort: 1, ToPort: 1, CidrIpv4: '10.0.0.0/8' }),
      'InvalidSecurityGroupRuleId.NotFound',
    );
    await expectEc2Error(
      modify('sgr-bad', { IpProtocol: 'tcp', FromPort: 1, ToPort: 1, CidrIpv4: '10.0.0.0/8' }),
      'InvalidSecurityGroupRuleId.Malformed',
    );
    expect((await addedEgress(ec2, g)).find((r) => r.SecurityGroupRuleId === bId)).toMatchObject({
      FromPort: 80,
      CidrIpv4: '10.0.0.0/8',
    });

    // A rule can point at a group instead.
    const target = await newGroup(ec2);
    await modify(bId, { IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, ReferencedGroupId: target });
    const ref = (await addedEgress(ec2, g)).find((r) => r.SecurityGroupRuleId === bId);
    expect(ref?.ReferencedGroupInfo?.GroupId).toBe(target);
    expect(ref?.CidrIpv4).toBeUndefined();
  });
});

describe('UpdateSecurityGroupRuleDescriptions', () => {
  it('egress: by rule ID and by IpPermissions', async () => {
    const g = await newGroup(ec2);
    const [a, b] = await authorizeEgress(ec2, g, [
      {
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        IpRanges: [{ CidrIp: '10.0.0.0/8', Description: 'old' }],
      },
      tcp(80, '10.0.0.0/8'),
    ]);
    const byId = await ec2.send(
      new UpdateSecurityGroupRuleDescriptionsEgressCommand({
        GroupId: g,
        SecurityGroupRuleDescriptions: [
          { SecurityGroupRuleId: a!.SecurityGroupRuleId, Description: 'by id' },
        ],
      }),
    );
    expect(byId.Return).toBe(true);
    const byPerm = await ec2.send(
      new UpdateSecurityGroupRuleDescriptionsEgressCommand({
        GroupId: g,
        IpPermissions: [
          {
            IpProtocol: 'tcp',
            FromPort: 80,
            ToPort: 80,
            IpRanges: [{ CidrIp: '10.0.0.0/8', Description: 'by perm' }],
          },
        ],
      }),
    );
    expect(byPerm.Return).toBe(true);
    const rules = await addedEgress(ec2, g);
    expect(rules.find((r) => r.SecurityGroupRuleId === a!.SecurityGroupRuleId)?.Description).toBe('by id');
    expect(rules.find((r) => r.SecurityGroupRuleId === b!.SecurityGroupRuleId)?.Description).toBe('by perm');
    const group = await describeGroup(ec2, g);
    expect(group.IpPermissionsEgress!.find((p) => p.FromPort === 80)?.IpRanges).toEqual([
      { CidrIp: '10.0.0.0/8', Description: 'by perm' },
    ]);

    await expectEc2Error(
      ec2.send(
        new UpdateSecurityGroupRuleDescriptionsEgressCommand({
          GroupId: g,
          IpPermissions: [
            {
              IpProtocol: 'tcp',
              FromPort: 81,
              ToPort: 81,
              IpRanges: [{ CidrIp: '10.0.0.0/8', Description: 'x' }],
            },
          ],
        }),
      ),
      'InvalidPermission.NotFound',
    );
    await expectEc2Error(
      ec2.send(
        new UpdateSecurityGroupRuleDescriptionsEgressCommand({
          GroupId: g,
          SecurityGroupRuleDescriptions: [{ SecurityGroupRuleId: MISSING_RULE, Description: 'x' }],
        }),
      ),
      'InvalidSecurityGroupRuleId.NotFound',
    );
    await expectEc2Error(
      ec2.send(
        new UpdateSecurityGroupRuleDescriptionsEgressCommand({
          GroupId: g,
          SecurityGroupRuleDescriptions: [
            { SecurityGroupRuleId: a!.SecurityGroupRuleId, Description: 'bad | char' },
          ],
        }),
      ),
      'InvalidParameterValue',
    );
    expect(
      (await addedEgress(ec2, g)).find((r) => r.SecurityGroupRuleId === a!.SecurityGroupRuleId)?.Description,
    ).toBe('by id');
  });

  it('ingress: by rule ID and by IpPermissions, with GroupName in the default VPC', async () => {
    const name = uniqueName();
    const g = await newGroup(ec2, { name });
    const out = await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: g,
        IpPermissions: [tcp(22, '10.0.0.0/8', '172.16.0.0/12')],
      }),
    );
    const [a, b] = out.SecurityGroupRules!;
    await ec2.send(
      new UpdateSecurityGroupRuleDescriptionsIngressCommand({
        GroupId: g,
        SecurityGroupRuleDescriptions: [
          { SecurityGroupRuleId: a!.SecurityGroupRuleId, Description: 'ssh a' },
        ],
      }),
    );
    await ec2.send(
      new UpdateSecurityGroupRuleDescriptionsIngressCommand({
        GroupName: name,
        IpPermissions: [
          {
            IpProtocol: 'tcp',
            FromPort: 22,
            ToPort: 22,
            IpRanges: [{ CidrIp: '172.16.0.0/12', Description: 'ssh b' }],
          },
        ],
      }),
    );
    const rules = (await rulesOf(ec2, g)).filter((r) => !r.IsEgress);
    expect(rules.find((r) => r.SecurityGroupRuleId === a!.SecurityGroupRuleId)?.Description).toBe('ssh a');
    expect(rules.find((r) => r.SecurityGroupRuleId === b!.SecurityGroupRuleId)?.Description).toBe('ssh b');
    // An egress rule ID is not an ingress rule.
    const [e] = await authorizeEgress(ec2, g, [tcp(443, '10.0.0.0/8')]);
    await expectEc2Error(
      ec2.send(
        new UpdateSecurityGroupRuleDescriptionsIngressCommand({
          GroupId: g,
          SecurityGroupRuleDescriptions: [{ SecurityGroupRuleId: e!.SecurityGroupRuleId, Description: 'x' }],
        }),
      ),
      'InvalidSecurityGroupRuleId.NotFound',
    );
  });
});

describe('Authorize/RevokeSecurityGroupIngress', () => {
  it('authorizes and revokes ingress by GroupId and by GroupName in the default VPC', async () => {
    const name = uniqueName();
    const g = await newGroup(ec2, { name });
    const peer = await newGroup(ec2);
    const out = await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupName: name,
        IpPermissions: [
          tcp(443, '10.0.0.0/8'),
          { IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: peer }] },
        ],
      }),
    );
    expect(out.Return).toBe(true);
    expect(out.SecurityGroupRules!.map((r) => [r.IsEgress, r.GroupId, r.FromPort])).toEqual([
      [false, g, 443],
      [false, g, 5432],
    ]);
    const group = await describeGroup(ec2, g);
    expect(group.IpPermissions!.map((p) => p.FromPort).sort()).toEqual([443, 5432]);
    expect(group.IpPermissions!.find((p) => p.FromPort === 5432)?.UserIdGroupPairs?.[0]?.GroupId).toBe(peer);
    // Egress untouched.
    expect(group.IpPermissionsEgress!.map((p) => p.IpProtocol)).toEqual(['-1']);

    await expectEc2Error(
      ec2.send(
        new AuthorizeSecurityGroupIngressCommand({ GroupId: g, IpPermissions: [tcp(443, '10.1.2.3/8')] }),
      ),
      'InvalidPermission.Duplicate',
    );

    const revoked = await ec2.send(
      new RevokeSecurityGroupIngressCommand({ GroupName: name, IpPermissions: [tcp(443, '10.0.0.0/8')] }),
    );
    expect(revoked.Return).toBe(true);
    expect(revoked.RevokedSecurityGroupRules?.map((r) => [r.IsEgress, r.FromPort])).toEqual([[false, 443]]);
    const byId = await ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: g,
        SecurityGroupRuleIds: [out.SecurityGroupRules![1]!.SecurityGroupRuleId!],
      }),
    );
    expect(byId.RevokedSecurityGroupRules).toHaveLength(1);
    expect((await describeGroup(ec2, g)).IpPermissions).toEqual([]);
  });

  it('accepts the older top-level form (IpProtocol/FromPort/ToPort/CidrIp) for ingress', async () => {
    const name = uniqueName();
    const g = await newGroup(ec2, { name });
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupName: name,
        IpProtocol: 'tcp',
        FromPort: 22,
        ToPort: 22,
        CidrIp: '203.0.113.9/24',
      }),
    );
    const [rule] = (await rulesOf(ec2, g)).filter((r) => !r.IsEgress);
    expect(rule).toMatchObject({ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIpv4: '203.0.113.0/24' });
    await ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: g,
        IpProtocol: 'tcp',
        FromPort: 22,
        ToPort: 22,
        CidrIp: '203.0.113.0/24',
      }),
    );
    expect((await rulesOf(ec2, g)).filter((r) => !r.IsEgress)).toEqual([]);
  });

  it('GroupName only works in the default VPC', async () => {
    const name = uniqueName();
    await newGroup(ec2, { name, vpcId: customVpc });
    await expectEc2Error(
      ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupName: name,
          IpPermissions: [tcp(443, '10.0.0.0/8')],
        }),
      ),
      'InvalidGroup.NotFound',
    );
    await expectEc2Error(
      ec2.send(new AuthorizeSecurityGroupIngressCommand({ IpPermissions: [tcp(443, '10.0.0.0/8')] })),
      'MissingParameter',
    );
  });

  it('ingress revoke of unknown properties: UnknownIpPermissions in the default VPC, NotFound elsewhere', async () => {
    const g = await newGroup(ec2);
    const out = await ec2.send(
      new RevokeSecurityGroupIngressCommand({ GroupId: g, IpPermissions: [tcp(443, '10.0.0.0/8')] }),
    );
    expect(out.RevokedSecurityGroupRules ?? []).toEqual([]);
    expect(out.UnknownIpPermissions).toHaveLength(1);
    const c = await newGroup(ec2, { vpcId: customVpc });
    await expectEc2Error(
      ec2.send(
        new RevokeSecurityGroupIngressCommand({ GroupId: c, IpPermissions: [tcp(443, '10.0.0.0/8')] }),
      ),
      'InvalidPermission.NotFound',
    );
  });
});
