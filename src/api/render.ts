/**
 * @module api/render — domain objects to botocore-shaped output objects (member names as in
 * the EC2 model), which the XML serializer then writes.
 */
import type {
  ManagedPrefixList,
  RuleSpec,
  Scope,
  SecurityGroup,
  SecurityGroupRule,
  Tag,
  Vpc,
} from '../model/index.js';
import { arn } from './context.js';

type Out = Record<string, unknown>;

export const renderTags = (tags: readonly Tag[]): Out[] => tags.map((t) => ({ Key: t.key, Value: t.value }));

/**
 * A rule as `SecurityGroupRule`. EC2 lists `Tags: []` in DescribeSecurityGroupRules but leaves
 * an empty tag set out of Authorize* answers.
 */
export function renderRule(scope: Scope, r: SecurityGroupRule, opts: { emptyTags?: boolean } = {}): Out {
  const t = r.target;
  // Built by assignment rather than spreads (this runs for every rule of a describe); the
  // member order is the serialized element order.
  const out: Out = {
    SecurityGroupRuleId: r.ruleId,
    GroupId: r.groupId,
    GroupOwnerId: r.groupOwnerId,
    IsEgress: r.direction === 'egress',
    IpProtocol: r.ipProtocol,
    FromPort: r.fromPort,
    ToPort: r.toPort,
  };
  if (t.kind === 'ipv4') out['CidrIpv4'] = t.cidr;
  else if (t.kind === 'ipv6') out['CidrIpv6'] = t.cidr;
  else if (t.kind === 'prefixList') out['PrefixListId'] = t.prefixListId;
  else if (t.kind === 'group') {
    const info: Out = { GroupId: t.groupId, UserId: t.userId };
    if (t.vpcId) info['VpcId'] = t.vpcId;
    out['ReferencedGroupInfo'] = info;
  }
  if (r.description !== undefined) out['Description'] = r.description;
  if (r.tags.length || opts.emptyTags) out['Tags'] = renderTags(r.tags);
  out['SecurityGroupRuleArn'] = arn(scope, 'security-group-rule', r.ruleId);
  return out;
}

/** A rule as `RevokedSecurityGroupRule` (Revoke*). */
export function renderRevokedRule(r: SecurityGroupRule): Out {
  const t = r.target;
  return {
    SecurityGroupRuleId: r.ruleId,
    GroupId: r.groupId,
    IsEgress: r.direction === 'egress',
    IpProtocol: r.ipProtocol,
    FromPort: r.fromPort,
    ToPort: r.toPort,
    ...(t.kind === 'ipv4' ? { CidrIpv4: t.cidr } : {}),
    ...(t.kind === 'ipv6' ? { CidrIpv6: t.cidr } : {}),
    ...(t.kind === 'prefixList' ? { PrefixListId: t.prefixListId } : {}),
    ...(t.kind === 'group' ? { ReferencedGroupId: t.groupId } : {}),
    ...(r.description !== undefined ? { Description: r.description } : {}),
  };
}

/**
 * The protocols whose permissions carry FromPort/ToPort (ports, or ICMP type and code). EC2
 * leaves them out for `-1` and for every other numbered protocol (GRE 47, ESP 50 …), and
 * clients compare what they sent with what they read back: Ansible's ec2_security_group saw
 * -1/-1 for protocol 50 as a change on every run.
 */
const PORTED_PROTOCOLS: ReadonlySet<string> = new Set(['tcp', 'udp', 'icmp', 'icmpv6']);

/**
 * Rules folded back into EC2's `IpPermission` form: one permission per protocol and port
 * range, its destinations grouped by kind. Only TCP, UDP, ICMP and ICMPv6 carry ports.
 */
export function renderIpPermissions(rules: readonly RuleSpec[]): Out[] {
  const byRange = new Map<string, { perm: Out; lists: Record<string, Out[]> }>();
  for (const r of rules) {
    const k = `${r.ipProtocol}|${r.fromPort}|${r.toPort}`;
    let entry = byRange.get(k);
    if (!entry) {
      const lists: Record<string, Out[]> = {
        UserIdGroupPairs: [],
        IpRanges: [],
        Ipv6Ranges: [],
        PrefixListIds: [],
      };
      const perm: Out = {
        IpProtocol: r.ipProtocol,
        ...(PORTED_PROTOCOLS.has(r.ipProtocol) ? { FromPort: r.fromPort, ToPort: r.toPort } : {}),
        ...lists,
      };
      entry = { perm, lists };
      byRange.set(k, entry);
    }
    const d = r.description !== undefined ? { Description: r.description } : {};
    const t = r.target;
    switch (t.kind) {
      case 'ipv4':
        entry.lists['IpRanges']!.push({ CidrIp: t.cidr, ...d });
        break;
      case 'ipv6':
        entry.lists['Ipv6Ranges']!.push({ CidrIpv6: t.cidr, ...d });
        break;
      case 'prefixList':
        entry.lists['PrefixListIds']!.push({ PrefixListId: t.prefixListId, ...d });
        break;
      case 'group':
        entry.lists['UserIdGroupPairs']!.push({
          UserId: t.userId,
          GroupId: t.groupId,
          ...(t.vpcId ? { VpcId: t.vpcId } : {}),
          ...d,
        });
        break;
    }
  }
  return [...byRange.values()].map((e) => e.perm);
}

export function renderGroup(scope: Scope, g: SecurityGroup, rules: readonly SecurityGroupRule[]): Out {
  return {
    GroupId: g.groupId,
    IpPermissionsEgress: renderIpPermissions(rules.filter((r) => r.direction === 'egress')),
    ...(g.tags.length ? { Tags: renderTags(g.tags) } : {}),
    VpcId: g.vpcId,
    SecurityGroupArn: arn(scope, 'security-group', g.groupId),
    OwnerId: g.ownerId,
    GroupName: g.groupName,
    Description: g.description,
    IpPermissions: renderIpPermissions(rules.filter((r) => r.direction === 'ingress')),
  };
}

export function renderVpc(v: Vpc): Out {
  return {
    OwnerId: v.ownerId,
    InstanceTenancy: 'default',
    ...(v.ipv6CidrBlock
      ? {
          Ipv6CidrBlockAssociationSet: [
            {
              AssociationId: `vpc-cidr-assoc-${v.vpcId.slice(4)}6`,
              Ipv6CidrBlock: v.ipv6CidrBlock,
              Ipv6CidrBlockState: { State: 'associated' },
              NetworkBorderGroup: 'weir',
              Ipv6Pool: 'Amazon',
            },
          ],
        }
      : {}),
    CidrBlockAssociationSet: [
      {
        AssociationId: `vpc-cidr-assoc-${v.vpcId.slice(4)}`,
        CidrBlock: v.cidrBlock,
        CidrBlockState: { State: 'associated' },
      },
    ],
    IsDefault: v.isDefault,
    ...(v.tags.length ? { Tags: renderTags(v.tags) } : {}),
    VpcId: v.vpcId,
    State: v.state,
    CidrBlock: v.cidrBlock,
    DhcpOptionsId: 'default',
  };
}

export function renderPrefixList(scope: Scope, p: ManagedPrefixList): Out {
  return {
    PrefixListId: p.prefixListId,
    AddressFamily: p.addressFamily,
    State: p.state,
    PrefixListArn: arn(scope, 'prefix-list', p.prefixListId),
    PrefixListName: p.prefixListName,
    MaxEntries: p.maxEntries,
    Version: p.version,
    Tags: renderTags(p.tags),
    OwnerId: p.ownerId,
  };
}
