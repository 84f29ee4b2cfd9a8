import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  canonicalPortRange,
  canonicalProtocol,
  expandIpPermissions,
  isResolvedDraft,
  ruleKey,
  securityGroupRuleRequestToDraft,
  validatePrefixListEntryCidr,
} from './permissions.js';
import type { IpPermissionInput, RuleDraft, SecurityGroupRuleRequestInput } from './permissions.js';
import { formatIpv4 } from './cidr.js';
import { Ec2Error } from './errors.js';
import type { RuleSpec } from './types.js';

function ec2ErrorOf(fn: () => unknown): Ec2Error {
  try {
    fn();
  } catch (e) {
    if (e instanceof Ec2Error) return e;
    throw e;
  }
  throw new Error('expected an Ec2Error');
}

const egress = (...perms: IpPermissionInput[]): RuleDraft[] =>
  expandIpPermissions(perms, { direction: 'egress' });

describe('expandIpPermissions: EC2 reference examples', () => {
  it('TCP 80 to two IPv4 ranges gives two rules', () => {
    expect(
      egress({
        IpProtocol: 'tcp',
        FromPort: 80,
        ToPort: 80,
        IpRanges: [{ CidrIp: '192.0.2.0/24' }, { CidrIp: '198.51.100.0/24' }],
      }),
    ).toEqual([
      { ipProtocol: 'tcp', fromPort: 80, toPort: 80, target: { kind: 'ipv4', cidr: '192.0.2.0/24' } },
      { ipProtocol: 'tcp', fromPort: 80, toPort: 80, target: { kind: 'ipv4', cidr: '198.51.100.0/24' } },
    ]);
  });

  it('TCP 1433 to a security group gives an unresolved group reference', () => {
    expect(
      egress({
        IpProtocol: 'tcp',
        FromPort: 1433,
        ToPort: 1433,
        UserIdGroupPairs: [{ GroupId: 'sg-9a8d7f5c' }],
      }),
    ).toEqual([
      {
        ipProtocol: 'tcp',
        fromPort: 1433,
        toPort: 1433,
        target: { kind: 'groupRef', groupId: 'sg-9a8d7f5c' },
      },
    ]);
  });

  it('TCP 22 to an IPv6 range', () => {
    expect(
      egress({
        IpProtocol: 'tcp',
        FromPort: 22,
        ToPort: 22,
        Ipv6Ranges: [{ CidrIpv6: '2001:db8:1234:1a00::/64' }],
      }),
    ).toEqual([
      {
        ipProtocol: 'tcp',
        fromPort: 22,
        toPort: 22,
        target: { kind: 'ipv6', cidr: '2001:db8:1234:1a00::/64' },
      },
    ]);
  });

  it('RDP 3389 with a description', () => {
    expect(
      egress({
        IpProtocol: 'tcp',
        FromPort: 3389,
        ToPort: 3389,
        IpRanges: [{ CidrIp: '192.0.2.0/24', Description: 'Access to London office' }],
      }),
    ).toEqual([
      {
        ipProtocol: 'tcp',
        fromPort: 3389,
        toPort: 3389,
        target: { kind: 'ipv4', cidr: '192.0.2.0/24' },
        description: 'Access to London office',
      },
    ]);
  });

  it('AWS CLI examples: 10.0.0.0/16 and sg-0aad1c26bbeec5c22 on TCP 80', () => {
    expect(
      egress(
        { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '10.0.0.0/16' }] },
        {
          IpProtocol: 'tcp',
          FromPort: 80,
          ToPort: 80,
          UserIdGroupPairs: [{ GroupId: 'sg-0aad1c26bbeec5c22' }],
        },
      ).map((d) => d.target),
    ).toEqual([
      { kind: 'ipv4', cidr: '10.0.0.0/16' },
      { kind: 'groupRef', groupId: 'sg-0aad1c26bbeec5c22' },
    ]);
  });
});

describe('expandIpPermissions: expansion and destinations', () => {
  it('keeps input order: per permission, IPv4, IPv6, prefix lists, groups', () => {
    const drafts = egress(
      {
        IpProtocol: '-1',
        UserIdGroupPairs: [
          { GroupName: 'db', UserId: '123456789012', VpcId: 'vpc-766c7513', VpcPeeringConnectionId: 'pcx-1' },
        ],
        PrefixListIds: [{ PrefixListId: 'pl-12345678', Description: 'S3' }],
        Ipv6Ranges: [{ CidrIpv6: '::/0' }],
        IpRanges: [{ CidrIp: '0.0.0.0/0' }, { CidrIp: '100.68.0.18/18' }],
      },
      { IpProtocol: 'udp', FromPort: 53, ToPort: 53, IpRanges: [{ CidrIp: '10.0.0.2/32' }] },
    );
    expect(drafts.map((d) => d.target)).toEqual([
      { kind: 'ipv4', cidr: '0.0.0.0/0' },
      { kind: 'ipv4', cidr: '100.68.0.0/18' },
      { kind: 'ipv6', cidr: '::/0' },
      { kind: 'prefixList', prefixListId: 'pl-12345678' },
      { kind: 'groupRef', groupName: 'db', userId: '123456789012', vpcId: 'vpc-766c7513' },
      { kind: 'ipv4', cidr: '10.0.0.2/32' },
    ]);
    expect(drafts[3]?.description).toBe('S3');
    expect(drafts[5]).toMatchObject({ ipProtocol: 'udp', fromPort: 53, toPort: 53 });
  });

  it.each([
    ['100.68.0.18/18', '100.68.0.0/18'],
    ['192.0.2.77/24', '192.0.2.0/24'],
  ])('canonicalises IPv4 %s to %s', (input, canonical) => {
    expect(egress({ IpProtocol: '-1', IpRanges: [{ CidrIp: input }] })[0]?.target).toEqual({
      kind: 'ipv4',
      cidr: canonical,
    });
  });

  it('canonicalises IPv6 to lower case and compressed form', () => {
    expect(
      egress({ IpProtocol: '-1', Ipv6Ranges: [{ CidrIpv6: '2001:DB8:1234:1A00:0:0:0:1/64' }] })[0]?.target,
    ).toEqual({
      kind: 'ipv6',
      cidr: '2001:db8:1234:1a00::/64',
    });
  });

  it('omits an empty description', () => {
    expect(
      egress({ IpProtocol: '-1', IpRanges: [{ CidrIp: '10.0.0.0/8', Description: '' }] })[0],
    ).not.toHaveProperty('description');
  });

  it.each<[string, IpPermissionInput, string, string]>([
    [
      'IPv6 in IpRanges',
      { IpProtocol: '-1', IpRanges: [{ CidrIp: '::/0' }] },
      'InvalidParameterValue',
      'Value (::/0) for parameter cidrIp is invalid. This is not a valid CIDR block.',
    ],
    [
      'IPv4 in Ipv6Ranges',
      { IpProtocol: '-1', Ipv6Ranges: [{ CidrIpv6: '10.0.0.0/8' }] },
      'InvalidParameterValue',
      'parameter cidrIpv6 is invalid',
    ],
    [
      'prefix too long',
      { IpProtocol: '-1', IpRanges: [{ CidrIp: '10.0.0.0/33' }] },
      'InvalidParameterValue',
      'Value (10.0.0.0/33) for parameter cidrIp',
    ],
    [
      'no prefix',
      { IpProtocol: '-1', IpRanges: [{ CidrIp: '10.0.0.1' }] },
      'InvalidParameterValue',
      'not a valid CIDR block',
    ],
    [
      'leading zero',
      { IpProtocol: '-1', IpRanges: [{ CidrIp: '010.0.0.0/8' }] },
      'InvalidParameterValue',
      'not a valid CIDR block',
    ],
    [
      'missing CidrIp',
      { IpProtocol: '-1', IpRanges: [{ Description: 'x' }] },
      'MissingParameter',
      'IpPermissions.1.IpRanges.1.CidrIp',
    ],
    [
      'missing CidrIpv6',
      { IpProtocol: '-1', Ipv6Ranges: [{}] },
      'MissingParameter',
      'IpPermissions.1.Ipv6Ranges.1.CidrIpv6',
    ],
    [
      'malformed prefix list',
      { IpProtocol: '-1', PrefixListIds: [{ PrefixListId: 'pl-xyz' }] },
      'InvalidPrefixListId.Malformed',
      'Invalid id: "pl-xyz" (expecting "pl-...")',
    ],
    [
      'missing prefix list id',
      { IpProtocol: '-1', PrefixListIds: [{}] },
      'MissingParameter',
      'IpPermissions.1.PrefixListIds.1.PrefixListId',
    ],
    [
      'malformed group id',
      { IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: 'sg-bad' }] },
      'InvalidGroupId.Malformed',
      'Invalid id: "sg-bad" (expecting "sg-...")',
    ],
    [
      'group without id or name',
      { IpProtocol: '-1', UserIdGroupPairs: [{ UserId: '123456789012' }] },
      'MissingParameter',
      'Either GroupId or GroupName must be specified in IpPermissions.1.Groups.1',
    ],
    [
      'malformed vpc id',
      { IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: 'sg-1a2b3c4d', VpcId: 'vpc-x' }] },
      'InvalidVpcId.Malformed',
      'expecting "vpc-..."',
    ],
    [
      'no destination',
      { IpProtocol: 'tcp', FromPort: 80, ToPort: 80 },
      'MissingParameter',
      'Missing destination specification: include destination security group or CIDR information (IpPermissions.1)',
    ],
    [
      'empty destination lists',
      { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [], UserIdGroupPairs: [] },
      'MissingParameter',
      'Missing destination specification',
    ],
  ])('rejects %s', (_name, perm, code, message) => {
    const err = ec2ErrorOf(() => egress(perm));
    expect(err.code).toBe(code);
    expect(err.message).toContain(message);
  });

  it('names the source, not the destination, for ingress', () => {
    const err = ec2ErrorOf(() => expandIpPermissions([{ IpProtocol: '-1' }], { direction: 'ingress' }));
    expect(err.message).toBe(
      'Missing source specification: include source security group or CIDR information (IpPermissions.1)',
    );
  });

  it('fails the whole call on an error in a later permission', () => {
    const err = ec2ErrorOf(() =>
      egress(
        { IpProtocol: '-1', IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
        { IpProtocol: '-1', IpRanges: [{ CidrIp: 'bad' }] },
      ),
    );
    expect(err.code).toBe('InvalidParameterValue');
  });

  it('reports the location of a bad description', () => {
    const err = ec2ErrorOf(() =>
      egress(
        { IpProtocol: '-1', IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
        {
          IpProtocol: '-1',
          UserIdGroupPairs: [{ GroupId: 'sg-1a2b3c4d' }, { GroupId: 'sg-1a2b3c4e', Description: 'R&D' }],
        },
      ),
    );
    expect(err.code).toBe('InvalidParameterValue');
    expect(err.message).toContain('Invalid rule description in IpPermissions.2.Groups.2.Description.');
  });

  it('allows & in descriptions of rules to IP ranges but not to groups or prefix lists (as EC2 documents)', () => {
    const ok = egress({
      IpProtocol: '-1',
      IpRanges: [{ CidrIp: '10.0.0.0/8', Description: 'R&D' }],
      Ipv6Ranges: [{ CidrIpv6: '::/0', Description: 'R&D' }],
    });
    expect(ok.map((d) => d.description)).toEqual(['R&D', 'R&D']);
    expect(
      ec2ErrorOf(() =>
        egress({ IpProtocol: '-1', PrefixListIds: [{ PrefixListId: 'pl-1a2b3c4d', Description: 'R&D' }] }),
      ).code,
    ).toBe('InvalidParameterValue');
  });

  it.each([
    ['256 characters', 'a'.repeat(256)],
    ['a disallowed character', 'office <London>'],
  ])('rejects a rule description with %s', (_name, description) => {
    const err = ec2ErrorOf(() =>
      egress({ IpProtocol: '-1', Ipv6Ranges: [{ CidrIpv6: '::/0', Description: description }] }),
    );
    expect(err.code).toBe('InvalidParameterValue');
    expect(err.message).toContain('IpPermissions.1.Ipv6Ranges.1.Description');
  });

  it('ignores descriptions on revoke, where matching never uses them', () => {
    const drafts = expandIpPermissions(
      [
        {
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          IpRanges: [{ CidrIp: '10.0.0.0/8', Description: 'x'.repeat(300) }],
        },
      ],
      { direction: 'egress', forRevoke: true },
    );
    expect(drafts).toEqual([
      { ipProtocol: 'tcp', fromPort: 443, toPort: 443, target: { kind: 'ipv4', cidr: '10.0.0.0/8' } },
    ]);
  });

  it('validates everything else on revoke', () => {
    const err = ec2ErrorOf(() =>
      expandIpPermissions([{ IpProtocol: 'tcp', IpRanges: [{ CidrIp: '10.0.0.0/8' }] }], {
        direction: 'egress',
        forRevoke: true,
      }),
    );
    expect(err.code).toBe('InvalidParameterValue');
  });
});

describe('canonicalProtocol', () => {
  it.each([
    ['tcp', 'tcp'],
    ['TCP', 'tcp'],
    ['Tcp', 'tcp'],
    ['6', 'tcp'],
    ['06', 'tcp'],
    ['udp', 'udp'],
    ['17', 'udp'],
    ['icmp', 'icmp'],
    ['ICMP', 'icmp'],
    ['1', 'icmp'],
    ['icmpv6', 'icmpv6'],
    ['ICMPv6', 'icmpv6'],
    ['58', 'icmpv6'],
    ['-1', '-1'],
    ['50', '50'],
    ['47', '47'],
    ['0', '0'],
    ['255', '255'],
    ['050', '50'],
  ])('%j -> %j', (input, canonical) => {
    expect(canonicalProtocol(input)).toBe(canonical);
  });

  it.each([
    'all',
    'ALL',
    '256',
    '-2',
    '-01',
    'xyz',
    '',
    'tcp ',
    ' 6',
    '6.0',
    '0x6',
    '+6',
    'gre',
    '1000',
    '0006',
  ])('rejects %j', (input) => {
    const err = ec2ErrorOf(() => canonicalProtocol(input));
    expect(err.code).toBe('InvalidParameterValue');
    expect(err.message).toBe(`Invalid value '${input}' for IP protocol. Unknown protocol.`);
  });

  it('rejects a missing protocol as EC2 does', () => {
    const err = ec2ErrorOf(() => egress({ FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }));
    expect(err.code).toBe('InvalidParameterValue');
    expect(err.message).toBe(
      "Invalid value 'null' for protocol. VPC security group rules must specify protocols explicitly.",
    );
  });
});

describe('canonicalPortRange', () => {
  type U = number | undefined;
  it.each<[string, U, U, number, number]>([
    ['tcp', 80, 80, 80, 80],
    ['tcp', 0, 65535, 0, 65535],
    ['tcp', 1024, 2048, 1024, 2048],
    ['udp', 53, 53, 53, 53],
    ['icmp', 8, 0, 8, 0],
    ['icmp', -1, -1, -1, -1],
    ['icmp', 3, -1, 3, -1],
    ['icmp', 8, undefined, 8, -1],
    ['icmp', 255, 255, 255, 255],
    ['icmpv6', undefined, undefined, -1, -1],
    ['icmpv6', 128, 0, 128, 0],
    ['icmpv6', -1, -1, -1, -1],
    ['-1', undefined, undefined, -1, -1],
    ['-1', 0, 65535, -1, -1],
    ['50', 22, 22, -1, -1],
    ['50', 99999, -7, -1, -1],
    ['47', 1.5, undefined, -1, -1],
  ])('%s %s-%s -> %s-%s', (protocol, from, to, f, t) => {
    expect(canonicalPortRange(protocol, from, to)).toEqual({ fromPort: f, toPort: t });
  });

  it.each<[string, U, U, string, string]>([
    [
      'tcp',
      undefined,
      undefined,
      'InvalidParameterValue',
      "Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange.",
    ],
    [
      'udp',
      undefined,
      undefined,
      'InvalidParameterValue',
      'Must specify both from and to ports with TCP/UDP.',
    ],
    ['tcp', undefined, 80, 'InvalidPermission.Malformed', 'TCP/UDP port (-1) out of range'],
    ['tcp', 80, undefined, 'InvalidPermission.Malformed', 'TCP/UDP port (-1) out of range'],
    ['tcp', -1, -1, 'InvalidPermission.Malformed', 'TCP/UDP port (-1) out of range'],
    ['tcp', 0, 65536, 'InvalidPermission.Malformed', 'TCP/UDP port (65536) out of range'],
    ['udp', 1.5, 2, 'InvalidPermission.Malformed', 'TCP/UDP port (1.5) out of range'],
    [
      'tcp',
      90,
      80,
      'InvalidParameterValue',
      'Invalid TCP/UDP port range: fromPort (90) must not be greater than toPort (80).',
    ],
    [
      'icmp',
      undefined,
      undefined,
      'InvalidParameterValue',
      "Invalid value 'Must specify both from and to ports with ICMP.' for portRange.",
    ],
    ['icmp', -1, 0, 'InvalidParameterValue', 'Invalid ICMP code (0) for ICMP type -1.'],
    ['icmp', undefined, 3, 'InvalidParameterValue', 'Invalid ICMP code (3) for ICMP type -1.'],
    ['icmp', 256, 0, 'InvalidParameterValue', 'ICMP type (256) out of range'],
    ['icmp', -2, -1, 'InvalidParameterValue', 'ICMP type (-2) out of range'],
    ['icmp', 0, 65535, 'InvalidParameterValue', 'ICMP code (65535) out of range'],
    ['icmpv6', -1, 3, 'InvalidParameterValue', 'Invalid ICMPv6 code (3) for ICMPv6 type -1.'],
    ['icmpv6', 300, 0, 'InvalidParameterValue', 'ICMPv6 type (300) out of range'],
  ])('%s %s-%s -> %s', (protocol, from, to, code, message) => {
    const err = ec2ErrorOf(() => canonicalPortRange(protocol, from, to));
    expect(err.code).toBe(code);
    expect(err.message).toContain(message);
  });

  it('applies to whole permissions: protocol 50 with ports allows all ports', () => {
    expect(
      egress({ IpProtocol: '50', FromPort: 500, ToPort: 500, IpRanges: [{ CidrIp: '203.0.113.0/24' }] }),
    ).toEqual([
      { ipProtocol: '50', fromPort: -1, toPort: -1, target: { kind: 'ipv4', cidr: '203.0.113.0/24' } },
    ]);
  });

  it('applies to whole permissions: icmpv6 without ports', () => {
    expect(egress({ IpProtocol: '58', Ipv6Ranges: [{ CidrIpv6: '2001:db8::/32' }] })).toEqual([
      { ipProtocol: 'icmpv6', fromPort: -1, toPort: -1, target: { kind: 'ipv6', cidr: '2001:db8::/32' } },
    ]);
  });

  it('applies to whole permissions: icmp echo request', () => {
    expect(
      egress({ IpProtocol: 'icmp', FromPort: 8, ToPort: 0, IpRanges: [{ CidrIp: '0.0.0.0/0' }] })[0],
    ).toMatchObject({
      ipProtocol: 'icmp',
      fromPort: 8,
      toPort: 0,
    });
  });
});

describe('ruleKey', () => {
  const base: RuleSpec = {
    ipProtocol: 'tcp',
    fromPort: 443,
    toPort: 443,
    target: { kind: 'ipv4', cidr: '10.0.0.0/8' },
  };

  it('ignores the description', () => {
    expect(ruleKey('egress', { ...base, description: 'a' })).toBe(ruleKey('egress', base));
  });

  it.each<[string, RuleSpec]>([
    ['protocol', { ...base, ipProtocol: 'udp' }],
    ['from port', { ...base, fromPort: 442 }],
    ['to port', { ...base, toPort: 444 }],
    ['CIDR', { ...base, target: { kind: 'ipv4', cidr: '10.0.0.0/9' } }],
    ['family', { ...base, target: { kind: 'ipv6', cidr: '::/0' } }],
    ['prefix list', { ...base, target: { kind: 'prefixList', prefixListId: 'pl-12345678' } }],
    ['group', { ...base, target: { kind: 'group', groupId: 'sg-1a2b3c4d', userId: '123456789012' } }],
  ])('differs by %s', (_name, other) => {
    expect(ruleKey('egress', other)).not.toBe(ruleKey('egress', base));
  });

  it('differs by direction', () => {
    expect(ruleKey('ingress', base)).not.toBe(ruleKey('egress', base));
  });

  it('keys groups on owner and ID, not VPC', () => {
    const g = (userId: string, vpcId?: string): RuleSpec => ({
      ...base,
      target: { kind: 'group', groupId: 'sg-1a2b3c4d', userId, ...(vpcId === undefined ? {} : { vpcId }) },
    });
    expect(ruleKey('egress', g('123456789012', 'vpc-766c7513'))).toBe(ruleKey('egress', g('123456789012')));
    expect(ruleKey('egress', g('123456789012'))).not.toBe(ruleKey('egress', g('210987654321')));
  });

  it('is the same for every spelling of the same rule', () => {
    const spellings = fc.record({
      addr: fc.integer({ min: 0, max: 0xffffffff }),
      prefix: fc.integer({ min: 0, max: 32 }),
      from: fc.integer({ min: 0, max: 65535 }),
      width: fc.integer({ min: 0, max: 100 }),
      proto: fc.constantFrom('tcp', 'TCP', '6', '006', 'Tcp'),
      description: fc.constantFrom(undefined, '', 'one', 'two'),
    });
    fc.assert(
      fc.property(spellings, spellings, (a, b) => {
        const toPerm = (s: typeof a, addr: number): IpPermissionInput => ({
          IpProtocol: s.proto,
          FromPort: s.from,
          ToPort: Math.min(65535, s.from + s.width),
          IpRanges: [
            {
              CidrIp: `${formatIpv4(addr)}/${s.prefix}`,
              ...(s.description === undefined ? {} : { Description: s.description }),
            },
          ],
        });
        // Same network, same ports, different host bits, protocol spelling and description.
        const hostBits = a.prefix === 32 ? 0 : b.addr & (2 ** (32 - a.prefix) - 1);
        const network = a.prefix === 0 ? 0 : (a.addr >>> (32 - a.prefix)) * 2 ** (32 - a.prefix);
        const [da] = egress(toPerm(a, a.addr));
        const [db] = egress(
          toPerm({ ...b, prefix: a.prefix, from: a.from, width: a.width }, network + hostBits),
        );
        if (da === undefined || db === undefined || !isResolvedDraft(da) || !isResolvedDraft(db))
          throw new Error('no draft');
        expect(ruleKey('egress', db)).toBe(ruleKey('egress', da));
      }),
    );
  });
});

describe('isResolvedDraft', () => {
  it('is false only for group references', () => {
    const [cidr, group] = egress({
      IpProtocol: '-1',
      IpRanges: [{ CidrIp: '10.0.0.0/8' }],
      UserIdGroupPairs: [{ GroupId: 'sg-1a2b3c4d' }],
    });
    expect(cidr !== undefined && isResolvedDraft(cidr)).toBe(true);
    expect(group !== undefined && isResolvedDraft(group)).toBe(false);
  });
});

describe('securityGroupRuleRequestToDraft', () => {
  it.each<[SecurityGroupRuleRequestInput, RuleDraft]>([
    [
      { IpProtocol: 'TCP', FromPort: 443, ToPort: 443, CidrIpv4: '10.1.2.3/16', Description: 'api' },
      {
        ipProtocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        target: { kind: 'ipv4', cidr: '10.1.0.0/16' },
        description: 'api',
      },
    ],
    [
      { IpProtocol: '-1', FromPort: 1, ToPort: 2, CidrIpv6: '2001:DB8::1/32' },
      { ipProtocol: '-1', fromPort: -1, toPort: -1, target: { kind: 'ipv6', cidr: '2001:db8::/32' } },
    ],
    [
      { IpProtocol: 'udp', FromPort: 53, ToPort: 53, PrefixListId: 'pl-12345678' },
      {
        ipProtocol: 'udp',
        fromPort: 53,
        toPort: 53,
        target: { kind: 'prefixList', prefixListId: 'pl-12345678' },
      },
    ],
    [
      { IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, ReferencedGroupId: 'sg-0aad1c26bbeec5c22' },
      {
        ipProtocol: 'tcp',
        fromPort: 5432,
        toPort: 5432,
        target: { kind: 'groupRef', groupId: 'sg-0aad1c26bbeec5c22' },
      },
    ],
  ])('accepts %j', (req, draft) => {
    expect(securityGroupRuleRequestToDraft(req)).toEqual(draft);
  });

  it.each<[SecurityGroupRuleRequestInput, string, string]>([
    [
      { IpProtocol: '-1', CidrIpv4: '10.0.0.0/8', CidrIpv6: '::/0' },
      'InvalidParameterCombination',
      'Only one of cidrIp, cidrIpv6, prefixListId, or referencedGroupId can be specified',
    ],
    [
      { IpProtocol: '-1', PrefixListId: 'pl-12345678', ReferencedGroupId: 'sg-1a2b3c4d' },
      'InvalidParameterCombination',
      'Only one of',
    ],
    [
      { IpProtocol: '-1' },
      'MissingParameter',
      'The request must contain exactly one of: cidrIp, cidrIpv6, prefixListId, or referencedGroupId',
    ],
    [{ CidrIpv4: '10.0.0.0/8' }, 'InvalidParameterValue', "Invalid value 'null' for protocol."],
    [
      { IpProtocol: 'tcp', CidrIpv4: '10.0.0.0/8' },
      'InvalidParameterValue',
      'Must specify both from and to ports with TCP/UDP.',
    ],
    [{ IpProtocol: '-1', CidrIpv4: '10.0.0.0/33' }, 'InvalidParameterValue', 'parameter cidrIp is invalid'],
    [{ IpProtocol: '-1', CidrIpv6: '10.0.0.0/8' }, 'InvalidParameterValue', 'parameter cidrIpv6 is invalid'],
    [{ IpProtocol: '-1', PrefixListId: 'pl-1' }, 'InvalidPrefixListId.Malformed', 'expecting "pl-..."'],
    [{ IpProtocol: '-1', ReferencedGroupId: 'default' }, 'InvalidGroupId.Malformed', 'Invalid id: "default"'],
    [
      { IpProtocol: '-1', CidrIpv4: '10.0.0.0/8', Description: 'x'.repeat(256) },
      'InvalidParameterValue',
      'SecurityGroupRule.Description',
    ],
  ])('rejects %j with %s', (req, code, message) => {
    const err = ec2ErrorOf(() => securityGroupRuleRequestToDraft(req));
    expect(err.code).toBe(code);
    expect(err.message).toContain(message);
  });
});

describe('validatePrefixListEntryCidr', () => {
  it.each<['IPv4' | 'IPv6', string, string]>([
    ['IPv4', '10.0.0.1/24', '10.0.0.0/24'],
    ['IPv4', '0.0.0.0/0', '0.0.0.0/0'],
    ['IPv6', '2001:DB8::1/48', '2001:db8::/48'],
  ])('%s list takes %s as %s', (family, cidr, canonical) => {
    expect(validatePrefixListEntryCidr(cidr, family)).toBe(canonical);
  });

  it.each<['IPv4' | 'IPv6', string, string]>([
    ['IPv4', '2001:db8::/32', "The prefix list's address family is IPv4."],
    ['IPv6', '10.0.0.0/8', "The prefix list's address family is IPv6."],
    ['IPv4', '10.0.0.0', 'This is not a valid CIDR block.'],
    ['IPv6', 'fe80::/200', 'This is not a valid CIDR block.'],
  ])('%s list rejects %s', (family, cidr, message) => {
    const err = ec2ErrorOf(() => validatePrefixListEntryCidr(cidr, family));
    expect(err.code).toBe('InvalidParameterValue');
    expect(err.message).toContain(`Value (${cidr}) for parameter Cidr is invalid.`);
    expect(err.message).toContain(message);
  });
});
