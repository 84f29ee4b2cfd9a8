/**
 * @module onramp/grants — what approved exceptions give the engine (`Grant`s, enforced by the
 * gateway beside the policy set) and what the webhooks are told about exceptions (requested,
 * approved, denied, revoked, expiring within 48 h).
 */
import type { Grant, PolicyRule } from '../policy-types/index.js';
import type { ExceptionRecord, NewNotification, StoreTx } from '../store/index.js';
import { parseExceptionDestination, ruleDestination } from './destination.js';
import { untilOf } from './exceptions.js';

/** How far ahead `exceptionsExpiringNotices` looks: 48 hours. */
export const EXCEPTION_EXPIRING_WITHIN_MS = 48 * 3_600_000;

/** The policy name a grant's rules carry: `exception/<id>` (decisions and logs show it). */
export const exceptionPolicyName = (id: string): string => `exception/${id}`;

/** The rules of an exception: one per destination, each as a policy rule would hold it. */
export function exceptionRules(e: ExceptionRecord): PolicyRule[] {
  const policy = exceptionPolicyName(e.id);
  const rules: PolicyRule[] = [];
  for (const text of e.destinations) {
    // Stored texts are canonical and were checked at request time; one that no longer parses
    // (a future stricter parser) grants nothing rather than something unchecked.
    const d = parseExceptionDestination(text);
    if (!d.ok) continue;
    const { destination, ports } = ruleDestination(d.value, policy);
    rules.push({
      id: e.id,
      policy,
      destinations: [destination],
      ports,
      protocol: d.value.protocol,
      justification: e.reason,
      owner: e.requester,
      loc: destination.loc,
      ...(e.dataClass !== undefined ? { dataClass: e.dataClass } : {}),
      ...(e.expires !== undefined
        ? { expires: e.expires.getTime(), expiresText: e.expires.toISOString() }
        : {}),
    });
  }
  return rules;
}

/** The grant of an approved exception (whatever the time: callers filter by `from`/`until`). */
export function exceptionGrant(e: ExceptionRecord): Grant | undefined {
  const until = untilOf(e);
  if (e.state !== 'approved' || until === undefined || e.decidedAt === undefined || e.expires === undefined) {
    return undefined;
  }
  const start = e.window?.start.getTime();
  const approved = e.decidedAt.getTime();
  return {
    kind: 'exception',
    id: e.id,
    identity: e.identity,
    rules: exceptionRules(e),
    everything: false,
    from: start !== undefined ? Math.max(approved, start) : approved,
    until,
    requester: e.requester,
    ...(e.decidedBy !== undefined ? { approver: e.decidedBy } : {}),
    reason: e.reason,
    expires: e.expires.getTime(),
  };
}

/**
 * The grants of every approved exception that has not stopped allowing at `now` (those whose
 * window has not begun included: the enforcer starts them at `from`). Reads only.
 */
export async function activeExceptionGrants(tx: StoreTx, now: Date): Promise<Grant[]> {
  const approved = await tx.listExceptions({ states: ['approved'] });
  const grants: Grant[] = [];
  for (const e of approved) {
    const g = exceptionGrant(e);
    if (g !== undefined && g.until > now.getTime()) grants.push(g);
  }
  return grants;
}

type ExceptionEvent = 'requested' | 'approved' | 'denied' | 'revoked' | 'expiring';

/** The structured fields of a notification about `e`. */
function fields(e: ExceptionRecord): Record<string, unknown> {
  return {
    // Not `id`: a webhook body's own `id` is the notice's number, and a field of that name is
    // dropped (src/notify), which would leave the receiver without the exception's ID.
    exception: e.id,
    identity: e.identity,
    destinations: e.destinations,
    reason: e.reason,
    requester: e.requester,
    requestedAt: e.requestedAt.toISOString(),
    state: e.state,
    ttl: `${Math.round(e.ttlMs / 1000)}s`,
    ...(e.dataClass !== undefined ? { dataClass: e.dataClass } : {}),
    ...(e.window !== undefined
      ? { window: `${e.window.start.toISOString()}/${e.window.end.toISOString()}` }
      : {}),
    ...(e.decidedBy !== undefined ? { decidedBy: e.decidedBy } : {}),
    ...(e.comment !== undefined ? { comment: e.comment } : {}),
    ...(e.expires !== undefined ? { expires: e.expires.toISOString() } : {}),
    ...(e.revokedBy !== undefined ? { revokedBy: e.revokedBy } : {}),
    ...(e.revokeReason !== undefined ? { revokeReason: e.revokeReason } : {}),
  };
}

/** The one line people read (Slack- and Mattermost-style webhooks show `text` as is). */
function line(event: ExceptionEvent, e: ExceptionRecord): string {
  const what = `exception ${e.id} for ${e.identity} to ${e.destinations.join(', ')}`;
  switch (event) {
    case 'requested':
      return `${e.requester} requested ${what}: ${e.reason} (weir exception approve ${e.id})`;
    case 'approved':
      return `${e.decidedBy ?? '?'} approved ${what}, requested by ${e.requester}; expires ${e.expires?.toISOString() ?? '?'}`;
    case 'denied':
      return `${e.decidedBy ?? '?'} denied ${what}, requested by ${e.requester}: ${e.comment ?? ''}`;
    case 'revoked':
      return `${e.revokedBy ?? '?'} revoked ${what}: ${e.revokeReason ?? ''}`;
    case 'expiring':
      return `${what} expires ${e.expires?.toISOString() ?? '?'}; promote it to a policy rule if still needed (weir exception promote ${e.id})`;
  }
}

/** The notification of `event` on `e` at `at` (enqueue it in the transaction that wrote `e`). */
export function exceptionNotification(
  event: Exclude<ExceptionEvent, 'expiring'>,
  e: ExceptionRecord,
  at: Date,
): NewNotification {
  return { event: `exception.${event}`, text: line(event, e), fields: fields(e), at };
}

/**
 * Notices for the active exceptions that stop allowing within 48 h of `now`, once each
 * (`dedupeKey` `exception-expiring:<id>`): for the notification scanner. Reads only.
 */
export async function exceptionsExpiringNotices(tx: StoreTx, now: Date): Promise<NewNotification[]> {
  const approved = await tx.listExceptions({ states: ['approved'] });
  const t = now.getTime();
  const out: NewNotification[] = [];
  for (const e of approved) {
    const until = untilOf(e);
    if (until === undefined || until <= t || until > t + EXCEPTION_EXPIRING_WITHIN_MS) continue;
    out.push({
      event: 'exception.expiring',
      text: line('expiring', e),
      fields: { ...fields(e), stopsAt: new Date(until).toISOString() },
      at: now,
      dedupeKey: `exception-expiring:${e.id}`,
    });
  }
  return out;
}
