/**
 * Cross-checks `weir ec2` output formatting against the AWS CLI's own formatters: for realistic
 * responses (DescribeSecurityGroups with nested IpPermissions, DescribeSecurityGroupRules,
 * AuthorizeSecurityGroupEgress, GetCallerIdentity, empty results, unicode, booleans, numbers, nulls)
 * × every output format × a set of `--query` expressions, paginated calls, and `--color on`,
 * test/tools/awscli_format.py prints what awscli prints and Weir must print the same bytes. The
 * installed awscli is v1; YAML is checked against ruamel.yaml set up as AWS CLI v2 sets it up (see
 * the helper). One python3 for the whole file; skipped with a message when awscli is not importable,
 * and the YAML cases when ruamel.yaml is not.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { formatOutput, formatPagedOutput } from '../../src/cli/ec2/output/format.js';
import type { OutputFormat } from '../../src/cli/ec2/output/format.js';
import { requireTool } from '../helpers/tools.js';

const HELPER = fileURLToPath(new URL('../tools/awscli_format.py', import.meta.url));
const OUTPUTS: readonly OutputFormat[] = ['json', 'text', 'table', 'yaml', 'yaml-stream'];
const ACCOUNT = '123456789012';

const rule = (id: string, extra: Record<string, unknown>) => ({
  SecurityGroupRuleId: id,
  GroupId: 'sg-1234567890abcdef0',
  GroupOwnerId: ACCOUNT,
  ...extra,
  SecurityGroupRuleArn: `arn:aws:ec2:us-east-1:${ACCOUNT}:security-group-rule/${id}`,
});

const describeSecurityGroups = {
  SecurityGroups: [
    {
      GroupId: 'sg-0123456789abcdef0',
      GroupName: 'web',
      Description: 'Web servers — égress ✓ 日本語のグループ',
      OwnerId: ACCOUNT,
      VpcId: 'vpc-0a1b2c3d',
      IpPermissions: [],
      IpPermissionsEgress: [
        {
          IpProtocol: '-1',
          IpRanges: [{ CidrIp: '0.0.0.0/0' }],
          Ipv6Ranges: [],
          PrefixListIds: [],
          UserIdGroupPairs: [],
        },
        {
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          IpRanges: [
            { CidrIp: '10.0.0.0/16', Description: 'HTTPS to the VPC: yes' },
            { CidrIp: '10.1.0.0/16' },
          ],
          Ipv6Ranges: [{ CidrIpv6: '2001:db8::/32', Description: 'IPv6 — docs range' }],
          PrefixListIds: [{ PrefixListId: 'pl-12345678', Description: 'S3' }],
          UserIdGroupPairs: [
            {
              GroupId: 'sg-0aad1c26bbeec5c22',
              UserId: ACCOUNT,
              Description:
                'to the db tier, which is a rather long description that goes well past the eighty column mark',
            },
          ],
        },
        { IpProtocol: 'icmp', FromPort: -1, ToPort: -1, IpRanges: [{ CidrIp: '192.0.2.0/24' }] },
      ],
      Tags: [
        { Key: 'Name', Value: 'web' },
        { Key: 'env', Value: 'true' },
        { Key: 'empty', Value: '' },
        { Key: 'num', Value: '0123' },
        { Key: 'date', Value: '2024-01-02' },
        { Key: 'tab', Value: 'a\tb' },
        { Key: 'emoji', Value: 'ok 😀' },
        { Key: 'nl', Value: 'line1\nline2' },
        { Key: 'colon', Value: 'a: b' },
        { Key: 'hash', Value: '#x' },
        { Key: 'quote', Value: "it's" },
        { Key: 'null', Value: 'null' },
        { Key: 'spaces', Value: '  padded  ' },
        {
          Key: 'long quoted',
          Value:
            "'quoted' and long enough to be folded by the emitter when it passes the width limit of eighty",
        },
        {
          Key: 'long tab',
          Value: 'tabs\tand a long value that the emitter has to fold in double quotes past eighty',
        },
      ],
      SecurityGroupArn: `arn:aws:ec2:us-east-1:${ACCOUNT}:security-group/sg-0123456789abcdef0`,
    },
    {
      GroupId: 'sg-2',
      GroupName: 'default',
      Description: 'default VPC security group',
      OwnerId: ACCOUNT,
      VpcId: 'vpc-0a1b2c3d',
      IpPermissions: [],
      IpPermissionsEgress: [],
    },
  ],
  ResponseMetadata: { RequestId: 'c1b0f9e2-0000-4000-8000-000000000000', HTTPStatusCode: 200 },
};

const describeRules = {
  SecurityGroupRules: [
    rule('sgr-0b15794cdb17bf29c', {
      IsEgress: true,
      IpProtocol: 'tcp',
      FromPort: 80,
      ToPort: 80,
      CidrIpv4: '10.0.0.0/16',
      Tags: [],
    }),
    rule('sgr-2', {
      IsEgress: false,
      IpProtocol: '-1',
      FromPort: -1,
      ToPort: -1,
      ReferencedGroupInfo: { GroupId: 'sg-9', UserId: ACCOUNT },
      Description: 'from the load balancer',
      Tags: [{ Key: 'k', Value: 'v' }],
    }),
    rule('sgr-3', {
      IsEgress: true,
      IpProtocol: 'udp',
      FromPort: 53,
      ToPort: 53,
      PrefixListId: 'pl-1',
      Tags: [],
    }),
  ],
};

const authorize = {
  Return: true,
  SecurityGroupRules: [
    rule('sgr-0b15794cdb17bf29c', {
      IsEgress: true,
      IpProtocol: 'tcp',
      FromPort: 80,
      ToPort: 80,
      CidrIpv4: '10.0.0.0/16',
    }),
  ],
};

const RESPONSES: readonly (readonly [string, object, (readonly OutputFormat[])?])[] = [
  ['DescribeSecurityGroups', describeSecurityGroups],
  ['DescribeSecurityGroupRules', describeRules],
  ['AuthorizeSecurityGroupEgress', authorize],
  [
    'GetCallerIdentity',
    { UserId: 'AIDAEXAMPLEUSERID', Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/alice` },
  ],
  [
    'CreateSecurityGroup',
    { GroupId: 'sg-0f00', SecurityGroupArn: `arn:aws:ec2:us-east-1:${ACCOUNT}:security-group/sg-0f00` },
  ],
  ['DescribeSecurityGroups', { SecurityGroups: [] }],
  ['RevokeSecurityGroupEgress', { Return: true }],
  [
    'RevokeSecurityGroupEgress',
    { Return: false, UnknownIpPermissions: [{ IpProtocol: 'tcp', FromPort: 1, ToPort: 2 }] },
  ],
  ['DeleteSecurityGroup', { Return: true, GroupId: 'sg-1' }],
  ['DeleteTags', {}],
  [
    'GetManagedPrefixListEntries',
    { Entries: [{ Cidr: '10.0.0.0/8', Description: 'ten' }, { Cidr: '192.168.0.0/16' }] },
  ],
  [
    'Numbers',
    {
      Count: 0,
      Ratio: 0.5,
      Tiny: 1e-7,
      Big: 12345678901234,
      Negative: -3,
      Flag: false,
      Nothing: null,
      Mixed: [1, 'a', null, true],
    },
  ],
  [
    'Nested',
    {
      Matrix: [
        [1, 2],
        [3, 4],
      ],
      Deep: { A: { B: { C: [] } } },
    },
  ],
  // Ragged lists make awscli's table formatter fail, so the other formats only.
  [
    'Mixed',
    { ListOfLists: [['a', 'b'], 'c', [{ b: 1 }, { c: [2] }]] },
    ['json', 'text', 'yaml', 'yaml-stream'],
  ],
  // Wide enough to turn the table vertical at 80 columns.
  ['Wide', { Items: [{ Alpha: 'a'.repeat(30), Beta: 'b'.repeat(30), Gamma: 'g'.repeat(30) }] }],
];

const QUERIES: readonly string[] = [
  'SecurityGroups[].GroupId',
  'SecurityGroups[0].Description',
  'SecurityGroups[].{id:GroupId,rules:length(IpPermissionsEgress)}',
  'length(SecurityGroups)',
  "SecurityGroups[?GroupName=='web'].Tags[]",
  'SecurityGroups[].IpPermissionsEgress[].FromPort',
  'SecurityGroups[0].IpPermissionsEgress[?IpProtocol==`tcp`] | [0]',
  'nothing',
  "SecurityGroups[0].Tags[?Key=='tab'].Value | [0]",
  'SecurityGroups[0].Tags[].[Key, Value]',
  'sort_by(SecurityGroups, &GroupName)[].GroupName',
  'SecurityGroups[0].IpPermissions',
  'SecurityGroups[?VpcId==`"vpc-0a1b2c3d"`] | length(@)',
  'SecurityGroups[0].IpPermissionsEgress[1].IpRanges[*].CidrIp | join(`, `, @)',
  'SecurityGroups[0].OwnerId',
  'max_by(SecurityGroups[0].IpPermissionsEgress, &to_number(to_string(FromPort || `0`))).IpProtocol',
];

// Tag values over an alphabet chosen to stress quoting, escaping, folding and widths.
const FUZZ_VALUES = fc.sample(
  fc.string({
    unit: fc.constantFrom(...Array.from('ab :#-\'"\t\n,[]{}!&*?|>%@`é日😀\u0085\u00a0\\')),
    maxLength: 40,
  }),
  { numRuns: 60, seed: 20161115 },
);
const fuzz = {
  Tags: FUZZ_VALUES.map((v, i) => ({ Key: i % 7 === 0 ? v || 'k' : `k${i}`, Value: v })),
};

interface Case {
  readonly name: string;
  readonly operation: string;
  readonly output: OutputFormat;
  readonly response?: object;
  readonly pages?: readonly object[];
  readonly resultKeys?: readonly string[];
  readonly query?: string;
  readonly color?: boolean;
}

const cases: Case[] = [];
for (const [operation, response, outputs = OUTPUTS] of RESPONSES) {
  for (const output of outputs)
    cases.push({
      name: `${operation} ${JSON.stringify(response).slice(0, 40)}`,
      operation,
      output,
      response,
    });
}
for (const query of QUERIES) {
  for (const output of OUTPUTS) {
    cases.push({
      name: `--query ${query}`,
      operation: 'DescribeSecurityGroups',
      output,
      response: describeSecurityGroups,
      query,
    });
  }
}
for (const output of OUTPUTS) {
  cases.push({ name: 'fuzzed tag values', operation: 'DescribeTags', output, response: fuzz });
}
const pages = [
  { SecurityGroups: describeSecurityGroups.SecurityGroups.slice(0, 1), NextToken: 'p2' },
  { SecurityGroups: [], NextToken: 'p3' },
  { SecurityGroups: describeSecurityGroups.SecurityGroups.slice(1) },
];
for (const output of OUTPUTS) {
  cases.push({
    name: 'three pages',
    operation: 'DescribeSecurityGroups',
    output,
    pages,
    resultKeys: ['SecurityGroups'],
  });
  cases.push({
    name: 'three pages, queried',
    operation: 'DescribeSecurityGroups',
    output,
    pages,
    resultKeys: ['SecurityGroups'],
    query: 'SecurityGroups[].GroupName',
  });
}
cases.push({
  name: 'color',
  operation: 'DescribeSecurityGroupRules',
  output: 'table',
  response: describeRules,
  color: true,
});
cases.push({
  name: 'color',
  operation: 'DescribeSecurityGroups',
  output: 'table',
  response: describeSecurityGroups,
  color: true,
});

interface Answer {
  readonly ok: boolean;
  readonly stdout?: string;
  readonly error?: string;
  readonly message?: string;
}

function runHelper(): { answers: Answer[] } | { skip: string } {
  const run = spawnSync('python3', [HELPER], {
    input: cases.map((c) => JSON.stringify(c)).join('\n') + '\n',
    encoding: 'utf8',
    env: { ...process.env, PYTHONUTF8: '1', PYTHONIOENCODING: 'utf-8' },
    maxBuffer: 64 << 20,
    timeout: 120_000,
  });
  // The helper exits 3, before reading its input, when awscli cannot be imported.
  if (run.status === 3) return { skip: run.stderr.trim() };
  if (run.error) return { skip: `python3 not runnable (${run.error.message})` };
  if (run.status !== 0) throw new Error(`awscli_format.py failed:\n${run.stderr}`);
  const answers = run.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Answer);
  if (answers.length !== cases.length)
    throw new Error(`expected ${cases.length} answers, got ${answers.length}`);
  return { answers };
}

const helper = runHelper();
const HAS_AWSCLI = requireTool('awscli (python3)', !('skip' in helper), 'skip' in helper ? helper.skip : '');
const SKIP = HAS_AWSCLI ? '' : 'skipping the output cross-check with awscli';
const answers = 'answers' in helper ? helper.answers : [];
// The YAML cases need ruamel.yaml (AWS CLI v2's YAML library) next to awscli v1; without it they
// skip, and fail the run under CI.
requireTool(
  'ruamel.yaml (python3)',
  !answers.some((a) => a.error === 'NoRuamel'),
  'python3 cannot import ruamel.yaml, not even from /usr/lib/python3/dist-packages',
);

function weir(c: Case): string {
  const opts = {
    output: c.output,
    operation: c.operation,
    ...(c.query !== undefined ? { query: c.query } : {}),
    ...(c.color ? { color: true } : {}),
  };
  if (c.pages) return formatPagedOutput({ pages: c.pages, resultKeys: c.resultKeys ?? [] }, opts);
  return formatOutput(c.response ?? {}, opts);
}

describe.skipIf(SKIP !== '')(SKIP || 'Weir prints what the AWS CLI prints', () => {
  test.each(cases.map((c, i) => [`${c.output}: ${c.name}${c.color ? ' (color)' : ''}`, c, i] as const))(
    '%s',
    (_name, c, i) => {
      const a = answers[i]!;
      if (a.error === 'NoRuamel') return;
      expect(a.ok, `${a.error ?? ''}: ${a.message ?? ''}`).toBe(true);
      expect(weir(c)).toBe(a.stdout);
    },
  );
});
