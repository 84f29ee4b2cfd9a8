/**
 * The pieces under `weir ec2`, without the AWS CLI: argparse's decisions (values, extras, the `help`
 * positional, prefixes), botocore's names, serializer (checked as the exact inverse of the server's
 * query decoder for every operation), response and error parsing, parameter validation,
 * configuration resolution from files and environment, paging tokens, retries, timeouts and TLS
 * options against small local servers.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EC2_OPERATIONS } from '../../src/ec2-model/index.js';
import { parseEc2Query } from '../../src/api/query.js';
import { ArgParseError, parseKnownArgs } from '../../src/cli/ec2/input/argparse.js';
import type { OptionSpec } from '../../src/cli/ec2/input/argparse.js';
import { argumentTable, buildCallParameters, commandName } from '../../src/cli/ec2/input/arguments.js';
import { Client, ClientError, paginate } from '../../src/cli/ec2/wire/client.js';
import { ConfigError, resolveConfig } from '../../src/cli/ec2/wire/config.js';
import { parseError, parseResponse } from '../../src/cli/ec2/wire/parse.js';
import { runCli } from '../../src/cli/ec2/run.js';
import { awsQuote, formBody, serializeParams } from '../../src/cli/ec2/wire/serialize.js';
import { EC2_SERVICE, STS_SERVICE, xformName } from '../../src/cli/ec2/service.js';
import { generateSkeleton } from '../../src/cli/ec2/input/skeleton.js';
import { ParamValidationError, validateParams } from '../../src/cli/ec2/wire/validate.js';
import { XmlSyntaxError, parseXml } from '../../src/cli/ec2/wire/xml-dom.js';
import { startServer } from '../../src/server/index.js';
import { hasOpenssl, requireTool } from '../helpers/tools.js';

describe('argparse, as the AWS CLI uses it', () => {
  const specs: OptionSpec[] = [
    { name: 'group-ids', dest: 'group_ids', nargs: 'star' },
    { name: 'group-id', dest: 'group_id', nargs: 'one' },
    { name: 'dry-run', dest: 'dry_run', nargs: 'flag', flagValue: true },
    { name: 'no-dry-run', dest: 'dry_run', nargs: 'flag', flagValue: false },
    { name: 'starting-token', dest: 'starting_token', nargs: 'one' },
    { name: 'port', dest: 'port', nargs: 'one' },
  ];
  const parse = (args: string[]) => parseKnownArgs(args, specs, true);

  // Each case was checked against `aws ec2 describe-security-groups …` (its "Unknown options:" line
  // lists the extras, then the `help` positional).
  test.each([
    [['--starting-token', 'A', 'B'], [], 'B'],
    [['--group-ids', 'A', 'B', 'C', '--dry-run', 'D', 'E'], ['E'], 'D'],
    [['--dry-run', 'D', '--group-ids', 'X', 'E'], [], 'D'],
    [['X', '--dry-run', 'D'], ['D'], 'X'],
    [['--bogus', 'X', '--dry-run', 'D'], ['--bogus', 'D'], 'X'],
  ])('%j leaves extras %j and help %j', (args, extras, positional) => {
    const r = parse(args);
    expect(r.extras).toEqual(extras);
    expect(r.positional).toBe(positional);
  });

  test('values: --opt=value, prefixes, negative numbers and spaced values, --x/--no-x sharing a dest', () => {
    const r = parse(['--group-id=sg-1', '--port', '-1', '--no-dry', '--group-ids', 'a', '-x y']);
    expect(Object.fromEntries(r.values)).toEqual({
      group_id: 'sg-1',
      port: '-1',
      dry_run: false,
      group_ids: ['a', '-x y'],
    });
    expect(() => parse(['--group', 'x'])).toThrow(
      new ArgParseError('ambiguous option: --group could match --group-ids, --group-id'),
    );
    expect(() => parse(['--port', '-1-8'])).toThrow('argument --port: expected one argument');
    expect(() => parse(['--dry-run=yes'])).toThrow("argument --dry-run: ignored explicit argument 'yes'");
    expect(() => parseKnownArgs([], [{ name: 'group-id', dest: 'g', nargs: 'one', required: true }])).toThrow(
      'the following arguments are required: --group-id',
    );
  });

  test('xformName is botocore’s', () => {
    expect(
      [
        'IpPermissions',
        'CidrIpv6',
        'DryRun',
        'SecurityGroupRuleIds',
        'UpdateSecurityGroupRuleDescriptionsEgress',
        'GatewayARNs',
      ].map((n) => xformName(n)),
    ).toEqual([
      'ip-permissions',
      'cidr-ipv6',
      'dry-run',
      'security-group-rule-ids',
      'update-security-group-rule-descriptions-egress',
      'gateway-arns',
    ]);
  });

  test('the convenience options’ hidden members and the paging options', () => {
    const names = argumentTable(EC2_SERVICE, 'AuthorizeSecurityGroupEgress').map(
      (a) => `${a.name}${a.documented ? '' : '*'}`,
    );
    expect(names).toEqual([
      'tag-specifications',
      'dry-run',
      'group-id',
      'source-security-group-name*',
      'source-security-group-owner-id*',
      'ip-protocol*',
      'from-port*',
      'to-port*',
      'cidr-ip*',
      'ip-permissions',
      'protocol',
      'port',
      'cidr',
      'source-group',
      'group-owner',
      'cli-input-json',
      'cli-input-yaml',
      'generate-cli-skeleton',
    ]);
    const describe = argumentTable(EC2_SERVICE, 'DescribeSecurityGroups').map(
      (a) => `${a.name}${a.documented ? '' : '*'}`,
    );
    expect(describe).toEqual(
      expect.arrayContaining(['next-token*', 'max-results*', 'starting-token', 'page-size', 'max-items']),
    );
  });

  test('the convenience options build IpPermissions[0]', () => {
    const table = argumentTable(EC2_SERVICE, 'RevokeSecurityGroupIngress');
    const values = new Map<string, string>([
      ['group_id', 'sg-1'],
      ['protocol', 'udp'],
      ['port', '53'],
      ['source_group', 'dns-servers'],
      ['group_owner', '123456789012'],
    ]);
    expect(buildCallParameters(table, values)).toEqual({
      GroupId: 'sg-1',
      IpPermissions: [
        {
          IpProtocol: 'udp',
          FromPort: 53,
          ToPort: 53,
          UserIdGroupPairs: [{ GroupName: 'dns-servers', UserId: '123456789012' }],
        },
      ],
    });
  });
});

describe('serializer: the inverse of the server’s decoder, for every operation', () => {
  /** Skeleton values the decoder's range checks accept. */
  const fit = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(fit);
    if (typeof v === 'number') return 10;
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fit(x)]));
    return v === '' ? 'x' : v;
  };
  for (const operation of EC2_OPERATIONS) {
    test(operation, () => {
      const op = EC2_SERVICE.operation(operation);
      const params = op.input
        ? (fit(generateSkeleton(EC2_SERVICE, op.input.shape)) as Record<string, unknown>)
        : {};
      const pairs = serializeParams(EC2_SERVICE, operation, params);
      expect(pairs.slice(0, 2)).toEqual([
        ['Action', operation],
        ['Version', '2016-11-15'],
      ]);
      const decoded = parseEc2Query(operation, new URLSearchParams(formBody(pairs)));
      expect(decoded).toEqual(params);
    });
  }

  test('wire names and quoting as botocore writes them', () => {
    const body = formBody(
      serializeParams(EC2_SERVICE, 'CreateTags', {
        Resources: ['sg-1'],
        Tags: [{ Key: 'a b', Value: "!*'()~" }],
        DryRun: false,
      }),
    );
    expect(body).toBe(
      'Action=CreateTags&Version=2016-11-15&ResourceId.1=sg-1&Tag.1.Key=a%20b&Tag.1.Value=%21%2A%27%28%29~&DryRun=false',
    );
    expect(awsQuote('é/')).toBe('%C3%A9%2F');
    expect(formBody(serializeParams(STS_SERVICE, 'GetCallerIdentity', {}))).toBe(
      'Action=GetCallerIdentity&Version=2011-06-15',
    );
  });
});

describe('responses', () => {
  test('XML: entities, character references, CDATA, prefixes, CRLF', () => {
    const root = parseXml(
      '<?xml version="1.0"?>\r\n<a:R xmlns:a="u"><b>x &amp; &#13;&#x41;<![CDATA[<y>]]>\r\nz</b><c/></a:R>',
    );
    expect(root.name).toBe('R');
    expect(root.children.map((c) => [c.name, c.text])).toEqual([
      ['b', 'x & \rA<y>\nz'],
      ['c', ''],
    ]);
    expect(() => parseXml('<a><b></a>')).toThrow(XmlSyntaxError);
    expect(() => parseXml('<a>&nbsp;</a>')).toThrow(XmlSyntaxError);
  });

  test('EC2 output typed by the model, lists from <item>, members in model order', () => {
    const xml =
      '<AuthorizeSecurityGroupEgressResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-1</requestId>' +
      '<securityGroupRuleSet><item><toPort>80</toPort><isEgress>true</isEgress><groupId>sg-1</groupId><fromPort>-1</fromPort>' +
      '<description></description><tagSet/></item></securityGroupRuleSet><return>true</return></AuthorizeSecurityGroupEgressResponse>';
    const parsed = parseResponse(EC2_SERVICE, 'AuthorizeSecurityGroupEgress', xml);
    expect(JSON.stringify(parsed)).toBe(
      JSON.stringify({
        Return: true,
        SecurityGroupRules: [
          { GroupId: 'sg-1', IsEgress: true, FromPort: -1, ToPort: 80, Description: '', Tags: [] },
        ],
        ResponseMetadata: { RequestId: 'r-1' },
      }),
    );
  });

  test('STS output inside its result wrapper', () => {
    const xml =
      '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>' +
      '<Arn>arn:aws:iam::123456789012:user/a</Arn><UserId>AIDA</UserId><Account>123456789012</Account>' +
      '</GetCallerIdentityResult><ResponseMetadata><RequestId>q</RequestId></ResponseMetadata></GetCallerIdentityResponse>';
    expect(JSON.stringify(parseResponse(STS_SERVICE, 'GetCallerIdentity', xml))).toBe(
      '{"UserId":"AIDA","Account":"123456789012","Arn":"arn:aws:iam::123456789012:user/a","ResponseMetadata":{"RequestId":"q"}}',
    );
  });

  test('errors: EC2, STS, and bodies that are not XML', () => {
    expect(
      parseError(
        400,
        '<Response><Errors><Error><Code>InvalidGroup.NotFound</Code><Message>no &lt;group&gt;</Message></Error></Errors><RequestID>r</RequestID></Response>',
      ),
    ).toEqual({ code: 'InvalidGroup.NotFound', message: 'no <group>', requestId: 'r' });
    expect(
      parseError(
        403,
        '<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>m</Message></Error><RequestId>q</RequestId></ErrorResponse>',
      ),
    ).toEqual({
      code: 'InvalidClientTokenId',
      message: 'm',
      requestId: 'q',
    });
    expect(parseError(503, '<html><body>down</body></html>')).toEqual({
      code: '503',
      message: 'Service Unavailable',
    });
    expect(parseError(502, '')).toEqual({ code: '502', message: 'Bad Gateway' });
  });
});

describe('botocore’s parameter validation', () => {
  test('every problem, in botocore’s words', () => {
    const err = (() => {
      try {
        validateParams(EC2_SERVICE, 'AuthorizeSecurityGroupEgress', {
          IpPermissions: [{ FromPort: 'x', Foo: 1, IpRanges: 'a' }],
          DryRun: 'yes',
        });
      } catch (e) {
        return e as ParamValidationError;
      }
      throw new Error('no error');
    })();
    expect(err).toBeInstanceOf(ParamValidationError);
    expect(err.message).toBe(
      [
        'Parameter validation failed:',
        'Missing required parameter in input: "GroupId"',
        'Unknown parameter in IpPermissions[0]: "Foo", must be one of: IpProtocol, FromPort, ToPort, UserIdGroupPairs, IpRanges, Ipv6Ranges, PrefixListIds',
        "Invalid type for parameter IpPermissions[0].FromPort, value: x, type: <class 'str'>, valid types: <class 'int'>",
        "Invalid type for parameter IpPermissions[0].IpRanges, value: a, type: <class 'str'>, valid types: <class 'list'>, <class 'tuple'>",
        "Invalid type for parameter DryRun, value: yes, type: <class 'str'>, valid types: <class 'bool'>",
      ].join('\n'),
    );
    expect(() => validateParams(EC2_SERVICE, 'DescribeSecurityGroups', { MaxResults: 2 })).toThrow(
      'Invalid value for parameter MaxResults, value: 2, valid min value: 5',
    );
  });
});

describe('configuration, as the AWS CLI resolves it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-config-'));
  const config = join(dir, 'config');
  const credentials = join(dir, 'credentials');
  writeFileSync(
    config,
    '[default]\nregion = eu-west-1\noutput = text\n\n[profile dev]\nregion = eu-central-1\nendpoint_url = http://dev.example:8484\ns3 =\n  max_concurrent_requests = 10\n\n[profile cfgkeys]\naws_access_key_id = AKIACFG\naws_secret_access_key = cfgsecret\n',
  );
  writeFileSync(
    credentials,
    '# keys\n[default]\naws_access_key_id = AKIADEF\naws_secret_access_key = defsecret\n\n[dev]\naws_access_key_id=AKIADEV\naws_secret_access_key=devsecret\naws_session_token=tok\n\n[half]\naws_access_key_id = AKIAHALF\n',
  );
  const base = { AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: credentials, HOME: dir };
  const resolve = (env: Record<string, string>, inputs: { profile?: string; region?: string } = {}) =>
    resolveConfig('ec2', { signRequest: true, ...inputs }, { env: { ...base, ...env }, cwd: dir });

  test('default profile: region and output from config, keys from credentials', () => {
    const r = resolve({});
    expect([r.region, r.output, r.credentials?.accessKeyId, r.credentials?.method, r.endpointUrl]).toEqual([
      'eu-west-1',
      'text',
      'AKIADEF',
      'shared-credentials-file',
      undefined,
    ]);
  });

  test('--profile ignores environment keys; AWS_PROFILE does not', () => {
    const env = { AWS_ACCESS_KEY_ID: 'AKIAENV', AWS_SECRET_ACCESS_KEY: 'envsecret' };
    const explicit = resolve(env, { profile: 'dev' });
    expect([
      explicit.credentials?.accessKeyId,
      explicit.credentials?.sessionToken,
      explicit.region,
      explicit.endpointUrl,
    ]).toEqual(['AKIADEV', 'tok', 'eu-central-1', 'http://dev.example:8484']);
    expect(resolve({ ...env, AWS_PROFILE: 'dev' }).credentials?.accessKeyId).toBe('AKIAENV');
    expect(resolve({ AWS_PROFILE: 'cfgkeys' }).credentials).toMatchObject({
      accessKeyId: 'AKIACFG',
      method: 'config-file',
    });
  });

  test('region and endpoint precedence', () => {
    expect(resolve({ AWS_DEFAULT_REGION: 'us-west-2' }).region).toBe('us-west-2');
    expect(resolve({ AWS_DEFAULT_REGION: 'us-west-2', AWS_REGION: 'ap-south-1' }).region).toBe('ap-south-1');
    expect(resolve({ AWS_REGION: 'ap-south-1' }, { region: 'sa-east-1' }).region).toBe('sa-east-1');
    expect(
      resolve({ AWS_ENDPOINT_URL: 'http://all:1', AWS_ENDPOINT_URL_EC2: 'http://ec2:1' }).endpointUrl,
    ).toBe('http://ec2:1');
  });

  test('missing profiles and partial keys are configuration errors', () => {
    expect(() => resolve({}, { profile: 'nope' })).toThrow(
      new ConfigError('The config profile (nope) could not be found'),
    );
    expect(() => resolve({}, { profile: 'half' })).toThrow(
      'Partial credentials found in shared-credentials-file, missing: aws_secret_access_key',
    );
    expect(() => resolve({ AWS_ACCESS_KEY_ID: 'x' })).toThrow(
      'Partial credentials found in env, missing: AWS_SECRET_ACCESS_KEY',
    );
  });

  test('a data dir without credentials does not stand in', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'weir-cwd-'));
    const empty = mkdtempSync(join(tmpdir(), 'weir-data-'));
    const r = resolveConfig(
      'ec2',
      { signRequest: true },
      {
        env: {
          AWS_CONFIG_FILE: '/nonexistent',
          AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
          WEIR_DATA_DIR: empty,
        },
        cwd,
      },
    );
    expect([r.credentials, r.localWeir]).toEqual([undefined, undefined]);
  });
});

describe('the wire: retries, paging tokens, timeouts, TLS', () => {
  let handler: (req: IncomingMessage, res: ServerResponse, body: string) => void = () => undefined;
  const seen: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push(body);
      handler(req, res, body);
    });
  });
  let url: string;
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const client = (maxAttempts: number) =>
    new Client({
      model: EC2_SERVICE,
      endpoint: new URL(url),
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIA', secretAccessKey: 's', method: 'env' },
      signRequest: true,
      verifySsl: true,
      connectTimeout: 5,
      readTimeout: 5,
      maxAttempts,
      userAgent: 'test',
      sleep: async () => undefined,
    });
  const vpcs = (ids: string[], next?: string) =>
    `<DescribeVpcsResponse><requestId>r</requestId><vpcSet>${ids.map((i) => `<item><vpcId>${i}</vpcId></item>`).join('')}</vpcSet>${next ? `<nextToken>${next}</nextToken>` : ''}</DescribeVpcsResponse>`;

  test('throttling and 5xx are retried; out of attempts says so', async () => {
    let calls = 0;
    handler = (_req, res) => {
      calls++;
      if (calls === 1) res.writeHead(503).end('');
      else if (calls === 2)
        res
          .writeHead(400)
          .end(
            '<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>slow</Message></Error></Errors></Response>',
          );
      else res.writeHead(200).end(vpcs(['vpc-1']));
    };
    expect(await client(3).call('DescribeVpcs', {})).toMatchObject({ Vpcs: [{ VpcId: 'vpc-1' }] });
    calls = 0;
    const err = await client(2)
      .call('DescribeVpcs', {})
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).message).toBe(
      'An error occurred (RequestLimitExceeded) when calling the DescribeVpcs operation (reached max retries: 1): slow',
    );
    handler = (_req, res) =>
      void res
        .writeHead(400)
        .end(
          '<Response><Errors><Error><Code>InvalidVpcID.NotFound</Code><Message>no</Message></Error></Errors></Response>',
        );
    calls = 0;
    await expect(client(3).call('DescribeVpcs', {})).rejects.toThrow(
      'An error occurred (InvalidVpcID.NotFound) when calling the DescribeVpcs operation: no',
    );
  });

  test('paging: --max-items truncation and resumption, as botocore’s tokens encode them', async () => {
    const pages: Record<string, string> = { '': vpcs(['v1', 'v2', 'v3'], 't2'), t2: vpcs(['v4', 'v5']) };
    handler = (_req, res, body) =>
      void res.writeHead(200).end(pages[new URLSearchParams(body).get('NextToken') ?? '']);
    const config = EC2_SERVICE.paginator('DescribeVpcs')!;
    const first = await paginate(client(1), 'DescribeVpcs', {}, config, { MaxItems: 2 });
    expect(first.pages.map((p) => p.Vpcs)).toEqual([[{ VpcId: 'v1' }, { VpcId: 'v2' }]]);
    expect(Buffer.from(first.resumeToken!, 'base64').toString()).toBe(
      '{"NextToken": null, "boto_truncate_amount": 2}',
    );
    const rest = await paginate(client(1), 'DescribeVpcs', {}, config, {
      StartingToken: first.resumeToken!,
      MaxItems: 2,
    });
    expect(rest.pages.flatMap((p) => p.Vpcs as unknown[])).toEqual([{ VpcId: 'v3' }, { VpcId: 'v4' }]);
    expect(Buffer.from(rest.resumeToken!, 'base64').toString()).toBe(
      '{"NextToken": "t2", "boto_truncate_amount": 1}',
    );
    const all = await paginate(client(1), 'DescribeVpcs', {}, config, { PageSize: 5 });
    expect(all.pages).toHaveLength(2);
    expect(all.resumeToken).toBeUndefined();
    expect(new URLSearchParams(seen[seen.length - 1]).get('MaxResults')).toBe('5');
  });

  test('--cli-read-timeout: the CLI’s message, exit 255', async () => {
    handler = () => undefined;
    const out: string[] = [];
    const code = await runCli(['ec2', '--endpoint-url', url, '--cli-read-timeout', '1', 'describe-vpcs'], {
      env: {
        AWS_ACCESS_KEY_ID: 'a',
        AWS_SECRET_ACCESS_KEY: 'b',
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_MAX_ATTEMPTS: '1',
        AWS_CONFIG_FILE: '/nonexistent',
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      },
      stdout: (t) => out.push(t),
      stderr: (t) => out.push(t),
    });
    expect([code, out.join('')]).toEqual([255, `\nRead timeout on endpoint URL: "${url}"\n`]);
  });

  test.skipIf(!requireTool('openssl', hasOpenssl()))(
    'HTTPS: verified by default, --ca-bundle trusts a private CA, --no-verify-ssl skips the check',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'weir-tls-'));
      const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          key,
          '-out',
          cert,
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
        ],
        { stdio: 'ignore' },
      );
      const tls = createHttpsServer(
        { key: readFileSync(key), cert: readFileSync(cert) },
        (_req, res) => void res.writeHead(200).end(vpcs(['vpc-tls'])),
      );
      await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
      const tlsUrl = `https://127.0.0.1:${(tls.address() as AddressInfo).port}/`;
      const env = {
        AWS_ACCESS_KEY_ID: 'a',
        AWS_SECRET_ACCESS_KEY: 'b',
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_MAX_ATTEMPTS: '1',
        AWS_CONFIG_FILE: '/nonexistent',
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      };
      const run = async (extra: string[]) => {
        let stdout = '';
        let stderr = '';
        const code = await runCli(
          [
            'ec2',
            '--endpoint-url',
            tlsUrl,
            ...extra,
            'describe-vpcs',
            '--query',
            'Vpcs[0].VpcId',
            '--output',
            'text',
          ],
          {
            env,
            stdout: (t) => void (stdout += t),
            stderr: (t) => void (stderr += t),
          },
        );
        return { code, stdout, stderr };
      };
      try {
        const refused = await run([]);
        expect(refused.code).toBe(255);
        expect(refused.stderr).toMatch(
          new RegExp(`^\\nSSL validation failed for ${tlsUrl.replaceAll('.', '\\.')} `),
        );
        expect(await run(['--ca-bundle', cert])).toEqual({ code: 0, stdout: 'vpc-tls\n', stderr: '' });
        expect(await run(['--no-verify-ssl'])).toEqual({ code: 0, stdout: 'vpc-tls\n', stderr: '' });
      } finally {
        tls.closeAllConnections();
        await new Promise<void>((r) => tls.close(() => r()));
      }
    },
  );

  test('--no-sign-request sends no Authorization header', async () => {
    let auth: string | undefined = 'unset';
    handler = (req, res) => {
      auth = req.headers.authorization;
      res.writeHead(200).end(vpcs([]));
    };
    const code = await runCli(['ec2', '--endpoint-url', url, '--no-sign-request', 'describe-vpcs'], {
      env: {
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_CONFIG_FILE: '/nonexistent',
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      },
      stdout: () => undefined,
      stderr: () => undefined,
      cwd: tmpdir(),
    });
    expect([code, auth]).toEqual([0, undefined]);
  });
});

test('every model operation is a command', () => {
  expect(EC2_OPERATIONS.map(commandName)).toEqual(
    expect.arrayContaining([
      'authorize-security-group-egress',
      'revoke-security-group-egress',
      'authorize-security-group-ingress',
      'revoke-security-group-ingress',
      'create-security-group',
      'delete-security-group',
      'describe-security-groups',
      'describe-security-group-rules',
      'modify-security-group-rules',
      'update-security-group-rule-descriptions-egress',
      'create-managed-prefix-list',
      'get-managed-prefix-list-entries',
      'modify-managed-prefix-list',
      'create-tags',
      'delete-tags',
      'describe-tags',
      'describe-vpcs',
      'create-vpc',
      'describe-managed-prefix-lists',
    ]),
  );
});

test('weir serve records its endpoint in the data dir while it runs', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'weir-serve-'));
  const server = await startServer({
    dataDir,
    apiListen: '127.0.0.1:0',
    logger: pino({ level: 'silent' }),
    print: () => undefined,
  });
  const file = join(dataDir, 'endpoint');
  expect(readFileSync(file, 'utf8')).toBe(`${server.url}\n`);
  await server.close();
  expect(existsSync(file)).toBe(false);
});
