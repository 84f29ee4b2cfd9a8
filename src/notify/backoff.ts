/**
 * @module notify/backoff — when a failed webhook delivery is tried again: exponential backoff from
 * `baseMs`, doubled per failed attempt, capped at `capMs`, with "equal jitter" (a random point in
 * the upper half of the step) so that many notices failing together do not retry in lockstep,
 * and a give-up age after which a notice is no longer tried.
 */

/** The retry schedule of webhook deliveries. */
export interface RetryPolicy {
  /** The delay after the first failure (before jitter). */
  readonly baseMs: number;
  /** No delay is longer than this. */
  readonly capMs: number;
  /** A notice queued this long ago is given up after its next failure. */
  readonly giveUpAfterMs: number;
}

/** 1 s, doubling to at most 5 min; given up 72 h after it was queued (a weekend's outage). */
export const DEFAULT_RETRY: RetryPolicy = { baseMs: 1_000, capMs: 300_000, giveUpAfterMs: 72 * 3_600_000 };

/**
 * The delay before the next attempt after `failures` failed ones (1 after the first failure):
 * `min(cap, base · 2^(failures-1))`, jittered into its upper half by `random` (in [0, 1)).
 */
export function retryDelay(failures: number, policy: RetryPolicy, random: () => number): number {
  // 2^n overflows nothing below the cap: stop doubling once past it.
  const exp = Math.min(Math.max(failures, 1) - 1, 40);
  const step = Math.min(policy.capMs, policy.baseMs * 2 ** exp);
  return Math.round(step / 2 + (step / 2) * random());
}

/**
 * What to do after a failed attempt at `now` of a notice queued at `queuedAt` that has now failed
 * `failures` times: retry at a time, or give up (it is older than the give-up age). A
 * `Retry-After` from the receiver is honoured up to the cap.
 */
export function afterFailure(
  failures: number,
  queuedAt: number,
  now: number,
  policy: RetryPolicy,
  random: () => number,
  retryAfterMs?: number,
): { readonly giveUp: true } | { readonly giveUp: false; readonly nextAttemptAt: number } {
  if (now - queuedAt >= policy.giveUpAfterMs) return { giveUp: true };
  const delay = Math.max(retryDelay(failures, policy, random), Math.min(retryAfterMs ?? 0, policy.capMs));
  return { giveUp: false, nextAttemptAt: now + delay };
}
