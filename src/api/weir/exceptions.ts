/**
 * @module api/weir/exceptions — the Weir API's exception operations: RequestException (any role
 * of the gateway account: a request grants nothing), ApproveException and DenyException
 * (approvers; never the requester), RevokeException (approvers, or the requester withdrawing),
 * ListExceptions and ShowException. The rules are the on-ramp's (onramp); each write stores the
 * record and queues its notification in one transaction, so a change is told exactly when it
 * commits. Metrics: time to approve, and exceptions by state.
 */
import { Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import {
  approveException,
  buildExceptionRequest,
  denyException,
  EXCEPTION_VIEW_STATES,
  exceptionNotification,
  formatDuration,
  OnrampError,
  revokeException,
  viewState,
} from '../../onramp/index.js';
import type { Actor, ExceptionViewState } from '../../onramp/index.js';
import type { PolicySet } from '../../policy/index.js';
import type { ExceptionRecord, ExceptionState, Store } from '../../store/index.js';
import { WeirApiError } from './errors.js';
import { checkIdentity, required } from './input.js';
import type { Fields } from './input.js';
import type { OperationContext } from './operations.js';

type Json = Record<string, unknown>;

const EXCEPTION_ID = /^exc-[0-9a-f]{17}$/;

/** The exception metrics of one API registry. */
interface ExceptionMetrics {
  readonly timeToApprove: Histogram;
}

const registered = new WeakMap<Registry, ExceptionMetrics>();

/**
 * Registers the exception metrics on an API's registry: `weir_exception_time_to_approve_seconds`
 * (request to approval) and `weir_exceptions{state}` (read from the store at each scrape, since
 * `active` and `expired` depend on the time). Idempotent per registry.
 */
export function registerExceptionMetrics(registry: Registry, store: Store, now: () => Date): void {
  if (registered.has(registry)) return;
  const timeToApprove = new Histogram({
    name: 'weir_exception_time_to_approve_seconds',
    help: 'Time from an exception request to its approval.',
    buckets: [60, 300, 900, 1800, 3600, 4 * 3600, 8 * 3600, 24 * 3600, 72 * 3600],
    registers: [registry],
  });
  new Gauge({
    name: 'weir_exceptions',
    help: 'Exceptions by state (pending, active, expired, denied, revoked).',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const all = await store.transaction(undefined, (tx) => tx.listExceptions(), { readOnly: true });
      const at = now();
      const counts = new Map<ExceptionViewState, number>(EXCEPTION_VIEW_STATES.map((s) => [s, 0]));
      for (const e of all) counts.set(viewState(e, at), (counts.get(viewState(e, at)) ?? 0) + 1);
      for (const [state, n] of counts) this.set({ state }, n);
    },
  });
  registered.set(registry, { timeToApprove });
}

/** An exception as the API shows it: state as people see it (`active`/`expired` by time). */
export function exceptionJson(e: ExceptionRecord, now: Date): Json {
  return {
    id: e.id,
    identity: e.identity,
    destinations: e.destinations,
    reason: e.reason,
    ...(e.dataClass !== undefined ? { dataClass: e.dataClass } : {}),
    ttl: formatDuration(e.ttlMs),
    ttlSeconds: e.ttlMs / 1000,
    ...(e.window !== undefined
      ? { window: { start: e.window.start.toISOString(), end: e.window.end.toISOString() } }
      : {}),
    requester: e.requester,
    requestedAt: e.requestedAt.toISOString(),
    state: viewState(e, now),
    ...(e.decidedBy !== undefined ? { decidedBy: e.decidedBy } : {}),
    ...(e.decidedAt !== undefined ? { decidedAt: e.decidedAt.toISOString() } : {}),
    ...(e.comment !== undefined ? { comment: e.comment } : {}),
    ...(e.expires !== undefined ? { expires: e.expires.toISOString() } : {}),
    ...(e.revokedBy !== undefined ? { revokedBy: e.revokedBy } : {}),
    ...(e.revokedAt !== undefined ? { revokedAt: e.revokedAt.toISOString() } : {}),
    ...(e.revokeReason !== undefined ? { revokeReason: e.revokeReason } : {}),
  };
}

function actorOf(ctx: OperationContext, op: string): Actor {
  if (ctx.caller === undefined) throw new WeirApiError('UnauthorizedOperation', `${op}: no signing key`);
  return { principal: ctx.caller.principal, role: ctx.caller.role };
}

/** The policy set the server enforces (the gateway's), for approvers, max TTL and data classes. */
export const policySet = (ctx: OperationContext): PolicySet | undefined => ctx.options.explainContext?.().set;

/** Runs the on-ramp's `fn`, answering its refusals with the same code, prefixed by the operation. */
function onramp<T>(op: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof OnrampError) throw new WeirApiError(err.code, `${op}: ${err.message}`);
    throw err;
  }
}

const str = (fields: Fields, name: string): string | undefined => fields[name] as string | undefined;

/** The `id` field or parameter, checked to be an exception ID (the field named if not). */
export function exceptionId(fields: Fields, op: string): string {
  const id = required(fields, 'id', op, 'exc-0123456789abcdef0');
  if (!EXCEPTION_ID.test(id)) {
    throw new WeirApiError(
      'InvalidParameterValue',
      `${op}: field 'id' must be an exception ID (exc- and 17 hex digits), got ${JSON.stringify(id.slice(0, 40))}`,
    );
  }
  return id;
}

/** The error for an exception ID the store does not hold. */
export const notFound = (op: string, id: string): WeirApiError =>
  new WeirApiError('InvalidException.NotFound', `${op}: no exception ${id} (weir exception list shows them)`);

/** RequestException: stores a pending exception and tells the approvers. */
export async function requestExceptionOp(ctx: OperationContext, fields: Fields): Promise<Json> {
  const op = 'RequestException';
  const actor = actorOf(ctx, op);
  const identity = checkIdentity(
    required(fields, 'identity', op, 'spiffe://prod.example/ns/app/sa/web'),
    'identity',
    op,
  );
  const to = fields.to as readonly string[] | undefined;
  if (to === undefined) {
    throw new WeirApiError(
      'MissingParameter',
      `${op}: field 'to' is required (e.g. "to": ["api.stripe.com:443"])`,
    );
  }
  const reason = required(fields, 'reason', op, 'incident 42: reconcile payouts');
  const now = ctx.now();
  const record = onramp(op, () =>
    buildExceptionRequest(
      {
        identity,
        to,
        reason,
        ...(str(fields, 'ttl') !== undefined ? { ttl: str(fields, 'ttl') as string } : {}),
        ...(str(fields, 'dataClass') !== undefined ? { dataClass: str(fields, 'dataClass') as string } : {}),
        ...(str(fields, 'window') !== undefined ? { window: str(fields, 'window') as string } : {}),
      },
      { set: policySet(ctx), requester: actor.principal, now },
    ),
  );
  await ctx.store.transaction(undefined, async (tx) => {
    await tx.insertException(record);
    await tx.enqueueNotification(exceptionNotification('requested', record, now));
  });
  return { exception: exceptionJson(record, now) };
}

/** Reads, changes and stores one exception in one transaction, with its notification. */
async function decide(
  ctx: OperationContext,
  op: string,
  id: string,
  event: 'approved' | 'denied' | 'revoked',
  change: (e: ExceptionRecord, now: Date) => ExceptionRecord,
): Promise<Json> {
  const now = ctx.now();
  const updated = await ctx.store.transaction(undefined, async (tx) => {
    const e = await tx.getException(id);
    if (e === undefined) throw notFound(op, id);
    const next = onramp(op, () => change(e, now));
    await tx.updateException(next);
    await tx.enqueueNotification(exceptionNotification(event, next, now));
    return next;
  });
  return { exception: exceptionJson(updated, now) };
}

/** ApproveException: the two-person rule, the workload's approvers, an optional shorter TTL. */
export async function approveExceptionOp(ctx: OperationContext, fields: Fields): Promise<Json> {
  const op = 'ApproveException';
  const actor = actorOf(ctx, op);
  const id = exceptionId(fields, op);
  const set = policySet(ctx);
  const out = await decide(ctx, op, id, 'approved', (e, now) =>
    approveException(e, actor, {
      set,
      now,
      ...(str(fields, 'ttl') !== undefined ? { ttl: str(fields, 'ttl') as string } : {}),
      ...(str(fields, 'comment') !== undefined ? { comment: str(fields, 'comment') as string } : {}),
    }),
  );
  const approved = out.exception as Json;
  const metrics = ctx.metrics !== undefined ? registered.get(ctx.metrics.registry) : undefined;
  metrics?.timeToApprove.observe(
    (Date.parse(String(approved.decidedAt)) - Date.parse(String(approved.requestedAt))) / 1000,
  );
  return out;
}

/** DenyException: a reason is required (the requester is told it). */
export async function denyExceptionOp(ctx: OperationContext, fields: Fields): Promise<Json> {
  const op = 'DenyException';
  const actor = actorOf(ctx, op);
  const id = exceptionId(fields, op);
  const reason = required(fields, 'reason', op, 'use the payments proxy instead');
  const set = policySet(ctx);
  return decide(ctx, op, id, 'denied', (e, now) => denyException(e, actor, { set, now, reason }));
}

/** RevokeException: an approver or admin, or the requester withdrawing their own; a reason is required. */
export async function revokeExceptionOp(ctx: OperationContext, fields: Fields): Promise<Json> {
  const op = 'RevokeException';
  const actor = actorOf(ctx, op);
  const id = exceptionId(fields, op);
  const reason = required(fields, 'reason', op, 'incident closed');
  return decide(ctx, op, id, 'revoked', (e, now) => revokeException(e, actor, { now, reason }));
}

/** The stored states to read for a view state. */
const STORED: Readonly<Record<ExceptionViewState, ExceptionState>> = {
  pending: 'pending',
  active: 'approved',
  expired: 'approved',
  denied: 'denied',
  revoked: 'revoked',
};

/** ListExceptions: optionally of one `state` (pending, active, expired, denied, revoked) and one `identity`. */
export async function listExceptionsOp(
  ctx: OperationContext,
  query: Readonly<Record<string, string>>,
): Promise<Json> {
  const op = 'ListExceptions';
  const state = query.state as ExceptionViewState | undefined;
  if (state !== undefined && !(EXCEPTION_VIEW_STATES as readonly string[]).includes(state)) {
    throw new WeirApiError(
      'InvalidParameterValue',
      `${op}: 'state' must be one of ${EXCEPTION_VIEW_STATES.join(', ')}, got ${JSON.stringify(state.slice(0, 40))}`,
    );
  }
  const identity = query.identity !== undefined ? checkIdentity(query.identity, 'identity', op) : undefined;
  const now = ctx.now();
  const list = await ctx.store.transaction(
    undefined,
    (tx) =>
      tx.listExceptions({
        ...(identity !== undefined ? { identity } : {}),
        ...(state !== undefined ? { states: [STORED[state]] } : {}),
      }),
    { readOnly: true },
  );
  const shown = state === undefined ? list : list.filter((e) => viewState(e, now) === state);
  return { exceptions: shown.map((e) => exceptionJson(e, now)) };
}

/** ShowException: one exception by `id`. */
export async function showExceptionOp(
  ctx: OperationContext,
  query: Readonly<Record<string, string>>,
): Promise<Json> {
  const op = 'ShowException';
  const id = exceptionId(query, op);
  const e = await ctx.store.transaction(undefined, (tx) => tx.getException(id), { readOnly: true });
  if (e === undefined) throw notFound(op, id);
  return { exception: exceptionJson(e, ctx.now()) };
}
