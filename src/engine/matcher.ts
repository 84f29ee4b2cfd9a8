/**
 * @module engine/matcher — the contract every decision matcher honours (the compiled snapshot
 * and the naive oracle alike), and the semantics they share, stated once:
 *
 * 1. A policy applies to an identity when one of its workload selectors matches: the identity
 *    pattern (exact, or glob with `*` = one `/`-segment, `**` = zero or more, `*` inside a
 *    segment = any characters of it) and, when the selector has labels, the registered
 *    workload's labels (all must be equal). A selector with neither matches nothing. No
 *    applicable policy → deny `unknown-identity`.
 * 2. A malformed request (protocol not `tcp` `udp` `icmp` `icmpv6` or 0–255, port not an
 *    integer 0–65535, `ip` not a strict address, neither `host` nor `ip`) or any thrown error
 *    → deny `error`.
 * 3. A rule matches when its destination does (fqdn by `host`; cidr, prefix list and group by
 *    `ip`, same family), its protocol does (`-1` any; otherwise equal) and, for tcp/udp with
 *    ports listed, the port is in one of them (other protocols ignore ports). It is expired
 *    when `now > expires`.
 * 4. When `ip` hits a guardrail, only rules with an address destination inside or equal to the
 *    hit range (and containing `ip`) may allow; otherwise deny `guardrail`.
 * 5. The first matching unexpired rule (policy order, then rule order) allows: `matched`, mode
 *    of its policy. Else the first matching expired rule → deny `expired`. Else deny `no-match`
 *    with the nearest rule: the first whose destination matches but not protocol/port, else the
 *    first whose protocol/port matches but not destination.
 * 6. Report mode: when every applicable policy is in `report` mode, a `no-match` or `expired`
 *    denial becomes `allow: true, mode: 'report'` with the deny reason kept (the gateway lets it
 *    through and logs a would-deny). If any applicable policy enforces, the denial stands.
 *    `guardrail`, `unknown-identity` and `error` always deny (`mode: 'enforce'`): a dry run of a
 *    policy must not open the metadata endpoint, and no policy means nothing to dry-run.
 */
import type { PolicyRule } from '../policy-types/index.js';
import type { Decision, DecisionRequest, MatchedRule, NearMiss } from './types.js';
import type { ParsedAddress } from '../model/index.js';

/** Anything that answers decision requests. */
export interface Matcher {
  decide(req: DecisionRequest): Decision;
}

/** A decision with the rules that almost allowed it and why each did not (`weir check`). */
export interface Explanation {
  readonly decision: Decision;
  /** Nearest first; empty when the request was allowed by a rule. */
  readonly nearMisses: readonly NearMiss[];
}

/** What the compiler saw and built. */
export interface CompileStats {
  readonly policies: number;
  readonly rules: number;
  readonly fqdnExact: number;
  readonly fqdnWildcard: number;
  readonly cidrV4: number;
  readonly cidrV6: number;
  /** CIDRs that prefix-list and group destinations resolved to. */
  readonly resolvedCidrs: number;
  /** References that resolved to nothing (only with `skipUnresolved`). */
  readonly unresolved: readonly string[];
  readonly trieNodes: { readonly v4: number; readonly v6: number; readonly domain: number };
  readonly compileMs: number;
}

/** Options of `compilePolicySet`. */
export interface CompileOptions {
  /** Prefix-list ID or name → the CIDRs it holds. */
  readonly prefixLists?: ReadonlyMap<string, readonly string[]>;
  /** Security-group ID or name → the CIDRs of its members. */
  readonly groups?: ReadonlyMap<string, readonly string[]>;
  /** An opaque label for the snapshot (bundle hash, store revision…). */
  readonly version?: string;
  /** Let unresolvable prefix-list/group references match nothing instead of failing. */
  readonly skipUnresolved?: boolean;
  /** Identities whose applicable policies are remembered (default 65 536). */
  readonly identityCacheSize?: number;
  /**
   * A policy's name or address set up to this size is scanned from a flat table; larger ones
   * get a trie (default 16; 0 gives every set a trie, as tests do to cover both paths).
   */
  readonly smallSetMax?: number;
}

/**
 * An immutable compiled policy set. `decide` allocates nothing once an identity and outcome
 * have been seen: the decisions it returns are frozen, shared objects — keep them as long as
 * you like, but never compare them by identity expecting distinct calls to differ.
 */
export interface Snapshot extends Matcher {
  readonly version: string;
  readonly stats: CompileStats;
  /** @param timed fill `evalNs` (reads the clock twice and copies the decision). */
  decide(req: DecisionRequest, timed?: boolean): Decision;
  /** As `decide`, with the address parsed beforehand (`parseAddress`); `req.ip` is then ignored. */
  decideParsed(req: DecisionRequest, addr: ParsedAddress | undefined, timed?: boolean): Decision;
  /** The decision and its near misses. Allocates; meant for `weir check` and test failures. */
  explain(req: DecisionRequest): Explanation;
}

/** Protocol code for "any protocol" (`-1`). */
export const ANY_PROTOCOL = -1;
/** Code for text that is not a protocol. */
export const BAD_PROTOCOL = -2;

/**
 * A protocol as a number: `tcp` 6, `udp` 17, `icmp` 1, `icmpv6` 58, `-1` → -1, a decimal
 * 0–255 (no leading zeros) as itself, anything else -2. Allocation-free.
 */
export function protocolNumber(text: string): number {
  switch (text) {
    case 'tcp':
      return 6;
    case 'udp':
      return 17;
    case 'icmp':
      return 1;
    case 'icmpv6':
      return 58;
    case '-1':
      return ANY_PROTOCOL;
  }
  const n = text.length;
  if (n === 0 || n > 3 || (n > 1 && text.charCodeAt(0) === 48)) return BAD_PROTOCOL;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return BAD_PROTOCOL;
    v = v * 10 + (c - 48);
  }
  return v <= 255 ? v : BAD_PROTOCOL;
}

/** Whether a rule of this protocol checks ports (tcp, udp); the others allow every port. */
export function protocolHasPorts(proto: number): boolean {
  return proto === 6 || proto === 17;
}

/** The `MatchedRule` a decision reports for a policy rule. */
export function matchedRuleOf(rule: PolicyRule): MatchedRule {
  const out: {
    policy: string;
    file: string;
    line: number;
    ruleId: string;
    securityGroupRuleId?: string;
    owner?: string;
    expires?: string;
  } = { policy: rule.policy, file: rule.loc.file, line: rule.loc.line, ruleId: rule.id };
  if (rule.securityGroupRuleId !== undefined) out.securityGroupRuleId = rule.securityGroupRuleId;
  if (rule.owner !== undefined) out.owner = rule.owner;
  if (rule.expires !== undefined) out.expires = rule.expiresText ?? new Date(rule.expires).toISOString();
  return Object.freeze(out);
}

/**
 * Whether a normalised host matches an FQDN destination: `exact` the name itself, `one-label`
 * exactly one more label (`*.name`), `any-depth` one or more (`**.name`). Reference
 * implementation (allocates); the compiled engine uses the domain trie.
 */
export function fqdnMatches(host: string, name: string, match: 'exact' | 'one-label' | 'any-depth'): boolean {
  if (match === 'exact') return host === name;
  if (!host.endsWith(`.${name}`)) return false;
  return match === 'any-depth' || !host.slice(0, host.length - name.length - 1).includes('.');
}
