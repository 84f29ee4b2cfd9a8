/**
 * @module api/weir/decisions — `GET /weir/v1/decisions` (`ListDecisions`): the gateway's
 * decisions as the store keeps them (written in batches off the gateway's hot path, within a
 * bounded window: `--decisions-retention`, `--decisions-max-rows`), newest last. Filters, each an
 * exact match: identity, destination (host or IP), decision, reason, since and until (times),
 * after (a `seq`, for live follow: `weir decisions --follow`, the console), limit. And
 * `GET /weir/v1/decisions/show?id=…` (`ShowDecision`, api/weir/decision-show.ts).
 */
import type { GrantRef } from '../../policy-types/index.js';
import type { DecisionSearch, StoredDecision } from '../../store/index.js';
import { showDecisionOp } from './decision-show.js';
import { WeirApiError } from './errors.js';
import type { OperationContext } from './operations.js';
import type { RouteTable } from './route.js';

/** One decision as the API shows it: the decision line's fields that a reader looks for. */
export interface DecisionRecord {
  /** Its place in the store: increasing, never reused, for `after`. */
  readonly seq: number;
  /** Decision time (ISO 8601). */
  readonly at: string;
  readonly decisionId: string;
  readonly decision: string;
  readonly identity?: string;
  readonly src: string;
  /** How the client asked: `connect` (a tunnel) or `http` (plain HTTP through the proxy). */
  readonly protocol: string;
  readonly host?: string;
  readonly ip?: string;
  readonly port?: number;
  readonly reason?: string;
  /** `enforce` or `audit`. */
  readonly mode?: string;
  /** `file:line` of the rule shown. */
  readonly policy?: string;
  readonly policyName?: string;
  readonly ruleId?: string;
  readonly securityGroupRuleId?: string;
  /** The snapshot that decided. */
  readonly snapshot?: string;
  readonly guardrail?: string;
  /** The exception or break-glass session that allowed it. */
  readonly grant?: GrantRef;
  /** The gateway node that decided. */
  readonly node?: string;
}

/** The most a single answer holds, whatever `limit` asks. */
export const MAX_DECISIONS_LIMIT = 1000;

/** The decisions the gateway makes (its decision lines' `decision`). */
export const DECISION_KINDS = ['allow', 'deny', 'would-deny', 'unauthenticated', 'limit', 'error'] as const;

/** The longest identity or destination a filter takes (longer can match nothing the gateway stores). */
const MAX_FILTER_CHARS = 2048;

/** The decision as the API shows it. */
export function decisionJson(d: StoredDecision): DecisionRecord {
  const { at, grant, ...rest } = d;
  return {
    ...rest,
    at: at.toISOString(),
    ...(grant !== undefined ? { grant: grant as GrantRef } : {}),
  };
}

/** A non-negative integer query parameter, or a precise error naming it. */
function integer(value: string | undefined, name: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,16}$/.test(value) || Number(value) > max) {
    throw new WeirApiError(
      'InvalidParameterValue',
      `ListDecisions: '${name}' must be an integer from 0 to ${max} (got ${JSON.stringify(value.slice(0, 40))})`,
    );
  }
  return Number(value);
}

/** An ISO 8601 time query parameter, or a precise error naming it. */
function time(value: string | undefined, name: string): Date | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(t)) {
    throw new WeirApiError(
      'InvalidParameterValue',
      `ListDecisions: '${name}' must be an ISO 8601 time such as 2026-12-01T10:00:00Z (got ${JSON.stringify(value.slice(0, 40))})`,
    );
  }
  return new Date(t);
}

/** A text filter, bounded; empty is refused (it would match nothing, silently). */
function text(value: string | undefined, name: string, example: string): string | undefined {
  if (value === undefined) return undefined;
  if (value === '' || value.length > MAX_FILTER_CHARS) {
    throw new WeirApiError(
      'InvalidParameterValue',
      `ListDecisions: '${name}' must be 1 to ${MAX_FILTER_CHARS} characters, e.g. ${example}`,
    );
  }
  return value;
}

/** The search a `ListDecisions` query asks for, checked. */
export function decisionSearch(query: Readonly<Record<string, string>>): DecisionSearch {
  const decision = query.decision;
  if (decision !== undefined && !(DECISION_KINDS as readonly string[]).includes(decision)) {
    throw new WeirApiError(
      'InvalidParameterValue',
      `ListDecisions: 'decision' must be one of ${DECISION_KINDS.join(', ')} (got ${JSON.stringify(decision.slice(0, 40))})`,
    );
  }
  const reason = query.reason;
  if (reason !== undefined && !/^[a-z][a-z-]{0,39}$/.test(reason)) {
    throw new WeirApiError(
      'InvalidParameterValue',
      `ListDecisions: 'reason' must be a reason code such as no-match, guardrail, expired, matched (got ${JSON.stringify(reason.slice(0, 40))})`,
    );
  }
  const since = time(query.since, 'since');
  const until = time(query.until, 'until');
  if (since !== undefined && until !== undefined && until.getTime() <= since.getTime()) {
    throw new WeirApiError('InvalidParameterValue', "ListDecisions: 'until' must be after 'since'");
  }
  const identity = text(query.identity, 'identity', 'spiffe://prod.example/ns/app/sa/web');
  // `[2001:db8::1]` as people write an IPv6 destination; the store keeps the bare address.
  let destination = text(query.destination, 'destination', 'api.example.com or 192.0.2.10');
  if (destination?.startsWith('[') === true && destination.endsWith(']'))
    destination = destination.slice(1, -1);
  const after = integer(query.after, 'after', Number.MAX_SAFE_INTEGER);
  return {
    limit: integer(query.limit, 'limit', MAX_DECISIONS_LIMIT) ?? 100,
    ...(identity !== undefined ? { identity } : {}),
    ...(destination !== undefined ? { destination } : {}),
    ...(decision !== undefined ? { decision } : {}),
    ...(reason !== undefined ? { reason } : {}),
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
    ...(after !== undefined ? { afterSeq: after } : {}),
  };
}

/**
 * `ListDecisions`: the selected decisions, oldest first, and `last`, the highest `seq` stored
 * (the next `after` of a follower). Readable with a read-only key of the gateway account (the
 * Weir API takes no other account's keys: api/weir/tenancy).
 */
export async function listDecisionsOp(
  ctx: OperationContext,
  query: Readonly<Record<string, string>>,
): Promise<Record<string, unknown>> {
  const search = decisionSearch(query);
  return ctx.store.transaction(
    undefined,
    async (tx) => {
      // One read transaction: `last` and the rows are of the same moment, so a follower that
      // asks `after=last` next misses nothing committed in between.
      const rows = await tx.listDecisions(search);
      return { decisions: rows.map(decisionJson), last: await tx.lastDecisionSeq() };
    },
    { readOnly: true },
  );
}

/** The decisions' routes, spread into the handler's table. */
export const DECISION_ROUTES: RouteTable = {
  decisions: [
    {
      method: 'GET',
      name: 'ListDecisions',
      read: true,
      query: ['identity', 'destination', 'decision', 'reason', 'since', 'until', 'after', 'limit'],
      run: (c, i) => listDecisionsOp(c, i.query),
    },
  ],
  'decisions/show': [
    {
      method: 'GET',
      name: 'ShowDecision',
      read: true,
      query: ['id'],
      run: (c, i) => showDecisionOp(c, i.query),
    },
  ],
};
