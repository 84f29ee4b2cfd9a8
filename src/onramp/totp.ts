/**
 * @module onramp/totp — RFC 6238 time-based one-time codes, as break-glass checks them: HMAC-SHA-1,
 * 6 digits, 30-second steps, the step before and after accepted (clock drift between the phone and
 * the server), codes compared in constant time. Base32 (RFC 4648) secrets as authenticator apps
 * take them, and the `otpauth://` URI that puts one in an app.
 *
 * Hand-written rather than a library: it is HOTP's dynamic truncation over `node:crypto`'s HMAC
 * (about 40 lines), and the oracle is RFC 6238 Appendix B, whose vectors totp.test.ts checks.
 * Whether a code was used before is not decided here: the store keeps the used steps.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Seconds per time step (RFC 6238's X). */
export const TOTP_STEP_SECONDS = 30;
/** Digits of a code. */
export const TOTP_DIGITS = 6;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Decodes RFC 4648 base32 (upper or lower case; spaces and `=` padding ignored). */
export function decodeBase32(text: string): Buffer {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of clean) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) throw new Error(`not base32: '${ch}' (use A-Z and 2-7)`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

/** Encodes bytes as RFC 4648 base32, without padding (as authenticator apps take it). */
export function encodeBase32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = ((value << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(value >>> bits) & 31];
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** RFC 4226 HOTP with HMAC-SHA-1: the code for `counter`, `digits` long (leading zeros kept). */
export function hotp(key: Uint8Array, counter: number, digits: number = TOTP_DIGITS): string {
  const msg = Buffer.alloc(8);
  // Steps beyond 2^32 (year 6053 at 30 s) are still exact: a Number holds 2^53.
  msg.writeUInt32BE(Math.floor(counter / 0x1_0000_0000), 0);
  msg.writeUInt32BE(counter >>> 0, 4);
  const mac = createHmac('sha1', key).update(msg).digest();
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fff_ffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The time step of epoch ms `nowMs` (RFC 6238's T, with T0 = 0). */
export function totpStep(nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP_STEP_SECONDS);
}

/** The code a phone with base32 `secret` shows at `nowMs`. */
export function totpCode(secret: string, nowMs: number, digits: number = TOTP_DIGITS): string {
  return hotp(decodeBase32(secret), totpStep(nowMs), digits);
}

/**
 * The time step whose code `code` is, among the step of `nowMs` and the one before and after;
 * `undefined` when none. Every candidate is compared, in constant time, so the answer's timing
 * says nothing about how close a guess was. The caller must still refuse a step used before.
 */
export function matchTotp(secret: string, code: string, nowMs: number): number | undefined {
  // The format is no secret: a malformed code is refused before any HMAC.
  if (!/^[0-9]{6}$/.test(code)) return undefined;
  const key = decodeBase32(secret);
  const given = Buffer.from(code, 'ascii');
  const now = totpStep(nowMs);
  let matched: number | undefined;
  for (const step of [now - 1, now, now + 1]) {
    if (step < 0) continue;
    if (timingSafeEqual(Buffer.from(hotp(key, step), 'ascii'), given)) matched = step;
  }
  return matched;
}

/** A new random secret: 160 bits (RFC 4226's recommended length), base32. */
export function newTotpSecret(random: (n: number) => Uint8Array = randomBytes): string {
  return encodeBase32(random(20));
}

/** The `otpauth://` URI an authenticator app imports (as a QR code or pasted). */
export function otpauthUri(principal: string, secret: string): string {
  return `otpauth://totp/Weir:${encodeURIComponent(principal)}?secret=${secret}&issuer=Weir`;
}
