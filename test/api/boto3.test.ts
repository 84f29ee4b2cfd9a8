/**
 * Drives Weir with boto3: test/tools/boto3_scenario.py runs one end-to-end scenario (a VPC with
 * IPv6, groups, a prefix list, egress rules to every kind of destination, paginated describes,
 * tags, modify, revoke, and EC2 errors as botocore ClientErrors) and prints its results as JSON,
 * once for this file; the tests below assert on them.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { hasBoto3, requireTool } from '../helpers/tools.js';

const SCRIPT = fileURLToPath(new URL('../tools/boto3_scenario.py', import.meta.url));
const ACCOUNT = '123456789012';
const SKIP_MESSAGE = 'boto3 not found: skipping tests that drive Weir through boto3';
const HAS_BOTO3 = requireTool('boto3 (python3)', hasBoto3(), 'python3 cannot import boto3');

interface Rule {
  SecurityGroupRuleId: string;
  GroupId: string;
  GroupOwnerId: string;
  IsEgress: boolean;
  IpProtocol: string;
  FromPort: number;
  ToPort: number;
  CidrIpv4?: string;
  CidrIpv6?: string;
  PrefixListId?: string;
  ReferencedGroupInfo?: { GroupId: string; UserId: string };
  Description?: string;
  Tags?: { Key: string; Value: string }[];
  SecurityGroupRuleArn: string;
}

interface ClientErrorInfo {
  code: string;
  message?: string;
  status?: number;
}

/** What boto3_scenario.py prints (the parts asserted on). */
interface Scenario {
  crashed?: string;
  identity: Record<string, string>;
  vpc: Record<string, unknown>;
  describeVpc: Record<string, unknown>;
  app: { GroupId: string; Tags: unknown[]; SecurityGroupArn: string };
  dbId: string;
  prefixListId: string;
  defaultRules: Rule[];
  authorize: { Return: boolean; SecurityGroupRules: Rule[] };
  rulesPaged: Rule[];
  rulesPages: number;
  rulesUnpaged: Rule[];
  groupsInVpc: { GroupId: string; GroupName: string; IpPermissionsEgress: Record<string, unknown>[] }[];
  byEgressFilter: string[];
  tagsAfterCreate: Record<string, string>[];
  byTag: string[];
  tagsAfterDelete: Record<string, string>[];
  modify: { Return: boolean };
  modified: Rule;
  updateDescriptions: { Return: boolean };
  afterUpdate: Rule;
  errors: Record<string, ClientErrorInfo>;
  rulesAfterErrors: Rule[];
  revokeByPermission: { Return: boolean; RevokedSecurityGroupRules: Record<string, unknown>[] };
  revokeById: { Return: boolean; RevokedSecurityGroupRules: { SecurityGroupRuleId: string }[] };
  rulesAtEnd: Rule[];
  resourceEgressBefore: Record<string, unknown>[];
  resourceRevoke: {
    Return: boolean;
    RevokedSecurityGroupRules: Record<string, unknown>[];
    UnknownIpPermissions?: unknown;
  };
  resourceEgressAfter: unknown[];
  deleteDb: { Return: boolean; GroupId: string };
  deletePrefixList: string;
}

describe.skipIf(!HAS_BOTO3)(HAS_BOTO3 ? 'Weir through boto3' : SKIP_MESSAGE, () => {
  let server: TestServer;
  let out: Scenario;

  beforeAll(async () => {
    server = await startTestServer();
    const env = { ...server.env(), WEIR_ENDPOINT: server.url };
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile('python3', [SCRIPT], { env, timeout: 120_000, maxBuffer: 16 << 20 }, (err, so, se) =>
        err ? reject(new Error(`boto3_scenario.py failed: ${err.message}\n${se}`)) : resolve(so),
      );
    });
    out = JSON.parse(stdout) as Scenario;
  }, 150_000);

  afterAll(async () => {
    await server?.stop();
  });

  const rule = (pred: (r: Rule) => boolean): Rule => {
    const r = out.authorize.SecurityGroupRules.find(pred);
    expect(r).toBeDefined();
    return r!;
  };

  test('the scenario ran to the end', () => {
    expect(out.crashed).toBeUndefined();
    expect(out.deletePrefixList).toBe('delete-complete');
  });

  test('sts get_caller_identity and a VPC with an Amazon-provided IPv6 block', () => {
    expect(out.identity).toEqual({
      UserId: server.accessKeyId,
      Account: ACCOUNT,
      Arn: `arn:aws:iam::${ACCOUNT}:user/weir`,
    });
    const assoc = (out.vpc['Ipv6CidrBlockAssociationSet'] as { Ipv6CidrBlock: string }[])[0]!;
    expect(assoc.Ipv6CidrBlock).toMatch(/^2001:db8:[0-9a-f:]+\/56$/);
    expect(out.vpc).toMatchObject({ CidrBlock: '10.40.0.0/16', IsDefault: false, State: 'available' });
    expect(out.vpc['Tags']).toEqual([{ Key: 'Name', Value: 'boto3' }]);
    expect(out.describeVpc).toEqual(out.vpc);
  });

  test('a new group in an IPv6 VPC starts with allow-all egress for IPv4 and IPv6', () => {
    expect(out.app.Tags).toEqual([{ Key: 'team', Value: 'web' }]);
    expect(out.app.SecurityGroupArn).toBe(
      `arn:aws:ec2:us-east-1:${ACCOUNT}:security-group/${out.app.GroupId}`,
    );
    expect(out.defaultRules.map((r) => [r.IsEgress, r.IpProtocol, r.CidrIpv4 ?? r.CidrIpv6])).toEqual([
      [true, '-1', '0.0.0.0/0'],
      [true, '-1', '::/0'],
    ]);
  });

  test('one authorize with every destination kind: IPv4, IPv6, prefix list, group', () => {
    const a = out.authorize;
    expect(a.Return).toBe(true);
    expect(a.SecurityGroupRules).toHaveLength(7);
    for (const r of a.SecurityGroupRules) {
      expect(r).toMatchObject({ GroupId: out.app.GroupId, GroupOwnerId: ACCOUNT, IsEgress: true });
      expect(r.Tags).toEqual([{ Key: 'owner', Value: 'boto3' }]);
      expect(r.SecurityGroupRuleArn).toBe(
        `arn:aws:ec2:us-east-1:${ACCOUNT}:security-group-rule/${r.SecurityGroupRuleId}`,
      );
    }
    expect(rule((r) => r.CidrIpv4 === '10.0.0.0/16')).toMatchObject({
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
      Description: 'internal https',
    });
    expect(rule((r) => r.CidrIpv6 === '2001:db8:1234:1a00::/64')).toMatchObject({ FromPort: 443 });
    expect(rule((r) => r.PrefixListId !== undefined)).toMatchObject({
      PrefixListId: out.prefixListId,
      Description: 'partners',
    });
    expect(rule((r) => r.ReferencedGroupInfo !== undefined)).toMatchObject({
      ReferencedGroupInfo: { GroupId: out.dbId, UserId: ACCOUNT },
      Description: 'to db',
    });
    expect(rule((r) => r.IpProtocol === 'udp')).toMatchObject({
      FromPort: 53,
      ToPort: 53,
      CidrIpv4: '10.0.0.2/32',
    });
    expect(rule((r) => r.IpProtocol === 'icmp')).toMatchObject({ FromPort: 3, ToPort: 4 });
    // icmpv6 without ports means all types and codes.
    expect(rule((r) => r.IpProtocol === 'icmpv6')).toMatchObject({
      FromPort: -1,
      ToPort: -1,
      CidrIpv6: '::/0',
    });
  });

  test('the describe paginators return every rule and group', () => {
    // 2 default rules + 7 authorized, 5 per page.
    expect(out.rulesPaged).toHaveLength(9);
    expect(out.rulesPages).toBe(2);
    expect(out.rulesPaged).toEqual(out.rulesUnpaged);
    const ids = new Set(out.rulesPaged.map((r) => r.SecurityGroupRuleId));
    for (const r of out.authorize.SecurityGroupRules) expect(ids).toContain(r.SecurityGroupRuleId);
    // What Authorize printed is what Describe returns.
    const described = new Map(out.rulesPaged.map((r) => [r.SecurityGroupRuleId, r]));
    for (const r of out.authorize.SecurityGroupRules) expect(described.get(r.SecurityGroupRuleId)).toEqual(r);

    expect(out.groupsInVpc.map((g) => g.GroupName).sort()).toEqual(['app', 'db', 'default']);
    const app = out.groupsInVpc.find((g) => g.GroupName === 'app')!;
    const https = app.IpPermissionsEgress.find((p) => p['FromPort'] === 443)!;
    expect(https).toEqual({
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
      IpRanges: [{ CidrIp: '10.0.0.0/16', Description: 'internal https' }],
      Ipv6Ranges: [{ CidrIpv6: '2001:db8:1234:1a00::/64' }],
      PrefixListIds: [{ PrefixListId: out.prefixListId, Description: 'partners' }],
      UserIdGroupPairs: [{ GroupId: out.dbId, UserId: ACCOUNT, Description: 'to db' }],
    });
    expect(out.byEgressFilter).toEqual([out.app.GroupId]);
  });

  test('tags on a rule: create, describe, filter, delete', () => {
    const id = out.authorize.SecurityGroupRules[0]!.SecurityGroupRuleId;
    const tag = (Key: string, Value: string) => ({
      Key,
      Value,
      ResourceId: id,
      ResourceType: 'security-group-rule',
    });
    expect(out.tagsAfterCreate).toEqual([tag('env', 'prod'), tag('owner', 'boto3')]);
    expect(out.byTag).toEqual([id]);
    expect(out.tagsAfterDelete).toEqual([tag('owner', 'boto3')]);
  });

  test('modify_security_group_rules and update_security_group_rule_descriptions_egress', () => {
    const udp = rule((r) => r.IpProtocol === 'udp');
    expect(out.modify).toEqual({ Return: true });
    expect(out.modified).toEqual({
      ...udp,
      CidrIpv4: '10.0.0.3/32',
      Description: 'resolver',
    });
    expect(out.updateDescriptions).toEqual({ Return: true });
    expect(out.afterUpdate).toMatchObject({ CidrIpv4: '10.0.0.0/16', Description: 'renamed' });
  });

  test('errors arrive as ClientError with EC2 codes, and write nothing', () => {
    const codes = Object.fromEntries(Object.entries(out.errors).map(([k, v]) => [k, v.code]));
    expect(codes).toEqual({
      duplicate: 'InvalidPermission.Duplicate',
      duplicateNonCanonical: 'InvalidPermission.Duplicate',
      groupNotFound: 'InvalidGroup.NotFound',
      referencedGroupNotFound: 'InvalidGroup.NotFound',
      prefixListNotFound: 'InvalidPrefixListID.NotFound',
      badPort: 'InvalidPermission.Malformed',
      badCidr: 'InvalidParameterValue',
      noDestination: 'MissingParameter',
      dryRun: 'DryRunOperation',
      revokeUnknown: 'InvalidPermission.NotFound',
      revokeUnknownId: 'InvalidSecurityGroupRuleId.NotFound',
      describeUnknownId: 'InvalidSecurityGroupRuleId.NotFound',
      deleteReferenced: 'DependencyViolation',
      deletePrefixListInUse: 'DependencyViolation',
      badNextToken: 'InvalidNextToken',
    });
    expect(out.errors['duplicateNonCanonical']!.message).toContain('10.0.0.0/16');
    expect(out.errors['groupNotFound']!.message).toContain('sg-0123456789abcdef0');
    expect(out.errors['dryRun']!.status).toBe(412);
    for (const [k, v] of Object.entries(out.errors)) {
      if (k !== 'dryRun') expect(v.status, k).toBe(400);
    }
    // The rules after all of that are the ones before it (bar the modify and description edits).
    expect(out.rulesAfterErrors.map((r) => r.SecurityGroupRuleId)).toEqual(
      out.rulesPaged.map((r) => r.SecurityGroupRuleId),
    );
  });

  test('revoke by IpPermissions and by SecurityGroupRuleIds, then delete what was referenced', () => {
    expect(out.revokeByPermission.Return).toBe(true);
    expect(out.revokeByPermission.RevokedSecurityGroupRules).toEqual([
      {
        SecurityGroupRuleId: rule((r) => r.PrefixListId !== undefined).SecurityGroupRuleId,
        GroupId: out.app.GroupId,
        IsEgress: true,
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        PrefixListId: out.prefixListId,
        Description: 'partners',
      },
      {
        SecurityGroupRuleId: rule((r) => r.ReferencedGroupInfo !== undefined).SecurityGroupRuleId,
        GroupId: out.app.GroupId,
        IsEgress: true,
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        ReferencedGroupId: out.dbId,
        Description: 'to db',
      },
    ]);
    // The resource API: revoke_egress(IpPermissions=sg.ip_permissions_egress) empties the group.
    expect(out.resourceEgressBefore).toHaveLength(2); // allow-all IPv4+IPv6, and tcp 5432-5433
    expect(out.resourceEgressBefore.find((p) => p['FromPort'] === 5432)).toEqual({
      IpProtocol: 'tcp',
      FromPort: 5432,
      ToPort: 5433,
      IpRanges: [{ CidrIp: '10.1.0.0/16', Description: 'replica' }],
      Ipv6Ranges: [],
      PrefixListIds: [],
      UserIdGroupPairs: [{ GroupId: out.app.GroupId, UserId: ACCOUNT, Description: 'back to app' }],
    });
    expect(out.resourceRevoke.Return).toBe(true);
    expect(out.resourceRevoke.UnknownIpPermissions).toBeUndefined();
    expect(out.resourceRevoke.RevokedSecurityGroupRules).toHaveLength(4);
    expect(out.resourceEgressAfter).toEqual([]);
    expect(out.revokeById.Return).toBe(true);
    expect(out.revokeById.RevokedSecurityGroupRules).toHaveLength(5);
    expect(out.rulesAtEnd).toEqual(out.defaultRules);
    expect(out.deleteDb).toEqual({ Return: true, GroupId: out.dbId });
  });
});
