/**
 * @module onramp/exceptions — the exception workflow's rules: what a request may ask for (one
 * identity, narrow destinations, a TTL within the policy's maximum, a change window, a data class
 * that fits the workload), who may decide it (never the requester; only an approver the
 * workload's policies allow), and how its state moves (pending → approved | denied; pending or
 * approved → revoked; approved → expired by time alone). Pure: records in, records out; the API
 * stores them.
 */
import { randomBytes } from 'node:crypto';
import {
  dataClassFits,
  matchIdentity,
  MAX_EXCEPTION_TTL_MS,
  MIN_EXCEPTION_TTL_MS,
  parseDuration,
  parseTime,
} from '../policy/index.js';
import type { Policy, PolicySet } from '../policy-types/index.js';
import type { ExceptionRecord } from '../store/index.js';
import { parseExceptionDestination } from './destination.js';
import { OnrampError } from './errors.js';

/** The states a person sees: stored ones, with `approved` split by time into active and expired. */
export const EXCEPTION_VIEW_STATES = ['pending', 'active', 'expired', 'denied', 'revoked'] as const;
export type ExceptionViewState = (typeof EXCEPTION_VIEW_STATES)[number];

/** The most destinations one request may name. */
export const MAX_EXCEPTION_DESTINATIONS = 20;
/** The longest reason or comment, in characters. */
const MAX_TEXT = 1000;

/** Who is acting: the principal and role of the API key. */
export interface Actor {
  readonly principal: string;
  readonly role: 'admin' | 'approver' | 'readonly';
}

/** What the policies covering one identity say about its exceptions. */
export interface ExceptionRules {
  /** The longest TTL, ms (the smallest `maxTtl` of the policies, at most 7 days). */
  readonly maxTtlMs: number;
  /**
   * Each policy that lists approvers, with its list: an approver must be on every one of them
   * (fail closed: no policy's narrowing is bypassed through another policy).
   */
  readonly approverLists: readonly { readonly policy: string; readonly approvers: readonly string[] }[];
  /** The workload's `dataClass` label in the registry, if any. */
  readonly workloadDataClass?: string;
}

/** The policies of `set` that cover `identity` (by identity pattern, and registry labels). */
export function policiesFor(set: PolicySet | undefined, identity: string): Policy[] {
  if (set === undefined) return [];
  const registered = set.workloads.find((w) => w.identity === identity);
  return set.policies.filter((p) =>
    p.workloads.some((s) => {
      if (s.identity !== undefined && !matchIdentity(s.identity, identity)) return false;
      if (s.labels !== undefined) {
        if (registered === undefined) return false;
        for (const [k, v] of Object.entries(s.labels)) if (registered.labels[k] !== v) return false;
      }
      return true;
    }),
  );
}

/** The exception rules for `identity` under `set` (the set the server enforces). */
export function exceptionRulesFor(set: PolicySet | undefined, identity: string): ExceptionRules {
  let maxTtlMs = MAX_EXCEPTION_TTL_MS;
  const approverLists: { policy: string; approvers: readonly string[] }[] = [];
  for (const p of policiesFor(set, identity)) {
    const e = p.exceptions;
    if (e?.maxTtlMs !== undefined) maxTtlMs = Math.min(maxTtlMs, e.maxTtlMs);
    if (e?.approvers !== undefined) approverLists.push({ policy: p.name, approvers: e.approvers });
  }
  const cls = set?.workloads.find((w) => w.identity === identity)?.labels.dataClass;
  return { maxTtlMs, approverLists, ...(cls !== undefined ? { workloadDataClass: cls } : {}) };
}

/** A TTL as written (`24h`, `5s`): at least 5 s, at most `maxMs`. */
export function parseExceptionTtl(text: string, maxMs: number, field = 'ttl'): number {
  const d = parseDuration(text);
  if (!d.ok) {
    throw new OnrampError(
      'InvalidParameterValue',
      `field '${field}': ${JSON.stringify(text.slice(0, 40))} is not a duration; write a whole number and s, m, h or d (e.g. 24h)`,
      field,
    );
  }
  if (d.value < MIN_EXCEPTION_TTL_MS) {
    throw new OnrampError(
      'InvalidParameterValue',
      `field '${field}': ${text} is under the minimum, 5s`,
      field,
    );
  }
  if (d.value > maxMs) {
    throw new OnrampError(
      'InvalidParameterValue',
      `field '${field}': ${text} is over the maximum for this workload, ${formatDuration(maxMs)} (spec.exceptions.maxTtl of its policies; at most 7d); ask for less, or promote it to a reviewed rule`,
      field,
    );
  }
  return d.value;
}

/** `ms` as the largest whole unit (`72h`, `7d`, `90s`). */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${Math.round(ms / 1000)}s`;
}

/** `--window START/END`: ISO 8601 timestamps with zone, END after START and after `now`. */
export function parseWindow(text: string, now: number): { start: Date; end: Date } {
  const bad = (why: string): never => {
    throw new OnrampError(
      'InvalidParameterValue',
      `field 'window': ${why}; write START/END as ISO 8601 timestamps with a zone, e.g. 2027-01-10T22:00:00Z/2027-01-11T02:00:00Z`,
      'window',
    );
  };
  const parts = text.split('/');
  if (parts.length !== 2) return bad(`${JSON.stringify(text.slice(0, 80))} is not START/END`);
  const [s, e] = parts.map((p) => parseTime(p, 'start'));
  if (s === undefined || e === undefined || !s.ok || !e.ok)
    return bad(`${JSON.stringify(text.slice(0, 80))} is not two timestamps`);
  if (e.value <= s.value) return bad('the end is not after the start');
  if (e.value <= now) return bad('the window has already ended');
  return { start: new Date(s.value), end: new Date(e.value) };
}

/** A reason or comment: one line of at most 1000 characters (a newline could forge log lines). */
export function checkText(value: string, field: string, required: boolean): string | undefined {
  if (value === '' && !required) return undefined;
  if (value.trim() === '') {
    throw new OnrampError('MissingParameter', `field '${field}' is required: say why, in one line`, field);
  }
  if (value.length > MAX_TEXT || /\p{Cc}/u.test(value)) {
    throw new OnrampError(
      'InvalidParameterValue',
      `field '${field}' must be one line of at most ${MAX_TEXT} characters, without control characters`,
      field,
    );
  }
  return value;
}

/** A workload identity: one exact identity, not a pattern (same shape as the gateway's). */
export function checkExceptionIdentity(value: string): string {
  if (value === '' || value.length > 2048 || /[\s\p{Cc}]/u.test(value) || value.includes('*')) {
    throw new OnrampError(
      'InvalidParameterValue',
      `field 'identity' must be one workload identity (e.g. spiffe://prod.example/ns/payments/sa/checkout), without spaces, '*' or control characters`,
      'identity',
    );
  }
  return value;
}

/** What a request asks for, as written. */
export interface ExceptionRequestInput {
  readonly identity: string;
  readonly to: readonly string[];
  readonly reason: string;
  readonly ttl?: string;
  readonly dataClass?: string;
  readonly window?: string;
}

/** A new exception ID: `exc-` and 17 lower-case hex digits, like EC2's resource IDs. */
export function newExceptionId(): string {
  return `exc-${randomBytes(9).toString('hex').slice(0, 17)}`;
}

/** The default TTL of a request that names none. */
export const DEFAULT_EXCEPTION_TTL = '24h';

/**
 * Checks a request against the rules and builds its pending record. Refuses, naming the field:
 * TTL over the maximum, `*` or a public-suffix wildcard, a guardrail destination, a data class
 * that does not fit the workload's.
 */
export function buildExceptionRequest(
  input: ExceptionRequestInput,
  ctx: {
    readonly set: PolicySet | undefined;
    readonly requester: string;
    readonly now: Date;
    readonly id?: string;
  },
): ExceptionRecord {
  const identity = checkExceptionIdentity(input.identity);
  const reason = checkText(input.reason, 'reason', true) ?? '';
  if (input.to.length === 0) {
    throw new OnrampError(
      'MissingParameter',
      "field 'to' needs at least one destination (e.g. api.stripe.com:443)",
      'to',
    );
  }
  if (input.to.length > MAX_EXCEPTION_DESTINATIONS) {
    throw new OnrampError(
      'InvalidParameterValue',
      `field 'to' names more than ${MAX_EXCEPTION_DESTINATIONS} destinations`,
      'to',
    );
  }
  const destinations: string[] = [];
  for (const text of input.to) {
    const d = parseExceptionDestination(text);
    if (!d.ok)
      throw new OnrampError(
        'InvalidParameterValue',
        `field 'to' ${JSON.stringify(text.slice(0, 80))}: ${d.message}`,
        'to',
      );
    if (!destinations.includes(d.value.text)) destinations.push(d.value.text);
  }
  const rules = exceptionRulesFor(ctx.set, identity);
  const ttlMs = parseExceptionTtl(input.ttl ?? DEFAULT_EXCEPTION_TTL, rules.maxTtlMs);
  const dataClass = input.dataClass === undefined || input.dataClass === '' ? undefined : input.dataClass;
  if (dataClass !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(dataClass)) {
    throw new OnrampError(
      'InvalidParameterValue',
      "field 'dataClass' must be a data class name such as pci or internal",
      'dataClass',
    );
  }
  if (!dataClassFits(rules.workloadDataClass, dataClass)) {
    throw new OnrampError(
      'InvalidParameterValue',
      `field 'dataClass': workload ${identity} handles ${rules.workloadDataClass ?? ''} data, but the request ${
        dataClass === undefined ? 'names no data class' : `is for '${dataClass}'`
      }; after review, ask with --data-class ${rules.workloadDataClass ?? ''}`,
      'dataClass',
    );
  }
  const window =
    input.window === undefined || input.window === ''
      ? undefined
      : parseWindow(input.window, ctx.now.getTime());
  return {
    id: ctx.id ?? newExceptionId(),
    identity,
    destinations,
    reason,
    ttlMs,
    requester: ctx.requester,
    requestedAt: ctx.now,
    state: 'pending',
    ...(dataClass !== undefined ? { dataClass } : {}),
    ...(window !== undefined ? { window } : {}),
  };
}

/** Epoch ms from which an approved exception no longer allows: its expiry or its window's end. */
export function untilOf(e: ExceptionRecord): number | undefined {
  if (e.expires === undefined) return undefined;
  const end = e.window?.end.getTime();
  return end !== undefined ? Math.min(e.expires.getTime(), end) : e.expires.getTime();
}

/** The state a person sees at `now`: an approved exception is active until it stops allowing, then expired. */
export function viewState(e: ExceptionRecord, now: Date): ExceptionViewState {
  if (e.state !== 'approved') return e.state;
  const until = untilOf(e);
  return until !== undefined && now.getTime() >= until ? 'expired' : 'active';
}

/** Refuses `actor` as the decider of `e` unless allowed: never the requester, and on every approver list. */
function checkDecider(e: ExceptionRecord, actor: Actor, rules: ExceptionRules, verb: string): void {
  if (actor.role !== 'admin' && actor.role !== 'approver') {
    throw new OnrampError(
      'UnauthorizedOperation',
      `only a key with weir_role approver or admin may ${verb} exceptions`,
    );
  }
  for (const list of rules.approverLists) {
    if (!list.approvers.includes(actor.principal)) {
      throw new OnrampError(
        'UnauthorizedOperation',
        `${actor.principal} may not ${verb} exceptions for ${e.identity}: policy '${list.policy}' allows only ${
          list.approvers.join(', ') || 'nobody'
        } (spec.exceptions.approvers)`,
      );
    }
  }
}

function needState(
  e: ExceptionRecord,
  now: Date,
  allowed: readonly ExceptionViewState[],
  verb: string,
): void {
  const state = viewState(e, now);
  if (!allowed.includes(state)) {
    throw new OnrampError(
      'IncorrectState',
      `exception ${e.id} is ${state}; only a ${allowed.join(' or ')} exception can be ${verb}`,
    );
  }
}

/**
 * Approves `e`: it then allows from now (or its window's start) for its TTL, which the approver
 * may shorten (`ttl`). Two-person rule: the requester never approves their own request.
 */
export function approveException(
  e: ExceptionRecord,
  actor: Actor,
  opts: {
    readonly set: PolicySet | undefined;
    readonly now: Date;
    readonly ttl?: string;
    readonly comment?: string;
  },
): ExceptionRecord {
  needState(e, opts.now, ['pending'], 'approved');
  if (actor.principal === e.requester) {
    // The whole point of an approval: a second person looked. A requester holding an approver
    // key must still ask someone else.
    throw new OnrampError(
      'UnauthorizedOperation',
      `${actor.principal} requested ${e.id} and so may not approve it (two-person rule): ask another approver`,
    );
  }
  const rules = exceptionRulesFor(opts.set, e.identity);
  checkDecider(e, actor, rules, 'approve');
  let ttlMs = e.ttlMs;
  if (opts.ttl !== undefined && opts.ttl !== '') {
    ttlMs = parseExceptionTtl(opts.ttl, Math.min(e.ttlMs, rules.maxTtlMs));
  } else if (ttlMs > rules.maxTtlMs) {
    throw new OnrampError(
      'InvalidParameterValue',
      `field 'ttl': the request asks for ${formatDuration(ttlMs)}, over this workload's maximum ${formatDuration(rules.maxTtlMs)} now; approve with a shorter ttl`,
      'ttl',
    );
  }
  if (e.window !== undefined && e.window.end.getTime() <= opts.now.getTime()) {
    throw new OnrampError(
      'IncorrectState',
      `exception ${e.id}'s window ended at ${e.window.end.toISOString()}; ask again`,
    );
  }
  const comment = checkText(opts.comment ?? '', 'comment', false);
  return {
    ...e,
    ttlMs,
    state: 'approved',
    decidedBy: actor.principal,
    decidedAt: opts.now,
    expires: new Date(opts.now.getTime() + ttlMs),
    ...(comment !== undefined ? { comment } : {}),
  };
}

/** Denies a pending `e`, with the reason the requester is told. */
export function denyException(
  e: ExceptionRecord,
  actor: Actor,
  opts: { readonly set: PolicySet | undefined; readonly now: Date; readonly reason: string },
): ExceptionRecord {
  const reason = checkText(opts.reason, 'reason', true) ?? '';
  needState(e, opts.now, ['pending'], 'denied');
  checkDecider(e, actor, exceptionRulesFor(opts.set, e.identity), 'deny');
  return { ...e, state: 'denied', decidedBy: actor.principal, decidedAt: opts.now, comment: reason };
}

/** Revokes a pending or active `e`: an approver or admin, or its requester withdrawing it. */
export function revokeException(
  e: ExceptionRecord,
  actor: Actor,
  opts: { readonly now: Date; readonly reason: string },
): ExceptionRecord {
  const reason = checkText(opts.reason, 'reason', true) ?? '';
  if (actor.role === 'readonly' && actor.principal !== e.requester) {
    throw new OnrampError(
      'UnauthorizedOperation',
      `${actor.principal} (role readonly) may revoke only their own requests; ${e.id} was requested by ${e.requester}`,
    );
  }
  needState(e, opts.now, ['pending', 'active'], 'revoked');
  return { ...e, state: 'revoked', revokedBy: actor.principal, revokedAt: opts.now, revokeReason: reason };
}
