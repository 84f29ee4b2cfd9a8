/**
 * @module outcomes/exceptions — how the on-ramp serves people: how long an exception waits for
 * its approval, and which approved exceptions end soon. Read from the exception records alone
 * (requested and decided times are stored with each), so the figures cover any past period.
 */
import type { ExceptionRecord } from '../store/index.js';
import { bucketOf, bucketQuantiles, quantile } from './period.js';
import type { Period } from './period.js';

/** One approval: how long the request waited. */
export interface Approval {
  readonly id: string;
  readonly identity: string;
  readonly requester: string;
  readonly approver: string;
  readonly requestedAt: number;
  readonly approvedAt: number;
  readonly seconds: number;
}

/**
 * An exception was approved when it has a decision time and an expiry: approval is what sets
 * `expires` (a denial sets none), and a later revocation keeps both.
 */
function approvalOf(e: ExceptionRecord): Approval | undefined {
  if (e.decidedAt === undefined || e.expires === undefined || e.decidedBy === undefined) return undefined;
  const approvedAt = e.decidedAt.getTime();
  const requestedAt = e.requestedAt.getTime();
  return {
    id: e.id,
    identity: e.identity,
    requester: e.requester,
    approver: e.decidedBy,
    requestedAt,
    approvedAt,
    seconds: Math.max(0, approvedAt - requestedAt) / 1000,
  };
}

/** Time to approve over the period: per approval (by approval time), per bucket and overall. */
export interface TimeToApprove {
  /** The approvals in the period, oldest first. */
  readonly approvals: Approval[];
  /** Per bucket: median and p90 seconds of the approvals made in it (`null`: none). */
  readonly medianSeconds: (number | null)[];
  readonly p90Seconds: (number | null)[];
  readonly overall: { readonly count: number; readonly medianSeconds?: number; readonly p90Seconds?: number };
  /** Requests waiting now, and how long the oldest has waited. */
  readonly pending: { readonly count: number; readonly oldestSeconds?: number };
}

/** {@link TimeToApprove} of the exceptions approved in `p`. */
export function timeToApprove(p: Period, exceptions: readonly ExceptionRecord[]): TimeToApprove {
  const approvals = exceptions
    .map(approvalOf)
    .filter((a): a is Approval => a !== undefined && bucketOf(p, a.approvedAt) >= 0)
    .sort((a, b) => a.approvedAt - b.approvedAt);
  const q = bucketQuantiles(
    p,
    approvals.map((a) => ({ at: a.approvedAt, value: a.seconds })),
  );
  const secs = approvals.map((a) => a.seconds);
  const median = quantile(secs, 0.5);
  const p90 = quantile(secs, 0.9);
  const pending = exceptions.filter((e) => e.state === 'pending');
  const oldest = Math.min(...pending.map((e) => e.requestedAt.getTime()));
  return {
    approvals,
    medianSeconds: q.median,
    p90Seconds: q.p90,
    overall: {
      count: approvals.length,
      ...(median !== undefined ? { medianSeconds: median } : {}),
      ...(p90 !== undefined ? { p90Seconds: p90 } : {}),
    },
    pending: {
      count: pending.length,
      ...(pending.length > 0 ? { oldestSeconds: Math.max(0, p.until - oldest) / 1000 } : {}),
    },
  };
}

/** An approved exception that ends soon. */
export interface ExpiringException {
  readonly id: string;
  readonly identity: string;
  readonly destinations: readonly string[];
  readonly expires: number;
}

/** Approved exceptions (not revoked) whose expiry is in `(now, now + withinMs]`, soonest first. */
export function expiringExceptions(
  exceptions: readonly ExceptionRecord[],
  now: number,
  withinMs: number,
): ExpiringException[] {
  const out: ExpiringException[] = [];
  for (const e of exceptions) {
    if (e.state !== 'approved' || e.expires === undefined) continue;
    const t = e.expires.getTime();
    if (t > now && t <= now + withinMs)
      out.push({ id: e.id, identity: e.identity, destinations: e.destinations, expires: t });
  }
  return out.sort((a, b) => a.expires - b.expires);
}
