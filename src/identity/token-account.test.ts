/**
 * Tokens bound to an account (docs/security.md "Tenancy"): the account rides in the signed
 * payload, a malformed one makes the token malformed, and an authenticator that names the
 * gateway's account accepts only tokens of that account.
 */
import { createHmac } from 'node:crypto';
import type { Socket } from 'node:net';
import { describe, expect, test } from 'vitest';
import { createAuthenticator } from './authenticate.js';
import { issueToken, verifyToken } from './token.js';

const KEY = Buffer.alloc(32, 7);
const NOW = Date.parse('2026-12-07T12:00:00Z');
const WEB = 'spiffe://prod.example/ns/shop/sa/web';
const head = (token: string) => ({
  headers: { 'proxy-authorization': `Bearer ${token}` },
  socket: {} as Socket,
});

describe('tokens carry the issuing account', () => {
  test('the account is in the signed claims', () => {
    const t = issueToken(KEY, { identity: WEB, ttlMs: 60_000, now: NOW, account: '123456789012' });
    const c = verifyToken(KEY, t, NOW);
    expect(c.ok && c.claims.account).toBe('123456789012');
  });

  test('an account that is not 12 digits makes the token malformed', () => {
    const payload = Buffer.from(
      JSON.stringify({ identity: WEB, issued: NOW, expires: NOW + 1, id: 'x', account: 12 }),
    ).toString('base64url');
    const good = issueToken(KEY, { identity: WEB, ttlMs: 1, now: NOW, id: 'x' });
    // Re-sign the altered payload with the real key: only the claim check can refuse it.
    const sig = createHmac('sha256', KEY).update(`weir1.${payload}`).digest('base64url');
    expect(verifyToken(KEY, good, NOW).ok).toBe(true);
    expect(verifyToken(KEY, `weir1.${payload}.${sig}`, NOW)).toEqual({
      ok: false,
      reason: 'token-malformed',
    });
  });
});

describe('an authenticator with tokenAccount', () => {
  const auth = createAuthenticator({ tokenKey: KEY, now: () => NOW, tokenAccount: '123456789012' });

  test('accepts a token of its account', () => {
    const t = issueToken(KEY, { identity: WEB, ttlMs: 60_000, now: NOW, account: '123456789012' });
    expect(auth(head(t))).toEqual({
      identity: WEB,
      source: 'token',
      token: expect.objectContaining({ identity: WEB }),
    });
  });

  test.each([
    ['another account', '210987654321', 'for account 210987654321'],
    ['no account (issued before tokens carried one)', undefined, 'without an account'],
  ])('refuses a token of %s, naming both', (_, account, says) => {
    const t = issueToken(KEY, {
      identity: WEB,
      ttlMs: 60_000,
      now: NOW,
      ...(account !== undefined ? { account } : {}),
    });
    const r = auth(head(t));
    expect(r).toMatchObject({ status: 407, reason: 'token-wrong-account' });
    expect('text' in r && r.text).toContain(says);
    expect('text' in r && r.text).toContain('enforces account 123456789012');
  });

  test('without tokenAccount (embedded gateway) any account is accepted', () => {
    const open = createAuthenticator({ tokenKey: KEY, now: () => NOW });
    const t = issueToken(KEY, { identity: WEB, ttlMs: 60_000, now: NOW, account: '210987654321' });
    expect(open(head(t))).toEqual({
      identity: WEB,
      source: 'token',
      token: expect.objectContaining({ identity: WEB }),
    });
  });
});
