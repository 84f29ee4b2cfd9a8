/**
 * @module model/types — the control plane's domain objects, as stored and as the API layer
 * renders them. Pure data: no I/O, no behaviour.
 */

/** An account+region namespace. Every object lives in exactly one scope. */
export interface Scope {
  readonly accountId: string;
  readonly region: string;
}

export type Direction = 'egress' | 'ingress';

export interface Tag {
  readonly key: string;
  readonly value: string;
}

/** The one destination (egress) or source (ingress) of a rule. */
export type RuleTarget =
  | { readonly kind: 'ipv4'; readonly cidr: string }
  | { readonly kind: 'ipv6'; readonly cidr: string }
  | { readonly kind: 'prefixList'; readonly prefixListId: string }
  | {
      readonly kind: 'group';
      readonly groupId: string;
      readonly userId: string;
      readonly vpcId?: string;
    };

/**
 * A validated, canonical rule: one protocol, one port range, one target. This is what a
 * duplicate check compares (description excluded) and what the store keeps.
 * `ipProtocol` is canonical: `tcp` `udp` `icmp` `icmpv6`, `-1`, or another number as a string.
 * Ports are -1 where the protocol has none (all ports).
 */
export interface RuleSpec {
  readonly ipProtocol: string;
  readonly fromPort: number;
  readonly toPort: number;
  readonly target: RuleTarget;
  readonly description?: string;
}

export interface SecurityGroupRule extends RuleSpec {
  readonly ruleId: string;
  readonly groupId: string;
  readonly groupOwnerId: string;
  readonly direction: Direction;
  readonly tags: readonly Tag[];
}

export interface SecurityGroup {
  readonly groupId: string;
  readonly groupName: string;
  readonly description: string;
  readonly vpcId: string;
  readonly ownerId: string;
  readonly isDefault: boolean;
  readonly tags: readonly Tag[];
}

export interface Vpc {
  readonly vpcId: string;
  readonly cidrBlock: string;
  readonly ipv6CidrBlock?: string;
  readonly isDefault: boolean;
  readonly ownerId: string;
  readonly state: 'available';
  readonly tags: readonly Tag[];
}

export interface PrefixListEntry {
  readonly cidr: string;
  readonly description?: string;
}

export interface ManagedPrefixList {
  readonly prefixListId: string;
  readonly prefixListName: string;
  readonly addressFamily: 'IPv4' | 'IPv6';
  readonly maxEntries: number;
  readonly version: number;
  readonly state: 'create-complete' | 'modify-complete' | 'delete-complete';
  readonly ownerId: string;
  readonly tags: readonly Tag[];
}
