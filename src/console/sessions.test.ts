import { describe, expect, it } from 'vitest';
import { KeyRing } from '../api/index.js';
import type { AccessKey } from '../api/index.js';
import {
  ConsoleSessions,
  csrfMatches,
  MAX_FAILED_SIGN_INS,
  SIGN_IN_WINDOW_MS,
  SignInThrottle,
} from './sessions.js';

const key = (id: string, secret = `${id}-secret-0123456789`): AccessKey => ({
  accessKeyId: id,
  secretAccessKey: secret,
  accountId: '123456789012',
  role: 'admin',
  profile: id,
  principal: `${id}@example.com`,
});

/** Sessions over a key ring the test can swap, on a clock it moves. */
function setup(opts: { ttlMs?: number; idleMs?: number; maxSessions?: number } = {}) {
  let now = 1_000_000;
  let ring = new KeyRing([key('A'), key('B')]);
  const sessions = new ConsoleSessions({ keys: () => ring, now: () => now, ...opts });
  return {
    sessions,
    advance: (ms: number) => (now += ms),
    setRing: (r: KeyRing) => (ring = r),
  };
}

describe('console sessions', () => {
  it('names a session by a 256-bit random ID it does not keep, with its own CSRF token', () => {
    const { sessions } = setup();
    const a = sessions.create(key('A'));
    const b = sessions.create(key('A'));
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.id).not.toBe(b.id);
    expect(a.session.csrfToken).not.toBe(b.session.csrfToken);
    expect(JSON.stringify(a.session)).not.toContain(a.id);
    expect(sessions.lookup(a.id)?.key.accessKeyId).toBe('A');
    expect(sessions.lookup('x'.repeat(43))).toBeUndefined();
    expect(sessions.lookup('not an id')).toBeUndefined();
  });

  it('ends a session at its absolute expiry even when it is used all along', () => {
    const { sessions, advance } = setup({ ttlMs: 10_000, idleMs: 5_000 });
    const { id } = sessions.create(key('A'));
    for (let i = 0; i < 4; i++) {
      advance(2_000);
      expect(sessions.lookup(id)).toBeDefined();
    }
    advance(2_000);
    expect(sessions.lookup(id)).toBeUndefined();
    expect(sessions.size).toBe(0);
  });

  it('ends a session left idle', () => {
    const { sessions, advance } = setup({ ttlMs: 60_000, idleMs: 5_000 });
    const { id } = sessions.create(key('A'));
    advance(4_999);
    expect(sessions.lookup(id)).toBeDefined();
    advance(5_000);
    expect(sessions.lookup(id)).toBeUndefined();
  });

  it('ends a session whose key left the key ring, or whose secret changed', () => {
    const { sessions, setRing } = setup();
    const a = sessions.create(key('A'));
    const b = sessions.create(key('B'));
    setRing(new KeyRing([key('B', 'B-rotated-secret-0123456789')]));
    expect(sessions.lookup(a.id)).toBeUndefined();
    expect(sessions.lookup(b.id)).toBeUndefined();
    // Gone for good: the old key coming back does not revive them.
    setRing(new KeyRing([key('A'), key('B')]));
    expect(sessions.lookup(a.id)).toBeUndefined();
  });

  it('holds at most maxSessions: a new one ends the oldest', () => {
    const { sessions } = setup({ maxSessions: 2 });
    const first = sessions.create(key('A'));
    const second = sessions.create(key('A'));
    const third = sessions.create(key('B'));
    expect(sessions.size).toBe(2);
    expect(sessions.lookup(first.id)).toBeUndefined();
    expect(sessions.lookup(second.id)).toBeDefined();
    expect(sessions.lookup(third.id)).toBeDefined();
  });

  it('signs out: the ID no longer names a session', () => {
    const { sessions } = setup();
    const { id } = sessions.create(key('A'));
    expect(sessions.end(id)).toBe(true);
    expect(sessions.lookup(id)).toBeUndefined();
    expect(sessions.end(id)).toBe(false);
  });

  it('matches the CSRF token exactly', () => {
    const { sessions } = setup();
    const { session } = sessions.create(key('A'));
    expect(csrfMatches(session, session.csrfToken)).toBe(true);
    expect(csrfMatches(session, undefined)).toBe(false);
    expect(csrfMatches(session, '')).toBe(false);
    expect(csrfMatches(session, session.csrfToken.slice(1))).toBe(false);
  });
});

describe('the sign-in throttle', () => {
  it(`blocks an address after ${MAX_FAILED_SIGN_INS} failures until the window ends, others not`, () => {
    let now = 0;
    const t = new SignInThrottle(() => now);
    for (let i = 0; i < MAX_FAILED_SIGN_INS; i++) {
      expect(t.blockedFor('10.0.0.1')).toBe(0);
      t.failed('10.0.0.1');
    }
    expect(t.blockedFor('10.0.0.1')).toBe(SIGN_IN_WINDOW_MS);
    expect(t.blockedFor('10.0.0.2')).toBe(0);
    now += SIGN_IN_WINDOW_MS;
    expect(t.blockedFor('10.0.0.1')).toBe(0);
  });
});
