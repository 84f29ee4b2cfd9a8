/**
 * @module test/api-garbage — the EC2 Query API fed generated hostile requests, signed so that
 * they reach the actions: every action with parameters drawn from near-valid and hostile values
 * (bad indexes, overlong and control-character strings, wrong types, unknown names, ids of the
 * wrong kind). Each must get 200 or a 4xx EC2 error document (never a 5xx or a dropped
 * connection), and a refused request must leave the stored state exactly as it was.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import {
  DescribeManagedPrefixListsCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeTagsCommand,
  DescribeVpcsCommand,
} from '@aws-sdk/client-ec2';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { SignatureV4 } from '@smithy/signature-v4';
import fc from 'fast-check';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { newGroup, tcp, authorizeEgress } from './sdk-helpers.js';
import { startTestServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

const ACTIONS = [
  'CreateSecurityGroup',
  'DeleteSecurityGroup',
  'DescribeSecurityGroups',
  'AuthorizeSecurityGroupEgress',
  'AuthorizeSecurityGroupIngress',
  'RevokeSecurityGroupEgress',
  'RevokeSecurityGroupIngress',
  'DescribeSecurityGroupRules',
  'ModifySecurityGroupRules',
  'UpdateSecurityGroupRuleDescriptionsEgress',
  'CreateTags',
  'DeleteTags',
  'DescribeTags',
  'CreateVpc',
  'DeleteVpc',
  'CreateManagedPrefixList',
  'DescribeManagedPrefixLists',
  'GetManagedPrefixListEntries',
  'ModifyManagedPrefixList',
  'DeleteManagedPrefixList',
  'DescribePrefixLists',
  'DescribeVpcAttribute',
  'ModifyVpcAttribute',
  'DescribeVpcClassicLink',
  'DescribeVpcClassicLinkDnsSupport',
] as const;

const xml = new XMLParser({ ignoreAttributes: true });

describe('the EC2 API under generated hostile requests', () => {
  let server: TestServer;
  let ec2: EC2Client;
  let signer: SignatureV4;
  let groupId = '';
  let ruleId = '';
  let prefixListId = '';

  beforeAll(async () => {
    server = await startTestServer();
    ec2 = server.ec2();
    signer = new SignatureV4({
      service: 'ec2',
      region: 'us-east-1',
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
      sha256: Sha256,
    });
    groupId = await newGroup(ec2, { name: 'garbage' });
    const added = await authorizeEgress(ec2, groupId, [tcp(443, '10.0.0.0/8')]);
    ruleId = added[0]?.SecurityGroupRuleId ?? '';
    const pl = await send({
      Action: 'CreateManagedPrefixList',
      PrefixListName: 'garbage',
      MaxEntries: '5',
      AddressFamily: 'IPv4',
      'Entry.1.Cidr': '192.0.2.0/24',
    });
    prefixListId = /<prefixListId>([^<]+)</.exec(pl.text)?.[1] ?? '';
    expect(ruleId).toMatch(/^sgr-/);
    expect(prefixListId).toMatch(/^pl-/);
  }, 60_000);

  afterAll(async () => {
    ec2?.destroy();
    await server?.stop();
  });

  /** Signs and POSTs a Query request (Version added); resolves with status and body. */
  async function send(params: Record<string, string>): Promise<{ status: number; text: string }> {
    const url = new URL(server.url);
    const body = new URLSearchParams({ Version: '2016-11-15', ...params }).toString();
    const signed = await signer.sign({
      method: 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: '/',
      query: {},
      headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body,
    });
    const res = await fetch(server.url, { method: 'POST', headers: signed.headers, body });
    return { status: res.status, text: await res.text() };
  }

  /** Everything a request could change, without request ids. */
  async function state(): Promise<string> {
    const [groups, rules, lists, tags, vpcs] = await Promise.all([
      ec2.send(new DescribeSecurityGroupsCommand({})),
      ec2.send(new DescribeSecurityGroupRulesCommand({})),
      ec2.send(new DescribeManagedPrefixListsCommand({})),
      ec2.send(new DescribeTagsCommand({})),
      ec2.send(new DescribeVpcsCommand({})),
    ]);
    const entries = await send({ Action: 'GetManagedPrefixListEntries', PrefixListId: prefixListId });
    return JSON.stringify([
      groups.SecurityGroups,
      rules.SecurityGroupRules,
      lists.PrefixLists,
      tags.Tags,
      vpcs.Vpcs,
      entries.text.replace(/<requestId>[^<]*<\/requestId>/, ''),
    ]);
  }

  function params(): fc.Arbitrary<Record<string, string>> {
    const hostile = fc.constantFrom(
      '',
      ' ',
      '-1',
      '0',
      '65536',
      '99999999999999999999',
      '1.5',
      '1e3',
      'NaN',
      'true',
      'null',
      'x'.repeat(300),
      'x'.repeat(70_000),
      '\u0000',
      '\ud800',
      'é',
      '<x>&amp;</x>',
      "'; DROP TABLE rules; --",
      '0.0.0.0/0',
      '::/0',
      '10.0.0.1/8',
      '10.0.0.0/33',
      '2001:db8::/129',
      'sg-00000000',
      'sg-',
      'sgr-123',
      'pl-zzz',
      'vpc-1',
      'tcp',
      'icmp',
      '-1',
      '58',
      'all',
    );
    const known = fc.constantFrom(
      groupId,
      ruleId,
      prefixListId,
      'default',
      'garbage',
      'tcp',
      '443',
      '10.0.0.0/8',
    );
    const value = fc.oneof({ weight: 2, arbitrary: known }, { weight: 3, arbitrary: hostile });
    const index = fc.oneof(
      { weight: 5, arbitrary: fc.constant('1') },
      fc.constantFrom('2', '0', '-1', '100000', 'x', ''),
    );
    const name = fc.oneof(
      fc.constantFrom(
        'GroupId',
        'GroupName',
        'GroupDescription',
        'Description',
        'VpcId',
        'CidrBlock',
        'DryRun',
        'MaxResults',
        'NextToken',
        'PrefixListId',
        'PrefixListName',
        'MaxEntries',
        'AddressFamily',
        'CurrentVersion',
        'TargetVersion',
        'ResourceId.1',
        'GroupId.1',
        'SecurityGroupRuleId.1',
        'Action',
        'Version',
        'Unknown',
      ),
      fc
        .tuple(
          index,
          fc.constantFrom(
            'IpProtocol',
            'FromPort',
            'ToPort',
            'IpRanges.1.CidrIp',
            'IpRanges.1.Description',
            'Ipv6Ranges.1.CidrIpv6',
            'PrefixListIds.1.PrefixListId',
            'Groups.1.GroupId',
            'IpRanges.2.CidrIp',
          ),
        )
        .map(([i, f]) => `IpPermissions.${i}.${f}`),
      fc
        .tuple(
          index,
          fc.constantFrom(
            'SecurityGroupRuleId',
            'SecurityGroupRule.IpProtocol',
            'SecurityGroupRule.FromPort',
            'SecurityGroupRule.ToPort',
            'SecurityGroupRule.CidrIpv4',
            'SecurityGroupRule.Description',
          ),
        )
        .map(([i, f]) => `SecurityGroupRule.${i}.${f}`),
      fc.tuple(index, fc.constantFrom('Name', 'Value.1', 'Value.2')).map(([i, f]) => `Filter.${i}.${f}`),
      fc.tuple(index, fc.constantFrom('Key', 'Value')).map(([i, f]) => `Tag.${i}.${f}`),
      fc
        .tuple(index, fc.constantFrom('ResourceType', 'Tag.1.Key', 'Tag.1.Value'))
        .map(([i, f]) => `TagSpecification.${i}.${f}`),
      fc.tuple(index, fc.constantFrom('Cidr', 'Description')).map(([i, f]) => `AddEntry.${i}.${f}`),
      fc.tuple(index).map(([i]) => `RemoveEntry.${i}.Cidr`),
    );
    const free = fc
      .tuple(fc.constantFrom(...ACTIONS), fc.array(fc.tuple(name, value), { maxLength: 8 }))
      .map(([action, pairs]) => ({ ...Object.fromEntries(pairs), Action: action }));
    // Valid requests with one value replaced by a hostile one, or one parameter left out (or
    // none: the request goes through), so that the checks deep in each action are reached.
    const port = fc.integer({ min: 1, max: 65535 }).map(String);
    const cidr = fc
      .tuple(fc.integer({ min: 1, max: 223 }), fc.integer({ min: 0, max: 255 }))
      .map(([a, b]) => `${a}.${b}.0.0/16`);
    const template = fc.oneof(
      fc.tuple(port, cidr).map(([p, c]) => ({
        Action: 'AuthorizeSecurityGroupEgress',
        GroupId: groupId,
        'IpPermissions.1.IpProtocol': 'tcp',
        'IpPermissions.1.FromPort': p,
        'IpPermissions.1.ToPort': p,
        'IpPermissions.1.IpRanges.1.CidrIp': c,
        'IpPermissions.1.IpRanges.1.Description': 'generated',
      })),
      fc.constant({ Action: 'RevokeSecurityGroupEgress', GroupId: groupId, 'SecurityGroupRuleId.1': ruleId }),
      fc.tuple(port, cidr).map(([p, c]) => ({
        Action: 'ModifySecurityGroupRules',
        GroupId: groupId,
        'SecurityGroupRule.1.SecurityGroupRuleId': ruleId,
        'SecurityGroupRule.1.SecurityGroupRule.IpProtocol': 'tcp',
        'SecurityGroupRule.1.SecurityGroupRule.FromPort': p,
        'SecurityGroupRule.1.SecurityGroupRule.ToPort': p,
        'SecurityGroupRule.1.SecurityGroupRule.CidrIpv4': c,
      })),
      fc
        .string({ maxLength: 10 })
        .map((v) => ({ Action: 'CreateTags', 'ResourceId.1': groupId, 'Tag.1.Key': 'k', 'Tag.1.Value': v })),
      cidr.map((c) => ({
        Action: 'ModifyManagedPrefixList',
        PrefixListId: prefixListId,
        'AddEntry.1.Cidr': c,
      })),
      fc.constant({
        Action: 'DescribeSecurityGroupRules',
        'Filter.1.Name': 'group-id',
        'Filter.1.Value.1': groupId,
      }),
    );
    const damaged = fc
      .tuple(template, fc.nat(), fc.oneof(fc.constant('keep'), fc.constant('drop'), hostile))
      .map(([t, at, change]) => {
        const keys = Object.keys(t).filter((k) => k !== 'Action');
        const key = keys[at % Math.max(1, keys.length)];
        const out: Record<string, string> = { ...t };
        if (key === undefined || change === 'keep') return out;
        if (change === 'drop') delete out[key];
        else out[key] = change;
        return out;
      });
    return fc.oneof(free, damaged);
  }

  test('each gets 200 or a 4xx EC2 error; a refused one changes nothing', async () => {
    let refused = 0;
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(params(), async (p) => {
        const before = await state();
        const r = await send(p);
        const what = `${JSON.stringify(p).slice(0, 400)} → ${r.status} ${r.text.slice(0, 300)}`;
        expect(r.status, what).toBeLessThan(500);
        const doc = xml.parse(r.text) as Record<string, unknown>;
        if (r.status === 200) {
          accepted++;
          expect(
            Object.keys(doc).some((k) => k.endsWith('Response')),
            what,
          ).toBe(true);
          return;
        }
        refused++;
        expect(r.status, what).toBeGreaterThanOrEqual(400);
        const error = (doc as { Response?: { Errors?: { Error?: { Code?: string; Message?: string } } } })
          .Response?.Errors?.Error;
        expect(error?.Code, what).toMatch(/^[A-Za-z.]+$/);
        expect(error?.Code, what).not.toBe('InternalError');
        expect(String(error?.Message ?? '').trim(), what).not.toBe('');
        expect(await state(), `state changed by a refused request: ${what}`).toBe(before);
      }),
      { numRuns: 250 },
    );
    // The mix reaches both outcomes, so the checks above were exercised.
    expect(accepted).toBeGreaterThan(10);
    expect(refused).toBeGreaterThan(50);
  }, 600_000);
});
