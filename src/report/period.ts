/**
 * @module report/period — the report's period: `since` as a duration back from now (`30d`, `12h`)
 * or an ISO 8601 time, at most `MAX_PERIOD_MS` back (what a report may cost is bounded by it),
 * never in the future.
 */
import { parseSince } from '../audit/index.js';

/** The default period. */
export const DEFAULT_SINCE = '30d';
/** The longest period a report covers. */
export const MAX_PERIOD_MS = 366 * 86_400_000;

/** The start of the period, or what is wrong with `text` (for a message naming the field). */
export function reportSince(
  text: string,
  now: Date,
): { readonly ok: true; readonly since: Date } | { readonly ok: false; readonly problem: string } {
  const since = parseSince(text, now);
  if (since === undefined) {
    return {
      ok: false,
      problem: `must be a duration back from now (30d, 12h, 90m) or an ISO 8601 time (2026-12-01T00:00:00Z), got ${JSON.stringify(text.slice(0, 64))}`,
    };
  }
  if (since.getTime() > now.getTime()) {
    return { ok: false, problem: `must not be in the future (got ${since.toISOString()})` };
  }
  if (now.getTime() - since.getTime() > MAX_PERIOD_MS) {
    return { ok: false, problem: `reaches back at most 366d, got ${JSON.stringify(text.slice(0, 64))}` };
  }
  return { ok: true, since };
}
