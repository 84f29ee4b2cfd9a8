/**
 * `weir ec2` and `weir sts` end to end against one real `weir serve`, side by side with the AWS CLI:
 * the same commands on the same state through `weir` (in process, through `runCli`, and a few real
 * `node … main.ts` processes) and through `aws` (awscli's own driver in one Python process, see
 * test/tools/awscli_session.py, and one real `aws` process to vouch for it), comparing stdout byte
 * for byte for json, text, table and --query, and error messages; exit codes are asserted against
 * AWS CLI v2's documented ones (the installed CLI is v1, which exits 255 for service and parameter
 * errors and 2 for usage errors). Every seed example of the AWS CLI reference for
 * authorize-security-group-egress and revoke-security-group-egress runs in both syntaxes, with the
 * pages' group IDs replaced by groups that exist. Skipped with a message where `aws` is absent.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { EC2_OPERATIONS } from '../../src/ec2-model/index.js';
import { argumentTable, commandName } from '../../src/cli/ec2/input/arguments.js';
import { runCli } from '../../src/cli/ec2/run.js';
import { EC2_SERVICE } from '../../src/cli/ec2/service.js';
import { startTestServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { hasAwsCli, pythonImports, requireTool } from '../helpers/tools.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SESSION = fileURLToPath(new URL('../tools/awscli_session.py', import.meta.url));
const REFERENCE_DIR = fileURLToPath(new URL('../../../shared/reference', import.meta.url));
const SKIP_MESSAGE = 'aws CLI not found: skipping the weir ec2 vs aws ec2 comparison';
// One real `aws` process, and awscli's driver in python3 (test/tools/awscli_session.py) for the rest.
const HAS_AWS_CLI =
  requireTool('aws', hasAwsCli()) &&
  requireTool('awscli (python3)', pythonImports('awscli'), 'python3 cannot import awscli');

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The reference pages' examples, as printed there (group IDs are the pages' own). */
const AUTHORIZE_1 = 'IpProtocol=tcp,FromPort=80,ToPort=80,IpRanges=[{CidrIp=10.0.0.0/16}]';
const AUTHORIZE_2 = 'IpProtocol=tcp,FromPort=80,ToPort=80,UserIdGroupPairs=[{GroupId=sg-0aad1c26bbeec5c22}]';
const REVOKE_1 = '[{IpProtocol=tcp,FromPort=80,ToPort=80,IpRanges=[{CidrIp=10.0.0.0/16}]';
const REVOKE_2 =
  '[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,"UserIdGroupPairs": [{"GroupId": "sg-06df23a01ff2df86d"}]}]';

/** One Python process running awscli's driver for each command it is sent. */
class AwsSession {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: ((line: string) => void)[] = [];

  constructor() {
    this.child = spawn('python3', [SESSION], { stdio: ['pipe', 'pipe', 'pipe'] });
    let errors = '';
    this.child.stderr.on('data', (d: Buffer) => (errors += d.toString()));
    createInterface({ input: this.child.stdout }).on('line', (line) => this.waiting.shift()?.(line));
    // A crashed helper must fail the waiting test, not hang it.
    this.child.on('exit', (code) => {
      for (const w of this.waiting.splice(0)) w(JSON.stringify({ crashed: `exit ${code}: ${errors}` }));
    });
  }

  run(args: readonly string[], env: NodeJS.ProcessEnv): Promise<Result> {
    return new Promise((resolve, reject) => {
      this.waiting.push((line) => {
        const r = JSON.parse(line) as { rc: number; stdout: string; stderr: string; crashed?: string };
        if (r.crashed !== undefined) reject(new Error(`awscli_session.py died: ${r.crashed}`));
        else resolve({ code: r.rc, stdout: r.stdout, stderr: r.stderr });
      });
      this.child.stdin.write(JSON.stringify({ args, env }) + '\n');
    });
  }

  close(): void {
    this.child.stdin.end();
  }
}

/** AWS CLI v1's usage block carries a `\r` line about v2 and says `aws`; Weir's says `weir`. */
function normalizeAwsStderr(stderr: string): string {
  return stderr
    .replace(/^usage: \r[^\n]*\n\n/m, '')
    .replace(/^(usage: | {2})aws\b/gm, '$1weir')
    .replace(/^aws: error:/m, 'weir: error:');
}

describe.skipIf(!HAS_AWS_CLI)(HAS_AWS_CLI ? 'weir ec2 and aws ec2 on one weir serve' : SKIP_MESSAGE, () => {
  let server: TestServer;
  let aws: AwsSession;
  let env: NodeJS.ProcessEnv;
  /** Two groups that receive the same rules, one through each CLI. */
  let groupW: string;
  let groupA: string;
  /** A group for the reference examples' group references. */
  let peer: string;

  const weir = async (
    args: readonly string[],
    opts: { env?: NodeJS.ProcessEnv; cwd?: string; service?: string } = {},
  ) => {
    let stdout = '';
    let stderr = '';
    const code = await runCli([opts.service ?? 'ec2', ...args], {
      env: opts.env ?? env,
      cwd: opts.cwd ?? ROOT,
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
      stdoutIsTTY: false,
    });
    return { code, stdout, stderr };
  };
  const withEndpoint = (args: readonly string[], service = 'ec2'): string[] => [
    service,
    '--endpoint-url',
    server.url,
    ...args,
  ];
  const w = (args: readonly string[], service = 'ec2') =>
    weir(['--endpoint-url', server.url, ...args], { service });
  const a = (args: readonly string[], service = 'ec2') => aws.run(withEndpoint(args, service), env);

  /** Replaces the two groups' IDs and every rule ID, so output about twin objects compares. */
  const sameIds = (text: string): string =>
    text
      .replaceAll(groupW, 'sg-TWIN')
      .replaceAll(groupA, 'sg-TWIN')
      .replace(/sgr-[0-9a-f]+/g, 'sgr-RULE');

  /** Runs the same command through both; stdout must be identical (after `normalize`). */
  async function both(args: readonly string[], normalize: (s: string) => string = (s) => s) {
    const [rw, ra] = [await w(args), await a(args)];
    expect(normalize(rw.stdout)).toBe(normalize(ra.stdout));
    return { w: rw, a: ra };
  }

  beforeAll(async () => {
    server = await startTestServer();
    env = { ...server.env(), AWS_PAGER: '' };
    delete env.WEIR_DATA_DIR;
    aws = new AwsSession();
    const create = async (name: string) =>
      JSON.parse(
        (await w(['create-security-group', '--group-name', name, '--description', `group ${name}`])).stdout,
      ).GroupId as string;
    groupW = await create('via-weir');
    groupA = await create('via-aws');
    peer = await create('peer');
  });

  afterAll(async () => {
    aws?.close();
    await server?.stop();
  });

  test('the reference pages hold the examples this file runs', () => {
    if (!existsSync(REFERENCE_DIR)) return;
    const authorize = readFileSync(join(REFERENCE_DIR, 'aws-cli-authorize-security-group-egress.md'), 'utf8');
    const revoke = readFileSync(join(REFERENCE_DIR, 'aws-cli-revoke-security-group-egress.md'), 'utf8');
    expect(authorize).toContain(`--ip-permissions '${AUTHORIZE_1}'`);
    expect(authorize).toContain(`--ip-permissions '${AUTHORIZE_2}'`);
    expect(revoke).toContain(`--ip-permissions ${REVOKE_1}\n`);
    expect(revoke).toContain(`--ip-permissions '${REVOKE_2}'`);
  });

  describe('every seed example, both syntaxes, same output as aws', () => {
    const examples = [
      {
        name: 'authorize example 1 (CIDR)',
        shorthand: AUTHORIZE_1,
        json: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '10.0.0.0/16' }] }],
      },
      {
        name: 'authorize example 2 (security group)',
        shorthand: AUTHORIZE_2,
        json: [
          {
            IpProtocol: 'tcp',
            FromPort: 80,
            ToPort: 80,
            UserIdGroupPairs: [{ GroupId: 'sg-0aad1c26bbeec5c22' }],
          },
        ],
      },
    ];
    for (const ex of examples) {
      for (const syntax of ['shorthand', 'json'] as const) {
        test(`${ex.name}, ${syntax}: authorize then revoke`, async () => {
          const value = (syntax === 'shorthand' ? ex.shorthand : JSON.stringify(ex.json)).replace(
            'sg-0aad1c26bbeec5c22',
            peer,
          );
          const rw = await w([
            'authorize-security-group-egress',
            '--group-id',
            groupW,
            '--ip-permissions',
            value,
          ]);
          const ra = await a([
            'authorize-security-group-egress',
            '--group-id',
            groupA,
            '--ip-permissions',
            value,
          ]);
          expect(rw.code).toBe(0);
          expect(ra.code).toBe(0);
          expect(sameIds(rw.stdout)).toBe(sameIds(ra.stdout));
          expect(JSON.parse(rw.stdout)).toMatchObject({
            Return: true,
            SecurityGroupRules: [{ IsEgress: true, FromPort: 80 }],
          });
          // The page says revoking prints nothing; today's EC2 model answers with the revoked rules.
          const vw = await w([
            'revoke-security-group-egress',
            '--group-id',
            groupW,
            '--ip-permissions',
            value,
          ]);
          const va = await a([
            'revoke-security-group-egress',
            '--group-id',
            groupA,
            '--ip-permissions',
            value,
          ]);
          expect([vw.code, va.code, vw.stderr]).toEqual([0, 0, '']);
          expect(sameIds(vw.stdout)).toBe(sameIds(va.stdout));
          expect(JSON.parse(vw.stdout)).toMatchObject({
            Return: true,
            RevokedSecurityGroupRules: [{ FromPort: 80 }],
          });
        });
      }
    }

    test('revoke example 1 is malformed on its page: both CLIs reject it with the same message', async () => {
      const rw = await w([
        'revoke-security-group-egress',
        '--group-id',
        groupW,
        '--ip-permissions',
        REVOKE_1,
      ]);
      const ra = await a([
        'revoke-security-group-egress',
        '--group-id',
        groupA,
        '--ip-permissions',
        REVOKE_1,
      ]);
      expect(rw.stderr).toBe(ra.stderr);
      expect(rw.stderr).toContain(
        "Error parsing parameter '--ip-permissions': Invalid JSON: Expecting property name",
      );
      expect(ra.code).toBe(255);
      expect(rw.code).toBe(252);
    });

    const revoke1 = {
      shorthand: 'IpProtocol=tcp,FromPort=80,ToPort=80,IpRanges=[{CidrIp=10.0.0.0/16}]',
      json: '[{"IpProtocol":"tcp","FromPort":80,"ToPort":80,"IpRanges":[{"CidrIp":"10.0.0.0/16"}]}]',
    };
    const revoke2 = {
      shorthand: 'IpProtocol=tcp,FromPort=443,ToPort=443,UserIdGroupPairs=[{GroupId=sg-06df23a01ff2df86d}]',
      json: REVOKE_2,
    };
    for (const [name, forms] of [
      ['revoke example 1 as meant', revoke1],
      ['revoke example 2 (security group)', revoke2],
    ] as const) {
      for (const syntax of ['shorthand', 'json'] as const) {
        test(`${name}, ${syntax}: removes the rule`, async () => {
          const value = forms[syntax].replace('sg-06df23a01ff2df86d', peer);
          const revoked: string[] = [];
          for (const [group, run] of [
            [groupW, w],
            [groupA, a],
          ] as const) {
            expect(
              (await run(['authorize-security-group-egress', '--group-id', group, '--ip-permissions', value]))
                .code,
            ).toBe(0);
            const r = await run([
              'revoke-security-group-egress',
              '--group-id',
              group,
              '--ip-permissions',
              value,
            ]);
            expect([r.code, r.stderr]).toEqual([0, '']);
            revoked.push(sameIds(r.stdout));
          }
          expect(revoked[0]).toBe(revoked[1]);
          // Gone: revoking again is an error, the same through both.
          const again = await w([
            'revoke-security-group-egress',
            '--group-id',
            groupW,
            '--ip-permissions',
            value,
          ]);
          const againA = await a([
            'revoke-security-group-egress',
            '--group-id',
            groupA,
            '--ip-permissions',
            value,
          ]);
          expect(sameIds(again.stderr)).toBe(sameIds(againA.stderr));
          expect(again.code).toBe(againA.code === 0 ? 0 : 254);
        });
      }
    }
  });

  describe('the same state printed the same way', () => {
    beforeAll(async () => {
      const rules = [
        `IpProtocol=tcp,FromPort=443,ToPort=443,IpRanges=[{CidrIp=10.1.0.0/16,Description="HTTPS to the VPC"}],Ipv6Ranges=[{CidrIpv6=2001:db8::/32}]`,
        `IpProtocol=udp,FromPort=53,ToPort=53,UserIdGroupPairs=[{GroupId=${peer},Description=dns}]`,
        'IpProtocol=icmp,FromPort=-1,ToPort=-1,IpRanges=[{CidrIp=192.0.2.0/24}]',
      ];
      expect(
        (await w(['authorize-security-group-egress', '--group-id', groupW, '--ip-permissions', ...rules]))
          .code,
      ).toBe(0);
      expect(
        (
          await w([
            'create-tags',
            '--resources',
            groupW,
            '--tags',
            'Key=Name,Value=web tier',
            'Key=env,Value=prod',
          ])
        ).code,
      ).toBe(0);
    });

    const cases: readonly (readonly string[])[] = [
      [],
      ['--output', 'json'],
      ['--output', 'text'],
      ['--output', 'table'],
      ['--query', 'SecurityGroups[0].IpPermissionsEgress[].IpRanges[].CidrIp'],
      ['--query', 'SecurityGroups[].{id: GroupId, name: GroupName, tags: Tags}', '--output', 'table'],
      ['--query', 'SecurityGroups[0].IpPermissionsEgress[?IpProtocol==`udp`]', '--output', 'text'],
      ['--query', 'length(SecurityGroups[0].IpPermissionsEgress)'],
      ['--query', 'SecurityGroups[0].Tags[?Key==`Name`].Value | [0]', '--output', 'text'],
    ];
    for (const extra of cases) {
      test(`describe-security-groups ${extra.join(' ') || '(defaults)'}`, async () => {
        const r = await both(['describe-security-groups', '--group-ids', groupW, ...extra]);
        expect(r.w.code).toBe(0);
        expect(r.w.stdout.length).toBeGreaterThan(0);
      });
    }

    test('describe-security-group-rules with a filter, in every format', async () => {
      for (const output of ['json', 'text', 'table']) {
        await both([
          'describe-security-group-rules',
          '--filters',
          `Name=group-id,Values=${groupW}`,
          '--output',
          output,
        ]);
      }
      await both([
        'describe-security-group-rules',
        '--filters',
        `Name=group-id,Values=${groupW}`,
        '--query',
        'SecurityGroupRules[?IsEgress].[IpProtocol,FromPort,ToPort,CidrIpv4]',
        '--output',
        'text',
      ]);
    });

    test('describe-tags and describe-vpcs', async () => {
      await both(['describe-tags', '--filters', `Name=resource-id,Values=${groupW}`]);
      await both(['describe-vpcs', '--output', 'table']);
    });

    test('sts get-caller-identity in every format', async () => {
      for (const output of ['json', 'text', 'table']) {
        const rw = await w(['get-caller-identity', '--output', output], 'sts');
        const ra = await a(['get-caller-identity', '--output', output], 'sts');
        expect(rw.stdout).toBe(ra.stdout);
        expect(rw.code).toBe(0);
      }
    });

    test('--color on colours the table as the CLI does', async () => {
      const args = [
        'describe-security-groups',
        '--group-ids',
        groupW,
        '--output',
        'table',
        '--color',
        'on',
        '--query',
        'SecurityGroups[0].Tags',
      ];
      const r = await both(args);
      expect(r.w.stdout).toContain('\u001b[');
    });
  });

  test('prefix lists, rule changes, ingress, tags and deletion: twins print the same', async () => {
    const twin = async (name: string) => {
      const r = await w(['create-security-group', '--group-name', name, '--description', 'twin']);
      return (JSON.parse(r.stdout) as { GroupId: string }).GroupId;
    };
    const [gw, ga] = [await twin('twin-w'), await twin('twin-a')];
    const ids = new Map<string, string>([
      [gw, 'sg-TWIN'],
      [ga, 'sg-TWIN'],
    ]);
    const norm = (text: string): string => {
      let out = text;
      for (const [id, name] of ids) out = out.replaceAll(id, name);
      return out
        .replace(/twin-[wa]\b/g, 'twin-X')
        .replace(/sgr-[0-9a-f]+/g, 'sgr-RULE')
        .replace(/pl-[0-9a-f]+/g, 'pl-LIST');
    };
    /** Runs one command per CLI, `{}` standing for that CLI's twin IDs; both must print the same. */
    const pair = async (args: readonly string[], twins: Record<string, [string, string]> = {}) => {
      const fill = (k: 0 | 1) =>
        args.map((x) => Object.entries(twins).reduce((acc, [key, v]) => acc.replaceAll(key, v[k]), x));
      const rw = await w(fill(0));
      const ra = await a(fill(1));
      expect(norm(rw.stdout)).toBe(norm(ra.stdout));
      expect(norm(rw.stderr)).toBe(norm(ra.stderr));
      expect(rw.code).toBe(ra.code === 0 ? 0 : 254);
      return [rw, ra] as const;
    };
    const G = { GROUP: [gw, ga] as [string, string] };

    const [pw, pa] = await pair([
      'create-managed-prefix-list',
      '--prefix-list-name',
      'corp',
      '--max-entries',
      '5',
      '--address-family',
      'IPv4',
      '--entries',
      'Cidr=10.0.0.0/8,Description=ten',
      'Cidr=192.168.0.0/16',
      '--tag-specifications',
      'ResourceType=prefix-list,Tags=[{Key=team,Value=net}]',
    ]);
    const pl = (r: Result) =>
      (JSON.parse(r.stdout) as { PrefixList: { PrefixListId: string } }).PrefixList.PrefixListId;
    const P = { ...G, PLIST: [pl(pw), pl(pa)] as [string, string] };
    await pair(['get-managed-prefix-list-entries', '--prefix-list-id', 'PLIST', '--output', 'text'], P);
    await pair(
      [
        'modify-managed-prefix-list',
        '--prefix-list-id',
        'PLIST',
        '--current-version',
        '1',
        '--add-entries',
        'Cidr=172.16.0.0/12,Description=rfc1918',
        '--remove-entries',
        'Cidr=192.168.0.0/16',
      ],
      P,
    );
    await pair(['get-managed-prefix-list-entries', '--prefix-list-id', 'PLIST'], P);
    await pair(['describe-managed-prefix-lists', '--prefix-list-ids', 'PLIST', '--output', 'table'], P);

    const [rw, ra] = await pair(
      [
        'authorize-security-group-egress',
        '--group-id',
        'GROUP',
        '--ip-permissions',
        'IpProtocol=tcp,FromPort=5432,ToPort=5432,PrefixListIds=[{PrefixListId=PLIST,Description=db}]',
      ],
      P,
    );
    const rule = (r: Result) =>
      (JSON.parse(r.stdout) as { SecurityGroupRules: { SecurityGroupRuleId: string }[] })
        .SecurityGroupRules[0]!.SecurityGroupRuleId;
    const R = { ...P, RULE: [rule(rw), rule(ra)] as [string, string] };
    await pair(
      [
        'modify-security-group-rules',
        '--group-id',
        'GROUP',
        '--security-group-rules',
        'SecurityGroupRuleId=RULE,SecurityGroupRule={IpProtocol=tcp,FromPort=5433,ToPort=5433,PrefixListId=PLIST,Description=moved}',
      ],
      R,
    );
    await pair(
      [
        'update-security-group-rule-descriptions-egress',
        '--group-id',
        'GROUP',
        '--security-group-rule-descriptions',
        'SecurityGroupRuleId=RULE,Description=renamed',
      ],
      R,
    );
    await pair(['describe-security-group-rules', '--security-group-rule-ids', 'RULE', '--output', 'text'], R);
    await pair(
      ['describe-security-group-rules', '--security-group-rule-ids', 'RULE', '--output', 'table'],
      R,
    );

    await pair(
      [
        'authorize-security-group-ingress',
        '--group-id',
        'GROUP',
        '--protocol',
        'tcp',
        '--port',
        '22',
        '--cidr',
        '203.0.113.0/24',
      ],
      G,
    );
    await pair(
      [
        'authorize-security-group-ingress',
        '--group-id',
        'GROUP',
        '--ip-permissions',
        'IpProtocol=udp,FromPort=123,ToPort=123,Ipv6Ranges=[{CidrIpv6=2001:db8::/48}]',
      ],
      G,
    );
    await pair(
      [
        'revoke-security-group-ingress',
        '--group-id',
        'GROUP',
        '--protocol',
        'tcp',
        '--port',
        '22',
        '--cidr',
        '203.0.113.0/24',
      ],
      G,
    );
    await pair(['create-tags', '--resources', 'GROUP', '--tags', 'Key=tmp,Value=1', 'Key=keep,Value=yes'], G);
    await pair(['delete-tags', '--resources', 'GROUP', '--tags', 'Key=tmp'], G);
    await pair(['describe-tags', '--filters', 'Name=resource-id,Values=GROUP', '--output', 'text'], G);
    await pair(['describe-security-groups', '--group-ids', 'GROUP'], G);
    await pair(['describe-security-groups', '--group-ids', 'GROUP', '--output', 'text'], G);
    await pair(
      ['revoke-security-group-egress', '--security-group-rule-ids', 'RULE', '--group-id', 'GROUP'],
      R,
    );
    await pair(['delete-security-group', '--group-id', 'GROUP'], G);
    await pair(['delete-security-group', '--group-id', 'GROUP'], G);
  });

  describe('pagination', () => {
    beforeAll(async () => {
      for (let i = 0; i < 6; i++) {
        await w(['create-security-group', '--group-name', `page-${i}`, '--description', `page ${i}`]);
      }
    });

    test('every page followed and merged, in every format', async () => {
      for (const output of ['json', 'text', 'table']) {
        await both([
          'describe-security-groups',
          '--page-size',
          '5',
          '--output',
          output,
          '--query',
          'SecurityGroups[].[GroupName,Description]',
        ]);
      }
      await both(['describe-security-groups', '--page-size', '5', '--output', 'text']);
    });

    test('--max-items with the resume token, then --starting-token', async () => {
      for (const output of ['json', 'text']) {
        await both(['describe-security-groups', '--page-size', '5', '--max-items', '7', '--output', output]);
      }
      const first = await both([
        'describe-security-groups',
        '--page-size',
        '5',
        '--max-items',
        '7',
        '--query',
        'NextToken',
      ]);
      const token = JSON.parse(first.w.stdout) as string;
      expect(token).toMatch(/^[A-Za-z0-9+/]+=*$/);
      for (const output of ['json', 'text']) {
        await both([
          'describe-security-groups',
          '--page-size',
          '5',
          '--starting-token',
          token,
          '--max-items',
          '3',
          '--output',
          output,
        ]);
      }
    });

    test('--no-paginate makes one call; paging options with it are an error', async () => {
      await both([
        'describe-security-groups',
        '--no-paginate',
        '--max-results',
        '5',
        '--query',
        'SecurityGroups[].GroupName',
      ]);
      const r = await w(['describe-security-groups', '--no-paginate', '--max-items', '1']);
      const ra = await a(['describe-security-groups', '--no-paginate', '--max-items', '1']);
      expect(r.stderr).toBe(ra.stderr);
      expect(r.stderr).toBe(
        '\nError during pagination: Cannot specify --no-paginate along with pagination arguments: --max-items\n',
      );
      expect(r.code).toBe(252);
    });
  });

  describe('errors: the same message, AWS CLI v2 exit codes', () => {
    const cases: readonly { name: string; args: () => string[]; weirCode: number; awsCode: number }[] = [
      {
        name: 'service error: duplicate rule',
        args: () => [
          'authorize-security-group-egress',
          '--group-id',
          groupW,
          '--protocol',
          'udp',
          '--port',
          '53',
          '--source-group',
          peer,
        ],
        weirCode: 254,
        awsCode: 255,
      },
      {
        name: 'service error: unknown group',
        args: () => ['describe-security-groups', '--group-ids', 'sg-0123456789abcdef0'],
        weirCode: 254,
        awsCode: 255,
      },
      {
        name: 'service error: malformed ID',
        args: () => ['delete-security-group', '--group-id', 'nope'],
        weirCode: 254,
        awsCode: 255,
      },
      {
        name: 'missing required option',
        args: () => ['authorize-security-group-egress', '--protocol', 'tcp'],
        weirCode: 252,
        awsCode: 2,
      },
      {
        name: 'unknown option and stray value',
        args: () => ['describe-security-groups', '--bogus', 'x', '--dry-run', 'y'],
        weirCode: 252,
        awsCode: 255,
      },
      {
        name: 'option without its value',
        args: () => ['authorize-security-group-egress', '--group-id', groupW, '--port', '-1-8'],
        weirCode: 252,
        awsCode: 2,
      },
      {
        name: 'convenience option mixed with --ip-permissions',
        args: () => [
          'authorize-security-group-egress',
          '--group-id',
          groupW,
          '--cidr',
          '10.0.0.0/8',
          '--ip-permissions',
          AUTHORIZE_1,
        ],
        weirCode: 252,
        awsCode: 255,
      },
      {
        name: 'bad --protocol',
        args: () => ['authorize-security-group-egress', '--group-id', groupW, '--protocol', '300'],
        weirCode: 252,
        awsCode: 255,
      },
      {
        name: 'bad --port',
        args: () => [
          'authorize-security-group-egress',
          '--group-id',
          groupW,
          '--protocol',
          'tcp',
          '--port',
          '1-x',
        ],
        weirCode: 252,
        awsCode: 255,
      },
      {
        name: 'shorthand syntax error pointing at the character',
        args: () => [
          'authorize-security-group-egress',
          '--group-id',
          groupW,
          '--ip-permissions',
          'IpProtocol=tcp,FromPort',
        ],
        weirCode: 252,
        awsCode: 255,
      },
      {
        name: 'not an integer',
        args: () => ['describe-security-groups', '--max-results', '3x'],
        weirCode: 252,
        awsCode: 255,
      },
      {
        name: "botocore's parameter validation",
        args: () => [
          'authorize-security-group-egress',
          '--group-id',
          groupW,
          '--ip-permissions',
          '[{"Foo": 1, "FromPort": "x", "ToPort": true}]',
        ],
        weirCode: 252,
        awsCode: 255,
      },
      {
        name: 'page size below the model minimum',
        args: () => ['describe-security-groups', '--page-size', '2'],
        weirCode: 252,
        awsCode: 255,
      },
      {
        name: 'unknown command, with a suggestion',
        args: () => ['authorize-security-group-egres'],
        weirCode: 252,
        awsCode: 2,
      },
      { name: 'bad --output', args: () => ['describe-vpcs', '--output', 'xml'], weirCode: 252, awsCode: 2 },
      { name: 'bad --query', args: () => ['describe-vpcs', '--query', 'Vpcs['], weirCode: 252, awsCode: 255 },
      {
        name: 'unreadable paramfile',
        args: () => [
          'authorize-security-group-egress',
          '--group-id',
          groupW,
          '--ip-permissions',
          'file:///nonexistent/perms.json',
        ],
        weirCode: 252,
        awsCode: 255,
      },
    ];
    for (const c of cases) {
      test(c.name, async () => {
        const rw = await w(c.args());
        const ra = await a(c.args());
        expect(ra.code).toBe(c.awsCode);
        expect(rw.code).toBe(c.weirCode);
        expect(rw.stdout).toBe('');
        if (c.name === 'unknown command, with a suggestion') {
          // aws lists all of EC2's commands; Weir lists its own. The suggestion reads the same.
          expect(rw.stderr).toContain(
            "Invalid choice: 'authorize-security-group-egres', maybe you meant:\n\n  * authorize-security-group-egress\n",
          );
          expect(ra.stderr).toContain(
            "Invalid choice: 'authorize-security-group-egres', maybe you meant:\n\n  * authorize-security-group-egress\n",
          );
        } else if (c.name === 'bad --output') {
          // Weir also offers v2's yaml and yaml-stream.
          expect(rw.stderr).toMatch(
            /weir: error: argument --output: Invalid choice, valid choices are:\n\njson +\| text +\ntable +\| yaml +\nyaml-stream/,
          );
        } else if (c.name === 'bad --query') {
          // jmespath.js words parse errors its own way.
          expect(rw.stderr.startsWith('\nBad value for --query Vpcs[: ')).toBe(true);
          expect(ra.stderr.startsWith('\nBad value for --query Vpcs[: ')).toBe(true);
        } else {
          expect(rw.stderr).toBe(normalizeAwsStderr(ra.stderr));
        }
      });
    }

    test('DryRunOperation prints the error text and reads as success', async () => {
      const args = ['create-security-group', '--group-name', 'dry', '--description', 'dry', '--dry-run'];
      const rw = await w(args);
      const ra = await a(args);
      expect(rw.stderr).toBe(ra.stderr);
      expect(rw.stderr).toBe(
        '\nAn error occurred (DryRunOperation) when calling the CreateSecurityGroup operation: Request would have succeeded, but DryRun flag is set.\n',
      );
      expect([rw.code, ra.code]).toEqual([0, 255]);
    });

    test('missing credentials: 253 and the CLI message', async () => {
      const bare = {
        PATH: process.env.PATH,
        HOME: mkdtempSync(join(tmpdir(), 'weir-home-')),
        AWS_CONFIG_FILE: '/nonexistent',
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
        AWS_DEFAULT_REGION: 'us-east-1',
      };
      const cwd = mkdtempSync(join(tmpdir(), 'weir-cwd-'));
      const rw = await weir(['--endpoint-url', server.url, 'describe-vpcs'], { env: bare, cwd });
      const ra = await aws.run(withEndpoint(['describe-vpcs']), bare as NodeJS.ProcessEnv);
      expect(rw.stderr).toBe(
        'Unable to locate credentials. You can configure credentials by running "aws configure".\n',
      );
      expect(rw.stderr).toBe(ra.stderr);
      expect([rw.code, ra.code]).toEqual([253, 255]);
      const noProfile = await weir(['--profile', 'nope', 'describe-vpcs'], { env: bare, cwd });
      expect([noProfile.code, noProfile.stderr]).toEqual([
        253,
        '\nThe config profile (nope) could not be found\n',
      ]);
    });

    test('no region: 253 and the CLI message', async () => {
      const noRegion = { ...env };
      delete noRegion.AWS_DEFAULT_REGION;
      delete noRegion.AWS_REGION;
      const rw = await weir(['--endpoint-url', server.url, 'describe-vpcs'], { env: noRegion });
      const ra = await aws.run(withEndpoint(['describe-vpcs']), noRegion);
      expect(rw.stderr).toBe(ra.stderr);
      expect(rw.code).toBe(253);
    });

    test('an endpoint that does not answer: 255 and the CLI message', async () => {
      const args = ['--endpoint-url', 'http://127.0.0.1:9/', 'describe-vpcs'];
      const rw = await weir(args);
      const ra = await aws.run(['ec2', ...args], env);
      expect(rw.stderr).toBe(ra.stderr);
      expect(rw.stderr).toBe('\nCould not connect to the endpoint URL: "http://127.0.0.1:9/"\n');
      expect([rw.code, ra.code]).toEqual([255, 255]);
    });
  });

  describe('the convenience options', () => {
    test('--protocol --port --cidr and --source-group (ID or name) build the rule the CLI builds', async () => {
      for (const extra of [
        ['--protocol', 'tcp', '--port', '8080-8090', '--cidr', '172.16.0.0/12'],
        ['--protocol', 'icmp', '--port', '3-4', '--cidr', '198.51.100.0/24'],
        ['--protocol', 'all', '--source-group', 'peer'],
        ['--protocol', '50', '--cidr', '203.0.113.0/24'],
      ]) {
        const rw = await w(['authorize-security-group-egress', '--group-id', groupW, ...extra]);
        const ra = await a(['authorize-security-group-egress', '--group-id', groupA, ...extra]);
        expect(rw.code).toBe(0);
        expect(sameIds(rw.stdout)).toBe(sameIds(ra.stdout));
      }
    });

    test('no --port means all ports, as documented (the CLI leaves them out and EC2 refuses)', async () => {
      const rw = await w([
        'authorize-security-group-egress',
        '--group-id',
        groupW,
        '--protocol',
        'tcp',
        '--cidr',
        '10.20.0.0/16',
        '--query',
        'SecurityGroupRules[0].[FromPort,ToPort]',
        '--output',
        'text',
      ]);
      expect([rw.code, rw.stdout]).toEqual([0, '0\t65535\n']);
      const ri = await w([
        'authorize-security-group-egress',
        '--group-id',
        groupW,
        '--protocol',
        'icmp',
        '--cidr',
        '10.21.0.0/16',
        '--query',
        'SecurityGroupRules[0].[FromPort,ToPort]',
        '--output',
        'text',
      ]);
      expect([ri.code, ri.stdout]).toEqual([0, '-1\t-1\n']);
      const ra = await a([
        'authorize-security-group-egress',
        '--group-id',
        groupA,
        '--protocol',
        'tcp',
        '--cidr',
        '10.20.0.0/16',
      ]);
      expect(ra.code).toBe(255);
    });

    test('--group-owner goes with --source-group, not --cidr', async () => {
      const r = await w([
        'authorize-security-group-egress',
        '--group-id',
        groupW,
        '--protocol',
        'tcp',
        '--port',
        '22',
        '--cidr',
        '10.0.0.0/8',
        '--group-owner',
        '123456789012',
      ]);
      expect([r.code, r.stderr]).toEqual([
        252,
        '\nThe --group-owner option is not compatible with the --cidr option\n',
      ]);
      const ok = await w([
        'authorize-security-group-egress',
        '--group-id',
        groupW,
        '--protocol',
        'tcp',
        '--port',
        '22',
        '--source-group',
        peer,
        '--group-owner',
        '123456789012',
      ]);
      expect(ok.code).toBe(0);
    });
  });

  describe('--generate-cli-skeleton and --cli-input-json', () => {
    test('input skeletons are the CLI’s', async () => {
      for (const command of [
        'describe-security-groups',
        'create-tags',
        'describe-security-group-rules',
        'modify-security-group-rules',
      ]) {
        const r = await both([command, '--generate-cli-skeleton']);
        expect(r.w.code).toBe(0);
      }
      // botocore picks an enum value at random; Weir takes the first.
      const enumBlind = (s: string) => s.replace(/"ResourceType": "[^"]*"/g, '"ResourceType": "…"');
      await both(['authorize-security-group-egress', '--generate-cli-skeleton', 'input'], enumBlind);
    });

    test('output skeletons, formatted and queried like output', async () => {
      await both(['describe-managed-prefix-lists', '--generate-cli-skeleton', 'output']);
      await both(['describe-security-groups', '--generate-cli-skeleton', 'output', '--output', 'table']);
      await both([
        'authorize-security-group-egress',
        '--group-id',
        groupW,
        '--generate-cli-skeleton',
        'output',
        '--query',
        'SecurityGroupRules[0]',
        '--output',
        'text',
      ]);
      const missing = await w(['authorize-security-group-egress', '--generate-cli-skeleton', 'output']);
      expect(missing.code).toBe(252);
    });

    test('yaml-input is the same skeleton in YAML', async () => {
      const yaml = await w(['create-tags', '--generate-cli-skeleton', 'yaml-input']);
      const json = await w(['create-tags', '--generate-cli-skeleton']);
      expect(parseYaml(yaml.stdout)).toEqual(JSON.parse(json.stdout));
    });

    test('--cli-input-json fills what the command line does not give', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'weir-input-'));
      const file = join(dir, 'input.json');
      const input = (name: string) => ({
        GroupName: name,
        Description: 'from the file',
        TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'src', Value: 'json' }] }],
      });
      writeFileSync(file, JSON.stringify(input('from-json-w')));
      const rw = await w([
        'create-security-group',
        '--cli-input-json',
        `file://${file}`,
        '--description',
        'from the command line',
      ]);
      writeFileSync(file, JSON.stringify(input('from-json-a')));
      const ra = await a([
        'create-security-group',
        '--cli-input-json',
        `file://${file}`,
        '--description',
        'from the command line',
      ]);
      expect(rw.code).toBe(0);
      expect(ra.code).toBe(0);
      const idW = (JSON.parse(rw.stdout) as { GroupId: string }).GroupId;
      const idA = (JSON.parse(ra.stdout) as { GroupId: string }).GroupId;
      const query = ['--query', 'SecurityGroups[0].[Description,Tags]', '--output', 'text'];
      const dw = await w(['describe-security-groups', '--group-ids', idW, ...query]);
      const da = await a(['describe-security-groups', '--group-ids', idA, ...query]);
      expect(dw.stdout).toBe(da.stdout);
      expect(dw.stdout).toContain('from the command line');
      const bad = await w(['create-security-group', '--cli-input-json', '{"GroupName": }']);
      const badA = await a(['create-security-group', '--cli-input-json', '{"GroupName": }']);
      expect(bad.stderr).toBe(badA.stderr);
      expect(bad.code).toBe(252);
    });

    test('--cli-input-yaml', async () => {
      const r = await w([
        'create-security-group',
        '--cli-input-yaml',
        'GroupName: from-yaml\nDescription: yaml input\n',
        '--query',
        'GroupId',
        '--output',
        'text',
      ]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^sg-[0-9a-f]+\n$/);
    });
  });

  describe('zero configuration against a local data dir', () => {
    const bareEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => ({
      PATH: process.env.PATH,
      HOME: mkdtempSync(join(tmpdir(), 'weir-home-')),
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      ...extra,
    });

    test('WEIR_DATA_DIR: endpoint from DATA/endpoint, credentials profile weir, us-east-1, said under --debug', async () => {
      expect(readFileSync(join(server.dataDir, 'endpoint'), 'utf8')).toBe(`${server.url}\n`);
      const r = await weir(['describe-security-groups', '--group-ids', groupW, '--debug'], {
        env: bareEnv({ WEIR_DATA_DIR: server.dataDir }),
        cwd: tmpdir(),
      });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe((await w(['describe-security-groups', '--group-ids', groupW])).stdout);
      expect(r.stderr).toContain(`using the local Weir data dir ${server.dataDir}: endpoint ${server.url}`);
      expect(r.stderr).toContain('credentials profile weir');
      expect(r.stderr).toContain('region us-east-1');
    });

    test('./weir-data in the working directory, for ec2 and sts', async () => {
      const cwd = mkdtempSync(join(tmpdir(), 'weir-cwd-'));
      symlinkSync(server.dataDir, join(cwd, 'weir-data'));
      const r = await weir(['describe-vpcs', '--query', 'length(Vpcs)'], { env: bareEnv({}), cwd });
      expect([r.code, r.stderr]).toEqual([0, '']);
      const sts = await weir(['get-caller-identity', '--query', 'Account', '--output', 'text'], {
        env: bareEnv({}),
        cwd,
        service: 'sts',
      });
      expect([sts.code, sts.stdout]).toEqual([0, '123456789012\n']);
    });

    test('configured credentials win over the data dir', async () => {
      const cwd = mkdtempSync(join(tmpdir(), 'weir-cwd-'));
      mkdirSync(join(cwd, 'weir-data'));
      const r = await weir(['describe-vpcs', '--debug'], {
        env: bareEnv({
          AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
          AWS_SECRET_ACCESS_KEY: 'x',
          AWS_DEFAULT_REGION: 'us-east-1',
          AWS_ENDPOINT_URL: server.url,
        }),
        cwd,
      });
      expect(r.code).toBe(254);
      expect(r.stderr).not.toContain('local Weir data dir');
      expect(r.stderr).toContain('when calling the DescribeVpcs operation');
      rmSync(cwd, { recursive: true, force: true });
    });
  });

  describe('a real process each', () => {
    // Asynchronous: the server answering these processes runs in this very process.
    const exec = (file: string, args: readonly string[]): Promise<Result> =>
      new Promise((resolve) => {
        execFile(file, args, { cwd: ROOT, env, encoding: 'utf8' }, (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
          resolve({ code, stdout, stderr });
        });
      });
    const node = (args: readonly string[]) =>
      exec(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args]);

    test('weir ec2 … prints what runCli prints and exits with its code', async () => {
      const args = [
        'ec2',
        '--endpoint-url',
        server.url,
        'describe-security-groups',
        '--group-ids',
        groupW,
        '--output',
        'table',
      ];
      const p = await node(args);
      expect(p.code).toBe(0);
      expect(p.stdout).toBe((await w(args.slice(3))).stdout);
      const err = await node([
        'ec2',
        '--endpoint-url',
        server.url,
        'delete-security-group',
        '--group-id',
        'sg-0123456789abcdef0',
      ]);
      expect(err.code).toBe(254);
      expect(err.stderr).toMatch(
        /^\nAn error occurred \(InvalidGroup\.NotFound\) when calling the DeleteSecurityGroup operation: /,
      );
    });

    test('the real aws process agrees with the in-process driver this file compares against', async () => {
      const args = ['describe-security-groups', '--group-ids', groupW, '--output', 'text'];
      const p = await exec('aws', withEndpoint(args));
      expect(p.code).toBe(0);
      expect(p.stdout).toBe((await a(args)).stdout);
      expect(p.stdout).toBe((await w(args)).stdout);
    });

    test('weir ec2 <command> help and --help describe every option', async () => {
      const help = await node(['ec2', 'authorize-security-group-egress', 'help']);
      expect(help.code).toBe(0);
      for (const option of [
        '--group-id',
        '--ip-permissions',
        '--tag-specifications',
        '--dry-run | --no-dry-run',
        '--protocol',
        '--port',
        '--cidr',
        '--source-group',
        '--group-owner',
        '--cli-input-json',
        '--generate-cli-skeleton',
        'Shorthand Syntax:',
        'JSON Syntax:',
        'GLOBAL OPTIONS',
        '--endpoint-url',
        'OUTPUT',
      ]) {
        expect(help.stdout).toContain(option);
      }
      expect((await weir(['authorize-security-group-egress', '--help'])).stdout).toBe(help.stdout);
    });
  });

  test('every command’s help lists every documented option', async () => {
    for (const operation of EC2_OPERATIONS) {
      const command = commandName(operation);
      const r = await weir([command, 'help']);
      expect(r.code).toBe(0);
      for (const arg of argumentTable(EC2_SERVICE, operation).filter((x) => x.documented)) {
        expect(r.stdout, `${command} --${arg.name}`).toContain(`--${arg.name}`);
      }
    }
    const service = await weir(['help']);
    expect(service.stdout).toContain('authorize-security-group-egress');
  });
});
