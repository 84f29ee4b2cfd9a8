/**
 * @module onramp/totp.test — RFC 6238 against its own Appendix B (SHA-1), the 6-digit codes break-glass
 * uses, the ±1 step window, and base32 both ways.
 */
import { describe, expect, it } from 'vitest';
import {
  decodeBase32,
  encodeBase32,
  hotp,
  matchTotp,
  newTotpSecret,
  otpauthUri,
  totpCode,
  totpStep,
} from './totp.js';

// RFC 6238 Appendix B: the SHA-1 seed is the ASCII string "12345678901234567890".
const SEED = Buffer.from('12345678901234567890', 'ascii');
const SECRET = encodeBase32(SEED);

/** Appendix B's SHA-1 rows: time (s), T in hex, the 8-digit TOTP. */
const VECTORS: readonly [number, string, string][] = [
  [59, '0000000000000001', '94287082'],
  [1111111109, '00000000023523EC', '07081804'],
  [1111111111, '00000000023523ED', '14050471'],
  [1234567890, '000000000273EF07', '89005924'],
  [2000000000, '0000000003F940AA', '69279037'],
  [20000000000, '0000000027BC86AA', '65353130'],
];

describe('RFC 6238 (SHA-1)', () => {
  it('the seed is the base32 secret a credentials file names', () => {
    expect(SECRET).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    expect(decodeBase32(SECRET)).toEqual(SEED);
  });

  it.each(VECTORS)('at %i s: T = %s, the 8-digit code is %s', (seconds, t, code) => {
    expect(totpStep(seconds * 1000)).toBe(parseInt(t, 16));
    expect(totpCode(SECRET, seconds * 1000, 8)).toBe(code);
  });

  it.each(VECTORS)(
    'at %i s the 6-digit code is the 8-digit one truncated (mod 10^6)',
    (seconds, _t, code) => {
      expect(totpCode(SECRET, seconds * 1000)).toBe(code.slice(2));
    },
  );

  it('RFC 4226 Appendix D: HOTP of counters 0 and 9', () => {
    expect(hotp(SEED, 0)).toBe('755224');
    expect(hotp(SEED, 9)).toBe('520489');
  });
});

describe('matchTotp', () => {
  const now = 1111111111 * 1000; // step 37037037
  const step = totpStep(now);

  it('accepts the current step and the one before and after, naming the step matched', () => {
    expect(matchTotp(SECRET, totpCode(SECRET, now), now)).toBe(step);
    expect(matchTotp(SECRET, totpCode(SECRET, now - 30_000), now)).toBe(step - 1);
    expect(matchTotp(SECRET, totpCode(SECRET, now + 30_000), now)).toBe(step + 1);
  });

  it('refuses two steps away, a wrong code and malformed codes', () => {
    expect(matchTotp(SECRET, totpCode(SECRET, now - 60_000), now)).toBeUndefined();
    expect(matchTotp(SECRET, totpCode(SECRET, now + 60_000), now)).toBeUndefined();
    const wrong = String((Number(totpCode(SECRET, now)) + 1) % 1_000_000).padStart(6, '0');
    expect(matchTotp(SECRET, wrong, now)).toBeUndefined();
    for (const bad of ['', '12345', '1234567', '12 456', '12345a', '٠١٢٣٤٥']) {
      expect(matchTotp(SECRET, bad, now)).toBeUndefined();
    }
  });
});

describe('secrets', () => {
  it('base32 round-trips every length, without padding', () => {
    for (let n = 0; n < 24; n++) {
      const bytes = Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff));
      const text = encodeBase32(bytes);
      expect(text).toMatch(/^[A-Z2-7]*$/);
      expect(decodeBase32(text)).toEqual(bytes);
    }
    expect(() => decodeBase32('ABC1')).toThrow(/not base32/);
  });

  it('a new secret is 160 random bits, and the otpauth URI names the principal and issuer', () => {
    const secret = newTotpSecret(() => new Uint8Array(20).fill(0xff));
    expect(secret).toBe('77777777777777777777777777777777');
    expect(newTotpSecret()).toMatch(/^[A-Z2-7]{32}$/);
    expect(otpauthUri('oncall@example.com', secret)).toBe(
      `otpauth://totp/Weir:oncall%40example.com?secret=${secret}&issuer=Weir`,
    );
  });
});
