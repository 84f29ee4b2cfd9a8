/**
 * DryRun, the rules-per-group quota and referential integrity through real HTTP with
 * @aws-sdk/client-ec2.
 */
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateManagedPrefixListCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DeleteManagedPrefixListCommand,
  DeleteSecurityGroupCommand,
  DeleteTagsCommand,
  DeleteVpcCommand,
  DescribeManagedPrefixListsCommand,
  DescribePrefixListsCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeTagsCommand,
  DescribeVpcsCommand,
  GetManagedPrefixListEntriesCommand,
  ModifyManagedPrefixListCommand,
  ModifySecurityGroupRulesCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  UpdateSecurityGroupRuleDescriptionsEgressCommand,
} from '@aws-sdk/client-ec2';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import {
  addedEgress,
  authorizeEgress,
  expectEc2Error,
  newGroup,
  rulesOf,
  tcp,
  uniqueName,
} from './sdk-helpers.js';

describe('DryRun', () => {
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

  const dryRunOk = (p: Promise<unknown>) => expectEc2Error(p, 'DryRunOperation', 412);

  it('CreateSecurityGroup: 412 DryRunOperation when valid, the real error when not; nothing written', async () => {
    const name = uniqueName();
    await dryRunOk(
      ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: 'd', DryRun: true })),
    );
    await expectEc2Error(
      ec2.send(new DescribeSecurityGroupsCommand({ GroupNames: [name] })),
      'InvalidGroup.NotFound',
    );
    await expectEc2Error(
      ec2.send(new CreateSecurityGroupCommand({ GroupName: 'default', Description: 'd', DryRun: true })),
      'InvalidGroup.Reserved',
    );
    // The name is still free.
    await newGroup(ec2, { name });
    await expectEc2Error(
      ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: 'd', DryRun: true })),
      'InvalidGroup.Duplicate',
    );
  });

  it('AuthorizeSecurityGroupEgress: valid → DryRunOperation; invalid or duplicate → that error; nothing written', async () => {
    const g = await newGroup(ec2);
    const before = await rulesOf(ec2, g);
    await dryRunOk(
      ec2.send(
        new AuthorizeSecurityGroupEgressCommand({
          GroupId: g,
          IpPermissions: [tcp(443, '10.0.0.0/8')],
          DryRun: true,
        }),
      ),
    );
    await expectEc2Error(
      ec2.send(
        new AuthorizeSecurityGroupEgressCommand({
          GroupId: g,
          IpPermissions: [
            { IpProtocol: 'tcp', FromPort: 443, ToPort: 70000, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
          ],
          DryRun: true,
        }),
      ),
      'InvalidPermission.Malformed',
    );
    await expectEc2Error(
      ec2.send(
        new AuthorizeSecurityGroupEgressCommand({
          GroupId: g,
          IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
          DryRun: true,
        }),
      ),
      'InvalidPermission.Duplicate',
    );
    await expectEc2Error(
      ec2.send(
        new AuthorizeSecurityGroupEgressCommand({
          GroupId: 'sg-0123456789abcdef0',
          IpPermissions: [tcp(443, '10.0.0.0/8')],
          DryRun: true,
        }),
      ),
      'InvalidGroup.NotFound',
    );
    expect(await rulesOf(ec2, g)).toEqual(before);
    // The dry-run rule really is new.
    await authorizeEgress(ec2, g, [tcp(443, '10.0.0.0/8')]);
  });

  it('Revoke, Modify, UpdateDescriptions, DeleteSecurityGroup: nothing changes under DryRun', async () => {
    const g = await newGroup(ec2);
    const [r] = await authorizeEgress(ec2, g, [tcp(443, '10.0.0.0/8')]);
    const id = r!.SecurityGroupRuleId!;
    await dryRunOk(
      ec2.send(
        new RevokeSecurityGroupEgressCommand({ GroupId: g, SecurityGroupRuleIds: [id], DryRun: true }),
      ),
    );
    await dryRunOk(
      ec2.send(
        new RevokeSecurityGroupEgressCommand({
          GroupId: g,
          IpPermissions: [tcp(443, '10.0.0.0/8')],
          DryRun: true,
        }),
      ),
    );
    await expectEc2Error(
      ec2.send(
        new RevokeSecurityGroupEgressCommand({
          GroupId: g,
          SecurityGroupRuleIds: ['sgr-0123456789abcdef0'],
          DryRun: true,
        }),
      ),
      'InvalidSecurityGroupRuleId.NotFound',
    );
    await dryRunOk(
      ec2.send(
        new ModifySecurityGroupRulesCommand({
          GroupId: g,
          SecurityGroupRules: [
            {
              SecurityGroupRuleId: id,
              SecurityGroupRule: { IpProtocol: 'udp', FromPort: 53, ToPort: 53, CidrIpv4: '10.0.0.0/8' },
            },
          ],
          DryRun: true,
        }),
      ),
    );
    await dryRunOk(
      ec2.send(
        new UpdateSecurityGroupRuleDescriptionsEgressCommand({
          GroupId: g,
          SecurityGroupRuleDescriptions: [{ SecurityGroupRuleId: id, Description: 'dry' }],
          DryRun: true,
        }),
      ),
    );
    await dryRunOk(ec2.send(new DeleteSecurityGroupCommand({ GroupId: g, DryRun: true })));
    const rules = await addedEgress(ec2, g);
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({ SecurityGroupRuleId: id, IpProtocol: 'tcp', FromPort: 443 });
    expect(rules[0]!.Description).toBeUndefined();
  });

  it('CreateTags, CreateVpc, CreateManagedPrefixList, DeleteVpc: nothing written under DryRun', async () => {
    const g = await newGroup(ec2);
    await dryRunOk(
      ec2.send(new CreateTagsCommand({ Resources: [g], Tags: [{ Key: 'k', Value: 'v' }], DryRun: true })),
    );
    await expectEc2Error(
      ec2.send(new CreateTagsCommand({ Resources: [g], Tags: [{ Key: 'aws:k', Value: 'v' }], DryRun: true })),
      'InvalidParameterValue',
    );
    const tags = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [g] }] }));
    expect(tags.Tags).toEqual([]);

    const vpcsBefore = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs!.length;
    await dryRunOk(ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16', DryRun: true })));
    await expectEc2Error(
      ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/8', DryRun: true })),
      'InvalidVpc.Range',
    );
    expect((await ec2.send(new DescribeVpcsCommand({}))).Vpcs).toHaveLength(vpcsBefore);

    const plsBefore = (await ec2.send(new DescribeManagedPrefixListsCommand({}))).PrefixLists!.length;
    await dryRunOk(
      ec2.send(
        new CreateManagedPrefixListCommand({
          PrefixListName: 'dry',
          AddressFamily: 'IPv4',
          MaxEntries: 5,
          DryRun: true,
        }),
      ),
    );
    expect((await ec2.send(new DescribeManagedPrefixListsCommand({}))).PrefixLists).toHaveLength(plsBefore);

    const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.30.0.0/16' }));
    await dryRunOk(ec2.send(new DeleteVpcCommand({ VpcId: vpc.Vpc!.VpcId!, DryRun: true })));
    expect((await ec2.send(new DescribeVpcsCommand({ VpcIds: [vpc.Vpc!.VpcId!] }))).Vpcs).toHaveLength(1);
  });

  it('DeleteTags, ModifyManagedPrefixList, DeleteManagedPrefixList, Authorize/RevokeIngress: nothing changes under DryRun', async () => {
    const g = await newGroup(ec2);
    await ec2.send(new CreateTagsCommand({ Resources: [g], Tags: [{ Key: 'k', Value: 'v' }] }));
    await dryRunOk(ec2.send(new DeleteTagsCommand({ Resources: [g], Tags: [{ Key: 'k' }], DryRun: true })));
    expect(
      (await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [g] }] }))).Tags,
    ).toHaveLength(1);

    const pl = await ec2.send(
      new CreateManagedPrefixListCommand({
        PrefixListName: uniqueName('pl'),
        AddressFamily: 'IPv4',
        MaxEntries: 2,
        Entries: [{ Cidr: '10.0.0.0/8' }],
      }),
    );
    const plId = pl.PrefixList!.PrefixListId!;
    await dryRunOk(
      ec2.send(
        new ModifyManagedPrefixListCommand({
          PrefixListId: plId,
          CurrentVersion: 1,
          AddEntries: [{ Cidr: '172.16.0.0/12' }],
          DryRun: true,
        }),
      ),
    );
    await expectEc2Error(
      ec2.send(
        new ModifyManagedPrefixListCommand({
          PrefixListId: plId,
          CurrentVersion: 7,
          AddEntries: [{ Cidr: '172.16.0.0/12' }],
          DryRun: true,
        }),
      ),
      'PrefixListVersionMismatch',
    );
    await dryRunOk(ec2.send(new DeleteManagedPrefixListCommand({ PrefixListId: plId, DryRun: true })));
    await dryRunOk(ec2.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: plId, DryRun: true })));
    const after = await ec2.send(new DescribeManagedPrefixListsCommand({ PrefixListIds: [plId] }));
    expect(after.PrefixLists?.[0]?.Version).toBe(1);

    await dryRunOk(
      ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: g,
          IpPermissions: [tcp(22, '10.0.0.0/8')],
          DryRun: true,
        }),
      ),
    );
    expect((await rulesOf(ec2, g)).filter((r) => !r.IsEgress)).toEqual([]);
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({ GroupId: g, IpPermissions: [tcp(22, '10.0.0.0/8')] }),
    );
    await dryRunOk(
      ec2.send(
        new RevokeSecurityGroupIngressCommand({
          GroupId: g,
          IpPermissions: [tcp(22, '10.0.0.0/8')],
          DryRun: true,
        }),
      ),
    );
    expect((await rulesOf(ec2, g)).filter((r) => !r.IsEgress)).toHaveLength(1);
  });

  it('Describe actions answer DryRunOperation too', async () => {
    await dryRunOk(ec2.send(new DescribeSecurityGroupsCommand({ DryRun: true })));
    await dryRunOk(ec2.send(new DescribeSecurityGroupRulesCommand({ DryRun: true })));
    await dryRunOk(ec2.send(new DescribeVpcsCommand({ DryRun: true })));
    await dryRunOk(ec2.send(new DescribeTagsCommand({ DryRun: true })));
    await dryRunOk(ec2.send(new DescribeManagedPrefixListsCommand({ DryRun: true })));
    await dryRunOk(ec2.send(new DescribePrefixListsCommand({ DryRun: true })));
    await expectEc2Error(
      ec2.send(
        new DescribeSecurityGroupsCommand({
          DryRun: true,
          Filters: [{ Name: 'no-such-filter', Values: ['x'] }],
        }),
      ),
      'InvalidParameterValue',
    );
  });
});

describe('rules-per-group quota', () => {
  let server: TestServer;
  let ec2: EC2Client;
  beforeAll(async () => {
    server = await startTestServer({ rulesPerGroup: 5 });
    ec2 = server.ec2();
  });
  afterAll(async () => {
    ec2?.destroy();
    await server?.stop();
  });

  it("a prefix-list rule weighs its list's MaxEntries against the quota", async () => {
    const g = await newGroup(ec2);
    const big = await ec2.send(
      new CreateManagedPrefixListCommand({
        PrefixListName: 'quota-big',
        AddressFamily: 'IPv4',
        MaxEntries: 4,
      }),
    );
    const small = await ec2.send(
      new CreateManagedPrefixListCommand({
        PrefixListName: 'quota-small',
        AddressFamily: 'IPv4',
        MaxEntries: 3,
      }),
    );
    const plRule = (id: string) => ({
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
      PrefixListIds: [{ PrefixListId: id }],
    });
    // Default egress rule (1) + a 4-entry list (4) = 5: at the limit, allowed.
    await authorizeEgress(ec2, g, [plRule(big.PrefixList!.PrefixListId!)]);
    // One more plain rule would make 6.
    await expectEc2Error(
      authorizeEgress(ec2, g, [tcp(1, '10.0.0.0/8')]),
      'RulesPerSecurityGroupLimitExceeded',
    );
    const h = await newGroup(ec2);
    // 1 + 3 = 4 fits; the same list again cannot (duplicate), another plain rule does (5).
    await authorizeEgress(ec2, h, [plRule(small.PrefixList!.PrefixListId!)]);
    await authorizeEgress(ec2, h, [tcp(1, '10.0.0.0/8')]);
    await expectEc2Error(
      authorizeEgress(ec2, h, [tcp(2, '10.0.0.0/8')]),
      'RulesPerSecurityGroupLimitExceeded',
    );
    expect(await rulesOf(ec2, h)).toHaveLength(3);
  });

  it('RulesPerSecurityGroupLimitExceeded, and a refused request writes nothing', async () => {
    const g = await newGroup(ec2);
    // The default egress rule counts: 1 + 5 > 5.
    await expectEc2Error(
      authorizeEgress(ec2, g, [
        tcp(1, '10.0.0.0/8', '10.1.0.0/16', '10.2.0.0/16', '10.3.0.0/16', '10.4.0.0/16'),
      ]),
      'RulesPerSecurityGroupLimitExceeded',
    );
    expect(await rulesOf(ec2, g)).toHaveLength(1);
    await authorizeEgress(ec2, g, [tcp(1, '10.0.0.0/8', '10.1.0.0/16', '10.2.0.0/16', '10.3.0.0/16')]);
    expect(await rulesOf(ec2, g)).toHaveLength(5);
    await expectEc2Error(
      authorizeEgress(ec2, g, [tcp(2, '10.0.0.0/8')]),
      'RulesPerSecurityGroupLimitExceeded',
    );
    expect(await rulesOf(ec2, g)).toHaveLength(5);

    // The quota is per direction: ingress still has room for five.
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: g,
        IpPermissions: [tcp(22, '10.0.0.0/8', '10.1.0.0/16', '10.2.0.0/16', '10.3.0.0/16', '10.4.0.0/16')],
      }),
    );
    await expectEc2Error(
      ec2.send(
        new AuthorizeSecurityGroupIngressCommand({ GroupId: g, IpPermissions: [tcp(23, '10.0.0.0/8')] }),
      ),
      'RulesPerSecurityGroupLimitExceeded',
    );
    expect(await rulesOf(ec2, g)).toHaveLength(10);

    // Revoking one makes room for one.
    await ec2.send(
      new RevokeSecurityGroupEgressCommand({ GroupId: g, IpPermissions: [tcp(1, '10.0.0.0/8')] }),
    );
    await authorizeEgress(ec2, g, [tcp(2, '10.0.0.0/8')]);
    expect((await rulesOf(ec2, g)).filter((r) => r.IsEgress)).toHaveLength(5);
  });
});

describe('referential integrity', () => {
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

  it('a group referenced by another group’s rule cannot be deleted (DependencyViolation)', async () => {
    const a = await newGroup(ec2);
    const b = await newGroup(ec2);
    const [ref] = await authorizeEgress(ec2, a, [
      { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, UserIdGroupPairs: [{ GroupId: b }] },
    ]);
    await expectEc2Error(ec2.send(new DeleteSecurityGroupCommand({ GroupId: b })), 'DependencyViolation');
    await expectEc2Error(
      ec2.send(new DeleteSecurityGroupCommand({ GroupId: b, DryRun: true })),
      'DependencyViolation',
    );
    expect(
      (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [b] }))).SecurityGroups,
    ).toHaveLength(1);

    await ec2.send(
      new RevokeSecurityGroupEgressCommand({ GroupId: a, SecurityGroupRuleIds: [ref!.SecurityGroupRuleId!] }),
    );
    const out = await ec2.send(new DeleteSecurityGroupCommand({ GroupId: b }));
    expect(out.Return).toBe(true);
    expect(out.GroupId).toBe(b);
    await expectEc2Error(
      ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [b] })),
      'InvalidGroup.NotFound',
    );
    // A group may be deleted while its own rules reference others or itself.
    await authorizeEgress(ec2, a, [
      { IpProtocol: 'tcp', FromPort: 1, ToPort: 1, UserIdGroupPairs: [{ GroupId: a }] },
    ]);
    await ec2.send(new DeleteSecurityGroupCommand({ GroupId: a }));
    // Its rules went with it.
    const left = await ec2.send(
      new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [a] }] }),
    );
    expect(left.SecurityGroupRules).toEqual([]);
  });

  it('a referenced group can be deleted by name in the default VPC only when unreferenced', async () => {
    const name = uniqueName();
    const b = await newGroup(ec2, { name });
    const a = await newGroup(ec2);
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: a,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: b }] },
        ],
      }),
    );
    await expectEc2Error(
      ec2.send(new DeleteSecurityGroupCommand({ GroupName: name })),
      'DependencyViolation',
    );
    await ec2.send(new DeleteSecurityGroupCommand({ GroupId: a }));
    await ec2.send(new DeleteSecurityGroupCommand({ GroupName: name }));
  });

  it('the default group cannot be deleted (CannotDelete)', async () => {
    const out = await ec2.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: ['default'] }] }),
    );
    const def = out.SecurityGroups![0]!.GroupId!;
    await expectEc2Error(ec2.send(new DeleteSecurityGroupCommand({ GroupId: def })), 'CannotDelete');
    await expectEc2Error(ec2.send(new DeleteSecurityGroupCommand({ GroupName: 'default' })), 'CannotDelete');
  });

  it('a prefix list referenced by a rule cannot be deleted (DependencyViolation)', async () => {
    const pl = await ec2.send(
      new CreateManagedPrefixListCommand({
        PrefixListName: uniqueName('pl'),
        AddressFamily: 'IPv4',
        MaxEntries: 3,
        Entries: [{ Cidr: '198.51.100.0/24' }],
      }),
    );
    const plId = pl.PrefixList!.PrefixListId!;
    const g = await newGroup(ec2);
    const [r] = await authorizeEgress(ec2, g, [
      { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, PrefixListIds: [{ PrefixListId: plId }] },
    ]);
    await expectEc2Error(
      ec2.send(new DeleteManagedPrefixListCommand({ PrefixListId: plId })),
      'DependencyViolation',
    );
    // Its entries may still change.
    await ec2.send(
      new ModifyManagedPrefixListCommand({
        PrefixListId: plId,
        CurrentVersion: 1,
        AddEntries: [{ Cidr: '203.0.113.0/24' }],
      }),
    );
    await ec2.send(
      new RevokeSecurityGroupEgressCommand({ GroupId: g, SecurityGroupRuleIds: [r!.SecurityGroupRuleId!] }),
    );
    const del = await ec2.send(new DeleteManagedPrefixListCommand({ PrefixListId: plId }));
    expect(del.PrefixList?.State).toBe('delete-complete');
  });

  it('a VPC with groups cannot be deleted (DependencyViolation); without them it can', async () => {
    const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.40.0.0/16' }));
    const vpcId = vpc.Vpc!.VpcId!;
    const g = await newGroup(ec2, { vpcId });
    await expectEc2Error(ec2.send(new DeleteVpcCommand({ VpcId: vpcId })), 'DependencyViolation');
    await ec2.send(new DeleteSecurityGroupCommand({ GroupId: g }));
    await ec2.send(new DeleteVpcCommand({ VpcId: vpcId }));
    await expectEc2Error(ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] })), 'InvalidVpcID.NotFound');
    // Its default group went with it.
    const left = await ec2.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }),
    );
    expect(left.SecurityGroups).toEqual([]);
    await expectEc2Error(ec2.send(new DeleteVpcCommand({ VpcId: vpcId })), 'InvalidVpcID.NotFound');
    await expectEc2Error(ec2.send(new DeleteVpcCommand({ VpcId: 'vpc-123' })), 'InvalidVpcId.Malformed');
  });

  it('a rule may not name a group of another VPC (no peering), so no VPC is left referenced', async () => {
    const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.41.0.0/16' }));
    const vpcId = vpc.Vpc!.VpcId!;
    const groups = await ec2.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }),
    );
    const def = groups.SecurityGroups![0]!.GroupId!;
    const other = await newGroup(ec2);
    const err = await expectEc2Error(
      authorizeEgress(ec2, other, [
        { IpProtocol: 'tcp', FromPort: 1, ToPort: 1, UserIdGroupPairs: [{ GroupId: def }] },
      ]),
      'InvalidGroup.NotFound',
    );
    expect(String(err)).toMatch(/different networks/);
    await ec2.send(new DeleteVpcCommand({ VpcId: vpcId }));
  });
});
