/**
 * @module api/botocore-golden.test — holds Weir's wire formats against botocore itself: every
 * operation's XML response is parsed back by botocore's EC2 parser, and every operation's input is
 * serialized by botocore's EC2 serializer and decoded by {@link parseEc2Query}; both must give back
 * the object we started from. Realistic responses are also kept as golden files in test/golden/.
 * One python3 process (test/tools/botocore_parse.py) answers every case of this file.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { EC2_OPERATIONS, getOperation, shape } from '../ec2-model/index.js';
import { parseEc2Query } from './query.js';
import { serializeGetCallerIdentity, serializeStsError } from './sts.js';
import { serializeEc2Error, serializeEc2Response } from './xml.js';
import { requireTool } from '../../test/helpers/tools.js';

const HELPER = fileURLToPath(new URL('../../test/tools/botocore_parse.py', import.meta.url));
const GOLDEN_DIR = '../../test/golden';
const ACCOUNT = '123456789012';

// ---------------------------------------------------------------------------------------------
// Realistic responses, one or more per operation.

const tags = [
  { Key: 'team', Value: 'payments' },
  { Key: 'Name', Value: 'egress <prod> & "friends"' },
];

const allKinds = {
  IpProtocol: 'tcp',
  FromPort: 443,
  ToPort: 443,
  UserIdGroupPairs: [{ Description: 'to the db tier', UserId: ACCOUNT, GroupId: 'sg-0db', VpcId: 'vpc-0a1' }],
  IpRanges: [{ CidrIp: '10.0.0.0/8', Description: 'intranet' }, { CidrIp: '192.168.1.10/32' }],
  Ipv6Ranges: [{ CidrIpv6: '2001:db8::/32', Description: 'v6 partners' }],
  PrefixListIds: [{ PrefixListId: 'pl-0b1', Description: 'S3' }],
};

const allTraffic = {
  IpProtocol: '-1',
  UserIdGroupPairs: [],
  IpRanges: [{ CidrIp: '0.0.0.0/0' }],
  Ipv6Ranges: [],
  PrefixListIds: [],
};

const ruleEgress = {
  SecurityGroupRuleId: 'sgr-0a1',
  GroupId: 'sg-0a1',
  GroupOwnerId: ACCOUNT,
  IsEgress: true,
  IpProtocol: 'tcp',
  FromPort: 443,
  ToPort: 443,
  CidrIpv4: '10.0.0.0/8',
  Description: 'intranet',
  Tags: [{ Key: 'rule', Value: 'https-out' }],
  SecurityGroupRuleArn: `arn:aws:ec2:us-east-1:${ACCOUNT}:security-group-rule/sgr-0a1`,
};

const ruleReferenced = {
  SecurityGroupRuleId: 'sgr-0a2',
  GroupId: 'sg-0a1',
  GroupOwnerId: ACCOUNT,
  IsEgress: false,
  IpProtocol: 'udp',
  FromPort: 53,
  ToPort: 53,
  ReferencedGroupInfo: { GroupId: 'sg-0db', UserId: ACCOUNT, VpcId: 'vpc-0a1', PeeringStatus: 'active' },
  Tags: [],
  SecurityGroupRuleArn: `arn:aws:ec2:us-east-1:${ACCOUNT}:security-group-rule/sgr-0a2`,
};

const ruleIcmp = {
  SecurityGroupRuleId: 'sgr-0a3',
  GroupId: 'sg-0a1',
  GroupOwnerId: ACCOUNT,
  IsEgress: true,
  IpProtocol: 'icmp',
  FromPort: -1,
  ToPort: -1,
  PrefixListId: 'pl-0b1',
  Tags: [],
};

const prefixList = {
  PrefixListId: 'pl-0b1',
  AddressFamily: 'IPv4',
  State: 'create-complete',
  PrefixListArn: `arn:aws:ec2:us-east-1:${ACCOUNT}:prefix-list/pl-0b1`,
  PrefixListName: 'partners',
  MaxEntries: 10,
  Version: 3,
  Tags: tags,
  OwnerId: ACCOUNT,
};

const vpc = {
  OwnerId: ACCOUNT,
  InstanceTenancy: 'default',
  CidrBlockAssociationSet: [
    {
      AssociationId: 'vpc-cidr-assoc-0a1',
      CidrBlock: '10.0.0.0/16',
      CidrBlockState: { State: 'associated' },
    },
  ],
  Ipv6CidrBlockAssociationSet: [],
  IsDefault: false,
  Tags: [{ Key: 'Name', Value: 'main' }],
  BlockPublicAccessStates: { InternetGatewayBlockMode: 'off' },
  VpcId: 'vpc-0a1',
  State: 'available',
  CidrBlock: '10.0.0.0/16',
  DhcpOptionsId: 'dopt-0a1',
};

interface ResponseCase {
  readonly name: string;
  readonly action: string;
  readonly output: Record<string, unknown>;
}

const responseCases: ResponseCase[] = [
  {
    name: 'CreateSecurityGroup',
    action: 'CreateSecurityGroup',
    output: {
      GroupId: 'sg-0a1',
      Tags: tags,
      SecurityGroupArn: `arn:aws:ec2:us-east-1:${ACCOUNT}:security-group/sg-0a1`,
    },
  },
  { name: 'DeleteSecurityGroup', action: 'DeleteSecurityGroup', output: { Return: true, GroupId: 'sg-0a1' } },
  {
    name: 'DescribeSecurityGroups',
    action: 'DescribeSecurityGroups',
    output: {
      SecurityGroups: [
        {
          GroupId: 'sg-0a1',
          IpPermissionsEgress: [allKinds, allTraffic],
          Tags: tags,
          VpcId: 'vpc-0a1',
          SecurityGroupArn: `arn:aws:ec2:us-east-1:${ACCOUNT}:security-group/sg-0a1`,
          OwnerId: ACCOUNT,
          GroupName: 'web',
          Description: 'Web tier',
          IpPermissions: [
            {
              IpProtocol: 'tcp',
              FromPort: 22,
              ToPort: 22,
              UserIdGroupPairs: [{ UserId: ACCOUNT, GroupId: 'sg-0bastion' }],
              IpRanges: [],
              Ipv6Ranges: [],
              PrefixListIds: [],
            },
          ],
        },
        {
          GroupId: 'sg-0db',
          IpPermissionsEgress: [],
          Tags: [],
          VpcId: 'vpc-0a1',
          OwnerId: ACCOUNT,
          GroupName: 'db',
          Description: 'Database tier: ünïcødé ✓',
          IpPermissions: [],
        },
      ],
      NextToken: 'eyJvZmZzZXQiOjJ9',
    },
  },
  {
    name: 'DescribeSecurityGroups-empty',
    action: 'DescribeSecurityGroups',
    output: { SecurityGroups: [] },
  },
  {
    name: 'AuthorizeSecurityGroupEgress',
    action: 'AuthorizeSecurityGroupEgress',
    output: { Return: true, SecurityGroupRules: [ruleEgress, ruleIcmp] },
  },
  {
    name: 'RevokeSecurityGroupEgress',
    action: 'RevokeSecurityGroupEgress',
    output: {
      Return: true,
      UnknownIpPermissions: [
        {
          IpProtocol: 'tcp',
          FromPort: 8080,
          ToPort: 8080,
          IpRanges: [{ CidrIp: '172.16.0.0/12' }],
          UserIdGroupPairs: [],
          Ipv6Ranges: [],
          PrefixListIds: [],
        },
      ],
      RevokedSecurityGroupRules: [
        {
          SecurityGroupRuleId: 'sgr-0a1',
          GroupId: 'sg-0a1',
          IsEgress: true,
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          CidrIpv4: '10.0.0.0/8',
          Description: 'intranet',
        },
      ],
    },
  },
  {
    name: 'AuthorizeSecurityGroupIngress',
    action: 'AuthorizeSecurityGroupIngress',
    output: { Return: true, SecurityGroupRules: [ruleReferenced] },
  },
  {
    name: 'RevokeSecurityGroupIngress',
    action: 'RevokeSecurityGroupIngress',
    output: {
      Return: true,
      UnknownIpPermissions: [],
      RevokedSecurityGroupRules: [
        {
          SecurityGroupRuleId: 'sgr-0a2',
          GroupId: 'sg-0a1',
          IsEgress: false,
          IpProtocol: 'udp',
          FromPort: 53,
          ToPort: 53,
          ReferencedGroupId: 'sg-0db',
        },
      ],
    },
  },
  {
    name: 'DescribeSecurityGroupRules',
    action: 'DescribeSecurityGroupRules',
    output: { SecurityGroupRules: [ruleEgress, ruleReferenced, ruleIcmp], NextToken: 'next-1' },
  },
  { name: 'ModifySecurityGroupRules', action: 'ModifySecurityGroupRules', output: { Return: true } },
  {
    name: 'UpdateSecurityGroupRuleDescriptionsEgress',
    action: 'UpdateSecurityGroupRuleDescriptionsEgress',
    output: { Return: true },
  },
  {
    name: 'UpdateSecurityGroupRuleDescriptionsIngress',
    action: 'UpdateSecurityGroupRuleDescriptionsIngress',
    output: { Return: false },
  },
  { name: 'CreateTags', action: 'CreateTags', output: {} },
  { name: 'DeleteTags', action: 'DeleteTags', output: {} },
  {
    name: 'DescribeTags',
    action: 'DescribeTags',
    output: {
      Tags: [
        { Key: 'team', ResourceId: 'sg-0a1', ResourceType: 'security-group', Value: 'payments' },
        { Key: 'Name', ResourceId: 'vpc-0a1', ResourceType: 'vpc', Value: '' },
        { Key: 'rule', ResourceId: 'sgr-0a1', ResourceType: 'security-group-rule', Value: 'https-out' },
      ],
    },
  },
  { name: 'CreateVpc', action: 'CreateVpc', output: { Vpc: { ...vpc, State: 'pending' } } },
  {
    name: 'DescribeVpcs',
    action: 'DescribeVpcs',
    output: { Vpcs: [vpc, { ...vpc, VpcId: 'vpc-0a2', IsDefault: true }] },
  },
  { name: 'DeleteVpc', action: 'DeleteVpc', output: {} },
  {
    name: 'CreateManagedPrefixList',
    action: 'CreateManagedPrefixList',
    output: { PrefixList: { ...prefixList, State: 'create-in-progress', Version: 1 } },
  },
  {
    name: 'DescribeManagedPrefixLists',
    action: 'DescribeManagedPrefixLists',
    output: {
      PrefixLists: [prefixList, { ...prefixList, PrefixListId: 'pl-0b2', Tags: [] }],
      NextToken: 'n',
    },
  },
  {
    name: 'GetManagedPrefixListEntries',
    action: 'GetManagedPrefixListEntries',
    output: {
      Entries: [{ Cidr: '203.0.113.0/24', Description: 'partner A' }, { Cidr: '198.51.100.7/32' }],
    },
  },
  {
    name: 'ModifyManagedPrefixList',
    action: 'ModifyManagedPrefixList',
    output: { PrefixList: { ...prefixList, State: 'modify-in-progress', Version: 4 } },
  },
  {
    name: 'DeleteManagedPrefixList',
    action: 'DeleteManagedPrefixList',
    output: { PrefixList: { ...prefixList, State: 'delete-in-progress' } },
  },
  {
    name: 'DescribePrefixLists',
    action: 'DescribePrefixLists',
    output: {
      PrefixLists: [
        {
          Cidrs: ['52.216.0.0/15', '54.231.0.0/16'],
          PrefixListId: 'pl-63a5400a',
          PrefixListName: 'com.amazonaws.us-east-1.s3',
        },
      ],
    },
  },
  {
    name: 'DescribeVpcAttribute',
    action: 'DescribeVpcAttribute',
    output: { VpcId: 'vpc-0a1', EnableDnsHostnames: { Value: true } },
  },
  { name: 'ModifyVpcAttribute', action: 'ModifyVpcAttribute', output: {} },
  {
    name: 'DescribeVpcClassicLink',
    action: 'DescribeVpcClassicLink',
    output: { Vpcs: [{ ClassicLinkEnabled: false, Tags: tags, VpcId: 'vpc-0a1' }] },
  },
  {
    name: 'DescribeVpcClassicLinkDnsSupport',
    action: 'DescribeVpcClassicLinkDnsSupport',
    output: { Vpcs: [{ ClassicLinkDnsSupported: false, VpcId: 'vpc-0a1' }], NextToken: 'n' },
  },
];

const errorCases = [
  { code: 'InvalidGroup.NotFound', message: "The security group 'sg-0zz' does not exist", status: 400 },
  {
    code: 'DryRunOperation',
    message: 'Request would have succeeded, but DryRun flag is set.',
    status: 412,
  },
  {
    code: 'InvalidPermission.Duplicate',
    message: 'the specified rule "peer: 10.0.0.0/8, TCP, from port: 443" already exists',
    status: 400,
  },
  { code: 'InternalError', message: 'An internal error has occurred & <was> logged', status: 500 },
];

// ---------------------------------------------------------------------------------------------
// Realistic inputs, one or more per operation, as a botocore user would pass them.

const tagSpec = (resourceType: string) => [{ ResourceType: resourceType, Tags: tags }];

interface QueryCase {
  readonly name: string;
  readonly action: string;
  readonly params: Record<string, unknown>;
}

const queryCases: QueryCase[] = [
  {
    name: 'CreateSecurityGroup',
    action: 'CreateSecurityGroup',
    params: {
      GroupName: 'web',
      Description: 'Web tier',
      VpcId: 'vpc-0a1',
      TagSpecifications: tagSpec('security-group'),
      DryRun: false,
    },
  },
  { name: 'DeleteSecurityGroup-id', action: 'DeleteSecurityGroup', params: { GroupId: 'sg-0a1' } },
  {
    name: 'DeleteSecurityGroup-name',
    action: 'DeleteSecurityGroup',
    params: { GroupName: 'web', DryRun: true },
  },
  {
    name: 'DescribeSecurityGroups',
    action: 'DescribeSecurityGroups',
    params: {
      GroupIds: Array.from({ length: 12 }, (_, i) => `sg-${String(i + 1).padStart(3, '0')}`),
      GroupNames: ['web', 'db'],
      Filters: [
        { Name: 'vpc-id', Values: ['vpc-0a1', 'vpc-0a2'] },
        { Name: 'tag:team', Values: ['payments'] },
        { Name: 'ip-permission.cidr', Values: ['10.0.0.0/8'] },
      ],
      MaxResults: 50,
      NextToken: 'eyJvZmZzZXQiOjJ9',
    },
  },
  {
    name: 'AuthorizeSecurityGroupEgress',
    action: 'AuthorizeSecurityGroupEgress',
    params: {
      GroupId: 'sg-0a1',
      IpPermissions: [allKinds, { IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      TagSpecifications: tagSpec('security-group-rule'),
      DryRun: true,
    },
  },
  {
    name: 'AuthorizeSecurityGroupEgress-legacy',
    action: 'AuthorizeSecurityGroupEgress',
    params: {
      GroupId: 'sg-0a1',
      IpProtocol: 'tcp',
      FromPort: 80,
      ToPort: 80,
      CidrIp: '0.0.0.0/0',
      SourceSecurityGroupName: 'web',
      SourceSecurityGroupOwnerId: ACCOUNT,
    },
  },
  {
    name: 'RevokeSecurityGroupEgress',
    action: 'RevokeSecurityGroupEgress',
    params: { GroupId: 'sg-0a1', SecurityGroupRuleIds: ['sgr-0a1', 'sgr-0a3'], IpPermissions: [allKinds] },
  },
  {
    name: 'AuthorizeSecurityGroupIngress',
    action: 'AuthorizeSecurityGroupIngress',
    params: {
      GroupName: 'web',
      IpPermissions: [
        {
          IpProtocol: 'tcp',
          FromPort: 22,
          ToPort: 22,
          UserIdGroupPairs: [{ GroupName: 'bastion', UserId: ACCOUNT, Description: 'ssh from bastion' }],
        },
        { IpProtocol: 'icmpv6', FromPort: -1, ToPort: -1, Ipv6Ranges: [{ CidrIpv6: '::/0' }] },
      ],
      TagSpecifications: tagSpec('security-group-rule'),
    },
  },
  {
    name: 'RevokeSecurityGroupIngress',
    action: 'RevokeSecurityGroupIngress',
    params: {
      GroupId: 'sg-0a1',
      SecurityGroupRuleIds: ['sgr-0a2'],
      IpProtocol: 'udp',
      FromPort: 53,
      ToPort: 53,
    },
  },
  {
    name: 'DescribeSecurityGroupRules',
    action: 'DescribeSecurityGroupRules',
    params: {
      Filters: [
        { Name: 'group-id', Values: ['sg-0a1'] },
        { Name: 'tag-key', Values: ['rule'] },
      ],
      SecurityGroupRuleIds: ['sgr-0a1'],
      MaxResults: 1000,
      NextToken: 't',
      DryRun: false,
    },
  },
  {
    name: 'ModifySecurityGroupRules',
    action: 'ModifySecurityGroupRules',
    params: {
      GroupId: 'sg-0a1',
      SecurityGroupRules: [
        {
          SecurityGroupRuleId: 'sgr-0a1',
          SecurityGroupRule: {
            IpProtocol: 'tcp',
            FromPort: 443,
            ToPort: 443,
            CidrIpv4: '10.0.0.0/8',
            Description: 'x',
          },
        },
        {
          SecurityGroupRuleId: 'sgr-0a2',
          SecurityGroupRule: { IpProtocol: '-1', ReferencedGroupId: 'sg-0db' },
        },
        { SecurityGroupRuleId: 'sgr-0a3', SecurityGroupRule: { IpProtocol: 'tcp', PrefixListId: 'pl-0b1' } },
        {
          SecurityGroupRuleId: 'sgr-0a4',
          SecurityGroupRule: { IpProtocol: 'udp', CidrIpv6: '2001:db8::/32' },
        },
      ],
    },
  },
  {
    name: 'UpdateSecurityGroupRuleDescriptionsEgress',
    action: 'UpdateSecurityGroupRuleDescriptionsEgress',
    params: {
      GroupId: 'sg-0a1',
      SecurityGroupRuleDescriptions: [{ SecurityGroupRuleId: 'sgr-0a1', Description: 'new words' }],
    },
  },
  {
    name: 'UpdateSecurityGroupRuleDescriptionsIngress',
    action: 'UpdateSecurityGroupRuleDescriptionsIngress',
    params: { GroupName: 'web', IpPermissions: [allKinds], DryRun: true },
  },
  {
    name: 'CreateTags',
    action: 'CreateTags',
    params: { Resources: ['sg-0a1', 'sgr-0a1', 'vpc-0a1'], Tags: [...tags, { Key: 'empty', Value: '' }] },
  },
  {
    name: 'DeleteTags',
    action: 'DeleteTags',
    params: { Resources: ['sg-0a1'], Tags: [{ Key: 'team' }, { Key: 'Name', Value: 'main' }] },
  },
  {
    name: 'DescribeTags',
    action: 'DescribeTags',
    params: {
      Filters: [
        { Name: 'resource-type', Values: ['security-group', 'vpc'] },
        { Name: 'key', Values: ['team'] },
      ],
      MaxResults: 100,
      NextToken: 'n',
    },
  },
  {
    name: 'CreateVpc',
    action: 'CreateVpc',
    params: {
      CidrBlock: '10.0.0.0/16',
      AmazonProvidedIpv6CidrBlock: true,
      InstanceTenancy: 'default',
      TagSpecifications: tagSpec('vpc'),
      VpcEncryptionControl: { Mode: 'monitor', NatGatewayExclusion: 'enable' },
    },
  },
  {
    name: 'DescribeVpcs',
    action: 'DescribeVpcs',
    params: { VpcIds: ['vpc-0a1'], Filters: [{ Name: 'is-default', Values: ['false'] }], MaxResults: 5 },
  },
  { name: 'DeleteVpc', action: 'DeleteVpc', params: { VpcId: 'vpc-0a1', DryRun: false } },
  {
    name: 'CreateManagedPrefixList',
    action: 'CreateManagedPrefixList',
    params: {
      PrefixListName: 'partners',
      Entries: [{ Cidr: '203.0.113.0/24', Description: 'partner A' }, { Cidr: '198.51.100.7/32' }],
      MaxEntries: 10,
      AddressFamily: 'IPv4',
      TagSpecifications: tagSpec('prefix-list'),
      ClientToken: 'c1b2d3e4-idempotency',
    },
  },
  {
    name: 'DescribeManagedPrefixLists',
    action: 'DescribeManagedPrefixLists',
    params: {
      PrefixListIds: ['pl-0b1', 'pl-0b2'],
      Filters: [{ Name: 'owner-id', Values: [ACCOUNT] }],
      MaxResults: 100,
    },
  },
  {
    name: 'GetManagedPrefixListEntries',
    action: 'GetManagedPrefixListEntries',
    params: { PrefixListId: 'pl-0b1', TargetVersion: 3, MaxResults: 1, NextToken: 'n' },
  },
  {
    name: 'ModifyManagedPrefixList',
    action: 'ModifyManagedPrefixList',
    params: {
      PrefixListId: 'pl-0b1',
      CurrentVersion: 3,
      PrefixListName: 'partners-v2',
      AddEntries: [{ Cidr: '192.0.2.0/24', Description: 'partner B' }, { Cidr: '192.0.2.128/25' }],
      RemoveEntries: [{ Cidr: '198.51.100.7/32' }],
      MaxEntries: 20,
      IpamPrefixListResolverSyncEnabled: false,
    },
  },
  { name: 'DeleteManagedPrefixList', action: 'DeleteManagedPrefixList', params: { PrefixListId: 'pl-0b1' } },
  {
    name: 'DescribePrefixLists',
    action: 'DescribePrefixLists',
    params: {
      PrefixListIds: ['pl-63a5400a'],
      Filters: [{ Name: 'prefix-list-name', Values: ['com.amazonaws.us-east-1.s3'] }],
      MaxResults: 10,
      NextToken: 'n',
    },
  },
  {
    name: 'DescribeVpcAttribute',
    action: 'DescribeVpcAttribute',
    params: { VpcId: 'vpc-0a1', Attribute: 'enableDnsHostnames', DryRun: false },
  },
  {
    name: 'ModifyVpcAttribute',
    action: 'ModifyVpcAttribute',
    params: { VpcId: 'vpc-0a1', EnableDnsSupport: { Value: false } },
  },
  {
    name: 'DescribeVpcClassicLink',
    action: 'DescribeVpcClassicLink',
    params: { VpcIds: ['vpc-0a1'], Filters: [{ Name: 'tag:team', Values: ['payments'] }] },
  },
  {
    name: 'DescribeVpcClassicLinkDnsSupport',
    action: 'DescribeVpcClassicLinkDnsSupport',
    params: { VpcIds: ['vpc-0a1'], MaxResults: 5, NextToken: 'n' },
  },
];

// ---------------------------------------------------------------------------------------------
// Exhaustive cases: one value for every member of every shape an operation reaches, so every
// wire name and element name in the model is checked against botocore, not only the ones above.

function synthesize(name: string, seed: string, forInput: boolean): unknown {
  const s = shape(name);
  switch (s.type) {
    case 'structure':
      return Object.fromEntries(
        Object.entries(s.members).map(([member, ref]) => [
          member,
          synthesize(ref.shape, `${seed}.${member}`, forInput),
        ]),
      );
    case 'list':
      return [
        synthesize(s.member.shape, `${seed}.1`, forInput),
        synthesize(s.member.shape, `${seed}.2`, forInput),
      ];
    case 'string':
      if (s.enum) return s.enum[seed.length % s.enum.length];
      // Characters that need escaping on both wires: form encoding and XML text.
      return forInput ? `${seed} a&b=c+d%e/f` : `${seed} <a&b> "c" 'd'`;
    case 'integer':
      return Math.min(s.max ?? 1 << 20, (s.min ?? 0) + seed.length);
    case 'long':
      return 2 ** 40 + seed.length;
    case 'boolean':
      return seed.length % 2 === 0;
    default:
      throw new Error(`synthesize: no generator for ${s.type} (${name})`);
  }
}

const exhaustiveInputs: QueryCase[] = EC2_OPERATIONS.map((action) => ({
  name: `${action} (every member)`,
  action,
  params: synthesize(getOperation(action).input?.shape ?? '', 'v', true) as Record<string, unknown>,
}));

const exhaustiveOutputs: ResponseCase[] = EC2_OPERATIONS.map((action) => {
  const out = getOperation(action).output;
  return {
    name: `${action} (every member)`,
    action,
    output: out ? (synthesize(out.shape, 'v', false) as Record<string, unknown>) : {},
  };
});

// Arbitrary text, heavy on characters XML and form encoding treat specially, through an XML
// text node; what XML 1.0 cannot carry must come back as U+FFFD, everything else unchanged.
const textUnit = fc.oneof(
  fc.constantFrom(
    '&',
    '<',
    '>',
    '"',
    "'",
    '\r',
    '\n',
    '\t',
    '\u0000',
    '\u001f',
    ']]>',
    '\uFFFE',
    '\uD800',
    '\uDC00',
  ),
  fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
);
const texts = fc.sample(fc.string({ unit: textUnit, maxLength: 24 }), { numRuns: 300, seed: 20161115 });
// eslint-disable-next-line no-control-regex -- the characters XML 1.0 cannot carry
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF\uD800-\uDFFF]/gu;

// ---------------------------------------------------------------------------------------------
// One python3 for the whole file.

interface HelperAnswer {
  readonly ok: boolean;
  readonly result?: Record<string, unknown>;
  readonly body?: string;
  readonly error?: string;
}

type Request =
  | { service: 'ec2' | 'sts'; operation: string; status: number; body: string }
  | { mode: 'serialize'; service: 'ec2'; operation: string; params: Record<string, unknown> };

const RID = 'f3b1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const requests: Request[] = [];
function ask(req: Request): number {
  requests.push(req);
  return requests.length - 1;
}

const responseIds = [...responseCases, ...exhaustiveOutputs].map((c) => ({
  c,
  xml: serializeEc2Response(c.action, c.output, RID),
}));
for (const r of responseIds) ask({ service: 'ec2', operation: r.c.action, status: 200, body: r.xml });

const errorIds = errorCases.map((e) => ({ e, xml: serializeEc2Error(e.code, e.message, RID) }));
for (const r of errorIds)
  ask({ service: 'ec2', operation: 'DescribeSecurityGroups', status: r.e.status, body: r.xml });

const textTags = texts.map((t, i) => ({
  Key: `k${i}`,
  ResourceId: 'sg-0a1',
  ResourceType: 'security-group',
  Value: t,
}));
const textXml = serializeEc2Response('DescribeTags', { Tags: textTags }, RID);
const textAt = ask({ service: 'ec2', operation: 'DescribeTags', status: 200, body: textXml });

const identity = { arn: `arn:aws:iam::${ACCOUNT}:user/alice`, userId: 'AIDAEXAMPLEUSERID', account: ACCOUNT };
const stsOkXml = serializeGetCallerIdentity(identity, RID);
const stsOkAt = ask({ service: 'sts', operation: 'GetCallerIdentity', status: 200, body: stsOkXml });
const stsErrXml = serializeStsError(
  'InvalidClientTokenId',
  'The security token included in the request is invalid.',
  RID,
);
const stsErrAt = ask({ service: 'sts', operation: 'GetCallerIdentity', status: 403, body: stsErrXml });

const queryIds = [...queryCases, ...exhaustiveInputs].map((c) =>
  ask({ mode: 'serialize', service: 'ec2', operation: c.action, params: c.params }),
);

function runHelper(): { answers: HelperAnswer[] } | { skip: string } {
  const run = spawnSync('python3', [HELPER], {
    input: requests.map((r) => JSON.stringify(r)).join('\n') + '\n',
    encoding: 'utf8',
    env: { ...process.env, PYTHONUTF8: '1', PYTHONIOENCODING: 'utf-8' },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  if (run.error) return { skip: `python3 not runnable (${run.error.message})` };
  if (run.status !== 0 && /No module named 'botocore'/.test(run.stderr))
    return { skip: 'botocore not importable' };
  if (run.status !== 0) throw new Error(`botocore_parse.py failed:\n${run.stderr}`);
  const answers = run.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as HelperAnswer);
  if (answers.length !== requests.length)
    throw new Error(`expected ${requests.length} answers, got ${answers.length}`);
  return { answers };
}

const helper = runHelper();
const HAS_BOTOCORE = requireTool(
  'botocore (python3)',
  !('skip' in helper),
  'skip' in helper ? helper.skip : '',
);
const answers = 'answers' in helper ? helper.answers : [];

function answer(i: number): HelperAnswer {
  const a = answers[i];
  if (!a) throw new Error(`no answer ${i}`);
  if (!a.ok) throw new Error(`botocore rejected case ${i}: ${a.error ?? ''}`);
  return a;
}

// ---------------------------------------------------------------------------------------------

describe('golden XML files', () => {
  test.each(responseCases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await expect(serializeEc2Response(c.action, c.output, RID)).toMatchFileSnapshot(
      `${GOLDEN_DIR}/ec2/${c.name}.xml`,
    );
  });
  test.each(errorIds.map((r) => [r.e.code, r.xml] as const))('error %s', async (code, xml) => {
    await expect(xml).toMatchFileSnapshot(`${GOLDEN_DIR}/ec2/error-${code}.xml`);
  });
  test('STS', async () => {
    await expect(stsOkXml).toMatchFileSnapshot(`${GOLDEN_DIR}/sts/GetCallerIdentity.xml`);
    await expect(stsErrXml).toMatchFileSnapshot(`${GOLDEN_DIR}/sts/error-InvalidClientTokenId.xml`);
  });
});

describe.skipIf(!HAS_BOTOCORE)('botocore reads what Weir writes', () => {
  test('every operation has a realistic and an exhaustive response case', () => {
    expect(new Set(responseCases.map((c) => c.action))).toEqual(new Set(EC2_OPERATIONS));
    expect(exhaustiveOutputs).toHaveLength(EC2_OPERATIONS.length);
  });

  test.each(responseIds.map((r, i) => [r.c.name, r.c, i] as const))('response %s', (_name, c, i) => {
    expect(answer(i).result).toEqual({ ...c.output, ResponseMetadata: { RequestId: RID } });
  });

  test.each(errorIds.map((r, i) => [r.e.code, r.e, responseIds.length + i] as const))(
    'error %s',
    (_code, e, i) => {
      expect(answer(i).result).toEqual({
        Error: { Code: e.code, Message: e.message },
        ResponseMetadata: { RequestId: RID },
      });
    },
  );

  test(`${texts.length} arbitrary strings survive XML escaping`, () => {
    const want = textTags.map((t) => ({ ...t, Value: t.Value.replace(NOT_XML, '\uFFFD') }));
    expect(answer(textAt).result).toEqual({ Tags: want, ResponseMetadata: { RequestId: RID } });
  });

  test('STS GetCallerIdentity and STS error', () => {
    expect(answer(stsOkAt).result).toEqual({
      Arn: identity.arn,
      UserId: identity.userId,
      Account: identity.account,
      ResponseMetadata: { RequestId: RID },
    });
    expect(answer(stsErrAt).result).toEqual({
      Error: {
        Type: 'Sender',
        Code: 'InvalidClientTokenId',
        Message: 'The security token included in the request is invalid.',
      },
      ResponseMetadata: { RequestId: RID },
    });
  });
});

describe.skipIf(!HAS_BOTOCORE)('parseEc2Query reads what botocore sends', () => {
  const all = [...queryCases, ...exhaustiveInputs];

  test('every operation has a realistic and an exhaustive query case', () => {
    expect(new Set(queryCases.map((c) => c.action))).toEqual(new Set(EC2_OPERATIONS));
    expect(exhaustiveInputs).toHaveLength(EC2_OPERATIONS.length);
  });

  test.each(all.map((c, i) => [c.name, c, queryIds[i] as number] as const))('%s', (_name, c, i) => {
    const body = answer(i).body ?? '';
    const form = new URLSearchParams(body);
    expect(form.get('Action')).toBe(c.action);
    expect(parseEc2Query(c.action, form)).toEqual(c.params);
    // Order on the wire must not matter: lists are rebuilt by index, not arrival.
    const reversed = new URLSearchParams([...form].reverse());
    expect(parseEc2Query(c.action, reversed)).toEqual(c.params);
  });
});
