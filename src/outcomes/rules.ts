/**
 * @module outcomes/rules — what the rules in force say about themselves: which expire soon (a
 * rule past its expiry stops allowing, so its owner should renew or drop it before then) and
 * which have wildcards (the broadest grants, the first to review).
 */
import type { Destination, Policy, PolicyRule } from '../policy-types/index.js';

/** Where a rule in force comes from: a policy file or bundle, or a security group attached to workloads. */
export type RuleSource = 'policy' | 'group';

/** The policies in force, each with where it comes from. */
export interface PoliciesInForce {
  readonly policies: readonly Policy[];
  readonly source: RuleSource;
}

/** One rule as the overview lists it. */
export interface RuleRef {
  readonly policy: string;
  readonly ruleId: string;
  readonly source: RuleSource;
  readonly owner?: string;
  /** Epoch ms. */
  readonly expires?: number;
  /** The destinations as written (`*.example.com`, `0.0.0.0/0`, `pl-…`, `sg-…`). */
  readonly destinations: readonly string[];
}

/** Which wildcard a rule has (as the gateway's `weir_gateway_rules_wildcard` gauge counts them). */
export type Wildcard = 'name' | 'any-address';

function destinationText(d: Destination): string {
  switch (d.kind) {
    case 'fqdn':
      return d.match === 'exact' ? d.name : `${d.match === 'one-label' ? '*' : '**'}.${d.name}`;
    case 'cidr':
      return d.cidr;
    default:
      return d.ref;
  }
}

function refOf(r: PolicyRule, source: RuleSource): RuleRef {
  return {
    policy: r.policy,
    ruleId: r.id,
    source,
    ...(r.owner !== undefined ? { owner: r.owner } : {}),
    ...(r.expires !== undefined ? { expires: r.expires } : {}),
    destinations: r.destinations.map(destinationText),
  };
}

/**
 * The wildcards of a rule: a name pattern (`*.` one label, `**.` any depth) or a whole address
 * family (`/0`). The same definition as the gateway's gauge, so the console and /metrics agree.
 */
export function wildcardsOf(r: PolicyRule): Wildcard[] {
  const out: Wildcard[] = [];
  if (r.destinations.some((d) => d.kind === 'fqdn' && d.match !== 'exact')) out.push('name');
  if (r.destinations.some((d) => d.kind === 'cidr' && d.cidr.endsWith('/0'))) out.push('any-address');
  return out;
}

function* rulesOf(inForce: readonly PoliciesInForce[]): Generator<[PolicyRule, RuleSource]> {
  for (const { policies, source } of inForce) {
    for (const p of policies) for (const r of p.rules) yield [r, source];
  }
}

/**
 * Rules whose expiry is in `(now, now + withinMs]`, soonest first, and how many are already past
 * it (still written down, allowing nothing).
 */
export function expiringRules(
  inForce: readonly PoliciesInForce[],
  now: number,
  withinMs: number,
): { readonly expiring: RuleRef[]; readonly expired: number } {
  const expiring: RuleRef[] = [];
  let expired = 0;
  for (const [r, source] of rulesOf(inForce)) {
    if (r.expires === undefined) continue;
    if (r.expires <= now) expired++;
    else if (r.expires <= now + withinMs) expiring.push(refOf(r, source));
  }
  expiring.sort((a, b) => (a.expires ?? 0) - (b.expires ?? 0));
  return { expiring, expired };
}

/** Rules with a wildcard, in policy order, with which wildcards; and how many rules there are. */
export function wildcardRules(inForce: readonly PoliciesInForce[]): {
  readonly rules: (RuleRef & { readonly wildcards: readonly Wildcard[] })[];
  readonly total: number;
} {
  const rules: (RuleRef & { readonly wildcards: readonly Wildcard[] })[] = [];
  let total = 0;
  for (const [r, source] of rulesOf(inForce)) {
    total++;
    const w = wildcardsOf(r);
    if (w.length > 0) rules.push({ ...refOf(r, source), wildcards: w });
  }
  return { rules, total };
}
