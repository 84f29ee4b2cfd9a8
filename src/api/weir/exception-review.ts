/**
 * @module api/weir/exception-review — what a person deciding an exception needs besides the
 * record, as Weir API reads: `GET exceptions/review` (time left, the two-person rule and the
 * workload's approver lists, and what the calling key may do with it, with the reason when it may
 * not) and `GET exceptions/promote` (the policy rule YAML that `weir exception promote` prints).
 * The console shows its buttons from these; the server still decides each write on its own, so a
 * stale or forged screen gains nothing.
 */
import {
  approveException,
  denyException,
  exceptionRulesFor,
  formatDuration,
  OnrampError,
  promoteYaml,
  revokeException,
  untilOf,
  viewState,
} from '../../onramp/index.js';
import type { Actor } from '../../onramp/index.js';
import type { ExceptionRecord } from '../../store/index.js';
import { exceptionId, exceptionJson, notFound, policySet } from './exceptions.js';
import type { OperationContext } from './operations.js';
import type { RouteTable } from './route.js';

type Json = Record<string, unknown>;

/** Whether the caller may take one action, and if not, the server's reason (as the write would say). */
type May = { readonly allowed: true } | { readonly allowed: false; readonly why: string };

async function readException(ctx: OperationContext, op: string, id: string): Promise<ExceptionRecord> {
  const e = await ctx.store.transaction(undefined, (tx) => tx.getException(id), { readOnly: true });
  if (e === undefined) throw notFound(op, id);
  return e;
}

/**
 * Runs the on-ramp's own decision on a copy (the functions are pure: nothing is stored) and keeps
 * only who-and-when refusals: a TTL over the maximum is not a "may not", since the approver can
 * shorten it in the same form.
 */
function may(fn: () => unknown): May {
  try {
    fn();
    return { allowed: true };
  } catch (err) {
    if (
      err instanceof OnrampError &&
      (err.code === 'UnauthorizedOperation' || err.code === 'IncorrectState')
    ) {
      return { allowed: false, why: err.message };
    }
    if (err instanceof OnrampError) return { allowed: true };
    throw err;
  }
}

/**
 * Who may still approve `e`: nobody once decided; otherwise the principals on every approver
 * list of its policies (or any approver or admin when no policy narrows it), never its requester.
 */
function approversJson(ctx: OperationContext, e: ExceptionRecord): Json {
  const rules = exceptionRulesFor(policySet(ctx), e.identity);
  const lists = rules.approverLists;
  const first = lists[0];
  // An approver must be on every list written (fail closed), so those who may are the intersection.
  const named =
    first === undefined
      ? undefined
      : first.approvers.filter((p) => p !== e.requester && lists.every((l) => l.approvers.includes(p)));
  return {
    requester: e.requester,
    maxTtl: formatDuration(rules.maxTtlMs),
    approverLists: lists.map((l) => ({ policy: l.policy, approvers: l.approvers })),
    ...(e.state === 'pending'
      ? named === undefined
        ? { mayApprove: { anyApprover: true, except: [e.requester] } }
        : { mayApprove: { anyApprover: false, principals: named, except: [e.requester] } }
      : {}),
    ...(e.state !== 'pending' && e.state !== 'revoked' && e.decidedBy !== undefined
      ? { decidedBy: e.decidedBy }
      : {}),
  };
}

/** ReviewException: the exception, its time left, who may approve it, and what the caller may do. */
export async function reviewExceptionOp(
  ctx: OperationContext,
  query: Readonly<Record<string, string>>,
): Promise<Json> {
  const op = 'ReviewException';
  const id = exceptionId(query, op);
  const e = await readException(ctx, op, id);
  const now = ctx.now();
  const until = untilOf(e);
  const state = viewState(e, now);
  const set = policySet(ctx);
  const caller = ctx.caller;
  const actor: Actor | undefined =
    caller !== undefined ? { principal: caller.principal, role: caller.role } : undefined;
  const noKey: May = { allowed: false, why: `${op}: no signing key` };
  return {
    exception: exceptionJson(e, now),
    serverTime: now.toISOString(),
    ...(until !== undefined ? { until: new Date(until).toISOString() } : {}),
    ...(state === 'active' && until !== undefined
      ? { timeLeftSeconds: Math.max(0, Math.floor((until - now.getTime()) / 1000)) }
      : {}),
    approval: approversJson(ctx, e),
    caller: {
      ...(actor !== undefined ? { principal: actor.principal, role: actor.role } : {}),
      // The placeholder reason only lets the checks reach the rules about who and when.
      approve: actor === undefined ? noKey : may(() => approveException(e, actor, { set, now })),
      deny: actor === undefined ? noKey : may(() => denyException(e, actor, { set, now, reason: 'review' })),
      revoke: actor === undefined ? noKey : may(() => revokeException(e, actor, { now, reason: 'review' })),
    },
  };
}

/** PromoteException: the rule YAML to paste under `spec.rules` (as `weir exception promote` prints). */
export async function promoteExceptionOp(
  ctx: OperationContext,
  query: Readonly<Record<string, string>>,
): Promise<Json> {
  const op = 'PromoteException';
  const id = exceptionId(query, op);
  const e = await readException(ctx, op, id);
  return {
    id: e.id,
    yaml: promoteYaml({
      id: e.id,
      identity: e.identity,
      destinations: e.destinations,
      reason: e.reason,
      requester: e.requester,
      ...(e.dataClass !== undefined ? { dataClass: e.dataClass } : {}),
      ...(e.expires !== undefined ? { expires: e.expires.toISOString() } : {}),
    }),
  };
}

/** The routes of this file, spread into the Weir API's table (api/weir/handler). */
export const EXCEPTION_REVIEW_ROUTES: RouteTable = {
  'exceptions/review': [
    {
      method: 'GET',
      name: 'ReviewException',
      read: true,
      query: ['id'],
      run: (c, i) => reviewExceptionOp(c, i.query),
    },
  ],
  'exceptions/promote': [
    {
      method: 'GET',
      name: 'PromoteException',
      read: true,
      query: ['id'],
      run: (c, i) => promoteExceptionOp(c, i.query),
    },
  ],
};
