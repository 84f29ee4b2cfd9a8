/**
 * `weir ec2` output formatting, without Python: golden outputs taken from awscli 1.45 (and, for
 * YAML, ruamel.yaml as AWS CLI v2 configures it) for small responses, the reference page's own JSON
 * example, and the rules around them — what prints nothing, metadata, dates, `--query`, paging,
 * narrow terminals and wide characters. cli-ec2-output-awscli.test.ts compares many more cases live.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { textWidth } from '../../src/cli/ec2/python/east-asian-width.js';
import {
  QueryError,
  checkQuery,
  formatOutput,
  formatPagedOutput,
  mergePages,
} from '../../src/cli/ec2/output/format.js';
import type { OutputFormat } from '../../src/cli/ec2/output/format.js';
import { pyFloatRepr, pyRepr } from '../../src/cli/ec2/python/builtins.js';
import { dumpYaml } from '../../src/cli/ec2/python/yaml.js';

const REFERENCE_DIR = fileURLToPath(new URL('../../../shared/reference', import.meta.url));
const ACCOUNT = '123456789012';
const identity = { UserId: 'AIDAEXAMPLEUSERID', Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/alice` };
const rules = {
  SecurityGroupRules: [
    {
      SecurityGroupRuleId: 'sgr-1',
      GroupId: 'sg-1',
      IsEgress: true,
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
      CidrIpv4: '10.0.0.0/16',
      Tags: [],
    },
    {
      SecurityGroupRuleId: 'sgr-2',
      GroupId: 'sg-1',
      IsEgress: false,
      IpProtocol: '-1',
      FromPort: -1,
      ToPort: -1,
      ReferencedGroupInfo: { GroupId: 'sg-9', UserId: ACCOUNT },
      Description: 'from the LB',
      Tags: [{ Key: 'Name', Value: 'lb' }],
    },
  ],
};
const groups = {
  SecurityGroups: [
    {
      GroupId: 'sg-1',
      GroupName: 'web',
      Description: 'Web — 日本',
      IpPermissionsEgress: [
        {
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          IpRanges: [{ CidrIp: '10.0.0.0/16', Description: 'yes' }],
        },
      ],
      Tags: [{ Key: 'n', Value: '0123' }],
    },
  ],
};

const fmt = (
  response: object,
  output: OutputFormat,
  extra: { query?: string; color?: boolean; terminalWidth?: number } = {},
) => formatOutput(response, { output, operation: 'Op', ...extra });

describe('golden outputs (from awscli)', () => {
  test('table: GetCallerIdentity', () => {
    expect(formatOutput(identity, { output: 'table', operation: 'GetCallerIdentity' })).toBe(
      '-------------------------------------------------------------------------------\n' +
        '|                              GetCallerIdentity                              |\n' +
        '+--------------+----------------------------------------+---------------------+\n' +
        '|    Account   |                  Arn                   |       UserId        |\n' +
        '+--------------+----------------------------------------+---------------------+\n' +
        '|  123456789012|  arn:aws:iam::123456789012:user/alice  |  AIDAEXAMPLEUSERID  |\n' +
        '+--------------+----------------------------------------+---------------------+\n',
    );
  });

  test('table with --color on: styled values, and a reset after every write as colorama adds', () => {
    const R = '\x1b[0m';
    const V = (s: string) => `\x1b[1m\x1b[34m${s}${R}`;
    const line = (s: string) => `${R}${R}${s}${R}${R}\n`;
    const border = '+--------------+----------------------------------------+---------------------+';
    expect(formatOutput(identity, { output: 'table', operation: 'GetCallerIdentity', color: true })).toBe(
      '-------------------------------------------------------------------------------\n' +
        line('|                              GetCallerIdentity                              |') +
        line(border) +
        line('|    Account   |                  Arn                   |       UserId        |') +
        line(border) +
        line(
          `|  ${V('123456789012')}|  ${V('arn:aws:iam::123456789012:user/alice')}  |  ${V('AIDAEXAMPLEUSERID')}  |`,
        ) +
        line(border) +
        R,
    );
  });

  test('table: nested sections, and wide/ambiguous characters counted twice', () => {
    expect(formatOutput(groups, { output: 'table', operation: 'DescribeSecurityGroups' })).toBe(
      [
        '-------------------------------------------',
        '|         DescribeSecurityGroups          |',
        '+-----------------------------------------+',
        '||            SecurityGroups             ||',
        '|+-------------+-----------+-------------+|',
        '|| Description |  GroupId  |  GroupName  ||',
        '|+-------------+-----------+-------------+|',
        '||  Web — 日本|  sg-1     |  web        ||',
        '|+-------------+-----------+-------------+|',
        '|||         IpPermissionsEgress         |||',
        '||+-----------+--------------+----------+||',
        '||| FromPort  | IpProtocol   | ToPort   |||',
        '||+-----------+--------------+----------+||',
        '|||  443      |  tcp         |  443     |||',
        '||+-----------+--------------+----------+||',
        '||||             IpRanges              ||||',
        '|||+----------------+------------------+|||',
        '||||     CidrIp     |   Description    ||||',
        '|||+----------------+------------------+|||',
        '||||  10.0.0.0/16   |  yes             ||||',
        '|||+----------------+------------------+|||',
        '|||                Tags                 |||',
        '||+---------------+---------------------+||',
        '|||      Key      |        Value        |||',
        '||+---------------+---------------------+||',
        '|||  n            |  0123               |||',
        '||+---------------+---------------------+||',
        '',
      ].join('\n'),
    );
    expect(textWidth('Web — 日本')).toBe(11);
  });

  test('text: columns from the union of scalar keys, nested keys upper-cased, Python booleans', () => {
    expect(fmt(rules, 'text')).toBe(
      'SECURITYGROUPRULES\t10.0.0.0/16\t\t443\tsg-1\ttcp\tTrue\tsgr-1\t443\n' +
        'SECURITYGROUPRULES\t\tfrom the LB\t-1\tsg-1\t-1\tFalse\tsgr-2\t-1\n' +
        'REFERENCEDGROUPINFO\tsg-9\t123456789012\n' +
        'TAGS\tName\tlb\n',
    );
  });

  test('yaml: sorted keys, indentless lists, YAML 1.2 quoting', () => {
    expect(fmt(groups, 'yaml')).toBe(
      'SecurityGroups:\n- Description: Web — 日本\n  GroupId: sg-1\n  GroupName: web\n  IpPermissionsEgress:\n' +
        '  - FromPort: 443\n    IpProtocol: tcp\n    IpRanges:\n    - CidrIp: 10.0.0.0/16\n      Description: yes\n' +
        "    ToPort: 443\n  Tags:\n  - Key: n\n    Value: '0123'\n",
    );
  });

  test.skipIf(!existsSync(REFERENCE_DIR))(
    'json: the reference page’s output for example 1, byte for byte',
    () => {
      const page = readFileSync(join(REFERENCE_DIR, 'aws-cli-authorize-security-group-egress.md'), 'utf8');
      const shown = /Output:\s*```\n([\s\S]*?)```/.exec(page)?.[1];
      expect(shown).toBeDefined();
      expect(fmt(JSON.parse(shown!) as object, 'json')).toBe(shown);
    },
  );
});

describe('what prints nothing, and what does', () => {
  test('an empty response prints nothing in every format', () => {
    for (const output of ['json', 'text', 'table', 'yaml'] as const) expect(fmt({}, output)).toBe('');
    expect(fmt({}, 'yaml-stream')).toBe('- {}\n');
    expect(fmt({ ResponseMetadata: { RequestId: 'x' } }, 'json')).toBe('');
  });

  test('empty lists and scalars after --query', () => {
    expect(fmt({ A: [] }, 'json', { query: 'A' })).toBe('[]\n');
    expect(fmt({ A: [] }, 'yaml', { query: 'A' })).toBe('[]\n');
    expect(fmt({ A: [] }, 'table', { query: 'A' })).toBe('');
    expect(fmt({ A: 'x' }, 'json', { query: 'B' })).toBe('null\n');
    expect(fmt({ A: 'x' }, 'text', { query: 'B' })).toBe('None\n');
    expect(fmt({ A: 'x' }, 'yaml', { query: 'A' })).toBe('"x"\n');
    expect(fmt({ A: 'x' }, 'table', { query: 'A' })).toBe('----\n|Op|\n+--+\n');
  });
});

describe('parsed responses from the AWS SDK', () => {
  test('$metadata and undefined members are dropped; dates print as Python isoformat in UTC', () => {
    const response = {
      $metadata: { httpStatusCode: 200 },
      When: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 60)),
      Missing: undefined,
      Return: true,
    };
    expect(fmt(response, 'json')).toBe(
      '{\n    "When": "2024-01-02T03:04:05.060000+00:00",\n    "Return": true\n}\n',
    );
  });
});

describe('--query', () => {
  test('applied before formatting, on the response without its metadata', () => {
    expect(
      fmt({ ...rules, ResponseMetadata: { RequestId: 'r' } }, 'text', {
        query: 'SecurityGroupRules[].SecurityGroupRuleId',
      }),
    ).toBe('sgr-1\tsgr-2\n');
    expect(fmt(rules, 'json', { query: 'keys(@)' })).toBe('[\n    "SecurityGroupRules"\n]\n');
  });

  test('a bad expression is the CLI’s "Bad value for --query"', () => {
    expect(() => checkQuery('SecurityGroups[')).toThrow(QueryError);
    expect(() => fmt(rules, 'json', { query: 'a..b' })).toThrow(/^Bad value for --query a\.\.b: /);
  });
});

describe('pagination', () => {
  const pages = [
    { SecurityGroupRules: [rules.SecurityGroupRules[0]!], NextToken: 't' },
    { SecurityGroupRules: [rules.SecurityGroupRules[1]!] },
  ];
  test('json merges the result keys and drops the rest, as build_full_result does', () => {
    expect(mergePages({ pages, resultKeys: ['SecurityGroupRules'] })).toEqual(rules);
  });
  test('text and yaml-stream print page by page', () => {
    const opts = {
      output: 'text' as const,
      operation: 'DescribeSecurityGroupRules',
      query: 'SecurityGroupRules[].GroupId',
    };
    expect(formatPagedOutput({ pages, resultKeys: ['SecurityGroupRules'] }, opts)).toBe('sg-1\nsg-1\n');
    expect(
      formatPagedOutput({ pages, resultKeys: ['SecurityGroupRules'] }, { ...opts, output: 'json' }),
    ).toBe('[\n    "sg-1",\n    "sg-1"\n]\n');
    expect(
      formatPagedOutput(
        { pages, resultKeys: ['SecurityGroupRules'] },
        { ...opts, output: 'yaml-stream', query: 'NextToken' },
      ),
    ).toBe('- t\n- null\n');
  });
});

describe('table layout', () => {
  test('a table wider than the terminal turns single-row sections into key/value rows', () => {
    const wide = { A: 'a'.repeat(30), B: 'b'.repeat(30), C: 'c'.repeat(30) };
    expect(fmt(wide, 'table', { terminalWidth: 80 })).toBe(
      '-----------------------------------------\n' +
        '|                  Op                   |\n' +
        '+---+-----------------------------------+\n' +
        `|  A|  ${'a'.repeat(30)}   |\n` +
        `|  B|  ${'b'.repeat(30)}   |\n` +
        `|  C|  ${'c'.repeat(30)}   |\n` +
        '+---+-----------------------------------+\n',
    );
    expect(fmt(wide, 'table', { terminalWidth: 200 }).split('\n')[3]).toMatch(
      /^\|\s+A\s+\|\s+B\s+\|\s+C\s+\|$/,
    );
  });
});

describe('Python’s renderings', () => {
  test.each([
    [0.5, '0.5'],
    [1e-5, '1e-05'],
    [0.0001, '0.0001'],
    [1.5e300, '1.5e+300'],
    [123456789.125, '123456789.125'],
    [-2.5e-7, '-2.5e-07'],
  ])('repr(%d)', (x, s) => {
    expect(pyFloatRepr(x)).toBe(s);
  });
  test('repr(str)', () => {
    expect(pyRepr("it's")).toBe('"it\'s"');
    expect(pyRepr('a\'"b\n\x85é')).toBe("'a\\'\"b\\n\\x85é'");
  });
  test('YAML scalars: quoting, escapes, folding', () => {
    expect(
      dumpYaml({ a: 'true', b: '1_000', c: '~', d: 'a\tb', e: '😀', f: ' x', g: '-', h: 'a #b', i: 'yes' }),
    ).toBe(
      "a: 'true'\nb: '1_000'\nc: '~'\nd: \"a\\tb\"\ne: \"\\U0001F600\"\nf: ' x'\ng: '-'\nh: 'a #b'\ni: yes\n",
    );
    const long = Array.from({ length: 20 }, (_, i) => `word${i}`).join(' ');
    expect(dumpYaml({ k: long })).toBe(
      'k: word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11 word12\n' +
        '  word13 word14 word15 word16 word17 word18 word19\n',
    );
  });
});
