/**
 * @module model/permissions — turns EC2 `IpPermission` input into canonical one-destination
 * rule drafts: protocol and port rules, CIDR canonicalisation, description, prefix list and
 * group reference checks, and the key that makes two rules the same rule.
 */

import { canonicalCidr, canonicalIpv4Cidr, canonicalIpv6Cidr } from './cidr.js';
import { Ec2Error } from './errors.js';
import { assertPrefixListId, assertSecurityGroupId, assertVpcId } from './ids.js';
import { validateRuleDescription } from './text.js';
import type { Direction, RuleSpec, RuleTarget } from './types.js';

/** `IpRange` as the query parser produces it. */
export interface IpRangeInput {
  readonly CidrIp?: string;
  readonly Description?: string;
}

/** `Ipv6Range` as the query parser produces it. */
export interface Ipv6RangeInput {
  readonly CidrIpv6?: string;
  readonly Description?: string;
}

/** `PrefixListId` as the query parser produces it. */
export interface PrefixListIdInput {
  readonly PrefixListId?: string;
  readonly Description?: string;
}

/** `UserIdGroupPair` as the query parser produces it. */
export interface UserIdGroupPairInput {
  readonly GroupId?: string;
  readonly GroupName?: string;
  readonly UserId?: string;
  readonly VpcId?: string;
  readonly VpcPeeringConnectionId?: string;
  readonly PeeringStatus?: string;
  readonly Description?: string;
}

/** `IpPermission` as the query parser produces it (botocore member names). */
export interface IpPermissionInput {
  readonly IpProtocol?: string;
  readonly FromPort?: number;
  readonly ToPort?: number;
  readonly IpRanges?: readonly IpRangeInput[];
  readonly Ipv6Ranges?: readonly Ipv6RangeInput[];
  readonly PrefixListIds?: readonly PrefixListIdInput[];
  readonly UserIdGroupPairs?: readonly UserIdGroupPairInput[];
}

/** `SecurityGroupRuleRequest` (ModifySecurityGroupRules) as the query parser produces it. */
export interface SecurityGroupRuleRequestInput {
  readonly IpProtocol?: string;
  readonly FromPort?: number;
  readonly ToPort?: number;
  readonly CidrIpv4?: string;
  readonly CidrIpv6?: string;
  readonly PrefixListId?: string;
  readonly ReferencedGroupId?: string;
  readonly Description?: string;
}

/**
 * A security group reference as the caller wrote it, before the service layer resolves the
 * name or ID against the store and fills in the owner.
 */
export interface GroupRefTarget {
  readonly kind: 'groupRef';
  readonly groupId?: string;
  readonly groupName?: string;
  readonly userId?: string;
  readonly vpcId?: string;
}

/** A rule target that may still hold an unresolved group reference. */
export type DraftTarget = RuleTarget | GroupRefTarget;

/** A validated, canonical rule whose group target (if any) is not yet resolved. */
export interface RuleDraft extends Omit<RuleSpec, 'target'> {
  readonly target: DraftTarget;
}

/** Options of {@link expandIpPermissions}. */
export interface ExpandOptions {
  readonly direction: Direction;
  /** Revoke matches on everything but the description, so descriptions are ignored. */
  readonly forRevoke?: boolean;
}

const PROTOCOL_NAMES: ReadonlySet<string> = new Set(['tcp', 'udp', 'icmp', 'icmpv6']);
const PROTOCOL_BY_NUMBER: ReadonlyMap<number, string> = new Map([
  [6, 'tcp'],
  [17, 'udp'],
  [1, 'icmp'],
  [58, 'icmpv6'],
]);

/**
 * Canonical protocol: `tcp` `udp` `icmp` `icmpv6` (names case-insensitive, or their numbers
 * 6/17/1/58), `-1` for all, or another number 0–255 as a plain decimal string.
 * @throws Ec2Error InvalidParameterValue when absent or unknown (EC2 rejects `all`, too).
 */
export function canonicalProtocol(p: string | undefined): string {
  if (p === undefined) {
    throw new Ec2Error(
      'InvalidParameterValue',
      "Invalid value 'null' for protocol. VPC security group rules must specify protocols explicitly.",
    );
  }
  if (p === '-1') return '-1';
  if (/^[0-9]{1,3}$/.test(p)) {
    const n = Number(p);
    if (n <= 255) return PROTOCOL_BY_NUMBER.get(n) ?? String(n);
  }
  const lower = p.toLowerCase();
  if (PROTOCOL_NAMES.has(lower)) return lower;
  throw new Ec2Error('InvalidParameterValue', `Invalid value '${p}' for IP protocol. Unknown protocol.`);
}

const inRange = (n: number, lo: number, hi: number): boolean => Number.isInteger(n) && n >= lo && n <= hi;

function tcpUdpPorts(from: number | undefined, to: number | undefined): [number, number] {
  if (from === undefined && to === undefined) {
    throw new Ec2Error(
      'InvalidParameterValue',
      "Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange.",
    );
  }
  // EC2 reads a missing bound as -1, which is then out of range for TCP/UDP.
  const f = from ?? -1;
  const t = to ?? -1;
  for (const port of [f, t]) {
    if (!inRange(port, 0, 65535)) {
      throw new Ec2Error('InvalidPermission.Malformed', `TCP/UDP port (${port}) out of range`);
    }
  }
  if (f > t) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `Invalid TCP/UDP port range: fromPort (${f}) must not be greater than toPort (${t}).`,
    );
  }
  return [f, t];
}

function icmpTypeCode(
  label: 'ICMP' | 'ICMPv6',
  from: number | undefined,
  to: number | undefined,
  optional: boolean,
): [number, number] {
  if (from === undefined && to === undefined) {
    if (optional) return [-1, -1];
    throw new Ec2Error(
      'InvalidParameterValue',
      `Invalid value 'Must specify both from and to ports with ${label}.' for portRange.`,
    );
  }
  const type = from ?? -1;
  const code = to ?? -1;
  if (!inRange(type, -1, 255))
    throw new Ec2Error('InvalidParameterValue', `${label} type (${type}) out of range`);
  if (!inRange(code, -1, 255))
    throw new Ec2Error('InvalidParameterValue', `${label} code (${code}) out of range`);
  if (type === -1 && code !== -1) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `Invalid ${label} code (${code}) for ${label} type -1. When the type is -1 (all types), the code must be -1 (all codes).`,
    );
  }
  return [type, code];
}

/**
 * Canonical port range of a canonical protocol. TCP/UDP: both ports 0–65535, from ≤ to.
 * ICMP: from = type, to = code, each -1 or 0–255, type -1 only with code -1; both required.
 * ICMPv6: as ICMP, but omitting both means -1/-1. Any other protocol (`-1`, numbers): -1/-1
 * whatever was given, since EC2 then allows all ports.
 * @throws Ec2Error InvalidParameterValue or InvalidPermission.Malformed as EC2 does.
 */
export function canonicalPortRange(
  protocol: string,
  fromPort: number | undefined,
  toPort: number | undefined,
): { fromPort: number; toPort: number } {
  let range: [number, number];
  switch (protocol) {
    case 'tcp':
    case 'udp':
      range = tcpUdpPorts(fromPort, toPort);
      break;
    case 'icmp':
      range = icmpTypeCode('ICMP', fromPort, toPort, false);
      break;
    case 'icmpv6':
      range = icmpTypeCode('ICMPv6', fromPort, toPort, true);
      break;
    default:
      range = [-1, -1];
  }
  return { fromPort: range[0], toPort: range[1] };
}

function descriptionOf(
  description: string | undefined,
  param: string,
  forRevoke: boolean,
  cidr = false,
): { description?: string } {
  if (forRevoke || description === undefined || description === '') return {};
  return { description: validateRuleDescription(description, param, { cidr }) };
}

function requireField(value: string | undefined, param: string): string {
  if (value === undefined || value === '') {
    throw new Ec2Error('MissingParameter', `The request must contain the parameter ${param}`);
  }
  return value;
}

function groupRef(pair: UserIdGroupPairInput, param: string): GroupRefTarget {
  const groupId = pair.GroupId === undefined || pair.GroupId === '' ? undefined : pair.GroupId;
  const groupName = pair.GroupName === undefined || pair.GroupName === '' ? undefined : pair.GroupName;
  if (groupId === undefined && groupName === undefined) {
    throw new Ec2Error('MissingParameter', `Either GroupId or GroupName must be specified in ${param}`);
  }
  if (groupId !== undefined) assertSecurityGroupId(groupId);
  if (pair.VpcId !== undefined && pair.VpcId !== '') assertVpcId(pair.VpcId);
  return {
    kind: 'groupRef',
    ...(groupId === undefined ? {} : { groupId }),
    ...(groupName === undefined ? {} : { groupName }),
    ...(pair.UserId === undefined || pair.UserId === '' ? {} : { userId: pair.UserId }),
    ...(pair.VpcId === undefined || pair.VpcId === '' ? {} : { vpcId: pair.VpcId }),
  };
}

/**
 * Expands EC2 `IpPermissions` into one draft per destination: for each permission in order,
 * its IpRanges, then Ipv6Ranges, then PrefixListIds, then UserIdGroupPairs, each list in order.
 * Protocol and ports are canonicalised once per permission and shared by its drafts.
 *
 * A permission without any destination is rejected with `MissingParameter` ("Missing
 * destination specification…", mirroring EC2's "Missing source specification: include source
 * security group or CIDR information"). EC2 has been seen to accept such a permission through
 * `IpPermissions` and create nothing (terraform-provider-aws #27820, #42018), which leaves
 * callers waiting for a rule that never appears; for an egress control plane a silent no-op
 * is the worse answer, so Weir fails loudly.
 *
 * @throws Ec2Error the first validation error, naming the query parameter where it can.
 */
export function expandIpPermissions(perms: readonly IpPermissionInput[], opts: ExpandOptions): RuleDraft[] {
  const forRevoke = opts.forRevoke ?? false;
  const drafts: RuleDraft[] = [];
  perms.forEach((perm, i) => {
    const p = `IpPermissions.${i + 1}`;
    const ipProtocol = canonicalProtocol(perm.IpProtocol);
    const { fromPort, toPort } = canonicalPortRange(ipProtocol, perm.FromPort, perm.ToPort);
    const base = { ipProtocol, fromPort, toPort };
    const before = drafts.length;

    (perm.IpRanges ?? []).forEach((r, j) => {
      const q = `${p}.IpRanges.${j + 1}`;
      const cidr = canonicalIpv4Cidr(requireField(r.CidrIp, `${q}.CidrIp`), 'cidrIp');
      drafts.push({
        ...base,
        target: { kind: 'ipv4', cidr },
        ...descriptionOf(r.Description, `${q}.Description`, forRevoke, true),
      });
    });
    (perm.Ipv6Ranges ?? []).forEach((r, j) => {
      const q = `${p}.Ipv6Ranges.${j + 1}`;
      const cidr = canonicalIpv6Cidr(requireField(r.CidrIpv6, `${q}.CidrIpv6`), 'cidrIpv6');
      drafts.push({
        ...base,
        target: { kind: 'ipv6', cidr },
        ...descriptionOf(r.Description, `${q}.Description`, forRevoke, true),
      });
    });
    (perm.PrefixListIds ?? []).forEach((r, j) => {
      const q = `${p}.PrefixListIds.${j + 1}`;
      const prefixListId = assertPrefixListId(requireField(r.PrefixListId, `${q}.PrefixListId`));
      drafts.push({
        ...base,
        target: { kind: 'prefixList', prefixListId },
        ...descriptionOf(r.Description, `${q}.Description`, forRevoke),
      });
    });
    (perm.UserIdGroupPairs ?? []).forEach((r, j) => {
      const q = `${p}.Groups.${j + 1}`;
      drafts.push({
        ...base,
        target: groupRef(r, q),
        ...descriptionOf(r.Description, `${q}.Description`, forRevoke),
      });
    });

    if (drafts.length === before) {
      const end = opts.direction === 'egress' ? 'destination' : 'source';
      throw new Ec2Error(
        'MissingParameter',
        `Missing ${end} specification: include ${end} security group or CIDR information (${p})`,
      );
    }
  });
  return drafts;
}

/**
 * Validates ModifySecurityGroupRules' `SecurityGroupRule` and returns its draft. Exactly one of
 * CidrIpv4, CidrIpv6, PrefixListId, ReferencedGroupId is required.
 * @param param the query prefix, for messages.
 * @throws Ec2Error InvalidParameterCombination for several destinations, MissingParameter for
 * none, and the same protocol/port/CIDR/description errors as {@link expandIpPermissions}.
 */
export function securityGroupRuleRequestToDraft(
  req: SecurityGroupRuleRequestInput,
  param = 'SecurityGroupRule',
): RuleDraft {
  const present = [req.CidrIpv4, req.CidrIpv6, req.PrefixListId, req.ReferencedGroupId].filter(
    (v) => v !== undefined,
  ).length;
  if (present > 1) {
    throw new Ec2Error(
      'InvalidParameterCombination',
      'Only one of cidrIp, cidrIpv6, prefixListId, or referencedGroupId can be specified',
    );
  }
  if (present === 0) {
    throw new Ec2Error(
      'MissingParameter',
      'The request must contain exactly one of: cidrIp, cidrIpv6, prefixListId, or referencedGroupId',
    );
  }
  const ipProtocol = canonicalProtocol(req.IpProtocol);
  const { fromPort, toPort } = canonicalPortRange(ipProtocol, req.FromPort, req.ToPort);
  let target: DraftTarget;
  if (req.CidrIpv4 !== undefined) target = { kind: 'ipv4', cidr: canonicalIpv4Cidr(req.CidrIpv4, 'cidrIp') };
  else if (req.CidrIpv6 !== undefined)
    target = { kind: 'ipv6', cidr: canonicalIpv6Cidr(req.CidrIpv6, 'cidrIpv6') };
  else if (req.PrefixListId !== undefined)
    target = { kind: 'prefixList', prefixListId: assertPrefixListId(req.PrefixListId) };
  else target = { kind: 'groupRef', groupId: assertSecurityGroupId(req.ReferencedGroupId ?? '') };
  return {
    ipProtocol,
    fromPort,
    toPort,
    target,
    ...descriptionOf(
      req.Description,
      `${param}.Description`,
      false,
      target.kind === 'ipv4' || target.kind === 'ipv6',
    ),
  };
}

/** True when the draft's target needs no resolution, i.e. the draft is already a RuleSpec. */
export function isResolvedDraft(draft: RuleDraft): draft is RuleSpec {
  return draft.target.kind !== 'groupRef';
}

function targetKey(target: RuleTarget): string {
  switch (target.kind) {
    case 'ipv4':
    case 'ipv6':
      return `${target.kind}:${target.cidr}`;
    case 'prefixList':
      return `pl:${target.prefixListId}`;
    case 'group':
      return `sg:${target.userId}/${target.groupId}`;
  }
}

/**
 * A stable string identifying a rule for duplicate detection: direction, protocol, ports and
 * target, never the description. Group targets key on owner and group ID, so resolve group
 * references before keying. Inputs must already be canonical (as drafts are).
 */
export function ruleKey(direction: Direction, spec: RuleSpec): string {
  return `${direction}|${spec.ipProtocol}|${spec.fromPort}|${spec.toPort}|${targetKey(spec.target)}`;
}

/**
 * Returns the canonical CIDR of a managed prefix list entry, which must match the list's
 * address family.
 * @throws Ec2Error InvalidParameterValue for a malformed CIDR or the other family.
 */
export function validatePrefixListEntryCidr(
  cidr: string,
  addressFamily: 'IPv4' | 'IPv6',
  param = 'Cidr',
): string {
  const parsed = canonicalCidr(cidr, param);
  const want = addressFamily === 'IPv4' ? 'ipv4' : 'ipv6';
  if (parsed.family !== want) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `Value (${cidr}) for parameter ${param} is invalid. The prefix list's address family is ${addressFamily}.`,
    );
  }
  return parsed.cidr;
}
