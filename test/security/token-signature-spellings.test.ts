/**
 * Red team: one token, several spellings. Base64url's last character of a 32-byte signature
 * carries 2 unused bits, Node's decoder also takes `+`, `/` and `=` padding, so a lenient
 * verifier accepts many texts for one signed token: each is a new cache entry, a new string a
 * log or a deny list keyed on the token text misses. Only the canonical spelling may verify.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTokenVerifier, issueToken, verifyToken } from '../../src/identity/index.js';

const key = randomBytes(32);
const now = Date.UTC(2026, 0, 1);

/** A token whose signature uses `-` and `_` (so the other alphabet can stand in for them). */
function tokenWithUrlChars(): string {
  for (let i = 0; ; i++) {
    const t = issueToken(key, { identity: 'svc-a', ttlMs: 3_600_000, now, id: `id${i}` });
    const sig = t.split('.')[2] ?? '';
    if (sig.includes('-') && sig.includes('_')) return t;
  }
}

describe('token signatures are accepted only in canonical base64url', () => {
  const token = tokenWithUrlChars();
  const [head, payload, sig] = token.split('.') as [string, string, string];
  const last = sig.at(-1) ?? 'A';
  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  // The last of 43 characters holds 4 bits of the signature and 2 unused bits.
  const spareBits = ALPHABET[ALPHABET.indexOf(last) ^ 1] ?? 'A';
  const spellings: Record<string, string> = {
    'unused bits set in the last character': `${head}.${payload}.${sig.slice(0, -1)}${spareBits}`,
    'padding appended': `${head}.${payload}.${sig}=`,
    "'+' for '-'": `${head}.${payload}.${sig.replaceAll('-', '+')}`,
    "'/' for '_'": `${head}.${payload}.${sig.replaceAll('_', '/')}`,
    'a trailing newline': `${head}.${payload}.${sig}\n`,
    'a space inside': `${head}.${payload}.${sig.slice(0, 10)} ${sig.slice(10)}`,
  };

  it('the canonical token verifies', () => {
    expect(verifyToken(key, token, now)).toMatchObject({ ok: true });
  });

  it.each(Object.entries(spellings))('%s: refused', (_name, text) => {
    expect(text).not.toBe(token);
    const check = verifyToken(key, text, now);
    expect(check.ok).toBe(false);
    // The cached verifier must not accept it either, even after the canonical one is cached.
    const verify = createTokenVerifier(key);
    expect(verify(token, now).ok).toBe(true);
    expect(verify(text, now).ok).toBe(false);
  });

  it('a payload in a non-canonical spelling is refused even when signed (only issueToken spells)', () => {
    // Signed by the key but spelled with padding: not a text issueToken ever produced.
    const padded = `${payload}==`;
    const forged = `${head}.${padded}.${sig}`;
    expect(verifyToken(key, forged, now).ok).toBe(false);
  });
});
