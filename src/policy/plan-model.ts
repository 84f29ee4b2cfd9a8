/**
 * @module policy/plan-model — the vocabulary of plan/apply: the `weir:*` tags Weir owns, the
 * names of managed groups and FQDN prefix lists, egress rules and groups as desired and as an
 * endpoint holds them, and a rule's identity (what EC2 calls a duplicate) and one-line form.
 */

/** Tag keys Weir owns; other tags on managed groups and rules are left alone. */
export const TAG = {
  policy: 'weir:policy',
  owner: 'weir:owner',
  managed: 'weir:managed',
  ruleId: 'weir:rule-id',
  dataClass: 'weir:data-class',
  expires: 'weir:expires',
  fqdn: 'weir:fqdn',
} as const;

/** Prefix of the managed prefix lists that hold a name's addresses: `weir-fqdn-<name>-ipv4`. */
export const FQDN_LIST_PREFIX = 'weir-fqdn-';

/**
 * MaxEntries of an FQDN prefix list. A security-group rule that references a prefix list
 * counts MaxEntries rules against the group's quota (60 by default), and each name has two
 * lists (IPv4, IPv6): 8 holds the 2–8 addresses a typical name (CDN, load balancer) resolves
 * to while one name on one port range costs 16 of those 60 — three names per default group.
 */
export const FQDN_LIST_MAX_ENTRIES = 8;

/** Address families of the FQDN lists, as EC2 names them and as list-name suffixes. */
export const FQDN_FAMILIES = [
  { suffix: 'ipv4', addressFamily: 'IPv4' },
  { suffix: 'ipv6', addressFamily: 'IPv6' },
] as const;

/** The managed prefix list of a name's addresses in one family. */
export function fqdnListName(name: string, family: 'ipv4' | 'ipv6'): string {
  return `${FQDN_LIST_PREFIX}${name}-${family}`;
}

/** One FQDN prefix list the policy set needs; `id` when the endpoint already holds it. */
export interface FqdnList {
  readonly listName: string;
  readonly fqdn: string;
  readonly family: 'ipv4' | 'ipv6';
  readonly id?: string;
}

/** A Weir-managed FQDN list the endpoint holds (tagged `weir:managed`, named `weir-fqdn-…`). */
export interface ManagedFqdnList {
  readonly listName: string;
  readonly id: string;
  readonly fqdn: string;
}

/** Prefix of managed group names: policy `payments-checkout` → `weir-payments-checkout`. */
export const GROUP_PREFIX = 'weir-';

/** Where an egress rule leads: an IP range, a prefix list ID or a security group ID. */
export type RuleTarget =
  | { readonly kind: 'ipv4' | 'ipv6'; readonly cidr: string }
  | { readonly kind: 'prefixList'; readonly id: string }
  | { readonly kind: 'group'; readonly id: string };

/** One egress rule as EC2 sees it: identity (protocol, ports, target) plus intent. */
export interface EgressRule {
  readonly protocol: string;
  readonly fromPort: number;
  readonly toPort: number;
  readonly target: RuleTarget;
  readonly description: string;
  /** Only `weir:*` tags (desired); all tags (current). */
  readonly tags: Readonly<Record<string, string>>;
}

/** A desired rule: which policy rule it comes from. */
export interface DesiredRule extends EgressRule {
  readonly policyRule: string;
}

/** A rule the endpoint holds. */
export interface CurrentRule extends EgressRule {
  readonly ruleId: string;
}

export interface DesiredGroup {
  readonly policy: string;
  readonly name: string;
  readonly description: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly rules: readonly DesiredRule[];
}

/** A group the endpoint holds (managed by tag, or named like a desired group). */
export interface CurrentGroup {
  readonly groupId: string;
  readonly name: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Egress rules only; ingress is not Weir's. */
  readonly rules: readonly CurrentRule[];
}

/** `prefixList:<name>` / `group:<name>`: the key of a by-name reference in `refs`. */
export function refKey(kind: 'prefixList' | 'group', name: string): string {
  return `${kind}:${name}`;
}

/** A rule's identity in its group: protocol, ports and target (what EC2 calls a duplicate). */
export function ruleIdentity(r: Pick<EgressRule, 'protocol' | 'fromPort' | 'toPort' | 'target'>): string {
  const t = r.target;
  const to = 'cidr' in t ? t.cidr : t.id;
  const ports = r.protocol === '-1' ? '-1:-1' : `${r.fromPort}:${r.toPort}`;
  return `${canonicalProtocol(r.protocol)}|${ports}|${t.kind}:${to}`;
}

const PROTOCOL_NUMBERS: Readonly<Record<string, string>> = {
  '6': 'tcp',
  '17': 'udp',
  '1': 'icmp',
  '58': 'icmpv6',
};

/** EC2 answers some protocols by number; policies use names. */
export function canonicalProtocol(p: string): string {
  const lower = p.toLowerCase();
  return PROTOCOL_NUMBERS[lower] ?? lower;
}

/** `tcp 443 -> 192.0.2.0/24`, `all -> ::/0`, `udp 0-65535 -> pl-…`. */
export function formatRule(r: Pick<EgressRule, 'protocol' | 'fromPort' | 'toPort' | 'target'>): string {
  const t = r.target;
  const to = 'cidr' in t ? t.cidr : t.id;
  const proto = canonicalProtocol(r.protocol);
  if (proto === '-1') return `all -> ${to}`;
  if (r.fromPort === -1) return `${proto} -> ${to}`;
  const ports = r.fromPort === r.toPort ? `${r.fromPort}` : `${r.fromPort}-${r.toPort}`;
  return `${proto} ${ports} -> ${to}`;
}
