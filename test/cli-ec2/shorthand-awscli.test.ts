/**
 * Cross-checks Weir's shorthand parser, JSON reader and parameter unpacking against the installed
 * AWS CLI itself: test/tools/awscli_shorthand.py answers each case with awscli's result or error
 * message, and every answer must equal Weir's, value for value and byte for byte. One python3 for
 * the whole file; skipped with a message when awscli cannot be imported.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import { memberShapeName, unpackParameter } from '../../src/cli/ec2/input/params.js';
import type { CliArgValue } from '../../src/cli/ec2/input/params.js';
import { pyJsonLoads } from '../../src/cli/ec2/python/json.js';
import { parseShorthand } from '../../src/cli/ec2/input/shorthand.js';
import { requireTool } from '../helpers/tools.js';

const HELPER = fileURLToPath(new URL('../tools/awscli_shorthand.py', import.meta.url));

const SHORTHAND: readonly string[] = [
  'a=b',
  'a=b,c',
  'a=b,c,d=e',
  'a=b, c ,d = e',
  'a= b ',
  'a=[b] ',
  'a=[b,c]]',
  'a=',
  '=b',
  'a=b,,',
  'a=b,',
  'a=,b=c',
  'a=\'x,y\',b="p\\"q"',
  'a=[{b=1},{c=[2,3]}]',
  'a={b={c=d}}',
  'a={b=c d}',
  'a=b\\,c',
  'a=b\\,c=d',
  'a=b,c\\,d=e',
  'a=[ b , c ]',
  'a=[]',
  'a={}',
  'a=[,]',
  'a=[a,]',
  'a b=c',
  'a=b,a=c',
  'a=b\n,a=c',
  'foo=bar,\nbar==baz',
  'a==b,\nc=d',
  'a=x😀y',
  'a=😀',
  'x=a😀=b',
  'a={b="😀😀"',
  'a=[b',
  'a={b',
  'a={b=c',
  'a="unterminated',
  "a='it\\'s'",
  "a='x\\\\'",
  'a=b=c',
  'a={b=c=d}',
  'a=[b=c]',
  'a=tab\there',
  'a=\u00a0b\u00a0',
  'a=1,2,3,b=[x]',
  'a=b c,d e',
  'a={b=[1,2],c={d=e}},f=g',
  'a@=x',
  'a = [ {b = c} ]',
  'a=[{b=c} ,{d=e}]',
  '',
  ',',
  'a=b;c',
  'a=b]',
  'a=b}',
  'a=[b]c',
  'a={b=c}d',
  'a="x"y',
  'IpProtocol=tcp,FromPort=80,ToPort=80,IpRanges=[{CidrIp=10.0.0.0/16}]',
  'IpProtocol=tcp,FromPort=80,ToPort=80,UserIdGroupPairs=[{GroupId=sg-0aad1c26bbeec5c22}]',
  'ResourceType=string,Tags=[{Key=string,Value=string},{Key=string,Value=string}]',
  'IpProtocol=tcp,FromPort=80,IpProtocol=udp',
  'a=["x",\'y\']',
  'a=\'\',b=""',
  'a=[[a,b],[c]]',
  'a={b=[{c=[d]}]}',
  'k:1=v',
  'k/x.y#z-_=v',
  'a=[b,,c]',
  'a={=b}',
  'a={b=}',
  'a={b=,c=d}',
  'a=b, c',
  'a=b ,c=d',
  'a=b,c ,d',
  'a="a""b"',
  'a=\\',
  'a=b\\',
  'a="x\\\\",b="y"',
  'a=\u2028b',
  'a=b\x1cc ',
];

const JSON_INPUTS: readonly string[] = [
  '[1,]',
  '[',
  '{',
  '{"a"',
  '{"a":',
  '{"a" 1}',
  '{"a":1,}',
  '{"a":1 "b":2}',
  '[1 2]',
  '"\\u12',
  '"\\u12"',
  '"\\uZZZZ"',
  '"\\x"',
  '"abc',
  '"a\tb"',
  '[1]x',
  ' [1] ',
  '\ufeff[1]',
  '01',
  '-',
  '-x',
  '1e',
  '1e+',
  '1.',
  '.5',
  'NaN',
  '-Infinity',
  'nul',
  '["\\ud83d\\ude00", "\\ud83dx", "\\ud83d\\u0041"]',
  '{"__proto__": 1, "b": [true, false, null]}',
  '[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,"UserIdGroupPairs": [{"GroupId": "sg-06df23a01ff2df86d"}]}]',
  '[{IpProtocol=tcp,FromPort=80,ToPort=80,IpRanges=[{CidrIp=10.0.0.0/16}]',
  '',
  '  ',
  '{"a":1}\n\n{',
  '[\n1,\n2,\n]',
  '1.5e3',
  '-0',
  '{"a": {"b": [1, {"c": "d"}]}, "a": 2}',
];

// Random inputs over the grammar's own alphabet: mostly errors, which is the point.
const FUZZ = fc.sample(
  fc.string({ unit: fc.constantFrom(...'ab=,[]{}"\' \\\n@:é😀'.split('')), maxLength: 14 }),
  { numRuns: 400, seed: 20240601 },
);

const dir = mkdtempSync(join(tmpdir(), 'weir-awscli-shorthand-'));
const file = (name: string, content: string | Buffer): string => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};
const permsJson = file(
  'perms.json',
  '[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]',
);
const permsText = file('perms.txt', 'IpProtocol=udp,FromPort=53,ToPort=53');
const binary = file('bin.dat', Buffer.from([0xff, 0xfe]));
const crlf = file('crlf.txt', 'desc\r\nline2');

interface ParamCase {
  readonly command: string;
  readonly param: string;
  readonly shape: string;
  readonly value: CliArgValue;
}
const egress = (value: CliArgValue, param = 'ip-permissions', member = 'IpPermissions'): ParamCase => ({
  command: 'authorize-security-group-egress',
  param,
  shape: memberShapeName('AuthorizeSecurityGroupEgressRequest', member),
  value,
});
const op = (
  command: string,
  request: string,
  param: string,
  member: string,
  value: CliArgValue,
): ParamCase => ({
  command,
  param,
  shape: memberShapeName(request, member),
  value,
});

const PARAMS: readonly ParamCase[] = [
  egress(['IpProtocol=tcp,FromPort=80,ToPort=80,IpRanges=[{CidrIp=10.0.0.0/16}]']),
  egress(['IpProtocol=tcp,FromPort=80,ToPort=80,UserIdGroupPairs=[{GroupId=sg-0aad1c26bbeec5c22}]']),
  egress(['[{IpProtocol=tcp,FromPort=80,ToPort=80,IpRanges=[{CidrIp=10.0.0.0/16}]']),
  egress([
    '[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,"UserIdGroupPairs": [{"GroupId": "sg-06df23a01ff2df86d"}]}]',
  ]),
  egress([
    'IpProtocol=tcp,FromPort=80,ToPort=80',
    'IpProtocol=udp,FromPort=53,ToPort=53,IpRanges={CidrIp=1.1.1.1/32}',
  ]),
  egress(['IpProtocol=tcp,FromPort=x']),
  egress(['IpProtocol=tcp,FromPort=[1,2]']),
  egress(['IpProtocol=tcp,FromPort={a=b}']),
  egress(['IpProtocol=tcp,FromPort=8.0']),
  egress(['IpProtocol=tcp,IpRanges=10.0.0.0/8']),
  egress(['IpProtocol=tcp,IpRanges=[{CidrIp=a},{CidrIp=b,Description="x, y"}],FromPort= 8080 ']),
  egress(['IpProtocol=tcp,FromPort=80,ToPort=80 IpProtocol=udp']),
  egress(['IpProtocol=tcp', '{"IpProtocol": "udp"}']),
  egress(['{"IpProtocol": "udp"}', '{"IpProtocol": "tcp"}']),
  egress(['{"IpProtocol": "udp",}']),
  egress(['IpProtocol=tcp,IpProtocol=udp']),
  egress(['IpProtocol=tcp,Unknown=1,FromPort=+1_0']),
  egress([`file://${permsJson}`]),
  egress([`file://${permsText}`]),
  egress([`file://${dir}/missing.json`]),
  egress([`file://${binary}`]),
  egress([`file://${dir}`]),
  egress([`IpProtocol=tcp,IpRanges=[{CidrIp=10.0.0.0/8,Description@=file://${crlf}}]`]),
  egress(
    ['ResourceType=security-group-rule,Tags=[{Key=Name,Value=web},{Key=env,Value=prod}]'],
    'tag-specifications',
    'TagSpecifications',
  ),
  egress(
    ['ResourceType=string,Tags=[{Key=string,Value=string},{Key=string,Value=string}]'],
    'tag-specifications',
    'TagSpecifications',
  ),
  egress('sg-1', 'group-id', 'GroupId'),
  op('describe-security-groups', 'DescribeSecurityGroupsRequest', 'group-ids', 'GroupIds', ['sg-1', 'sg-2']),
  op('describe-security-groups', 'DescribeSecurityGroupsRequest', 'group-ids', 'GroupIds', [
    '["sg-1","sg-2"]',
  ]),
  op('describe-security-groups', 'DescribeSecurityGroupsRequest', 'group-ids', 'GroupIds', [
    `file://${permsText}`,
  ]),
  op('describe-security-groups', 'DescribeSecurityGroupsRequest', 'filters', 'Filters', [
    'Name=group-id,Values=sg-1,sg-2',
    'Name=vpc-id,Values=[vpc-1]',
  ]),
  op('describe-security-groups', 'DescribeSecurityGroupsRequest', 'filters', 'Filters', [
    'Name=tag:Name,Values=a b',
  ]),
  op('describe-security-groups', 'DescribeSecurityGroupsRequest', 'max-results', 'MaxResults', '5'),
  op('describe-security-groups', 'DescribeSecurityGroupsRequest', 'max-results', 'MaxResults', 'five'),
  op(
    'modify-security-group-rules',
    'ModifySecurityGroupRulesRequest',
    'security-group-rules',
    'SecurityGroupRules',
    [
      'SecurityGroupRuleId=sgr-1,SecurityGroupRule={IpProtocol=tcp,FromPort=22,ToPort=22,CidrIpv4=1.2.3.4/32}',
    ],
  ),
  op('modify-managed-prefix-list', 'ModifyManagedPrefixListRequest', 'add-entries', 'AddEntries', [
    'Cidr=10.0.0.0/8,Description=a',
    'Cidr=10.1.0.0/16',
  ]),
  op(
    'modify-managed-prefix-list',
    'ModifyManagedPrefixListRequest',
    'current-version',
    'CurrentVersion',
    '3',
  ),
  op('create-tags', 'CreateTagsRequest', 'tags', 'Tags', ['Key=Name,Value=my group', 'Key=x,Value=']),
  op('create-tags', 'CreateTagsRequest', 'resources', 'Resources', ['sg-1']),
  op(
    'update-security-group-rule-descriptions-egress',
    'UpdateSecurityGroupRuleDescriptionsEgressRequest',
    'security-group-rule-descriptions',
    'SecurityGroupRuleDescriptions',
    ['SecurityGroupRuleId=sgr-1,Description="new, better"'],
  ),
];

type Request =
  | { kind: 'shorthand' | 'json'; input: string }
  | { kind: 'param'; command: string; param: string; value: CliArgValue };

interface Answer {
  readonly ok: boolean;
  readonly value?: unknown;
  readonly message?: string;
}

const requests: Request[] = [
  ...SHORTHAND.map((input): Request => ({ kind: 'shorthand', input })),
  ...FUZZ.map((input): Request => ({ kind: 'shorthand', input })),
  ...JSON_INPUTS.map((input): Request => ({ kind: 'json', input })),
  ...PARAMS.map((c): Request => ({ kind: 'param', command: c.command, param: c.param, value: c.value })),
];

function runHelper(): { answers: Answer[] } | { skip: string } {
  const run = spawnSync('python3', [HELPER], {
    input: requests.map((r) => JSON.stringify(r)).join('\n') + '\n',
    encoding: 'utf8',
    env: { ...process.env, PYTHONUTF8: '1', PYTHONIOENCODING: 'utf-8', AWS_CONFIG_FILE: '/dev/null' },
    maxBuffer: 64 << 20,
    timeout: 120_000,
  });
  // The helper exits 3, before reading its input, when awscli cannot be imported.
  if (run.status === 3) return { skip: run.stderr.trim() };
  if (run.error) return { skip: `python3 not runnable (${run.error.message})` };
  if (run.status !== 0) throw new Error(`awscli_shorthand.py failed:\n${run.stderr}`);
  const answers = run.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Answer);
  if (answers.length !== requests.length)
    throw new Error(`expected ${requests.length} answers, got ${answers.length}`);
  return { answers };
}

const helper = runHelper();
const HAS_AWSCLI = requireTool('awscli (python3)', !('skip' in helper), 'skip' in helper ? helper.skip : '');
const SKIP = HAS_AWSCLI ? '' : 'skipping the cross-check with awscli';
const answers = 'answers' in helper ? helper.answers : [];
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Weir's answer in the helper's JSON shape (bytes and non-finite floats tagged the same way). */
function weir(fn: () => unknown): Answer {
  try {
    const value = fn();
    return {
      ok: true,
      value: JSON.parse(
        JSON.stringify(value, function (this: unknown, key: string, v: unknown) {
          const raw = (this as Record<string, unknown>)[key];
          if (raw instanceof Uint8Array) return { $bytes: Buffer.from(raw).toString('base64') };
          if (typeof v === 'number' && !Number.isFinite(v)) {
            return { $float: Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf' };
          }
          return v;
        }),
      ) as unknown,
    };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}

function theirs(i: number): Answer {
  const a = answers[i]!;
  return a.ok ? { ok: true, value: a.value } : { ok: false, message: a.message ?? '' };
}

describe.skipIf(SKIP !== '')(SKIP || 'Weir reads parameter values as awscli does', () => {
  const shorthandCases = [...SHORTHAND, ...FUZZ].map((input, i) => [input, i] as const);
  test.each(shorthandCases)('shorthand %j', (input, i) => {
    expect(weir(() => parseShorthand(input))).toEqual(theirs(i));
  });

  const jsonBase = SHORTHAND.length + FUZZ.length;
  test.each(JSON_INPUTS.map((input, i) => [input, jsonBase + i] as const))('JSON %j', (input, i) => {
    expect(weir(() => pyJsonLoads(input))).toEqual(theirs(i));
  });

  const paramBase = jsonBase + JSON_INPUTS.length;
  test.each(
    PARAMS.map((c, i) => [`${c.command} --${c.param} ${JSON.stringify(c.value)}`, c, paramBase + i] as const),
  )('%s', (_name, c, i) => {
    expect(weir(() => unpackParameter(c.value, `--${c.param}`, c.shape))).toEqual(theirs(i));
  });
});
