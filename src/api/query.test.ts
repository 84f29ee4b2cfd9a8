/** @module api/query.test — the EC2 Query decoder: wire names, coercion, lists, and every error it raises. */
import { describe, expect, test } from 'vitest';
import { Ec2Error } from '../model/index.js';
import { EC2_OPERATIONS, getOperation, shape } from '../ec2-model/index.js';
import { isProtocolParameter, parseEc2Query } from './query.js';

function parse(action: string, form: string): Record<string, unknown> {
  return parseEc2Query(action, new URLSearchParams(form));
}

function errorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (e instanceof Ec2Error) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected an Ec2Error');
}

describe('parseEc2Query: decoding', () => {
  test('nested IpPermissions with all four destination kinds, by their wire names', () => {
    const form = [
      'Action=AuthorizeSecurityGroupEgress',
      'Version=2016-11-15',
      'GroupId=sg-0a',
      'IpPermissions.1.IpProtocol=tcp',
      'IpPermissions.1.FromPort=443',
      'IpPermissions.1.ToPort=443',
      'IpPermissions.1.IpRanges.1.CidrIp=10.0.0.0%2F8',
      'IpPermissions.1.IpRanges.1.Description=intra+net',
      'IpPermissions.1.Ipv6Ranges.1.CidrIpv6=2001%3Adb8%3A%3A%2F32',
      'IpPermissions.1.PrefixListIds.1.PrefixListId=pl-1',
      'IpPermissions.1.Groups.1.GroupId=sg-0b',
      'IpPermissions.1.Groups.1.UserId=123456789012',
      'DryRun=true',
    ].join('&');
    expect(parse('AuthorizeSecurityGroupEgress', form)).toEqual({
      GroupId: 'sg-0a',
      IpPermissions: [
        {
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          IpRanges: [{ CidrIp: '10.0.0.0/8', Description: 'intra net' }],
          Ipv6Ranges: [{ CidrIpv6: '2001:db8::/32' }],
          PrefixListIds: [{ PrefixListId: 'pl-1' }],
          UserIdGroupPairs: [{ GroupId: 'sg-0b', UserId: '123456789012' }],
        },
      ],
      DryRun: true,
    });
  });

  test('locationName and list wire names: GroupDescription, Tag.N, TagSpecification.N.Tag.N, Filter.N.Value.N', () => {
    expect(
      parse(
        'CreateSecurityGroup',
        'GroupName=web&GroupDescription=Web+tier&TagSpecification.1.ResourceType=security-group&TagSpecification.1.Tag.1.Key=team&TagSpecification.1.Tag.1.Value=pay',
      ),
    ).toEqual({
      GroupName: 'web',
      Description: 'Web tier',
      TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'team', Value: 'pay' }] }],
    });
    expect(
      parse(
        'DescribeSecurityGroups',
        'Filter.1.Name=vpc-id&Filter.1.Value.1=vpc-1&Filter.1.Value.2=vpc-2&GroupId.1=sg-1',
      ),
    ).toEqual({ Filters: [{ Name: 'vpc-id', Values: ['vpc-1', 'vpc-2'] }], GroupIds: ['sg-1'] });
    expect(parse('CreateTags', 'ResourceId.1=sg-1&Tag.1.Key=k&Tag.1.Value=')).toEqual({
      Resources: ['sg-1'],
      Tags: [{ Key: 'k', Value: '' }],
    });
  });

  test('list gaps are closed in numeric index order (.10 after .9)', () => {
    expect(parse('DescribeSecurityGroups', 'GroupId.10=d&GroupId.3=b&GroupId.1=a&GroupId.9=c')).toEqual({
      GroupIds: ['a', 'b', 'c', 'd'],
    });
    expect(
      parse(
        'ModifyManagedPrefixList',
        'PrefixListId=pl-1&AddEntry.7.Cidr=10.0.0.0%2F8&AddEntry.2.Cidr=10.1.0.0%2F16',
      ),
    ).toEqual({ PrefixListId: 'pl-1', AddEntries: [{ Cidr: '10.1.0.0/16' }, { Cidr: '10.0.0.0/8' }] });
  });

  test.each([
    ['true', true],
    ['TRUE', true],
    ['False', false],
    ['false', false],
  ])('boolean %s', (raw, want) => {
    expect(parse('DeleteVpc', `VpcId=vpc-1&DryRun=${raw}`)).toEqual({ VpcId: 'vpc-1', DryRun: want });
  });

  test.each([
    ['-1', -1],
    ['0', 0],
    ['65535', 65535],
  ])('integer %s', (raw, want) => {
    expect(parse('AuthorizeSecurityGroupIngress', `GroupId=sg-1&FromPort=${raw}`)).toEqual({
      GroupId: 'sg-1',
      FromPort: want,
    });
  });

  test('long beyond 32 bits', () => {
    expect(parse('GetManagedPrefixListEntries', 'PrefixListId=pl-1&TargetVersion=8589934592')).toEqual({
      PrefixListId: 'pl-1',
      TargetVersion: 8589934592,
    });
  });

  test('Action, Version and X-Amz-* are accepted and ignored', () => {
    const form =
      'Action=DeleteVpc&Version=2016-11-15&VpcId=vpc-1&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=x&X-Amz-Date=20240101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=ab&X-Amz-Security-Token=t';
    expect(parse('DeleteVpc', form)).toEqual({ VpcId: 'vpc-1' });
    expect(isProtocolParameter('X-Amz-Date')).toBe(true);
    expect(isProtocolParameter('VpcId')).toBe(false);
  });

  test('accepts a Map as well as URLSearchParams', () => {
    expect(parseEc2Query('DeleteSecurityGroup', new Map([['GroupId', 'sg-1']]))).toEqual({ GroupId: 'sg-1' });
  });

  test('nested structure inside a list element (ModifySecurityGroupRules)', () => {
    expect(
      parse(
        'ModifySecurityGroupRules',
        'GroupId=sg-1&SecurityGroupRule.1.SecurityGroupRuleId=sgr-1&SecurityGroupRule.1.SecurityGroupRule.IpProtocol=udp&SecurityGroupRule.1.SecurityGroupRule.FromPort=53&SecurityGroupRule.1.SecurityGroupRule.CidrIpv4=10.0.0.2%2F32',
      ),
    ).toEqual({
      GroupId: 'sg-1',
      SecurityGroupRules: [
        {
          SecurityGroupRuleId: 'sgr-1',
          SecurityGroupRule: { IpProtocol: 'udp', FromPort: 53, CidrIpv4: '10.0.0.2/32' },
        },
      ],
    });
  });

  test.each(EC2_OPERATIONS)(
    '%s with no parameters: {} or MissingParameter for its first required member',
    (op) => {
      const input = shape(getOperation(op).input?.shape ?? '');
      const required = input.type === 'structure' ? (input.required ?? []) : [];
      if (required.length === 0) {
        expect(parse(op, `Action=${op}`)).toEqual({});
      } else {
        expect(errorOf(() => parse(op, `Action=${op}`)).code).toBe('MissingParameter');
      }
    },
  );
});

describe('parseEc2Query: errors', () => {
  test.each<[string, string, string, string, string]>([
    [
      'unknown action',
      'RunInstances',
      'ImageId=ami-1',
      'InvalidAction',
      'The action RunInstances is not valid for this web service.',
    ],
    [
      'unknown parameter',
      'DeleteVpc',
      'VpcId=vpc-1&Vpc=x',
      'UnknownParameter',
      'The parameter Vpc is not recognized',
    ],
    [
      'member name instead of wire name',
      'CreateSecurityGroup',
      'GroupName=a&Description=b',
      'UnknownParameter',
      'The parameter Description is not recognized',
    ],
    [
      'unknown nested parameter',
      'AuthorizeSecurityGroupEgress',
      'GroupId=sg-1&IpPermissions.1.Port=1',
      'UnknownParameter',
      'The parameter IpPermissions.1.Port is not recognized',
    ],
    [
      'query-protocol list style',
      'DescribeSecurityGroups',
      'GroupId.member.1=sg-1',
      'UnknownParameter',
      'The parameter GroupId.member.1 is not recognized',
    ],
    [
      'suffix on a scalar',
      'DeleteVpc',
      'VpcId.1=vpc-1',
      'UnknownParameter',
      'The parameter VpcId.1 is not recognized',
    ],
    [
      'bad integer',
      'AuthorizeSecurityGroupIngress',
      'GroupId=sg-1&FromPort=abc',
      'InvalidParameterValue',
      "Invalid value 'abc' for FromPort: expected an integer",
    ],
    [
      'fractional integer',
      'AuthorizeSecurityGroupIngress',
      'GroupId=sg-1&IpPermissions.1.ToPort=1.5',
      'InvalidParameterValue',
      "Invalid value '1.5' for IpPermissions.1.ToPort: expected an integer",
    ],
    [
      'integer beyond 32 bits',
      'AuthorizeSecurityGroupIngress',
      'GroupId=sg-1&FromPort=2147483648',
      'InvalidParameterValue',
      "Invalid value '2147483648' for FromPort: out of range for a 32-bit integer",
    ],
    [
      'integer below the model minimum',
      'DescribeSecurityGroups',
      'MaxResults=2',
      'InvalidParameterValue',
      "Invalid value '2' for MaxResults: must be at least 5",
    ],
    [
      'bad boolean',
      'DeleteVpc',
      'VpcId=vpc-1&DryRun=yes',
      'InvalidParameterValue',
      "Invalid value 'yes' for DryRun: expected true or false",
    ],
    [
      'missing required',
      'CreateSecurityGroup',
      'GroupName=web',
      'MissingParameter',
      'The request must contain the parameter GroupDescription',
    ],
    [
      'missing required list',
      'CreateTags',
      'Tag.1.Key=k',
      'MissingParameter',
      'The request must contain the parameter ResourceId',
    ],
    [
      'nested missing required',
      'ModifyManagedPrefixList',
      'PrefixListId=pl-1&AddEntry.1.Cidr=10.0.0.0/8&AddEntry.3.Description=x',
      'MissingParameter',
      'The request must contain the parameter AddEntry.3.Cidr',
    ],
    [
      'nested structure missing required',
      'CreateVpc',
      'CidrBlock=10.0.0.0/16&VpcEncryptionControl.NatGatewayExclusion=enable',
      'MissingParameter',
      'The request must contain the parameter VpcEncryptionControl.Mode',
    ],
    [
      'list index 0',
      'DescribeSecurityGroups',
      'GroupId.0=sg-1',
      'InvalidParameterValue',
      "Invalid list index '0' in GroupId.0: indexes are positive integers without leading zeros",
    ],
    [
      'list index with leading zero',
      'DescribeSecurityGroups',
      'GroupId.01=sg-1',
      'InvalidParameterValue',
      "Invalid list index '01' in GroupId.01: indexes are positive integers without leading zeros",
    ],
    [
      'negative list index',
      'DescribeSecurityGroups',
      'GroupId.-1=sg-1',
      'UnknownParameter',
      'The parameter GroupId.-1 is not recognized',
    ],
    [
      'list sent without an index',
      'DescribeSecurityGroups',
      'GroupId=sg-1',
      'InvalidParameterValue',
      "Invalid value 'sg-1' for GroupId: send it as GroupId.1, GroupId.2, …",
    ],
    [
      'structure sent as a scalar',
      'ModifySecurityGroupRules',
      'GroupId=sg-1&SecurityGroupRule.1.SecurityGroupRuleId=sgr-1&SecurityGroupRule.1.SecurityGroupRule=x',
      'InvalidParameterValue',
      "Invalid value 'x' for SecurityGroupRule.1.SecurityGroupRule: send it as SecurityGroupRule.1.SecurityGroupRule.<member>",
    ],
    [
      'repeated parameter',
      'DeleteVpc',
      'VpcId=vpc-1&VpcId=vpc-2',
      'InvalidParameter',
      'The parameter VpcId is specified more than once',
    ],
    [
      'repeated list element',
      'DescribeVpcs',
      'VpcId.1=vpc-1&VpcId.1=vpc-2',
      'InvalidParameter',
      'The parameter VpcId.1 is specified more than once',
    ],
  ])('%s', (_name, action, form, code, message) => {
    expect(errorOf(() => parse(action, form))).toEqual({ code, message });
  });

  test('list longer than the model allows', () => {
    const form = [
      'PrefixListId=pl-1',
      ...Array.from({ length: 101 }, (_, i) => `AddEntry.${i + 1}.Cidr=10.0.0.${i}/32`),
    ];
    expect(errorOf(() => parse('ModifyManagedPrefixList', form.join('&')))).toEqual({
      code: 'InvalidParameterValue',
      message: 'The parameter AddEntry has 101 elements; at most 100 are allowed',
    });
  });

  test('errors carry their HTTP status', () => {
    try {
      parse('DeleteVpc', '');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(Ec2Error);
      expect((e as Ec2Error).status).toBe(400);
    }
  });
});
