/**
 * The Exceptions screen's pure helpers: the field an API refusal names (shown next to that
 * field), when an approved exception stops allowing (expiry or window end), and destinations typed
 * one per line or comma separated.
 */
import { describe, expect, it } from 'vitest';
import { fieldOfError, splitDestinations, untilOf } from './exception-common.js';
import type { ExceptionJson } from './exception-common.js';

const base: ExceptionJson = {
  id: 'exc-0123456789abcdef0',
  identity: 'spiffe://prod.example/ns/shop/sa/web',
  destinations: ['api.github.com:443/tcp'],
  reason: 'r',
  ttl: '1h',
  requester: 'dev@example.com',
  requestedAt: '2026-12-08T10:00:00.000Z',
  state: 'active',
  expires: '2026-12-08T12:00:00.000Z',
};

describe('fieldOfError', () => {
  it.each([
    ["RequestException: field 'ttl': 8d is over the maximum for this workload, 3d", 'ttl'],
    ['RequestException: field \'to\' "*.com:443": a wildcard over a public suffix', 'to'],
    ['RequestException: field \'reason\' is required (e.g. "reason": "…")', 'reason'],
    ["field 'dataClass': workload … handles pci data", 'dataClass'],
    ['ApproveException: dev@example.com requested exc-… (two-person rule)', undefined],
    ["the word field 'ttl' later in the text is not a field error", undefined],
  ])('%s → %s', (message, field) => {
    expect(fieldOfError(message)).toBe(field);
  });

  it('reads a long hostile message in one pass (no backtracking)', () => {
    expect(fieldOfError(`${'a'.repeat(100_000)}: field`)).toBeUndefined();
  });
});

describe('untilOf', () => {
  it('is the expiry, or the end of the window when that comes first; nothing before approval', () => {
    expect(untilOf(base)).toBe(base.expires);
    const window = { start: '2026-12-08T10:00:00.000Z', end: '2026-12-08T11:00:00.000Z' };
    expect(untilOf({ ...base, window })).toBe(window.end);
    expect(untilOf({ ...base, window: { ...window, end: '2026-12-09T00:00:00.000Z' } })).toBe(base.expires);
    const { expires: _unused, ...pending } = base;
    expect(untilOf({ ...pending, state: 'pending' })).toBeUndefined();
  });
});

describe('splitDestinations', () => {
  it('takes one per line, or commas and spaces, and drops empties', () => {
    expect(splitDestinations('a.example:443\n b.example:443, c.example:53/udp ,,\n')).toEqual([
      'a.example:443',
      'b.example:443',
      'c.example:53/udp',
    ]);
  });
});
