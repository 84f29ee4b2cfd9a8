import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import {
  TokenRevocations,
  createTokenVerifier,
  issueToken,
  loadTokenKey,
  parseTtl,
  verifyToken,
} from './token.js';

test('tokens: round trip, expiry, not-yet-valid, tampering, wrong key; key file 0600 and stable', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-token-'));
  try {
    const key = loadTokenKey(dir);
    expect(statSync(join(dir, 'gateway-token.key')).mode & 0o777).toBe(0o600);
    expect(loadTokenKey(dir).equals(key)).toBe(true);
    const t = issueToken(key, { identity: 'spiffe://x/y', ttlMs: 1000, now: 5000, id: 'i1' });
    expect(verifyToken(key, t, 5500)).toEqual({
      ok: true,
      claims: { identity: 'spiffe://x/y', issued: 5000, expires: 6000, id: 'i1' },
    });
    expect(verifyToken(key, t, 6000)).toEqual({ ok: false, reason: 'token-expired' });
    expect(verifyToken(key, t, 4000)).toEqual({ ok: false, reason: 'token-not-yet-valid' });
    const [p, payload, sig] = t.split('.');
    const forged = Buffer.from(
      JSON.stringify({ identity: 'admin', issued: 0, expires: 9e15, id: 'x' }),
    ).toString('base64url');
    expect(verifyToken(key, `${p}.${forged}.${sig}`, 5500)).toEqual({
      ok: false,
      reason: 'token-bad-signature',
    });
    expect(verifyToken(Buffer.alloc(32, 1), t, 5500)).toEqual({ ok: false, reason: 'token-bad-signature' });
    expect(verifyToken(key, `${payload}`, 5500)).toEqual({ ok: false, reason: 'token-malformed' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('parseTtl', () => {
  expect(parseTtl('24h')).toBe(86_400_000);
  expect(parseTtl('90s')).toBe(90_000);
  expect(parseTtl('7d')).toBe(604_800_000);
  expect(parseTtl('0h')).toBeUndefined();
  expect(parseTtl('1w')).toBeUndefined();
});

test('token verifier cache: a hit is re-checked for expiry; bad tokens are never cached; bounded', () => {
  const key = Buffer.alloc(32, 7);
  const verify = createTokenVerifier(key, 2);
  const t = issueToken(key, { identity: 'spiffe://x/y', ttlMs: 1000, now: 5000, id: 'i1' });
  expect(verify(t, 4000)).toEqual({ ok: false, reason: 'token-not-yet-valid' });
  expect(verify(t, 5500).ok).toBe(true);
  expect(verify(t, 5600).ok).toBe(true);
  expect(verify(t, 6000)).toEqual({ ok: false, reason: 'token-expired' });
  expect(verify(t, 5700).ok).toBe(true);
  const forged = `${t.slice(0, -2)}AA`;
  expect(verify(forged, 5500)).toEqual({ ok: false, reason: 'token-bad-signature' });
  const other = createTokenVerifier(Buffer.alloc(32, 8));
  expect(other(t, 5500)).toEqual({ ok: false, reason: 'token-bad-signature' });
  for (const id of ['a', 'b', 'c']) {
    const u = issueToken(key, { identity: `spiffe://x/${id}`, ttlMs: 1000, now: 5000, id });
    expect(verify(u, 5500).ok).toBe(true);
  }
  expect(verify(t, 5500).ok).toBe(true);
});

test('token verifier refuses a revoked token, cached or not, and only by its signed ID', () => {
  const key = Buffer.alloc(32, 7);
  const revoked = new TokenRevocations();
  const verify = createTokenVerifier(key, 16, revoked);
  const t = issueToken(key, { identity: 'spiffe://x/y', ttlMs: 1000, now: 5000, id: 'i1' });
  const u = issueToken(key, { identity: 'spiffe://x/y', ttlMs: 1000, now: 5000, id: 'i2' });
  expect(verify(t, 5500).ok).toBe(true);
  expect(verify(t, 5501).ok).toBe(true);
  revoked.add('i1', 6000);
  expect(verify(t, 5502)).toEqual({ ok: false, reason: 'token-revoked' });
  expect(verify(t, 5503)).toEqual({ ok: false, reason: 'token-revoked' });
  expect(verify(u, 5503).ok).toBe(true);
  // A forged token carrying a revoked ID is still a bad signature, not a revocation.
  expect(verify(`${t.slice(0, -2)}AA`, 5503)).toEqual({ ok: false, reason: 'token-bad-signature' });
  revoked.replace([{ id: 'i2', expires: 6000 }], 5504);
  expect(verify(t, 5505).ok).toBe(true);
  expect(verify(u, 5505)).toEqual({ ok: false, reason: 'token-revoked' });
  revoked.replace([{ id: 'i2', expires: 6000 }], 6000);
  expect(revoked.size).toBe(0);
});
