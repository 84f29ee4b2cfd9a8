/**
 * @module api/weir/decisions — `GET /weir/v1/decisions` (`ListDecisions`): the gateway's recent
 * decisions, newest last, from a bounded in-memory ring the server keeps (fed by the gateway's
 * decision log, never by reading the log file). Filters: identity, decision, since (a time),
 * after (a sequence number, for `weir decisions --follow`), limit.
 */
import type { Scope } from '../../model/index.js';
import type { GrantRef } from '../../policy-types/index.js';
import { WeirApiError } from './errors.js';
import type { OperationContext } from './operations.js';

/** One decision as the ring keeps it: the decision line's fields that a reader looks for. */
export interface DecisionRecord {
  /** Position in the ring since the server started: increasing, for `after`. */
  readonly seq: number;
  /** Decision time (ISO 8601). */
  readonly at: string;
  readonly decisionId: string;
  readonly decision: string;
  readonly identity?: string;
  readonly src: string;
  readonly protocol: string;
  readonly host?: string;
  readonly ip?: string;
  readonly port?: number;
  readonly reason?: string;
  readonly policy?: string;
  readonly ruleId?: string;
  /** The exception or break-glass session that allowed it. */
  readonly grant?: GrantRef;
}

/** What `ListDecisions` selects. */
export interface DecisionQuery {
  readonly identity?: string;
  readonly decision?: string;
  /** Epoch ms: decisions at or after this time. */
  readonly since?: number;
  /** Decisions with a greater `seq`. */
  readonly after?: number;
  /** The newest `limit` of those selected. */
  readonly limit: number;
}

/** The recent decisions of the server's gateway, and the namespace it enforces. */
export interface RecentDecisions {
  readonly scope: Scope;
  /** Selected decisions, oldest first, and the last `seq` the ring has handed out. */
  select(q: DecisionQuery): { readonly decisions: readonly DecisionRecord[]; readonly last: number };
}

/** The most a single answer holds, whatever `limit` asks (the ring holds no more by default). */
export const MAX_DECISIONS_LIMIT = 1000;

const DECISIONS = ['allow', 'deny', 'would-deny', 'unauthenticated', 'limit', 'error'];

/** A non-negative integer query parameter, or a precise error naming it. */
function integer(value: string | undefined, name: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value) || Number(value) > max) {
    throw new WeirApiError(
      'InvalidParameterValue',
      `ListDecisions: '${name}' must be an integer from 0 to ${max} (got ${JSON.stringify(value.slice(0, 40))})`,
    );
  }
  return Number(value);
}

/** `ListDecisions`: the selected recent decisions, readable with a read-only key. */
export function listDecisionsOp(
  ctx: OperationContext,
  query: Readonly<Record<string, string>>,
): Promise<Record<string, unknown>> {
  const recent = ctx.options.recentDecisions;
  if (recent === undefined) {
    throw new WeirApiError(
      'ServiceUnavailable',
      'ListDecisions: this server runs no gateway (--proxy-listen off)',
    );
  }
  // The decisions name the gateway account's identities and destinations: another account of
  // this server must not read them (the same binding as check and tokens).
  if (ctx.scope.accountId !== recent.scope.accountId) {
    throw new WeirApiError(
      'AccessDenied',
      `ListDecisions: the gateway enforces account ${recent.scope.accountId}; a key of account ${ctx.scope.accountId} cannot read its decisions`,
    );
  }
  const decision = query.decision;
  if (decision !== undefined && !DECISIONS.includes(decision)) {
    throw new WeirApiError(
      'InvalidParameterValue',
      `ListDecisions: 'decision' must be one of ${DECISIONS.join(', ')} (got ${JSON.stringify(decision.slice(0, 40))})`,
    );
  }
  let since: number | undefined;
  if (query.since !== undefined) {
    since = Date.parse(query.since);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(query.since) || Number.isNaN(since)) {
      throw new WeirApiError(
        'InvalidParameterValue',
        `ListDecisions: 'since' must be an ISO 8601 time such as 2026-12-01T10:00:00Z (got ${JSON.stringify(query.since.slice(0, 40))})`,
      );
    }
  }
  const after = integer(query.after, 'after', Number.MAX_SAFE_INTEGER);
  const limit = integer(query.limit, 'limit', MAX_DECISIONS_LIMIT) ?? 100;
  const { decisions, last } = recent.select({
    limit,
    ...(query.identity !== undefined ? { identity: query.identity } : {}),
    ...(decision !== undefined ? { decision } : {}),
    ...(since !== undefined ? { since } : {}),
    ...(after !== undefined ? { after } : {}),
  });
  return Promise.resolve({ decisions, last });
}
