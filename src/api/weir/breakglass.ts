/**
 * @module api/weir/breakglass — the Weir API's break-glass operations: OpenBreakglass and
 * DrillBreakglass (a principal with a TOTP secret, a fresh one-time code, a checked request),
 * CloseBreakglass (the opener, an approver or an admin) and ListBreakglass. Every event writes
 * its notification in the same transaction as the session (the outbox), and the metrics
 * `weir_breakglass_sessions_open` / `…_opened_total` / `weir_breakglass_drills_total` count them.
 */
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import {
  BREAKGLASS_DEFAULT_MAX_TTL_MS,
  checkBreakglassRequest,
  formatBreakglassDuration,
  isBreakglassId,
  matchTotp,
  newBreakglassId,
} from '../../onramp/index.js';
import type { CodeAttempts } from '../../onramp/index.js';
import type { BreakglassSession, Store } from '../../store/index.js';
import type { AccessKey } from '../credentials.js';
import { WeirApiError } from './errors.js';
import { booleanQuery, checkIdentity, required } from './input.js';
import type { Fields } from './input.js';
import type { OperationContext } from './operations.js';

type Json = Record<string, unknown>;

/** The break-glass metrics, on the API's registry. */
export interface BreakglassMetrics {
  /** Sessions opened (drills not counted). */
  readonly opened: Counter;
  readonly drills: Counter;
}

/** What serve gives the break-glass operations. */
export interface BreakglassApiOptions {
  /** `--breakglass-max-ttl` in ms (default 1 h, at most 4 h: serve checks). */
  readonly maxTtlMs: number;
  readonly metrics?: BreakglassMetrics;
  /** Wrong codes per principal (guessing is bounded); absent: unbounded (tests of other parts). */
  readonly attempts?: CodeAttempts;
}

/**
 * Registers the break-glass metrics on `registry`. The open-sessions gauge reads the store at each
 * scrape, so it is right after a restart and drops when a session expires, with no timer.
 */
export function createBreakglassMetrics(
  registry: Registry,
  store: Store,
  now: () => Date,
): BreakglassMetrics {
  new Gauge({
    name: 'weir_breakglass_sessions_open',
    help: 'Break-glass sessions open now (not closed, not expired; drills never count).',
    registers: [registry],
    async collect() {
      const open = await store.transaction(undefined, (tx) => tx.listBreakglassSessions({ openAt: now() }), {
        readOnly: true,
      });
      this.set(open.length);
    },
  });
  return {
    opened: new Counter({
      name: 'weir_breakglass_sessions_opened_total',
      help: 'Break-glass sessions opened since the server started (drills apart).',
      registers: [registry],
    }),
    drills: new Counter({
      name: 'weir_breakglass_drills_total',
      help: 'Break-glass drills recorded since the server started (they grant nothing).',
      registers: [registry],
    }),
  };
}

/** A session as the API shows it, with its state at `now`. */
export function sessionJson(s: BreakglassSession, now: number): Json {
  const state = s.drill
    ? 'drill'
    : s.closedAt !== undefined
      ? 'closed'
      : now >= s.expires.getTime()
        ? 'expired'
        : 'open';
  return {
    id: s.id,
    state,
    identity: s.identity,
    destinations: s.destinations,
    everything: s.destinations.length === 0,
    reason: s.reason,
    principal: s.principal,
    openedAt: s.openedAt.toISOString(),
    expires: s.expires.toISOString(),
    drill: s.drill,
    ...(s.closedAt !== undefined ? { closedAt: s.closedAt.toISOString() } : {}),
    ...(s.closedBy !== undefined ? { closedBy: s.closedBy } : {}),
    ...(s.closeReason !== undefined ? { closeReason: s.closeReason } : {}),
  };
}

/**
 * A session's notification fields: its ID as `session`, because a webhook body's own `id` is the
 * notice's number (src/notify drops a field named `id`, which would leave the receiver no ID).
 */
function sessionNoticeFields(s: BreakglassSession, now: number): Json {
  const { id, ...rest } = sessionJson(s, now);
  return { session: id, ...rest };
}

/** The open/drill fields (`identity`, `to`, `reason`, `ttl`, `otp`), typed by the route's spec. */
function openInput(
  f: Fields,
  op: string,
): { identity: string; to: readonly string[]; reason: string; ttl?: string; otp: string } {
  const ttl = f['ttl'] as string | undefined;
  return {
    identity: required(f, 'identity', op, 'spiffe://prod.example/ns/payments/sa/checkout'),
    to: (f['to'] as readonly string[] | undefined) ?? [],
    reason: required(f, 'reason', op, 'INC-1234 payments down'),
    ...(ttl !== undefined ? { ttl } : {}),
    otp: required(f, 'otp', op, '123456'),
  };
}

/** The caller's key, which must carry a TOTP secret. */
function totpCaller(ctx: OperationContext, op: string): AccessKey & { breakglassTotp: string } {
  const key = ctx.caller;
  if (key === undefined) throw new Error(`${op}: the handler passed no caller`);
  if (key.breakglassTotp === undefined) {
    throw new WeirApiError(
      'UnauthorizedOperation',
      `${op}: the principal ${key.principal} (key ${key.accessKeyId}) has no break-glass secret; add ` +
        `weir_breakglass_totp = BASE32SECRET to its profile in the credentials file (weir breakglass secret makes one) and restart weir serve`,
    );
  }
  return key as AccessKey & { breakglassTotp: string };
}

/**
 * OpenBreakglass (`drill` false) and DrillBreakglass (`drill` true): the same path — caller's
 * secret, request checks, one-time code, the code's step used once — then a session that grants
 * (or a drill that grants nothing), its notification, in one transaction.
 */
export async function openBreakglassOp(ctx: OperationContext, fields: Fields, drill: boolean): Promise<Json> {
  const op = drill ? 'DrillBreakglass' : 'OpenBreakglass';
  const key = totpCaller(ctx, op);
  const input = openInput(fields, op);
  const identity = checkIdentity(input.identity, 'identity', op);
  const options = ctx.options.breakglass ?? { maxTtlMs: BREAKGLASS_DEFAULT_MAX_TTL_MS };
  if (input.ttl === undefined && !drill) {
    throw new WeirApiError(
      'MissingParameter',
      `${op}: field 'ttl' is required (e.g. "ttl": "30m"; at most ${formatBreakglassDuration(options.maxTtlMs)})`,
    );
  }
  const checked = checkBreakglassRequest({ ...input, identity, ttl: input.ttl ?? '30m' }, options.maxTtlMs);
  if (!checked.ok) {
    throw new WeirApiError(
      'InvalidParameterValue',
      `${op}: field '${checked.problem.field}': ${checked.problem.message}`,
    );
  }
  const now = ctx.now();
  const locked = options.attempts?.lockedUntil(key.principal, now.getTime());
  if (locked !== undefined) {
    throw new WeirApiError(
      'UnauthorizedOperation',
      `${op}: too many wrong codes for ${key.principal}; the next code is taken from ${new Date(locked).toISOString()}`,
    );
  }
  // The code is checked after the request, so a typo in the request does not spend it.
  const step = matchTotp(key.breakglassTotp, input.otp, now.getTime());
  if (step === undefined) {
    options.attempts?.recordWrong(key.principal, now.getTime());
    throw new WeirApiError(
      'UnauthorizedOperation',
      `${op}: field 'otp': not the code of ${key.principal}'s break-glass secret for now (6 digits, 30 s steps, the step before and after accepted); type the code your authenticator shows`,
    );
  }
  const r = checked.value;
  const session: BreakglassSession = {
    id: newBreakglassId(),
    identity: r.identity,
    destinations: r.destinations.map((d) => d.text),
    reason: r.reason,
    principal: key.principal,
    openedAt: now,
    expires: new Date(now.getTime() + r.ttlMs),
    drill,
  };
  const to =
    session.destinations.length === 0 ? 'everything but the guardrails' : session.destinations.join(', ');
  await ctx.store.transaction(undefined, async (tx) => {
    // A code is never accepted twice, and an older code is refused after a newer one: whoever
    // saw a code (over a shoulder, in a screen share) cannot use it once it has been used.
    if (!(await tx.useTotpStep(key.principal, step, now))) {
      throw new WeirApiError(
        'UnauthorizedOperation',
        `${op}: field 'otp': this code (or a newer one) of ${key.principal} was already used; a code is accepted once: wait for the next one`,
      );
    }
    await tx.insertBreakglassSession(session);
    await tx.enqueueNotification({
      event: drill ? 'breakglass.drill' : 'breakglass.opened',
      text: drill
        ? `Break-glass drill ${session.id} by ${key.principal} for ${r.identity} (${to}): ${r.reason}. It granted nothing.`
        : `Break-glass ${session.id} opened by ${key.principal} for ${r.identity} to ${to} until ${session.expires.toISOString()} (${formatBreakglassDuration(r.ttlMs)}): ${r.reason}. Close it when done: weir breakglass close ${session.id}`,
      fields: { ...sessionNoticeFields(session, now.getTime()), ttl: formatBreakglassDuration(r.ttlMs) },
      at: now,
    });
  });
  (drill ? options.metrics?.drills : options.metrics?.opened)?.inc();
  return { session: sessionJson(session, now.getTime()) };
}

/** CloseBreakglass: the opener, an approver or an admin ends an open session. */
export async function closeBreakglassOp(ctx: OperationContext, fields: Fields): Promise<Json> {
  const op = 'CloseBreakglass';
  const key = ctx.caller;
  if (key === undefined) throw new Error(`${op}: the handler passed no caller`);
  const id = fields.id as string | undefined;
  if (id === undefined)
    throw new WeirApiError(
      'MissingParameter',
      `${op}: field 'id' is required (e.g. "id": "bg-0123456789abcdef0")`,
    );
  if (!isBreakglassId(id)) {
    throw new WeirApiError(
      'InvalidParameterValue',
      `${op}: field 'id' must be a session ID (bg- and 17 hex digits), got ${JSON.stringify(id.slice(0, 80))}`,
    );
  }
  const reason = (fields.reason as string | undefined)?.trim();
  if (reason !== undefined && (reason.length > 1000 || /\p{Cc}/u.test(reason))) {
    throw new WeirApiError(
      'InvalidParameterValue',
      `${op}: field 'reason' is one line of at most 1000 characters`,
    );
  }
  const now = ctx.now();
  const closed = await ctx.store.transaction(undefined, async (tx) => {
    const s = await tx.getBreakglassSession(id);
    if (s === undefined)
      throw new WeirApiError(
        'NotFound',
        `${op}: no break-glass session ${id} (weir breakglass list --all shows them)`,
      );
    if (key.role === 'readonly' && key.principal !== s.principal) {
      throw new WeirApiError(
        'UnauthorizedOperation',
        `${op}: ${id} was opened by ${s.principal}; only they, an approver or an admin may close it (you are ${key.principal}, role readonly)`,
      );
    }
    if (s.drill)
      throw new WeirApiError(
        'IncorrectState',
        `${op}: ${id} is a drill; it granted nothing, there is nothing to close`,
      );
    if (s.closedAt !== undefined) {
      throw new WeirApiError(
        'IncorrectState',
        `${op}: ${id} was already closed at ${s.closedAt.toISOString()} by ${s.closedBy ?? '?'}`,
      );
    }
    if (now.getTime() >= s.expires.getTime()) {
      throw new WeirApiError('IncorrectState', `${op}: ${id} already expired at ${s.expires.toISOString()}`);
    }
    const close = {
      at: now,
      by: key.principal,
      ...(reason !== undefined && reason !== '' ? { reason } : {}),
    };
    await tx.closeBreakglassSession(id, close);
    const after: BreakglassSession = {
      ...s,
      closedAt: now,
      closedBy: key.principal,
      ...(close.reason !== undefined ? { closeReason: close.reason } : {}),
    };
    await tx.enqueueNotification({
      event: 'breakglass.closed',
      text: `Break-glass ${id} for ${s.identity} closed by ${key.principal}${close.reason !== undefined ? `: ${close.reason}` : ''} (opened by ${s.principal}: ${s.reason})`,
      fields: sessionNoticeFields(after, now.getTime()),
      at: now,
    });
    return after;
  });
  return { session: sessionJson(closed, now.getTime()) };
}

/** ListBreakglass: the open sessions, or with `all=true` every session and drill. */
export async function listBreakglassOp(
  ctx: OperationContext,
  query: Readonly<Record<string, string>>,
): Promise<Json> {
  const all = booleanQuery(query, 'all', 'ListBreakglass');
  const now = ctx.now();
  const sessions = await ctx.store.transaction(
    undefined,
    (tx) => tx.listBreakglassSessions(all ? undefined : { openAt: now }),
    { readOnly: true },
  );
  return { sessions: sessions.map((s) => sessionJson(s, now.getTime())) };
}
