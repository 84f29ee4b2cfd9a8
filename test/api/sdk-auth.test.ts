/**
 * Authentication and authorization through real HTTP: SigV4 failures, read-only keys, account
 * isolation, STS GetCallerIdentity, raw signed requests (unknown actions and parameters), and
 * the unauthenticated /healthz and /metrics endpoints.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sha256 } from '@aws-crypto/sha256-js';
import {
  AuthorizeSecurityGroupEgressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeTagsCommand,
  DescribeVpcsCommand,
  EC2Client,
  RevokeSecurityGroupEgressCommand,
} from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { authorizeEgress, expectEc2Error, newGroup, rulesOf, tcp, uniqueName } from './sdk-helpers.js';

const ADMIN = { accessKeyId: 'AKIAWEIRTESTADMIN001', secretAccessKey: 'admin-secret-0123456789abcdef' };
const READONLY = { accessKeyId: 'AKIAWEIRTESTREADONLY', secretAccessKey: 'readonly-secret-0123456789abcd' };
const OTHER = { accessKeyId: 'AKIAWEIRTESTOTHERACC', secretAccessKey: 'other-secret-0123456789abcdef0' };
const OTHER_ACCOUNT = '210987654321';

type Creds = { accessKeyId: string; secretAccessKey: string };

let dir: string;
let server: TestServer;
let admin: EC2Client;
let readonly: EC2Client;
let other: EC2Client;

const clientFor = (creds: Creds, region = 'us-east-1') =>
  new EC2Client({ endpoint: server.url, region, credentials: creds, maxAttempts: 1 });
const stsFor = (creds: Creds) =>
  new STSClient({ endpoint: server.url, region: 'us-east-1', credentials: creds, maxAttempts: 1 });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'weir-auth-'));
  const file = join(dir, 'credentials');
  writeFileSync(
    file,
    [
      '[admin]',
      `aws_access_key_id = ${ADMIN.accessKeyId}`,
      `aws_secret_access_key = ${ADMIN.secretAccessKey}`,
      '',
      '[viewer]',
      `aws_access_key_id = ${READONLY.accessKeyId}`,
      `aws_secret_access_key = ${READONLY.secretAccessKey}`,
      'weir_role = readonly',
      '',
      '[other]',
      `aws_access_key_id = ${OTHER.accessKeyId}`,
      `aws_secret_access_key = ${OTHER.secretAccessKey}`,
      `weir_account_id = ${OTHER_ACCOUNT}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  server = await startTestServer({ credentialsFile: file });
  admin = clientFor(ADMIN);
  readonly = clientFor(READONLY);
  other = clientFor(OTHER);
});
afterAll(async () => {
  for (const c of [admin, readonly, other]) c?.destroy();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A SigV4-signed raw request, for what the SDK cannot send. */
async function rawRequest(
  params: Record<string, string>,
  opts: { creds?: Creds; signingDate?: Date; service?: string; method?: 'POST' | 'GET' } = {},
): Promise<{ status: number; body: string }> {
  const url = new URL(server.url);
  const body = new URLSearchParams(params).toString();
  const signer = new SignatureV4({
    service: opts.service ?? 'ec2',
    region: 'us-east-1',
    credentials: opts.creds ?? ADMIN,
    sha256: Sha256,
  });
  const method = opts.method ?? 'POST';
  const request = {
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: '/',
    query: method === 'GET' ? params : {},
    headers: {
      host: url.host,
      ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' } : {}),
    },
    ...(method === 'POST' ? { body } : {}),
  };
  const signed =
    method === 'GET'
      ? await signer.presign(request, {
          ...(opts.signingDate ? { signingDate: opts.signingDate } : {}),
          expiresIn: 300,
        })
      : await signer.sign(request, opts.signingDate ? { signingDate: opts.signingDate } : {});
  const query = new URLSearchParams(signed.query as Record<string, string>).toString();
  const res = await fetch(`${server.url}/${query ? `?${query}` : ''}`, {
    method,
    headers: Object.fromEntries(Object.entries(signed.headers).filter(([k]) => k !== 'host')),
    ...(method === 'POST' ? { body } : {}),
  });
  return { status: res.status, body: await res.text() };
}

const errorCode = (xml: string) => /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];

describe('SigV4 authentication', () => {
  it('a wrong secret is SignatureDoesNotMatch (403)', async () => {
    const c = clientFor({ accessKeyId: ADMIN.accessKeyId, secretAccessKey: 'not-the-secret-0123456789' });
    await expectEc2Error(c.send(new DescribeSecurityGroupsCommand({})), 'SignatureDoesNotMatch', 403);
    c.destroy();
  });

  it('an unknown access key is AuthFailure (401)', async () => {
    const c = clientFor({
      accessKeyId: 'AKIAUNKNOWNKEY000000',
      secretAccessKey: 'whatever-secret-0123456789',
    });
    await expectEc2Error(c.send(new DescribeSecurityGroupsCommand({})), 'AuthFailure', 401);
    c.destroy();
  });

  it('an unsigned request and a stale signature are refused', async () => {
    const unsigned = await fetch(server.url + '/', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=DescribeSecurityGroups&Version=2016-11-15',
    });
    expect(unsigned.status).toBeGreaterThanOrEqual(400);
    expect(unsigned.status).toBeLessThan(500);
    expect(await unsigned.text()).toMatch(/<Response><Errors><Error><Code>/);

    const stale = await rawRequest(
      { Action: 'DescribeSecurityGroups', Version: '2016-11-15' },
      { signingDate: new Date(Date.now() - 60 * 60 * 1000) },
    );
    expect(stale.status).toBe(400);
    expect(errorCode(stale.body)).toBe('RequestExpired');
  });

  it('raw signed requests: POST form and presigned GET both work', async () => {
    const post = await rawRequest({ Action: 'DescribeVpcs', Version: '2016-11-15' });
    expect(post.status).toBe(200);
    expect(post.body).toContain('<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">');
    const get = await rawRequest({ Action: 'DescribeVpcs', Version: '2016-11-15' }, { method: 'GET' });
    expect(get.status).toBe(200);
    expect(get.body).toContain('<vpcSet>');
  });

  it('unknown actions and parameters get EC2 error documents', async () => {
    const action = await rawRequest({ Action: 'LaunchRockets', Version: '2016-11-15' });
    expect(action.status).toBe(400);
    expect(errorCode(action.body)).toBe('InvalidAction');
    expect(action.body).toMatch(
      /^<\?xml[^>]*>\s*<Response><Errors><Error><Code>InvalidAction<\/Code><Message>[^<]+<\/Message><\/Error><\/Errors><RequestID>[^<]+<\/RequestID><\/Response>/,
    );

    const param = await rawRequest({
      Action: 'DescribeSecurityGroups',
      Version: '2016-11-15',
      Colour: 'blue',
    });
    expect(param.status).toBe(400);
    expect(errorCode(param.body)).toBe('UnknownParameter');

    const typed = await rawRequest({
      Action: 'DescribeSecurityGroups',
      Version: '2016-11-15',
      MaxResults: 'ten',
    });
    expect(typed.status).toBe(400);
    expect(errorCode(typed.body)).toBe('InvalidParameterValue');

    const missing = await rawRequest({
      Action: 'CreateSecurityGroup',
      Version: '2016-11-15',
      GroupName: uniqueName(),
    });
    expect(missing.status).toBe(400);
    expect(errorCode(missing.body)).toBe('MissingParameter');

    // The egress legacy top-level form is not supported by EC2 and is refused.
    const g = await newGroup(admin);
    const legacy = await rawRequest({
      Action: 'AuthorizeSecurityGroupEgress',
      Version: '2016-11-15',
      GroupId: g,
      IpProtocol: 'tcp',
      FromPort: '443',
      ToPort: '443',
      CidrIp: '10.0.0.0/8',
    });
    expect(legacy.status).toBe(400);
    expect(errorCode(legacy.body)).toBe('InvalidParameterCombination');
    expect(await rulesOf(admin, g)).toHaveLength(1);
  });
});

describe('read-only keys', () => {
  it('may Describe but gets UnauthorizedOperation (403) for writes, with or without DryRun', async () => {
    const g = await newGroup(admin);
    const [rule] = await authorizeEgress(admin, g, [tcp(443, '10.0.0.0/8')]);
    const seen = await readonly.send(new DescribeSecurityGroupsCommand({ GroupIds: [g] }));
    expect(seen.SecurityGroups?.[0]?.GroupId).toBe(g);
    const rules = await readonly.send(
      new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [g] }] }),
    );
    expect(rules.SecurityGroupRules).toHaveLength(2);
    await readonly.send(new DescribeTagsCommand({}));
    await expectEc2Error(readonly.send(new DescribeVpcsCommand({ DryRun: true })), 'DryRunOperation', 412);

    const writes: Promise<unknown>[] = [
      readonly.send(new CreateSecurityGroupCommand({ GroupName: uniqueName(), Description: 'x' })),
      readonly.send(
        new CreateSecurityGroupCommand({ GroupName: uniqueName(), Description: 'x', DryRun: true }),
      ),
      readonly.send(
        new AuthorizeSecurityGroupEgressCommand({ GroupId: g, IpPermissions: [tcp(22, '10.0.0.0/8')] }),
      ),
      readonly.send(
        new AuthorizeSecurityGroupEgressCommand({
          GroupId: g,
          IpPermissions: [tcp(22, '10.0.0.0/8')],
          DryRun: true,
        }),
      ),
      readonly.send(
        new RevokeSecurityGroupEgressCommand({
          GroupId: g,
          SecurityGroupRuleIds: [rule!.SecurityGroupRuleId!],
        }),
      ),
      readonly.send(new CreateTagsCommand({ Resources: [g], Tags: [{ Key: 'k', Value: 'v' }] })),
      readonly.send(new DeleteSecurityGroupCommand({ GroupId: g, DryRun: true })),
    ];
    for (const w of writes) await expectEc2Error(w, 'UnauthorizedOperation', 403);
    expect((await rulesOf(admin, g)).map((r) => r.SecurityGroupRuleId)).toContain(rule!.SecurityGroupRuleId);
    expect(await rulesOf(admin, g)).toHaveLength(2);
  });
});

describe('accounts', () => {
  it('a key with another weir_account_id sees an isolated namespace', async () => {
    const name = uniqueName();
    const g = await newGroup(admin, { name });
    await expectEc2Error(
      other.send(new DescribeSecurityGroupsCommand({ GroupIds: [g] })),
      'InvalidGroup.NotFound',
    );
    const theirs = await other.send(new DescribeSecurityGroupsCommand({}));
    expect(theirs.SecurityGroups!.every((x) => x.OwnerId === OTHER_ACCOUNT)).toBe(true);
    expect(theirs.SecurityGroups!.map((x) => x.GroupName)).toEqual(['default']);
    const mine = await admin.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: ['default'] }] }),
    );
    expect(theirs.SecurityGroups![0]!.GroupId).not.toBe(mine.SecurityGroups![0]!.GroupId);
    // The same name can exist in both accounts.
    const og = await newGroup(other, { name });
    const [r] = await authorizeEgress(other, og, [tcp(443, '10.0.0.0/8')]);
    expect(r?.GroupOwnerId).toBe(OTHER_ACCOUNT);
    expect(r?.SecurityGroupRuleArn).toContain(`:${OTHER_ACCOUNT}:security-group-rule/`);
    await expectEc2Error(
      admin.send(
        new RevokeSecurityGroupEgressCommand({
          GroupId: og,
          SecurityGroupRuleIds: [r!.SecurityGroupRuleId!],
        }),
      ),
      'InvalidGroup.NotFound',
    );
    await expectEc2Error(
      admin.send(new DeleteSecurityGroupCommand({ GroupId: og })),
      'InvalidGroup.NotFound',
    );
    expect(await rulesOf(other, og)).toHaveLength(2);
  });

  it('STS GetCallerIdentity returns the key’s account', async () => {
    const sts = stsFor(ADMIN);
    const me = await sts.send(new GetCallerIdentityCommand({}));
    expect(me.Account).toBe('123456789012');
    expect(me.Arn).toMatch(/^arn:aws:iam::123456789012:/);
    expect(me.UserId).toBeTruthy();
    sts.destroy();
    const stsOther = stsFor(OTHER);
    expect((await stsOther.send(new GetCallerIdentityCommand({}))).Account).toBe(OTHER_ACCOUNT);
    stsOther.destroy();
    const stsRo = stsFor(READONLY);
    expect((await stsRo.send(new GetCallerIdentityCommand({}))).Account).toBe('123456789012');
    stsRo.destroy();
    const bad = stsFor({ accessKeyId: ADMIN.accessKeyId, secretAccessKey: 'wrong-secret-0123456789abc' });
    await expectEc2Error(bad.send(new GetCallerIdentityCommand({})), 'SignatureDoesNotMatch', 403);
    bad.destroy();
  });
});

describe('health and metrics', () => {
  it('GET /healthz and GET /metrics respond without signing', async () => {
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    await admin.send(new DescribeVpcsCommand({}));
    const metrics = await fetch(`${server.url}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toContain('weir_api_requests_total');
    expect(text).toMatch(/weir_api_requests_total\{action="DescribeVpcs",code="ok"\} [1-9]/);
    const nope = await fetch(`${server.url}/nope`);
    expect(nope.status).toBe(404);
  });
});
