/**
 * @module onramp/breakglass — the emergency path: a principal with a TOTP secret opens egress for
 * one identity (to named destinations, or to everything but the guardrails) for at most an hour
 * (`--breakglass-max-ttl`, at most 4 h), with a reason. Here: the request's checks, session IDs,
 * and the grants open sessions give the engine. The one-time code itself is checked by
 * onramp/totp, its reuse refused by the store; the API routes tie them together.
 */
import { randomBytes } from 'node:crypto';
import type { Grant, GrantKind, PolicyRule } from '../policy-types/index.js';
import type { BreakglassSession, StoreTx } from '../store/index.js';
import { parseBreakglassDestination, ruleDestination } from './breakglass-dest.js';
import type { BreakglassDestination } from './breakglass-dest.js';

/** The longest session without `--breakglass-max-ttl`. */
export const BREAKGLASS_DEFAULT_MAX_TTL_MS = 3_600_000;
/** The most `--breakglass-max-ttl` may allow: an emergency, not a standing grant. */
export const BREAKGLASS_MAX_TTL_LIMIT_MS = 4 * 3_600_000;
/** The shortest session (as for exceptions: short ones make tests and drills quick). */
export const BREAKGLASS_MIN_TTL_MS = 5_000;
/** How many `--to` one session may name (each becomes a rule the engine compiles). */
export const BREAKGLASS_MAX_DESTINATIONS = 32;

/** The grant kind of a session (and the reason of the decisions it allows). */
const KIND: GrantKind = 'breakglass';

/** A new session ID: `bg-` and 17 hex digits (68 random bits). */
export function newBreakglassId(random: (n: number) => Uint8Array = randomBytes): string {
  return `bg-${Buffer.from(random(9)).toString('hex').slice(0, 17)}`;
}

/** True for a well-formed session ID. */
export function isBreakglassId(id: string): boolean {
  return /^bg-[0-9a-f]{17}$/.test(id);
}

/** A duration as `30s`, `30m`, `1h` (whole seconds, minutes or hours); undefined otherwise. */
export function parseBreakglassDuration(text: string): number | undefined {
  const m = /^([1-9][0-9]{0,6})(s|m|h)$/.exec(text);
  if (m === null) return undefined;
  return Number(m[1]) * { s: 1_000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'];
}

/** `1h`, `30m`, `45s`: a duration in the largest unit that divides it. */
export function formatBreakglassDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}

/** A problem with one field of a request, said for people. */
export interface BreakglassProblem {
  readonly field: string;
  readonly message: string;
}

/** What an open or drill request asks, once checked. */
export interface BreakglassRequest {
  readonly identity: string;
  readonly destinations: readonly BreakglassDestination[];
  readonly reason: string;
  readonly ttlMs: number;
}

/**
 * Checks a request's destinations, reason and TTL against `maxTtlMs`. The identity is checked by
 * the caller (the API's own identity check), the code by {@link matchTotp}.
 */
export function checkBreakglassRequest(
  input: { identity: string; to: readonly string[]; reason: string; ttl: string },
  maxTtlMs: number,
): { ok: true; value: BreakglassRequest } | { ok: false; problem: BreakglassProblem } {
  const bad = (field: string, message: string) => ({ ok: false as const, problem: { field, message } });
  if (input.to.length > BREAKGLASS_MAX_DESTINATIONS) {
    return bad('to', `at most ${BREAKGLASS_MAX_DESTINATIONS} destinations, got ${input.to.length}`);
  }
  const destinations: BreakglassDestination[] = [];
  for (const text of input.to) {
    const d = parseBreakglassDestination(text);
    if (!d.ok) return bad('to', d.message);
    if (!destinations.some((x) => x.text === d.value.text)) destinations.push(d.value);
  }
  const reason = input.reason.trim();
  if (reason === '' || reason.length > 1000 || /\p{Cc}/u.test(reason)) {
    return bad('reason', 'say why (an incident or ticket), one line of at most 1000 characters');
  }
  const ttlMs = parseBreakglassDuration(input.ttl);
  if (ttlMs === undefined) return bad('ttl', `'${input.ttl}' is no duration: write e.g. 30m, 1h or 90s`);
  if (ttlMs < BREAKGLASS_MIN_TTL_MS) return bad('ttl', `${input.ttl} is under the minimum of 5s`);
  if (ttlMs > maxTtlMs) {
    return bad(
      'ttl',
      `${input.ttl} is over this server's break-glass maximum of ${formatBreakglassDuration(maxTtlMs)} ` +
        `(weir serve --breakglass-max-ttl, at most 4h); a session cannot be extended: open a new one when it ends`,
    );
  }
  return { ok: true, value: { identity: input.identity, destinations, reason, ttlMs } };
}

/** The grant an open session gives the engine (a drill gives none: do not call this for one). */
export function breakglassGrant(s: BreakglassSession): Grant {
  const policy = `breakglass/${s.id}`;
  const loc = { file: policy, line: 1, col: 1 };
  const rules: PolicyRule[] = [];
  for (const text of s.destinations) {
    // Stored texts are canonical, written by this module: they parse again.
    const d = parseBreakglassDestination(text);
    if (!d.ok) continue;
    rules.push({
      id: s.id,
      policy,
      destinations: [ruleDestination(d.value, loc)],
      ports: d.value.ports,
      protocol: d.value.protocol,
      justification: s.reason,
      owner: s.principal,
      expires: s.expires.getTime(),
      expiresText: s.expires.toISOString(),
      loc,
    });
  }
  return {
    kind: KIND,
    id: s.id,
    identity: s.identity,
    rules,
    everything: s.destinations.length === 0,
    from: s.openedAt.getTime(),
    until: s.expires.getTime(),
    requester: s.principal,
    reason: s.reason,
    expires: s.expires.getTime(),
  };
}

/**
 * The grants of the break-glass sessions open at `now` (not closed, not expired, not drills), in
 * opening order. The snapshot source calls it on every `breakglass` change and when a session ends.
 */
export async function openBreakglassGrants(tx: StoreTx, now: Date): Promise<Grant[]> {
  return (await tx.listBreakglassSessions({ openAt: now })).map(breakglassGrant);
}
