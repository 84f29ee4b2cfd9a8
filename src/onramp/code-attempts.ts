/**
 * @module onramp/code-attempts — wrong one-time codes per principal, remembered for a while, so
 * that guessing is bounded. A 6-digit code with the ±1 step window is guessed with p = 3·10⁻⁶ per
 * try; unbounded, someone holding a principal's API key (but not their phone) would get in after
 * about 350,000 requests, minutes at API speed. With at most 5 wrong codes per 5 minutes, that
 * becomes years. In memory: a restart forgets it, which costs a guesser a restart of the server.
 */

/** How many wrong codes a principal may send within {@link CODE_ATTEMPT_WINDOW_MS}. */
export const MAX_WRONG_CODES = 5;
export const CODE_ATTEMPT_WINDOW_MS = 5 * 60_000;

/** Wrong codes by principal (bounded: principals come from the credentials file). */
export class CodeAttempts {
  private readonly wrong = new Map<string, number[]>();

  /** Epoch ms until which `principal` may send no code, or undefined when they may now. */
  lockedUntil(principal: string, nowMs: number): number | undefined {
    const recent = this.recent(principal, nowMs);
    if (recent.length < MAX_WRONG_CODES) return undefined;
    return (recent[recent.length - MAX_WRONG_CODES] ?? nowMs) + CODE_ATTEMPT_WINDOW_MS;
  }

  /** Notes a wrong code. */
  recordWrong(principal: string, nowMs: number): void {
    const recent = this.recent(principal, nowMs);
    recent.push(nowMs);
    this.wrong.set(principal, recent.slice(-MAX_WRONG_CODES));
  }

  private recent(principal: string, nowMs: number): number[] {
    return (this.wrong.get(principal) ?? []).filter((t) => nowMs - t < CODE_ATTEMPT_WINDOW_MS);
  }
}
