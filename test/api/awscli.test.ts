/**
 * Drives Weir with the real `aws` CLI (v1 here; v2 works the same) as a subprocess: every example
 * of the `authorize-security-group-egress` and `revoke-security-group-egress` CLI references, the
 * four EC2 API examples of AuthorizeSecurityGroupEgress, the CLI's own conveniences (`--protocol`
 * `--port` `--cidr` `--source-group`, `--query`, `--output table`, automatic pagination), its
 * error reporting, and the data dir's credentials file with `--profile weir`.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  CreateSecurityGroupCommand,
  CreateVpcCommand,
  DescribeSecurityGroupsCommand,
} from '@aws-sdk/client-ec2';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { startTestServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { hasAwsCli, requireTool } from '../helpers/tools.js';

const ACCOUNT = '123456789012';
/** The CLI starts a Python interpreter per call; give each call plenty of room. */
const CALL_TIMEOUT_MS = 60_000;
const TEST_TIMEOUT_MS = 180_000;

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The SecurityGroupRule shape the CLI prints. */
interface CliRule {
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

const SKIP_MESSAGE = 'aws CLI not found: skipping tests that drive Weir through the real AWS CLI';
const HAS_AWS_CLI = requireTool('aws', hasAwsCli());

describe.skipIf(!HAS_AWS_CLI)(HAS_AWS_CLI ? 'Weir through the real aws CLI' : SKIP_MESSAGE, () => {
  let server: TestServer;
  let sdk: EC2Client;

  /** Runs `aws --endpoint-url URL --output json ARGS`; never rejects, the exit code is in the result. */
  function runAws(args: readonly string[], env: NodeJS.ProcessEnv = server.env()): Promise<CliResult> {
    return new Promise((resolve, reject) => {
      execFile(
        'aws',
        ['--endpoint-url', server.url, '--output', 'json', ...args],
        { env, timeout: CALL_TIMEOUT_MS, maxBuffer: 16 << 20 },
        (err, stdout, stderr) => {
          if (err && typeof err.code !== 'number') {
            reject(new Error(`aws ${args.join(' ')} did not run: ${err.message}\n${stderr}`));
            return;
          }
          resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
        },
      );
    });
  }

  /** Runs the CLI and parses its JSON output; fails the test with the CLI's stderr otherwise. */
  async function aws<T = Record<string, unknown>>(...args: string[]): Promise<T> {
    const r = await runAws(args);
    if (r.code !== 0) throw new Error(`aws ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
    return (r.stdout.trim() === '' ? {} : JSON.parse(r.stdout)) as T;
  }

  /** Runs the CLI expecting an EC2 error; returns stderr after checking the exit code. */
  async function awsError(operation: string, code: string, ...args: string[]): Promise<string> {
    const r = await runAws(args);
    // botocore's ClientError: v1 exits 255, v2 exits 254.
    expect([254, 255], r.stderr).toContain(r.code);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`An error occurred (${code}) when calling the ${operation} operation: `);
    return r.stderr;
  }

  async function newGroup(name: string, vpcId?: string): Promise<string> {
    const out = await sdk.send(
      new CreateSecurityGroupCommand({
        GroupName: name,
        Description: `${name} (aws CLI test)`,
        ...(vpcId ? { VpcId: vpcId } : {}),
      }),
    );
    return out.GroupId!;
  }

  async function describeRules(groupId: string): Promise<CliRule[]> {
    const out = await aws<{ SecurityGroupRules: CliRule[] }>(
      'ec2',
      'describe-security-group-rules',
      '--filters',
      `Name=group-id,Values=${groupId}`,
    );
    return out.SecurityGroupRules;
  }

  /** A rule as Authorize prints it: Describe adds `Tags: []` for an untagged rule. */
  const asAuthorized = (r: CliRule): CliRule => {
    const { Tags, ...rest } = r;
    return Tags && Tags.length > 0 ? { ...rest, Tags } : rest;
  };

  /** Authorize's output must be exactly what Describe then returns for those rules. */
  async function expectDescribed(groupId: string, authorized: readonly CliRule[]): Promise<void> {
    const described = new Map((await describeRules(groupId)).map((r) => [r.SecurityGroupRuleId, r]));
    for (const rule of authorized) {
      const d = described.get(rule.SecurityGroupRuleId);
      expect(d, `rule ${rule.SecurityGroupRuleId} in Describe`).toBeDefined();
      expect(asAuthorized(d!)).toEqual(rule);
    }
  }

  beforeAll(async () => {
    server = await startTestServer();
    sdk = server.ec2();
  });

  afterAll(async () => {
    sdk?.destroy();
    await server?.stop();
  });

  test(
    'aws sts get-caller-identity names the key, account and profile',
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const id = await aws('sts', 'get-caller-identity');
      expect(id).toEqual({
        UserId: server.accessKeyId,
        Account: ACCOUNT,
        Arn: `arn:aws:iam::${ACCOUNT}:user/weir`,
      });
    },
  );

  test(
    "the data dir's credentials file works as AWS_SHARED_CREDENTIALS_FILE with --profile weir",
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      expect(server.credentialsFile).toBe(join(server.dataDir, 'credentials'));
      const env: NodeJS.ProcessEnv = { ...server.env(), AWS_SHARED_CREDENTIALS_FILE: server.credentialsFile };
      delete env['AWS_ACCESS_KEY_ID'];
      delete env['AWS_SECRET_ACCESS_KEY'];
      const [id, groups] = await Promise.all([
        runAws(['--profile', 'weir', 'sts', 'get-caller-identity'], env),
        runAws(
          [
            '--profile',
            'weir',
            '--region',
            'us-east-1',
            'ec2',
            'describe-security-groups',
            '--group-names',
            'default',
            '--query',
            'SecurityGroups[].GroupName',
          ],
          env,
        ),
      ]);
      expect(id.code, id.stderr).toBe(0);
      expect(JSON.parse(id.stdout)).toMatchObject({ UserId: server.accessKeyId, Account: ACCOUNT });
      expect(groups.code, groups.stderr).toBe(0);
      expect(JSON.parse(groups.stdout)).toEqual(['default']);

      // A profile the file does not have fails in the CLI, before any request.
      const missing = await runAws(['--profile', 'nope', 'sts', 'get-caller-identity'], env);
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toContain('nope');
    },
  );

  test(
    'authorize-security-group-egress, CLI reference examples 1 and 2 (shorthand), and the duplicate error',
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const group = await newGroup('cli-ref-authorize');
      const peer = await newGroup('cli-ref-peer');

      // Example 1: to a specific address range.
      const ex1 = await aws<{ Return: boolean; SecurityGroupRules: CliRule[] }>(
        'ec2',
        'authorize-security-group-egress',
        '--group-id',
        group,
        '--ip-permissions',
        'IpProtocol=tcp,FromPort=80,ToPort=80,IpRanges=[{CidrIp=10.0.0.0/16}]',
      );
      expect(ex1.Return).toBe(true);
      expect(ex1.SecurityGroupRules).toHaveLength(1);
      const r1 = ex1.SecurityGroupRules[0]!;
      // The reference's output, with our IDs.
      expect(r1).toEqual({
        SecurityGroupRuleId: expect.stringMatching(/^sgr-[0-9a-f]{17}$/),
        GroupId: group,
        GroupOwnerId: ACCOUNT,
        IsEgress: true,
        IpProtocol: 'tcp',
        FromPort: 80,
        ToPort: 80,
        CidrIpv4: '10.0.0.0/16',
        SecurityGroupRuleArn: `arn:aws:ec2:us-east-1:${ACCOUNT}:security-group-rule/${r1.SecurityGroupRuleId}`,
      });

      // Example 2: to a specific security group.
      const ex2 = await aws<{ Return: boolean; SecurityGroupRules: CliRule[] }>(
        'ec2',
        'authorize-security-group-egress',
        '--group-id',
        group,
        '--ip-permissions',
        `IpProtocol=tcp,FromPort=80,ToPort=80,UserIdGroupPairs=[{GroupId=${peer}}]`,
      );
      expect(ex2.Return).toBe(true);
      const r2 = ex2.SecurityGroupRules[0]!;
      expect(r2).toMatchObject({
        GroupId: group,
        GroupOwnerId: ACCOUNT,
        IsEgress: true,
        IpProtocol: 'tcp',
        FromPort: 80,
        ToPort: 80,
        ReferencedGroupInfo: { GroupId: peer, UserId: ACCOUNT },
      });
      expect(r2).not.toHaveProperty('CidrIpv4');

      await expectDescribed(group, [r1, r2]);

      // The same rule again (here with a non-canonical CIDR) is EC2's duplicate error.
      const stderr = await awsError(
        'AuthorizeSecurityGroupEgress',
        'InvalidPermission.Duplicate',
        'ec2',
        'authorize-security-group-egress',
        '--group-id',
        group,
        '--ip-permissions',
        'IpProtocol=tcp,FromPort=80,ToPort=80,IpRanges=[{CidrIp=10.0.3.4/16}]',
      );
      expect(stderr).toContain('10.0.0.0/16');
      expect((await describeRules(group)).filter((r) => r.CidrIpv4 === '10.0.0.0/16')).toHaveLength(1);
    },
  );

  test(
    'the CLI conveniences --protocol --port --cidr --source-group, for authorize and revoke',
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const group = await newGroup('cli-simplify');
      const peer = await newGroup('cli-simplify-peer');
      type Out = { Return: boolean; SecurityGroupRules: CliRule[] };
      const authorize = (...args: string[]) =>
        aws<Out>('ec2', 'authorize-security-group-egress', '--group-id', group, ...args);

      const cases: { args: string[]; want: Partial<CliRule> }[] = [
        {
          args: ['--protocol', 'tcp', '--port', '80', '--cidr', '10.0.0.0/16'],
          want: { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, CidrIpv4: '10.0.0.0/16' },
        },
        {
          args: ['--protocol', 'tcp', '--port', '22-25', '--cidr', '10.1.0.0/16'],
          want: { IpProtocol: 'tcp', FromPort: 22, ToPort: 25, CidrIpv4: '10.1.0.0/16' },
        },
        // `all` is sent as IpProtocol -1 without ports.
        {
          args: ['--protocol', 'all', '--cidr', '10.2.0.0/16'],
          want: { IpProtocol: '-1', FromPort: -1, ToPort: -1, CidrIpv4: '10.2.0.0/16' },
        },
        {
          args: ['--protocol', 'tcp', '--port', '5432', '--source-group', peer],
          want: {
            IpProtocol: 'tcp',
            FromPort: 5432,
            ToPort: 5432,
            ReferencedGroupInfo: { GroupId: peer, UserId: ACCOUNT },
          },
        },
      ];
      const outs = await Promise.all(cases.map((c) => authorize(...c.args)));
      outs.forEach((out, i) => {
        expect(out.Return).toBe(true);
        expect(out.SecurityGroupRules).toHaveLength(1);
        expect(out.SecurityGroupRules[0]).toMatchObject({
          GroupId: group,
          IsEgress: true,
          ...cases[i]!.want,
        });
      });
      await expectDescribed(
        group,
        outs.map((o) => o.SecurityGroupRules[0]!),
      );

      // The same conveniences revoke the same rules.
      const revoked = await Promise.all(
        cases.map((c) =>
          aws<{ Return: boolean; RevokedSecurityGroupRules: { SecurityGroupRuleId: string }[] }>(
            'ec2',
            'revoke-security-group-egress',
            '--group-id',
            group,
            ...c.args,
          ),
        ),
      );
      expect(revoked.map((r) => r.RevokedSecurityGroupRules.map((x) => x.SecurityGroupRuleId))).toEqual(
        outs.map((o) => [o.SecurityGroupRules[0]!.SecurityGroupRuleId]),
      );
      // Only the default allow-all rule is left.
      expect((await describeRules(group)).map((r) => [r.IpProtocol, r.CidrIpv4])).toEqual([
        ['-1', '0.0.0.0/0'],
      ]);
    },
  );

  test(
    'revoke-security-group-egress, CLI reference examples 1 and 2, and by --security-group-rule-ids',
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const group = await newGroup('cli-ref-revoke');
      const peer = await newGroup('cli-ref-revoke-peer');
      const granted = await aws<{ SecurityGroupRules: CliRule[] }>(
        'ec2',
        'authorize-security-group-egress',
        '--group-id',
        group,
        '--ip-permissions',
        'IpProtocol=tcp,FromPort=80,ToPort=80,IpRanges=[{CidrIp=10.0.0.0/16}]',
        `IpProtocol=tcp,FromPort=443,ToPort=443,UserIdGroupPairs=[{GroupId=${peer}}]`,
        'IpProtocol=udp,FromPort=53,ToPort=53,IpRanges=[{CidrIp=10.0.0.2/32}]',
      );
      const [cidr80, group443, udp53] = granted.SecurityGroupRules;
      expect(cidr80).toMatchObject({ FromPort: 80, CidrIpv4: '10.0.0.0/16' });
      expect(group443).toMatchObject({ FromPort: 443, ReferencedGroupInfo: { GroupId: peer } });
      expect(udp53).toMatchObject({ IpProtocol: 'udp', CidrIpv4: '10.0.0.2/32' });

      // Example 1 as printed in the reference (`[{…}]` with its closing `}]` missing) is not valid
      // input: a value starting with `[` is read as JSON, so the CLI refuses it before sending.
      const verbatim = await runAws([
        'ec2',
        'revoke-security-group-egress',
        '--group-id',
        group,
        '--ip-permissions',
        '[{IpProtocol=tcp,FromPort=80,ToPort=80,IpRanges=[{CidrIp=10.0.0.0/16}]',
      ]);
      expect(verbatim.code).not.toBe(0);
      expect(verbatim.stderr).toContain("Error parsing parameter '--ip-permissions': Invalid JSON");
      // As shorthand (without the brackets, as in the authorize reference) it removes the rule.
      const ex1 = await aws<{ Return: boolean; RevokedSecurityGroupRules: Record<string, unknown>[] }>(
        'ec2',
        'revoke-security-group-egress',
        '--group-id',
        group,
        '--ip-permissions',
        'IpProtocol=tcp,FromPort=80,ToPort=80,IpRanges=[{CidrIp=10.0.0.0/16}]',
      );
      expect(ex1).toEqual({
        Return: true,
        RevokedSecurityGroupRules: [
          {
            SecurityGroupRuleId: cidr80!.SecurityGroupRuleId,
            GroupId: group,
            IsEgress: true,
            IpProtocol: 'tcp',
            FromPort: 80,
            ToPort: 80,
            CidrIpv4: '10.0.0.0/16',
          },
        ],
      });

      // Example 2, JSON syntax, verbatim but for the group ID.
      const ex2 = await aws<{ Return: boolean; RevokedSecurityGroupRules: Record<string, unknown>[] }>(
        'ec2',
        'revoke-security-group-egress',
        '--group-id',
        group,
        '--ip-permissions',
        `[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,"UserIdGroupPairs": [{"GroupId": "${peer}"}]}]`,
      );
      expect(ex2).toEqual({
        Return: true,
        RevokedSecurityGroupRules: [
          {
            SecurityGroupRuleId: group443!.SecurityGroupRuleId,
            GroupId: group,
            IsEgress: true,
            IpProtocol: 'tcp',
            FromPort: 443,
            ToPort: 443,
            ReferencedGroupId: peer,
          },
        ],
      });
      // Again: in the default VPC EC2 reports the rule as unknown instead of failing.
      const again = await aws<{
        Return: boolean;
        UnknownIpPermissions: unknown[];
        RevokedSecurityGroupRules: [];
      }>(
        'ec2',
        'revoke-security-group-egress',
        '--group-id',
        group,
        '--ip-permissions',
        `[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,"UserIdGroupPairs": [{"GroupId": "${peer}"}]}]`,
      );
      expect(again.UnknownIpPermissions).toEqual([
        { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, UserIdGroupPairs: [{ GroupId: peer }] },
      ]);
      expect(again.RevokedSecurityGroupRules).toEqual([]);

      // By rule ID.
      const byId = await aws<{
        Return: boolean;
        RevokedSecurityGroupRules: { SecurityGroupRuleId: string }[];
      }>(
        'ec2',
        'revoke-security-group-egress',
        '--group-id',
        group,
        '--security-group-rule-ids',
        udp53!.SecurityGroupRuleId,
      );
      expect(byId.Return).toBe(true);
      expect(byId.RevokedSecurityGroupRules.map((r) => r.SecurityGroupRuleId)).toEqual([
        udp53!.SecurityGroupRuleId,
      ]);
      await awsError(
        'RevokeSecurityGroupEgress',
        'InvalidSecurityGroupRuleId.NotFound',
        'ec2',
        'revoke-security-group-egress',
        '--group-id',
        group,
        '--security-group-rule-ids',
        udp53!.SecurityGroupRuleId,
      );

      const left = await describeRules(group);
      expect(left.map((r) => r.SecurityGroupRuleId)).not.toContain(cidr80!.SecurityGroupRuleId);
      expect(left.map((r) => r.SecurityGroupRuleId)).not.toContain(group443!.SecurityGroupRuleId);
      expect(left.map((r) => r.SecurityGroupRuleId)).not.toContain(udp53!.SecurityGroupRuleId);
      // The peer, no longer referenced, can go.
      await aws('ec2', 'delete-security-group', '--group-id', peer);
    },
  );

  test(
    'the four EC2 API examples of AuthorizeSecurityGroupEgress, through the CLI',
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const group = await newGroup('api-examples');
      const target = await newGroup('api-examples-db');
      type Out = { Return: boolean; SecurityGroupRules: CliRule[] };
      const authorize = (perm: string) =>
        aws<Out>('ec2', 'authorize-security-group-egress', '--group-id', group, '--ip-permissions', perm);
      const [ex1, ex2, ex3, ex4] = await Promise.all([
        // 1: two IPv4 ranges on TCP 80.
        authorize(
          'IpProtocol=tcp,FromPort=80,ToPort=80,IpRanges=[{CidrIp=192.0.2.0/24},{CidrIp=198.51.100.0/24}]',
        ),
        // 2: a security group on TCP 1433.
        authorize(`IpProtocol=tcp,FromPort=1433,ToPort=1433,UserIdGroupPairs=[{GroupId=${target}}]`),
        // 3: an IPv6 range on TCP 22.
        authorize('IpProtocol=tcp,FromPort=22,ToPort=22,Ipv6Ranges=[{CidrIpv6=2001:db8:1234:1a00::/64}]'),
        // 4: RDP with a description (JSON: the description has spaces).
        authorize(
          '[{"IpProtocol":"tcp","FromPort":3389,"ToPort":3389,"IpRanges":[{"CidrIp":"192.0.2.0/24","Description":"Access to London office"}]}]',
        ),
      ]);
      expect(ex1!.SecurityGroupRules.map((r) => [r.FromPort, r.CidrIpv4])).toEqual([
        [80, '192.0.2.0/24'],
        [80, '198.51.100.0/24'],
      ]);
      expect(ex2!.SecurityGroupRules.map((r) => [r.FromPort, r.ReferencedGroupInfo])).toEqual([
        [1433, { GroupId: target, UserId: ACCOUNT }],
      ]);
      expect(ex3!.SecurityGroupRules.map((r) => [r.FromPort, r.ToPort, r.CidrIpv6])).toEqual([
        [22, 22, '2001:db8:1234:1a00::/64'],
      ]);
      expect(ex4!.SecurityGroupRules.map((r) => [r.FromPort, r.CidrIpv4, r.Description])).toEqual([
        [3389, '192.0.2.0/24', 'Access to London office'],
      ]);
      const all = [ex1, ex2, ex3, ex4].flatMap((o) => o!.SecurityGroupRules);
      expect(all.every((r) => r.GroupId === group && r.IsEgress && r.IpProtocol === 'tcp')).toBe(true);
      await expectDescribed(group, all);

      // describe-security-groups folds the same rules back into IpPermissionsEgress.
      const perms = await aws<Record<string, unknown>[]>(
        'ec2',
        'describe-security-groups',
        '--group-ids',
        group,
        '--query',
        'SecurityGroups[0].IpPermissionsEgress',
      );
      const byPort = new Map(perms.map((p) => [p['FromPort'] ?? 'all', p]));
      expect(byPort.get(80)).toMatchObject({
        IpProtocol: 'tcp',
        ToPort: 80,
        IpRanges: [{ CidrIp: '192.0.2.0/24' }, { CidrIp: '198.51.100.0/24' }],
      });
      expect(byPort.get(1433)).toMatchObject({ UserIdGroupPairs: [{ GroupId: target, UserId: ACCOUNT }] });
      expect(byPort.get(22)).toMatchObject({ Ipv6Ranges: [{ CidrIpv6: '2001:db8:1234:1a00::/64' }] });
      expect(byPort.get(3389)).toMatchObject({
        IpRanges: [{ CidrIp: '192.0.2.0/24', Description: 'Access to London office' }],
      });
      expect(byPort.get('all')).toMatchObject({ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] });
    },
  );

  test('--dry-run answers DryRunOperation and writes nothing', { timeout: TEST_TIMEOUT_MS }, async () => {
    const group = await newGroup('cli-dry-run');
    const [auth, describe] = await Promise.all([
      awsError(
        'AuthorizeSecurityGroupEgress',
        'DryRunOperation',
        'ec2',
        'authorize-security-group-egress',
        '--dry-run',
        '--group-id',
        group,
        '--protocol',
        'tcp',
        '--port',
        '8443',
        '--cidr',
        '10.9.0.0/16',
      ),
      awsError(
        'DescribeSecurityGroupRules',
        'DryRunOperation',
        'ec2',
        'describe-security-group-rules',
        '--dry-run',
      ),
    ]);
    expect(auth).toContain('Request would have succeeded, but DryRun flag is set.');
    expect(describe).toContain('DryRunOperation');
    expect((await describeRules(group)).map((r) => r.CidrIpv4)).toEqual(['0.0.0.0/0']);
  });

  test('EC2 errors reach the CLI with their codes', { timeout: TEST_TIMEOUT_MS }, async () => {
    const vpc = await sdk.send(new CreateVpcCommand({ CidrBlock: '10.77.0.0/16' }));
    const group = await newGroup('cli-errors', vpc.Vpc!.VpcId!);
    const authorize = ['ec2', 'authorize-security-group-egress', '--group-id'];
    const results = await Promise.all([
      awsError(
        'AuthorizeSecurityGroupEgress',
        'InvalidGroup.NotFound',
        ...authorize,
        'sg-0123456789abcdef0',
        '--protocol',
        'tcp',
        '--port',
        '1',
        '--cidr',
        '10.0.0.0/8',
      ),
      awsError(
        'AuthorizeSecurityGroupEgress',
        'InvalidPermission.Malformed',
        ...authorize,
        group,
        '--protocol',
        'tcp',
        '--port',
        '1-70000',
        '--cidr',
        '10.0.0.0/8',
      ),
      awsError(
        'AuthorizeSecurityGroupEgress',
        'InvalidParameterValue',
        ...authorize,
        group,
        '--protocol',
        'tcp',
        '--cidr',
        '10.0.0.0/8',
      ),
      awsError(
        'AuthorizeSecurityGroupEgress',
        'InvalidParameterValue',
        ...authorize,
        group,
        '--protocol',
        'tcp',
        '--port',
        '1',
        '--cidr',
        '10.0.0.300/8',
      ),
      // Outside the default VPC, revoking a rule that is not there fails.
      awsError(
        'RevokeSecurityGroupEgress',
        'InvalidPermission.NotFound',
        'ec2',
        'revoke-security-group-egress',
        '--group-id',
        group,
        '--protocol',
        'tcp',
        '--port',
        '1',
        '--cidr',
        '10.0.0.0/8',
      ),
    ]);
    // Each region is its own namespace: the group does not exist in another one.
    const otherRegion = await runAws([
      '--region',
      'eu-west-1',
      'ec2',
      'describe-security-groups',
      '--group-ids',
      group,
    ]);
    expect([254, 255]).toContain(otherRegion.code);
    expect(otherRegion.stderr).toContain(
      'An error occurred (InvalidGroup.NotFound) when calling the DescribeSecurityGroups operation',
    );
    expect(results[0]).toContain('sg-0123456789abcdef0');
    expect(results[1]).toContain('70000');
    expect((await describeRules(group)).map((r) => r.CidrIpv4)).toEqual(['0.0.0.0/0']);
  });

  test(
    'describe-security-group-rules: filters, --query, --output table, and automatic pagination',
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const group = await newGroup('cli-paging');
      const cidrs = Array.from({ length: 12 }, (_, i) => `{CidrIp=10.${i}.0.0/16}`);
      const granted = await aws<{ SecurityGroupRules: CliRule[] }>(
        'ec2',
        'authorize-security-group-egress',
        '--group-id',
        group,
        '--ip-permissions',
        `IpProtocol=tcp,FromPort=443,ToPort=443,IpRanges=[${cidrs.join(',')}]`,
      );
      expect(granted.SecurityGroupRules).toHaveLength(12);
      const want = new Set([
        ...granted.SecurityGroupRules.map((r) => r.SecurityGroupRuleId),
        ...(await describeRules(group)).map((r) => r.SecurityGroupRuleId),
      ]);
      expect(want.size).toBe(13); // 12 plus the default allow-all rule

      const filter = ['--filters', `Name=group-id,Values=${group}`];
      const [paged, onePage, table, text] = await Promise.all([
        // The CLI follows NextToken by itself, 5 rules per request.
        aws<string[]>(
          'ec2',
          'describe-security-group-rules',
          ...filter,
          '--page-size',
          '5',
          '--query',
          'SecurityGroupRules[].SecurityGroupRuleId',
        ),
        // Without pagination the server's first page and its token come back.
        aws<{ SecurityGroupRules: CliRule[]; NextToken?: string }>(
          'ec2',
          'describe-security-group-rules',
          ...filter,
          '--no-paginate',
          '--max-results',
          '5',
        ),
        runAws([
          'ec2',
          'describe-security-group-rules',
          ...filter,
          '--output',
          'table',
          '--query',
          'SecurityGroupRules[?FromPort==`443`].[SecurityGroupRuleId,CidrIpv4]',
        ]),
        // Text output is printed page by page, --query applied to each page.
        runAws([
          'ec2',
          'describe-security-group-rules',
          ...filter,
          '--page-size',
          '5',
          '--output',
          'text',
          '--query',
          'SecurityGroupRules[?IpProtocol==`tcp`].SecurityGroupRuleId',
        ]),
      ]);
      expect(paged).toHaveLength(13);
      expect(new Set(paged)).toEqual(want);
      expect(onePage.SecurityGroupRules).toHaveLength(5);
      expect(onePage.NextToken).toEqual(expect.any(String));

      expect(table.code, table.stderr).toBe(0);
      expect(table.stdout).toContain('DescribeSecurityGroupRules');
      const tableRows = table.stdout.split('\n').filter((l) => l.includes('sgr-'));
      expect(tableRows).toHaveLength(12);
      for (const r of granted.SecurityGroupRules) {
        expect(tableRows.some((l) => l.includes(r.SecurityGroupRuleId) && l.includes(r.CidrIpv4!))).toBe(
          true,
        );
      }
      expect(text.code, text.stderr).toBe(0);
      const textIds = text.stdout.split(/\s+/).filter((w) => w !== '');
      expect(new Set(textIds)).toEqual(new Set(granted.SecurityGroupRules.map((r) => r.SecurityGroupRuleId)));
      expect(textIds).toHaveLength(12);

      // describe-security-groups pages the same way.
      const sdkGroups = await sdk.send(new DescribeSecurityGroupsCommand({}));
      expect(sdkGroups.SecurityGroups!.length).toBeGreaterThan(5);
      const cliGroups = await aws<string[]>(
        'ec2',
        'describe-security-groups',
        '--page-size',
        '5',
        '--query',
        'SecurityGroups[].GroupId',
      );
      expect(cliGroups).toEqual(sdkGroups.SecurityGroups!.map((g) => g.GroupId));

      // A tag filter, through create-tags on a rule.
      const first = granted.SecurityGroupRules[0]!.SecurityGroupRuleId;
      await aws('ec2', 'create-tags', '--resources', first, '--tags', 'Key=cli-test,Value=paging');
      const tagged = await aws<string[]>(
        'ec2',
        'describe-security-group-rules',
        '--filters',
        'Name=tag:cli-test,Values=paging',
        '--query',
        'SecurityGroupRules[].SecurityGroupRuleId',
      );
      expect(tagged).toEqual([first]);
    },
  );
});
