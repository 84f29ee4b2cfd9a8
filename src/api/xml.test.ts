/** @module api/xml.test — exact XML of EC2 and STS responses and errors, escaping, and misuse. */
import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, test } from 'vitest';
import { serializeGetCallerIdentity, serializeStsError } from './sts.js';
import { escapeXml, serializeEc2Error, serializeEc2Response } from './xml.js';

const HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n';
const NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

describe('serializeEc2Response', () => {
  test('AuthorizeSecurityGroupEgress: rule list with nested structure and tags', () => {
    const xml = serializeEc2Response(
      'AuthorizeSecurityGroupEgress',
      {
        Return: true,
        SecurityGroupRules: [
          {
            SecurityGroupRuleId: 'sgr-1',
            GroupId: 'sg-1',
            IsEgress: true,
            IpProtocol: 'tcp',
            FromPort: 443,
            ToPort: 443,
            ReferencedGroupInfo: { GroupId: 'sg-2', UserId: '123456789012' },
            Tags: [{ Key: 'k', Value: 'v' }],
          },
        ],
      },
      'req-1',
    );
    expect(xml).toBe(
      `${HEAD}<AuthorizeSecurityGroupEgressResponse xmlns="${NS}"><requestId>req-1</requestId>` +
        '<return>true</return><securityGroupRuleSet><item><securityGroupRuleId>sgr-1</securityGroupRuleId>' +
        '<groupId>sg-1</groupId><isEgress>true</isEgress><ipProtocol>tcp</ipProtocol><fromPort>443</fromPort>' +
        '<toPort>443</toPort><referencedGroupInfo><groupId>sg-2</groupId><userId>123456789012</userId>' +
        '</referencedGroupInfo><tagSet><item><key>k</key><value>v</value></item></tagSet></item>' +
        '</securityGroupRuleSet></AuthorizeSecurityGroupEgressResponse>',
    );
    expect(XMLValidator.validate(xml)).toBe(true);
  });

  test('member elements use locationName (groupDescription, groups, securityGroupInfo)', () => {
    const xml = serializeEc2Response(
      'DescribeSecurityGroups',
      {
        SecurityGroups: [
          {
            GroupId: 'sg-1',
            Description: 'web',
            IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: 'sg-2' }] }],
          },
        ],
      },
      'r',
    );
    expect(xml).toContain(
      '<securityGroupInfo><item><groupId>sg-1</groupId><groupDescription>web</groupDescription>' +
        '<ipPermissions><item><ipProtocol>-1</ipProtocol><groups><item><groupId>sg-2</groupId></item></groups>' +
        '</item></ipPermissions></item></securityGroupInfo>',
    );
  });

  test('empty lists render as an empty wrapper; undefined and null members are left out', () => {
    const xml = serializeEc2Response(
      'DescribeSecurityGroupRules',
      { SecurityGroupRules: [], NextToken: undefined },
      'r',
    );
    expect(xml).toBe(
      `${HEAD}<DescribeSecurityGroupRulesResponse xmlns="${NS}"><requestId>r</requestId>` +
        '<securityGroupRuleSet/></DescribeSecurityGroupRulesResponse>',
    );
    expect(serializeEc2Response('DeleteSecurityGroup', { Return: false, GroupId: null }, 'r')).toContain(
      '<return>false</return></DeleteSecurityGroupResponse>',
    );
  });

  test('long integers', () => {
    expect(
      serializeEc2Response(
        'GetManagedPrefixListEntries',
        { Entries: [{ Cidr: '10.0.0.0/8' }], NextToken: 't' },
        'r',
      ),
    ).toContain('<entrySet><item><cidr>10.0.0.0/8</cidr></item></entrySet><nextToken>t</nextToken>');
    expect(
      serializeEc2Response(
        'CreateManagedPrefixList',
        { PrefixList: { MaxEntries: 10, Version: 8589934592 } },
        'r',
      ),
    ).toContain('<prefixList><maxEntries>10</maxEntries><version>8589934592</version></prefixList>');
  });

  test('operations without an output shape answer <return>true</return>, as EC2 does', () => {
    for (const op of ['CreateTags', 'DeleteTags', 'DeleteVpc']) {
      expect(serializeEc2Response(op, {}, 'r')).toBe(
        `${HEAD}<${op}Response xmlns="${NS}"><requestId>r</requestId><return>true</return></${op}Response>`,
      );
    }
  });

  test('text is escaped', () => {
    const xml = serializeEc2Response(
      'CreateSecurityGroup',
      { GroupId: 'sg-1', Tags: [{ Key: '<k>', Value: `a&b "c" 'd'` }] },
      'r&1',
    );
    expect(xml).toContain('<requestId>r&amp;1</requestId>');
    expect(xml).toContain('<key>&lt;k&gt;</key><value>a&amp;b &quot;c&quot; &apos;d&apos;</value>');
  });

  test.each<[string, Record<string, unknown>, RegExp]>([
    [
      'unknown top-level key',
      { Return: true, Bogus: 1 },
      /Bogus is not a member of AuthorizeSecurityGroupEgressResult/,
    ],
    [
      'unknown nested key',
      { SecurityGroupRules: [{ GroupId: 'sg-1', CidrIp: '10.0.0.0/8' }] },
      /CidrIp is not a member of SecurityGroupRule/,
    ],
    ['string where boolean', { Return: 'true' }, /expected a boolean/],
    ['non-integer', { SecurityGroupRules: [{ FromPort: 1.5 }] }, /expected an integer/],
    ['number where string', { SecurityGroupRules: [{ GroupId: 7 }] }, /expected a string/],
    ['object where list', { SecurityGroupRules: { GroupId: 'sg-1' } }, /expected an array/],
  ])('throws on %s (a programming error)', (_name, output, message) => {
    expect(() => serializeEc2Response('AuthorizeSecurityGroupEgress', output, 'r')).toThrow(message);
  });

  test('throws on output for an operation that has none', () => {
    expect(() => serializeEc2Response('DeleteVpc', { Return: true }, 'r')).toThrow(/has no output members/);
  });
});

describe('escapeXml', () => {
  test.each([
    ['plain', 'plain'],
    ['a&b<c>d"e\'f', 'a&amp;b&lt;c&gt;d&quot;e&apos;f'],
    ['tab\tand\nnewline', 'tab\tand\nnewline'],
    ['cr\r\n', 'cr&#13;\n'],
    ['nul\u0000bell\u0007esc\u001b', 'nul\uFFFDbell\uFFFDesc\uFFFD'],
    ['\uFFFE\uFFFF', '\uFFFD\uFFFD'],
    ['lone \uD800 high, lone \uDC00 low', 'lone \uFFFD high, lone \uFFFD low'],
    ['pair \uD83D\uDE00 kept', 'pair \uD83D\uDE00 kept'],
    ['ünïcødé ✓', 'ünïcødé ✓'],
  ])('%j', (input, want) => {
    expect(escapeXml(input)).toBe(want);
  });
});

describe('serializeEc2Error', () => {
  test("EC2's exact error shape", () => {
    expect(
      serializeEc2Error('InvalidGroup.NotFound', "The security group 'sg-1' does not exist", 'r-1'),
    ).toBe(
      `${HEAD}<Response><Errors><Error><Code>InvalidGroup.NotFound</Code>` +
        '<Message>The security group &apos;sg-1&apos; does not exist</Message></Error></Errors>' +
        '<RequestID>r-1</RequestID></Response>',
    );
  });
});

describe('STS', () => {
  test('GetCallerIdentity response', () => {
    expect(
      serializeGetCallerIdentity(
        { arn: 'arn:aws:iam::123456789012:user/alice', userId: 'AIDAEXAMPLE', account: '123456789012' },
        'r-1',
      ),
    ).toBe(
      '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>' +
        '<Arn>arn:aws:iam::123456789012:user/alice</Arn><UserId>AIDAEXAMPLE</UserId>' +
        '<Account>123456789012</Account></GetCallerIdentityResult>' +
        '<ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>',
    );
  });

  test('STS error body', () => {
    expect(serializeStsError('InvalidClientTokenId', 'The security token <x> is invalid.', 'r-2')).toBe(
      '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>' +
        '<Code>InvalidClientTokenId</Code><Message>The security token &lt;x&gt; is invalid.</Message></Error>' +
        '<RequestId>r-2</RequestId></ErrorResponse>',
    );
    expect(serializeStsError('InternalFailure', 'oops', 'r', 'Receiver')).toContain('<Type>Receiver</Type>');
  });
});
