/**
 * ModifyManagedPrefixList `MaxEntries` (resize) through real HTTP with the AWS SDK: a list
 * referenced by security groups grows only while every referencing group stays within the
 * rules-per-group quota (a reference weighs MaxEntries rules); the refusal names the groups.
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateManagedPrefixListCommand,
  DescribeManagedPrefixListsCommand,
  ModifyManagedPrefixListCommand,
} from '@aws-sdk/client-ec2';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { authorizeEgress, expectEc2Error, newGroup, tcp, uniqueName } from './sdk-helpers.js';

describe('ModifyManagedPrefixList MaxEntries', () => {
  let server: TestServer;
  let ec2: EC2Client;
  beforeAll(async () => {
    server = await startTestServer({ rulesPerGroup: 6 });
    ec2 = server.ec2();
  });
  afterAll(async () => {
    ec2?.destroy();
    await server?.stop();
  });

  const newList = async (maxEntries: number): Promise<string> => {
    const r = await ec2.send(
      new CreateManagedPrefixListCommand({
        PrefixListName: uniqueName('resize'),
        AddressFamily: 'IPv4',
        MaxEntries: maxEntries,
        Entries: [{ Cidr: '192.0.2.0/24' }],
      }),
    );
    return r.PrefixList!.PrefixListId!;
  };
  const maxEntriesOf = async (id: string): Promise<number | undefined> =>
    (await ec2.send(new DescribeManagedPrefixListsCommand({ PrefixListIds: [id] }))).PrefixLists?.[0]
      ?.MaxEntries;
  const plRule = (id: string) => ({
    IpProtocol: 'tcp',
    FromPort: 443,
    ToPort: 443,
    PrefixListIds: [{ PrefixListId: id }],
  });

  it('an unreferenced list resizes freely, without a new version', async () => {
    const id = await newList(2);
    const r = await ec2.send(new ModifyManagedPrefixListCommand({ PrefixListId: id, MaxEntries: 500 }));
    expect(r.PrefixList).toMatchObject({ MaxEntries: 500, Version: 1, State: 'modify-complete' });
  });

  it('a referenced list grows while its groups stay within the quota, and not past it', async () => {
    const id = await newList(2);
    const g = await newGroup(ec2);
    // Default egress rule (1) + the list (2) = 3 of 6.
    await authorizeEgress(ec2, g, [plRule(id)]);
    await ec2.send(new ModifyManagedPrefixListCommand({ PrefixListId: id, MaxEntries: 5 }));
    expect(await maxEntriesOf(id)).toBe(5);
    // 1 + 6 = 7 > 6: refused, naming the group, and nothing changes.
    const err = await expectEc2Error(
      ec2.send(new ModifyManagedPrefixListCommand({ PrefixListId: id, MaxEntries: 6 })),
      'RulesPerSecurityGroupLimitExceeded',
    );
    expect(err.message).toContain(g);
    expect(err.message).toContain('6 rules');
    expect(await maxEntriesOf(id)).toBe(5);
    // Shrinking never breaks a quota.
    await ec2.send(new ModifyManagedPrefixListCommand({ PrefixListId: id, MaxEntries: 1 }));
    expect(await maxEntriesOf(id)).toBe(1);
  });

  it("counts the group's other rules and each direction on its own", async () => {
    const id = await newList(1);
    const full = await newGroup(ec2);
    const roomy = await newGroup(ec2);
    // full: egress default (1) + 3 plain + the list (1) = 5; growing the list to 3 makes 7.
    await authorizeEgress(ec2, full, [tcp(1, '10.0.0.0/8'), tcp(2, '10.0.0.0/8'), tcp(3, '10.0.0.0/8')]);
    await authorizeEgress(ec2, full, [plRule(id)]);
    // roomy: the list on ingress only (no default ingress rule): 1, growing to 3 is fine.
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: roomy, IpPermissions: [plRule(id)] }));
    const err = await expectEc2Error(
      ec2.send(new ModifyManagedPrefixListCommand({ PrefixListId: id, MaxEntries: 3 })),
      'RulesPerSecurityGroupLimitExceeded',
    );
    expect(err.message).toContain(full);
    expect(err.message).not.toContain(roomy);
    await ec2.send(new ModifyManagedPrefixListCommand({ PrefixListId: id, MaxEntries: 2 }));
    expect(await maxEntriesOf(id)).toBe(2);
  });

  it('a resize together with entry changes, or below the entries held, is refused', async () => {
    const id = await newList(2);
    await expectEc2Error(
      ec2.send(
        new ModifyManagedPrefixListCommand({
          PrefixListId: id,
          MaxEntries: 4,
          AddEntries: [{ Cidr: '198.51.100.0/24' }],
        }),
      ),
      'InvalidParameterCombination',
    );
    await ec2.send(
      new ModifyManagedPrefixListCommand({
        PrefixListId: id,
        CurrentVersion: 1,
        AddEntries: [{ Cidr: '198.51.100.0/24' }],
      }),
    );
    await expectEc2Error(
      ec2.send(new ModifyManagedPrefixListCommand({ PrefixListId: id, MaxEntries: 1 })),
      'PrefixListMaxEntriesExceeded',
    );
  });
});
