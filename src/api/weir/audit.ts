/**
 * @module api/weir/audit — the audit trail through the Weir API (read roles): `GET audit` lists
 * records (filters as `weir audit log`, paged by seq), `GET audit/verify` checks the chain and
 * the digests with the server's public key. docs/audit.md.
 */
import { parseSince, verifyAuditTrail } from '../../audit/index.js';
import type { AuditQuery } from '../../store/index.js';
import { WeirApiError } from './errors.js';
import type { OperationContext } from './operations.js';

/** Records per page when the caller names no `limit`, and the most a page holds. */
export const DEFAULT_AUDIT_LIMIT = 1000;
export const MAX_AUDIT_LIMIT = 10_000;

const bad = (op: string, message: string): WeirApiError =>
  new WeirApiError('InvalidParameterValue', `${op}: ${message}`);

/** The query of `GET audit`, checked; errors name the parameter. */
export function auditQuery(
  query: Readonly<Record<string, string>>,
  now: Date,
  op = 'ListAuditRecords',
): AuditQuery {
  const q: { -readonly [K in keyof AuditQuery]: AuditQuery[K] } = {};
  if (query.since !== undefined) {
    const since = parseSince(query.since, now);
    if (since === undefined)
      throw bad(
        op,
        `'since' must be an ISO 8601 time or a duration such as 24h, got ${JSON.stringify(query.since)}`,
      );
    q.since = since;
  }
  if (query.principal !== undefined) q.principal = query.principal;
  if (query.event !== undefined) q.eventName = query.event;
  if (query.after !== undefined) {
    if (!/^(0|[1-9][0-9]{0,14})$/.test(query.after))
      throw bad(op, `'after' must be a record seq, got ${JSON.stringify(query.after)}`);
    q.afterSeq = Number(query.after);
  }
  const limitText = query.limit ?? String(DEFAULT_AUDIT_LIMIT);
  const limit = /^[1-9][0-9]{0,5}$/.test(limitText) ? Number(limitText) : NaN;
  if (!(limit <= MAX_AUDIT_LIMIT))
    throw bad(op, `'limit' must be 1 to ${MAX_AUDIT_LIMIT}, got ${JSON.stringify(limitText)}`);
  q.limit = limit;
  return q;
}

/** `GET audit`: records in seq order, each `{ seq, hash, event }`; `nextAfter` when there may be more. */
export async function listAuditOp(
  ctx: OperationContext,
  query: Readonly<Record<string, string>>,
): Promise<Record<string, unknown>> {
  const q = auditQuery(query, ctx.now());
  const records = await ctx.store.transaction(undefined, (tx) => tx.listAuditRecords(q), { readOnly: true });
  const last = records[records.length - 1];
  return {
    records: records.map((r) => ({ seq: r.seq, hash: r.hash, event: JSON.parse(r.event) as unknown })),
    ...(last !== undefined && records.length === q.limit ? { nextAfter: last.seq } : {}),
  };
}

/** `GET audit/verify`: the verification, checked with the server's audit public key. */
export async function verifyAuditOp(ctx: OperationContext): Promise<Record<string, unknown>> {
  return { ...(await verifyAuditTrail(ctx.store, ctx.options.auditPublicKey)) };
}
