/**
 * @module api/weir/inventory-format — how the inventory reads (workloads, policies and rules,
 * security groups) write a rule, a destination and a place in JSON: one shape for the three, so
 * the console, the CLI and the evidence report read them alike.
 */
import type { SecurityGroupRule } from '../../model/index.js';
import type { Destination, PolicyRule, PortRange, SourceLocation } from '../../policy/index.js';
import { formatFqdnPattern, TAG } from '../../policy/index.js';
import { WeirApiError } from './errors.js';

type Json = Record<string, unknown>;

/** A rule or exception expiring within this is flagged `expiring` (the on-ramp's notice window). */
export const EXPIRING_WITHIN_MS = 30 * 86_400_000;

/** A destination as written in a policy file (`api.stripe.com`, `*.example.com`, `10.0.0.0/8`, `pl-…`). */
export function destinationText(d: Destination): string {
  switch (d.kind) {
    case 'fqdn':
      return formatFqdnPattern(d);
    case 'cidr':
      return d.cidr;
    case 'prefixList':
    case 'group':
      return d.ref;
  }
}

/** Ports as people write them: `443`, `8000-8100`, or `all` (an empty list allows every port). */
export function portsText(ports: readonly PortRange[]): string[] {
  if (ports.length === 0) return ['all'];
  return ports.map((p) => (p.from === p.to ? String(p.from) : `${p.from}-${p.to}`));
}

/** `file:line:col`; a control-plane rule's place is its ARN (line 0), given alone. */
export function locationText(loc: SourceLocation): string {
  return loc.line === 0 ? loc.file : `${loc.file}:${loc.line}:${loc.col}`;
}

/** `expired` when `expires` is at or before `now`, `expiring` when within 30 days, else neither. */
export function expiryFlags(expires: number | undefined, now: number): Json {
  if (expires === undefined) return {};
  return {
    expires: new Date(expires).toISOString(),
    expired: expires <= now,
    expiring: expires > now && expires - now <= EXPIRING_WITHIN_MS,
  };
}

/** A policy rule: what it allows, who owns it, why, until when, and where it is written. */
export function policyRuleJson(rule: PolicyRule, now: number): Json {
  return {
    policy: rule.policy,
    ruleId: rule.id,
    destinations: rule.destinations.map(destinationText),
    protocol: rule.protocol,
    ports: portsText(rule.ports),
    ...(rule.owner !== undefined ? { owner: rule.owner } : {}),
    ...(rule.justification !== undefined ? { justification: rule.justification } : {}),
    ...(rule.dataClass !== undefined ? { dataClass: rule.dataClass } : {}),
    ...(rule.expiresText !== undefined ? { expiresText: rule.expiresText } : {}),
    ...expiryFlags(rule.expires, now),
    declaredIn: locationText(rule.loc),
  };
}

/** A security-group rule's one target: CIDR, prefix list or group. */
export function targetText(rule: SecurityGroupRule): string {
  const t = rule.target;
  switch (t.kind) {
    case 'ipv4':
    case 'ipv6':
      return t.cidr;
    case 'prefixList':
      return t.prefixListId;
    case 'group':
      return t.groupId;
  }
}

/** EC2 ports: `all` for -1 or a protocol without ports, else `from` or `from-to`. */
export function groupRulePorts(rule: SecurityGroupRule): string {
  if (rule.fromPort < 0 || (rule.ipProtocol !== 'tcp' && rule.ipProtocol !== 'udp')) return 'all';
  return rule.fromPort === rule.toPort ? String(rule.fromPort) : `${rule.fromPort}-${rule.toPort}`;
}

/**
 * The policy rule that made a security-group rule, from the tags `weir policy apply` writes on
 * every rule it creates (`ruleOriginTags`); absent for a rule made by hand.
 */
export function madeByPolicy(rule: SecurityGroupRule): { policy: string; ruleId: string } | undefined {
  const policy = rule.tags.find((t) => t.key === TAG.policy)?.value;
  const ruleId = rule.tags.find((t) => t.key === TAG.ruleId)?.value;
  return policy !== undefined && ruleId !== undefined ? { policy, ruleId } : undefined;
}

/** A `limit` query parameter: 1 to `max`, default `fallback`; anything else names the field. */
export function limitQuery(
  query: Readonly<Record<string, string>>,
  op: string,
  fallback: number,
  max: number,
): number {
  const text = query.limit;
  if (text === undefined) return fallback;
  const n = /^[1-9][0-9]{0,6}$/.test(text) ? Number(text) : NaN;
  if (!(n <= max)) {
    throw new WeirApiError(
      'InvalidParameterValue',
      `${op}: 'limit' must be a whole number from 1 to ${max}, got ${JSON.stringify(text.slice(0, 40))}`,
    );
  }
  return n;
}

/** A free-text filter parameter: at most 256 characters, no control characters. */
export function textQuery(
  query: Readonly<Record<string, string>>,
  name: string,
  op: string,
): string | undefined {
  const v = query[name];
  if (v === undefined || v === '') return undefined;
  if (v.length > 256 || /\p{Cc}/u.test(v)) {
    throw new WeirApiError(
      'InvalidParameterValue',
      `${op}: '${name}' must be at most 256 characters without control characters, got ${JSON.stringify(v.slice(0, 40))}`,
    );
  }
  return v;
}
