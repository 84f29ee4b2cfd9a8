/**
 * @module model/ids — EC2 resource IDs: generation from injected randomness, format checks,
 * and the `*.Malformed` errors EC2 answers for IDs that cannot be one of its own.
 */

import { Ec2Error } from './errors.js';
import type { Ec2ErrorCode } from './errors.js';

/** ID prefixes of the resources Weir creates. */
export const ID_PREFIX = {
  securityGroup: 'sg',
  securityGroupRule: 'sgr',
  vpc: 'vpc',
  prefixList: 'pl',
  networkAcl: 'acl',
} as const;

/** EC2 resource types (as in `TagSpecification.ResourceType`) of the resources Weir tags. */
export type TaggableResourceType = 'security-group' | 'security-group-rule' | 'vpc' | 'prefix-list';

// A Map, not an object literal: `constructor-12345678` must not find Object.prototype.
const RESOURCE_TYPE_BY_PREFIX: ReadonlyMap<string, TaggableResourceType> = new Map([
  ['sg', 'security-group'],
  ['sgr', 'security-group-rule'],
  ['vpc', 'vpc'],
  ['pl', 'prefix-list'],
]);

const PREFIX_SHAPE = /^[a-z]+$/;
const ID_SHAPE = /^([a-z]+)-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

/**
 * Creates a new resource ID: `prefix-` and 17 lower-case hex digits (68 random bits).
 * @param randomBytes source of randomness, e.g. `crypto.randomBytes`; must return `n` bytes.
 */
export function newResourceId(prefix: string, randomBytes: (n: number) => Uint8Array): string {
  if (!PREFIX_SHAPE.test(prefix)) throw new Error(`invalid resource id prefix: ${JSON.stringify(prefix)}`);
  const bytes = randomBytes(9);
  if (bytes.length < 9) throw new Error('randomBytes returned fewer bytes than asked for');
  let hex = '';
  for (let i = 0; i < 9; i++) hex += (bytes[i] ?? 0).toString(16).padStart(2, '0');
  return `${prefix}-${hex.slice(0, 17)}`;
}

/** True when `id` is `prefix-` followed by 8 (legacy) or 17 lower-case hex digits. */
export function isResourceId(id: string, prefix: string): boolean {
  const m = ID_SHAPE.exec(id);
  return m !== null && m[1] === prefix;
}

/** True for `sg-` + 8 or 17 hex digits. */
export function isSecurityGroupId(id: string): boolean {
  return isResourceId(id, ID_PREFIX.securityGroup);
}

/** True for `sgr-` + 8 or 17 hex digits. */
export function isSecurityGroupRuleId(id: string): boolean {
  return isResourceId(id, ID_PREFIX.securityGroupRule);
}

/** True for `vpc-` + 8 or 17 hex digits. */
export function isVpcId(id: string): boolean {
  return isResourceId(id, ID_PREFIX.vpc);
}

/** True for `pl-` + 8 or 17 hex digits. */
export function isPrefixListId(id: string): boolean {
  return isResourceId(id, ID_PREFIX.prefixList);
}

function assertId(id: string, prefix: string, code: Ec2ErrorCode): string {
  if (!isResourceId(id, prefix)) throw new Ec2Error(code, `Invalid id: "${id}" (expecting "${prefix}-...")`);
  return id;
}

/**
 * Returns `id` when it is a well-formed security group ID.
 * @throws Ec2Error InvalidGroupId.Malformed otherwise.
 */
export function assertSecurityGroupId(id: string): string {
  return assertId(id, ID_PREFIX.securityGroup, 'InvalidGroupId.Malformed');
}

/**
 * Returns `id` when it is a well-formed security group rule ID.
 * @throws Ec2Error InvalidSecurityGroupRuleId.Malformed otherwise.
 */
export function assertSecurityGroupRuleId(id: string): string {
  return assertId(id, ID_PREFIX.securityGroupRule, 'InvalidSecurityGroupRuleId.Malformed');
}

/**
 * Returns `id` when it is a well-formed VPC ID.
 * @throws Ec2Error InvalidVpcId.Malformed otherwise.
 */
export function assertVpcId(id: string): string {
  return assertId(id, ID_PREFIX.vpc, 'InvalidVpcId.Malformed');
}

/**
 * Returns `id` when it is a well-formed prefix list ID.
 * @throws Ec2Error InvalidPrefixListId.Malformed otherwise.
 */
export function assertPrefixListId(id: string): string {
  return assertId(id, ID_PREFIX.prefixList, 'InvalidPrefixListId.Malformed');
}

/**
 * The EC2 resource type of a well-formed ID (`sg-…` → `security-group`), or undefined when
 * the ID is malformed or names a resource type Weir does not tag.
 */
export function resourceTypeOfId(id: string): TaggableResourceType | undefined {
  const m = ID_SHAPE.exec(id);
  return m === null ? undefined : RESOURCE_TYPE_BY_PREFIX.get(m[1] ?? '');
}
