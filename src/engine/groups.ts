/**
 * @module engine/groups — the security groups of the control plane as engine input: every group
 * attached to at least one workload identity becomes one enforce-mode `Policy` whose workloads
 * are exactly those identities and whose rules are the group's egress rules, so the compiler
 * treats API-managed rules and policy files alike. EC2's rules are allow-only across groups,
 * which is the engine's own union semantics: a request is allowed when any policy or any
 * attached group allows it. Pure: the caller reads the store and passes the data in.
 */
import type { Scope, SecurityGroup, SecurityGroupRule } from '../model/index.js';
import type {
  Destination,
  Policy,
  PolicyRule,
  PolicySet,
  PortRange,
  SourceLocation,
} from '../policy-types/index.js';
import { compilePolicySet } from './compile.js';
import type { CompileOptions, Snapshot } from './matcher.js';

/** A security group of the control plane with its egress rules and the identities attached to it. */
export interface AttachedGroup {
  readonly group: SecurityGroup;
  /** The group's rules; ingress rules are ignored (the gateway sees only egress). */
  readonly rules: readonly SecurityGroupRule[];
  /** Workload identities attached to the group (exact identities). */
  readonly identities: readonly string[];
}

/** What the control plane holds for one namespace (account + region). */
export interface ControlPlaneInput {
  readonly scope: Scope;
  readonly groups: readonly AttachedGroup[];
  /** Prefix-list ID → its current entries (CIDRs). Names are added by `controlPlaneRefs`. */
  readonly prefixLists: readonly {
    readonly id: string;
    readonly name: string;
    readonly cidrs: readonly string[];
  }[];
  /**
   * Security-group ID → the addresses of its members, when known. A group reference with no
   * entry here matches nothing (fail closed): workload identities have no addresses of their own.
   */
  readonly groupMembers?: ReadonlyMap<string, readonly string[]>;
}

/** The name a decision shows for a group's rules (`policy`): `sg-…/name`. */
export function groupPolicyName(group: SecurityGroup): string {
  return `${group.groupId}/${group.groupName}`;
}

/**
 * Where a control-plane rule lives, as a decision's `file` (with line 0): the rule's ARN, e.g.
 * `arn:aws:ec2:us-east-1:123456789012:security-group-rule/sgr-0123`.
 */
export function ruleLocation(scope: Scope, ruleId: string): SourceLocation {
  return {
    file: `arn:aws:ec2:${scope.region}:${scope.accountId}:security-group-rule/${ruleId}`,
    line: 0,
    col: 0,
  };
}

const TAG_OWNER = 'weir:owner';

function destinationOf(rule: SecurityGroupRule, loc: SourceLocation): Destination {
  const t = rule.target;
  switch (t.kind) {
    case 'ipv4':
      return { kind: 'cidr', family: 4, cidr: t.cidr, loc };
    case 'ipv6':
      return { kind: 'cidr', family: 6, cidr: t.cidr, loc };
    case 'prefixList':
      return { kind: 'prefixList', ref: t.prefixListId, loc };
    case 'group':
      return { kind: 'group', ref: t.groupId, loc };
  }
}

/**
 * The ports a rule allows, in the engine's terms: tcp/udp their range; every other protocol
 * none listed (the engine checks ports only for tcp and udp). ICMP type/code is therefore not
 * narrowed: an ICMP rule matches every ICMP request (the gateway relays only TCP).
 */
function portsOf(rule: SecurityGroupRule): PortRange[] {
  if (rule.ipProtocol !== 'tcp' && rule.ipProtocol !== 'udp') return [];
  if (rule.fromPort < 0 || rule.toPort < 0) return [];
  return [{ from: rule.fromPort, to: rule.toPort }];
}

function policyRuleOf(scope: Scope, policy: string, rule: SecurityGroupRule): PolicyRule {
  const loc = ruleLocation(scope, rule.ruleId);
  const owner = rule.tags.find((t) => t.key === TAG_OWNER)?.value;
  return {
    id: rule.ruleId,
    policy,
    destinations: [destinationOf(rule, loc)],
    ports: portsOf(rule),
    protocol: rule.ipProtocol,
    securityGroupRuleId: rule.ruleId,
    ...(rule.description !== undefined && rule.description !== '' ? { justification: rule.description } : {}),
    ...(owner !== undefined && owner !== '' ? { owner } : {}),
    loc,
  };
}

/**
 * One enforce-mode policy per attached group (groups attached to nobody are left out), in the
 * order given, with the group's egress rules in the order given. A group's default allow-all
 * rule (`-1` to `0.0.0.0/0`) allows every destination but the guardrails, as on EC2.
 */
export function groupPolicies(input: ControlPlaneInput): Policy[] {
  const out: Policy[] = [];
  for (const { group, rules, identities } of input.groups) {
    const unique = [...new Set(identities)];
    if (unique.length === 0) continue;
    const name = groupPolicyName(group);
    const loc: SourceLocation = {
      file: `arn:aws:ec2:${input.scope.region}:${input.scope.accountId}:security-group/${group.groupId}`,
      line: 0,
      col: 0,
    };
    out.push({
      name,
      labels: {},
      mode: 'enforce',
      workloads: unique.map((value) => ({ identity: { kind: 'exact', value }, loc })),
      rules: rules.filter((r) => r.direction === 'egress').map((r) => policyRuleOf(input.scope, name, r)),
      tests: [],
      loc,
    });
  }
  return out;
}

/**
 * The reference contents the compiler needs for the namespace: prefix lists by ID and by name
 * (policy files may use either), and group members by ID.
 */
export function controlPlaneRefs(input: ControlPlaneInput): {
  prefixLists: Map<string, readonly string[]>;
  groups: Map<string, readonly string[]>;
} {
  const prefixLists = new Map<string, readonly string[]>();
  // IDs win over names: an ID is unambiguous, and a list may be named like another's ID.
  for (const pl of input.prefixLists) if (!prefixLists.has(pl.name)) prefixLists.set(pl.name, pl.cidrs);
  for (const pl of input.prefixLists) prefixLists.set(pl.id, pl.cidrs);
  const groups = new Map<string, readonly string[]>(input.groupMembers ?? []);
  return { prefixLists, groups };
}

/**
 * The set the gateway enforces: the policy set's policies first (a decision that both allow
 * names the policy), then one policy per attached group.
 */
export function withControlPlane(set: PolicySet, input: ControlPlaneInput): PolicySet {
  const groups = groupPolicies(input);
  if (groups.length === 0) return set;
  return { ...set, policies: [...set.policies, ...groups] };
}

/**
 * Compiles a policy set together with the control plane's attached groups, with prefix lists
 * and group references resolved from the namespace (`opts` may add more; the namespace wins). A
 * reference to something the control plane does not hold matches nothing: a deleted prefix
 * list must not make the whole snapshot unbuildable.
 */
export function compileWithControlPlane(
  set: PolicySet,
  input: ControlPlaneInput,
  opts: Omit<CompileOptions, 'skipUnresolved'> = {},
): Snapshot {
  const refs = controlPlaneRefs(input);
  return compilePolicySet(withControlPlane(set, input), {
    ...opts,
    prefixLists: new Map([...(opts.prefixLists ?? []), ...refs.prefixLists]),
    groups: new Map([...(opts.groups ?? []), ...refs.groups]),
    skipUnresolved: true,
  });
}
