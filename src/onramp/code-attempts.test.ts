/** @module onramp/code-attempts.test — at most 5 wrong codes per principal per 5 minutes. */
import { describe, expect, it } from 'vitest';
import { CODE_ATTEMPT_WINDOW_MS, CodeAttempts } from './code-attempts.js';

describe('CodeAttempts', () => {
  it('locks a principal after 5 wrong codes until the first of them is 5 minutes old; others are not locked', () => {
    const a = new CodeAttempts();
    for (let i = 0; i < 4; i++) a.recordWrong('p', 1000 + i * 1000);
    expect(a.lockedUntil('p', 5000)).toBeUndefined();
    a.recordWrong('p', 5000);
    expect(a.lockedUntil('p', 5001)).toBe(1000 + CODE_ATTEMPT_WINDOW_MS);
    expect(a.lockedUntil('q', 5001)).toBeUndefined();
    // The first wrong code ages out: one more try.
    expect(a.lockedUntil('p', 1000 + CODE_ATTEMPT_WINDOW_MS)).toBeUndefined();
  });
});
