import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY, afterFailure, retryDelay } from './backoff.js';

describe('retryDelay', () => {
  it.each([
    // failures, random, expected ms: the step doubles from 1 s, jittered into its upper half
    [1, 0, 500],
    [1, 0.999999, 1000],
    [2, 0, 1000],
    [3, 0.5, 3000],
    [9, 0, 128_000],
    [10, 0, 150_000],
    [10, 0.999999, 300_000],
    [60, 0.999999, 300_000],
    [1e9, 0.5, 225_000],
  ])('after %s failures with jitter %s: %s ms', (failures, random, ms) => {
    expect(retryDelay(failures, DEFAULT_RETRY, () => random)).toBe(ms);
  });

  it('never exceeds the cap and never goes below half the step', () => {
    for (let f = 1; f < 100; f++) {
      const step = Math.min(300_000, 1000 * 2 ** (f - 1));
      for (const r of [0, 0.25, 0.75, 0.9999]) {
        const d = retryDelay(f, DEFAULT_RETRY, () => r);
        expect(d).toBeGreaterThanOrEqual(step / 2);
        expect(d).toBeLessThanOrEqual(step);
      }
    }
  });
});

describe('afterFailure', () => {
  const policy = { baseMs: 1000, capMs: 60_000, giveUpAfterMs: 3_600_000 };
  it('retries at now + the delay while the notice is younger than the give-up age', () => {
    expect(afterFailure(2, 0, 10_000, policy, () => 0)).toEqual({ giveUp: false, nextAttemptAt: 11_000 });
  });
  it('gives up once the notice is as old as the give-up age', () => {
    expect(afterFailure(2, 0, 3_600_000, policy, () => 0)).toEqual({ giveUp: true });
  });
  it("honours a receiver's Retry-After, up to the cap", () => {
    expect(afterFailure(1, 0, 0, policy, () => 0, 30_000)).toEqual({ giveUp: false, nextAttemptAt: 30_000 });
    expect(afterFailure(1, 0, 0, policy, () => 0, 900_000)).toEqual({ giveUp: false, nextAttemptAt: 60_000 });
  });
});
