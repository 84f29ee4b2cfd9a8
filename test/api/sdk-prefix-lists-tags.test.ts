/**
 * Managed prefix lists (versions, CurrentVersion, MaxEntries), rules referencing them,
 * DescribePrefixLists, and CreateTags/DeleteTags/DescribeTags through @aws-sdk/client-ec2.
 */
import {
  CreateManagedPrefixListCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DeleteManagedPrefixListCommand,
  DeleteTagsCommand,
  DescribeManagedPrefixListsCommand,
  DescribePrefixListsCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeTagsCommand,
  GetManagedPrefixListEntriesCommand,
  ModifyManagedPrefixListCommand,
} from '@aws-sdk/client-ec2';
import type { AddPrefixListEntry, EC2Client, TagDescription } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { authorizeEgress, describeGroup, expectEc2Error, newGroup, uniqueName } from './sdk-helpers.js';

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

async function createList(
  family: 'IPv4' | 'IPv6',
  maxEntries: number,
  entries: AddPrefixListEntry[] = [],
): Promise<string> {
  const out = await ec2.send(
    new CreateManagedPrefixListCommand({
      PrefixListName: uniqueName('list'),
      AddressFamily: family,
      MaxEntries: maxEntries,
      Entries: entries,
    }),
  );
  return out.PrefixList!.PrefixListId!;
}

async function entriesOf(id: string, version?: number): Promise<string[]> {
  const out = await ec2.send(
    new GetManagedPrefixListEntriesCommand({
      PrefixListId: id,
      ...(version !== undefined ? { TargetVersion: version } : {}),
    }),
  );
  return (out.Entries ?? []).map((e) => e.Cidr!).sort();
}

describe('managed prefix lists', () => {
  it('creates an IPv4 list with canonical entries, describes it and gets its entries', async () => {
    const name = uniqueName('corp');
    const out = await ec2.send(
      new CreateManagedPrefixListCommand({
        PrefixListName: name,
        AddressFamily: 'IPv4',
        MaxEntries: 3,
        Entries: [{ Cidr: '198.51.100.7/24', Description: 'office' }, { Cidr: '203.0.113.0/24' }],
        TagSpecifications: [{ ResourceType: 'prefix-list', Tags: [{ Key: 'team', Value: 'net' }] }],
      }),
    );
    const pl = out.PrefixList!;
    expect(pl.PrefixListId).toMatch(/^pl-[0-9a-f]{17}$/);
    expect(pl).toMatchObject({
      PrefixListName: name,
      AddressFamily: 'IPv4',
      MaxEntries: 3,
      Version: 1,
      State: 'create-complete',
      OwnerId: ACCOUNT,
      PrefixListArn: `arn:aws:ec2:us-east-1:${ACCOUNT}:prefix-list/${pl.PrefixListId}`,
      Tags: [{ Key: 'team', Value: 'net' }],
    });
    const described = await ec2.send(
      new DescribeManagedPrefixListsCommand({ PrefixListIds: [pl.PrefixListId!] }),
    );
    expect(described.PrefixLists).toEqual([
      expect.objectContaining({ PrefixListId: pl.PrefixListId, Version: 1 }),
    ]);
    const byName = await ec2.send(
      new DescribeManagedPrefixListsCommand({ Filters: [{ Name: 'prefix-list-name', Values: [name] }] }),
    );
    expect(byName.PrefixLists!.map((p) => p.PrefixListId)).toEqual([pl.PrefixListId]);
    const byTag = await ec2.send(
      new DescribeManagedPrefixListsCommand({ Filters: [{ Name: 'tag:team', Values: ['net'] }] }),
    );
    expect(byTag.PrefixLists!.map((p) => p.PrefixListId)).toContain(pl.PrefixListId);

    const entries = await ec2.send(
      new GetManagedPrefixListEntriesCommand({ PrefixListId: pl.PrefixListId! }),
    );
    expect(entries.Entries).toEqual(
      expect.arrayContaining([
        { Cidr: '198.51.100.0/24', Description: 'office' },
        { Cidr: '203.0.113.0/24' },
      ]),
    );
    expect(entries.Entries).toHaveLength(2);
  });

  it('creates an IPv6 list; entries must match the address family', async () => {
    const id = await createList('IPv6', 2, [{ Cidr: '2001:DB8:0:0::/32' }]);
    expect(await entriesOf(id)).toEqual(['2001:db8::/32']);
    await expectEc2Error(
      ec2.send(
        new ModifyManagedPrefixListCommand({ PrefixListId: id, AddEntries: [{ Cidr: '10.0.0.0/8' }] }),
      ),
      'InvalidParameterValue',
    );
    await expectEc2Error(
      ec2.send(
        new CreateManagedPrefixListCommand({
          PrefixListName: uniqueName('list'),
          AddressFamily: 'IPv4',
          MaxEntries: 2,
          Entries: [{ Cidr: '2001:db8::/32' }],
        }),
      ),
      'InvalidParameterValue',
    );
    await expectEc2Error(
      ec2.send(
        new CreateManagedPrefixListCommand({
          PrefixListName: uniqueName('list'),
          AddressFamily: 'IPv5',
          MaxEntries: 2,
        }),
      ),
      'InvalidParameterValue',
    );
  });

  it('enforces MaxEntries on create and modify', async () => {
    await expectEc2Error(
      ec2.send(
        new CreateManagedPrefixListCommand({
          PrefixListName: uniqueName('list'),
          AddressFamily: 'IPv4',
          MaxEntries: 1,
          Entries: [{ Cidr: '10.0.0.0/8' }, { Cidr: '192.168.0.0/16' }],
        }),
      ),
      'PrefixListMaxEntriesExceeded',
    );
    await expectEc2Error(
      ec2.send(
        new CreateManagedPrefixListCommand({
          PrefixListName: uniqueName('list'),
          AddressFamily: 'IPv4',
          MaxEntries: 0,
        }),
      ),
      'InvalidParameterValue',
    );
    const id = await createList('IPv4', 2, [{ Cidr: '10.0.0.0/8' }]);
    await expectEc2Error(
      ec2.send(
        new ModifyManagedPrefixListCommand({
          PrefixListId: id,
          CurrentVersion: 1,
          AddEntries: [{ Cidr: '172.16.0.0/12' }, { Cidr: '192.168.0.0/16' }],
        }),
      ),
      'PrefixListMaxEntriesExceeded',
    );
    expect(await entriesOf(id)).toEqual(['10.0.0.0/8']);
    // Raising MaxEntries (no entry change, so no new version) makes room.
    const resized = await ec2.send(new ModifyManagedPrefixListCommand({ PrefixListId: id, MaxEntries: 3 }));
    expect(resized.PrefixList).toMatchObject({ MaxEntries: 3, Version: 1 });
    const added = await ec2.send(
      new ModifyManagedPrefixListCommand({
        PrefixListId: id,
        CurrentVersion: 1,
        AddEntries: [{ Cidr: '172.16.0.0/12' }, { Cidr: '192.168.0.0/16' }],
      }),
    );
    expect(added.PrefixList?.Version).toBe(2);
  });

  it('versions: CurrentVersion is checked, each entry change is a version, TargetVersion returns old entries', async () => {
    const id = await createList('IPv4', 5, [{ Cidr: '10.0.0.0/8' }, { Cidr: '172.16.0.0/12' }]);
    const v2 = await ec2.send(
      new ModifyManagedPrefixListCommand({
        PrefixListId: id,
        CurrentVersion: 1,
        AddEntries: [{ Cidr: '192.168.0.0/16' }],
      }),
    );
    expect(v2.PrefixList).toMatchObject({ Version: 2, State: 'modify-complete' });
    // A writer holding version 1 is refused and changes nothing.
    await expectEc2Error(
      ec2.send(
        new ModifyManagedPrefixListCommand({
          PrefixListId: id,
          CurrentVersion: 1,
          AddEntries: [{ Cidr: '100.64.0.0/10' }],
        }),
      ),
      'PrefixListVersionMismatch',
    );
    const v3 = await ec2.send(
      new ModifyManagedPrefixListCommand({
        PrefixListId: id,
        CurrentVersion: 2,
        RemoveEntries: [{ Cidr: '10.0.0.0/8' }],
      }),
    );
    expect(v3.PrefixList?.Version).toBe(3);
    expect(await entriesOf(id)).toEqual(['172.16.0.0/12', '192.168.0.0/16']);
    expect(await entriesOf(id, 1)).toEqual(['10.0.0.0/8', '172.16.0.0/12']);
    expect(await entriesOf(id, 2)).toEqual(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16']);
    expect(await entriesOf(id, 3)).toEqual(['172.16.0.0/12', '192.168.0.0/16']);
    await expectEc2Error(
      ec2.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: id, TargetVersion: 4 })),
      'InvalidParameterValue',
    );
    const described = await ec2.send(new DescribeManagedPrefixListsCommand({ PrefixListIds: [id] }));
    expect(described.PrefixLists?.[0]?.Version).toBe(3);

    // Removing an entry that is not there, or adding and removing one CIDR, is refused.
    await expectEc2Error(
      ec2.send(
        new ModifyManagedPrefixListCommand({ PrefixListId: id, RemoveEntries: [{ Cidr: '10.0.0.0/8' }] }),
      ),
      'InvalidPrefixListModification',
    );
    await expectEc2Error(
      ec2.send(
        new ModifyManagedPrefixListCommand({
          PrefixListId: id,
          AddEntries: [{ Cidr: '10.0.0.0/8' }],
          RemoveEntries: [{ Cidr: '10.0.0.0/8' }],
        }),
      ),
      'InvalidPrefixListModification',
    );
    // Renaming keeps the version.
    const renamed = await ec2.send(
      new ModifyManagedPrefixListCommand({ PrefixListId: id, PrefixListName: 'renamed' }),
    );
    expect(renamed.PrefixList).toMatchObject({ PrefixListName: 'renamed', Version: 3 });
  });

  it('deletes a list; afterwards it is not found', async () => {
    const id = await createList('IPv4', 2);
    const out = await ec2.send(new DeleteManagedPrefixListCommand({ PrefixListId: id }));
    expect(out.PrefixList).toMatchObject({ PrefixListId: id, State: 'delete-complete' });
    await expectEc2Error(
      ec2.send(new DescribeManagedPrefixListsCommand({ PrefixListIds: [id] })),
      'InvalidPrefixListID.NotFound',
    );
    await expectEc2Error(
      ec2.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: id })),
      'InvalidPrefixListID.NotFound',
    );
    await expectEc2Error(
      ec2.send(new DeleteManagedPrefixListCommand({ PrefixListId: id })),
      'InvalidPrefixListID.NotFound',
    );
    await expectEc2Error(
      ec2.send(new DeleteManagedPrefixListCommand({ PrefixListId: 'pl-nope' })),
      'InvalidPrefixListId.Malformed',
    );
  });

  it('a rule may reference a prefix list; unknown lists are InvalidPrefixListID.NotFound', async () => {
    const id = await createList('IPv4', 3, [{ Cidr: '198.51.100.0/24' }]);
    const g = await newGroup(ec2);
    const [rule] = await authorizeEgress(ec2, g, [
      {
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        PrefixListIds: [{ PrefixListId: id, Description: 'corp' }],
      },
    ]);
    expect(rule).toMatchObject({ PrefixListId: id, Description: 'corp', IpProtocol: 'tcp', FromPort: 443 });
    expect(rule?.CidrIpv4).toBeUndefined();
    const group = await describeGroup(ec2, g);
    expect(group.IpPermissionsEgress!.find((p) => p.FromPort === 443)?.PrefixListIds).toEqual([
      { PrefixListId: id, Description: 'corp' },
    ]);
    await expectEc2Error(
      authorizeEgress(ec2, g, [
        { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, PrefixListIds: [{ PrefixListId: id }] },
      ]),
      'InvalidPermission.Duplicate',
    );
    await expectEc2Error(
      authorizeEgress(ec2, g, [
        {
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          PrefixListIds: [{ PrefixListId: 'pl-0123456789abcdef0' }],
        },
      ]),
      'InvalidPrefixListID.NotFound',
    );
    // Prefix lists are regional.
    const eu = server.ec2('eu-west-1');
    try {
      const euGroup = await newGroup(eu);
      await expectEc2Error(
        authorizeEgress(eu, euGroup, [
          { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, PrefixListIds: [{ PrefixListId: id }] },
        ]),
        'InvalidPrefixListID.NotFound',
      );
      await expectEc2Error(
        eu.send(new DescribeManagedPrefixListsCommand({ PrefixListIds: [id] })),
        'InvalidPrefixListID.NotFound',
      );
    } finally {
      eu.destroy();
    }
  });

  it('DescribePrefixLists answers (AWS-managed lists; none configured here)', async () => {
    const out = await ec2.send(new DescribePrefixListsCommand({}));
    expect(Array.isArray(out.PrefixLists ?? [])).toBe(true);
    // Customer-managed lists are not AWS-managed lists.
    const id = await createList('IPv4', 1);
    expect((out.PrefixLists ?? []).map((p) => p.PrefixListId)).not.toContain(id);
    await expectEc2Error(
      ec2.send(new DescribePrefixListsCommand({ PrefixListIds: ['pl-0123456789abcdef0'] })),
      'InvalidPrefixListID.NotFound',
    );
    await expectEc2Error(
      ec2.send(new DescribePrefixListsCommand({ Filters: [{ Name: 'bogus', Values: ['x'] }] })),
      'InvalidParameterValue',
    );
  });
});

describe('CreateTags / DeleteTags / DescribeTags', () => {
  const sortTags = (t: TagDescription[] | undefined) =>
    (t ?? []).map((x) => `${x.ResourceType} ${x.ResourceId} ${x.Key}=${x.Value}`).sort();

  it('tags groups, rules, VPCs and prefix lists; DescribeTags filters by key, resource-id, resource-type, value', async () => {
    const stamp = uniqueName('v');
    const g = await newGroup(ec2);
    const [rule] = await authorizeEgress(ec2, g, [
      { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
    ]);
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.60.0.0/16' }))).Vpc!.VpcId!;
    const pl = await createList('IPv4', 1);
    const ruleId = rule!.SecurityGroupRuleId!;
    await ec2.send(
      new CreateTagsCommand({
        Resources: [g, ruleId, vpc, pl],
        Tags: [
          { Key: 'stamp', Value: stamp },
          { Key: 'env', Value: 'prod' },
        ],
      }),
    );
    const all = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'value', Values: [stamp] }] }));
    expect(sortTags(all.Tags)).toEqual(
      [
        `security-group ${g} stamp=${stamp}`,
        `security-group-rule ${ruleId} stamp=${stamp}`,
        `vpc ${vpc} stamp=${stamp}`,
        `prefix-list ${pl} stamp=${stamp}`,
      ].sort(),
    );
    const byId = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [g] }] }));
    expect(sortTags(byId.Tags)).toEqual([
      `security-group ${g} env=prod`,
      `security-group ${g} stamp=${stamp}`,
    ]);
    const byType = await ec2.send(
      new DescribeTagsCommand({
        Filters: [
          { Name: 'resource-type', Values: ['security-group-rule'] },
          { Name: 'key', Values: ['stamp'] },
          { Name: 'value', Values: [stamp] },
        ],
      }),
    );
    expect(sortTags(byType.Tags)).toEqual([`security-group-rule ${ruleId} stamp=${stamp}`]);

    // The tags show on the resources themselves, and the tag filters of other Describes see them.
    expect((await describeGroup(ec2, g)).Tags).toEqual(
      expect.arrayContaining([
        { Key: 'stamp', Value: stamp },
        { Key: 'env', Value: 'prod' },
      ]),
    );
    const rules = await ec2.send(
      new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: `tag:stamp`, Values: [stamp] }] }),
    );
    expect(rules.SecurityGroupRules!.map((r) => r.SecurityGroupRuleId)).toEqual([ruleId]);

    // CreateTags overwrites a key's value.
    await ec2.send(new CreateTagsCommand({ Resources: [g], Tags: [{ Key: 'env', Value: 'staging' }] }));
    const env = await ec2.send(
      new DescribeTagsCommand({
        Filters: [
          { Name: 'resource-id', Values: [g] },
          { Name: 'key', Values: ['env'] },
        ],
      }),
    );
    expect(env.Tags?.map((t) => t.Value)).toEqual(['staging']);
  });

  it('DeleteTags by key only removes whatever value; by key+value only when the value matches; no tags removes all', async () => {
    const g = await newGroup(ec2);
    await ec2.send(
      new CreateTagsCommand({
        Resources: [g],
        Tags: [
          { Key: 'a', Value: '1' },
          { Key: 'b', Value: '2' },
          { Key: 'c', Value: '3' },
        ],
      }),
    );
    const keys = async () =>
      (
        (await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [g] }] }))).Tags ??
        []
      )
        .map((t) => `${t.Key}=${t.Value}`)
        .sort();
    await ec2.send(new DeleteTagsCommand({ Resources: [g], Tags: [{ Key: 'a' }] }));
    expect(await keys()).toEqual(['b=2', 'c=3']);
    await ec2.send(new DeleteTagsCommand({ Resources: [g], Tags: [{ Key: 'b', Value: 'not-2' }] }));
    expect(await keys()).toEqual(['b=2', 'c=3']);
    await ec2.send(new DeleteTagsCommand({ Resources: [g], Tags: [{ Key: 'b', Value: '2' }] }));
    expect(await keys()).toEqual(['c=3']);
    await ec2.send(new DeleteTagsCommand({ Resources: [g] }));
    expect(await keys()).toEqual([]);
  });

  it('validates tags and resources', async () => {
    const g = await newGroup(ec2);
    await expectEc2Error(
      ec2.send(new CreateTagsCommand({ Resources: [g], Tags: [{ Key: 'aws:cloudformation', Value: 'x' }] })),
      'InvalidParameterValue',
    );
    await expectEc2Error(
      ec2.send(new CreateTagsCommand({ Resources: [g], Tags: [{ Key: 'k'.repeat(128), Value: 'x' }] })),
      'InvalidParameterValue',
    );
    await expectEc2Error(
      ec2.send(new CreateTagsCommand({ Resources: [g], Tags: [{ Key: 'k', Value: 'v'.repeat(257) }] })),
      'InvalidParameterValue',
    );
    await expectEc2Error(
      ec2.send(
        new CreateTagsCommand({ Resources: [g, 'sg-0123456789abcdef0'], Tags: [{ Key: 'k', Value: 'v' }] }),
      ),
      'InvalidGroup.NotFound',
    );
    // Nothing was tagged by the refused requests (atomic across resources).
    const tags = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [g] }] }));
    expect(tags.Tags).toEqual([]);
    await expectEc2Error(
      ec2.send(
        new CreateTagsCommand({ Resources: ['sgr-0123456789abcdef0'], Tags: [{ Key: 'k', Value: 'v' }] }),
      ),
      'InvalidSecurityGroupRuleId.NotFound',
    );
    await expectEc2Error(
      ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'colour', Values: ['x'] }] })),
      'InvalidParameterValue',
    );
    // A group of another region is not found here.
    const eu = server.ec2('eu-central-1');
    try {
      await expectEc2Error(
        eu.send(new CreateTagsCommand({ Resources: [g], Tags: [{ Key: 'k', Value: 'v' }] })),
        'InvalidGroup.NotFound',
      );
    } finally {
      eu.destroy();
    }
  });

  it('a resource holds at most 50 tags (TagLimitExceeded)', async () => {
    const g = await newGroup(ec2);
    const many = (n: number, prefix: string) =>
      Array.from({ length: n }, (_, i) => ({ Key: `${prefix}${i}`, Value: 'v' }));
    await expectEc2Error(
      ec2.send(new CreateTagsCommand({ Resources: [g], Tags: many(51, 'k') })),
      'TagLimitExceeded',
    );
    await ec2.send(new CreateTagsCommand({ Resources: [g], Tags: many(50, 'k') }));
    await expectEc2Error(
      ec2.send(new CreateTagsCommand({ Resources: [g], Tags: many(1, 'extra') })),
      'TagLimitExceeded',
    );
    // Overwriting an existing key is not a new tag.
    await ec2.send(new CreateTagsCommand({ Resources: [g], Tags: [{ Key: 'k0', Value: 'changed' }] }));
    const tags = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [g] }] }));
    expect(tags.Tags).toHaveLength(50);
  });

  it('DescribeSecurityGroups tag-value filter', async () => {
    const v = uniqueName('tv');
    const g = await newGroup(ec2);
    await ec2.send(new CreateTagsCommand({ Resources: [g], Tags: [{ Key: 'anything', Value: v }] }));
    const out = await ec2.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'tag-value', Values: [v] }] }),
    );
    expect(out.SecurityGroups!.map((x) => x.GroupId)).toEqual([g]);
  });
});
