/**
 * @module identity/token — bearer tokens that prove a workload's identity to the gateway:
 * `weir1.<payload>.<signature>`, the payload base64url JSON `{identity, issued, expires, id,
 * account}` (epoch ms; `account` is the account whose key issued it, see docs/security.md
 * "Tenancy"), the signature HMAC-SHA256 over `weir1.<payload>` with the key in
 * `DATA/gateway-token.key` (created 0600 on first use). A token is revoked by its `id`
 * (`weir token revoke`); the verifier checks the revocation list on every use, cached or not.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WeirError } from '../model/index.js';

/** The key file inside the data dir. */
export const TOKEN_KEY_FILE = 'gateway-token.key';
const PREFIX = 'weir1';

/** What a token says. */
export interface TokenClaims {
  readonly identity: string;
  /** Epoch ms. */
  readonly issued: number;
  /** Epoch ms. */
  readonly expires: number;
  readonly id: string;
  /**
   * The 12-digit account whose key issued the token; the gateway accepts only tokens of the
   * account whose groups it enforces. Absent in tokens issued before tokens carried it.
   */
  readonly account?: string;
}

/** Why a token was refused (sent back in `Weir-Reason`). */
export type TokenProblem =
  | 'token-malformed'
  | 'token-bad-signature'
  | 'token-expired'
  | 'token-not-yet-valid'
  | 'token-revoked'
  /** Signed by this server but issued for another account than the gateway's (or for none). */
  | 'token-wrong-account';

export type TokenCheck =
  { readonly ok: true; readonly claims: TokenClaims } | { readonly ok: false; readonly reason: TokenProblem };

/** Reads the signing key from `DATA/gateway-token.key`, creating it (0600) when missing. */
export function loadTokenKey(dataDir: string): Buffer {
  const file = join(dataDir, TOKEN_KEY_FILE);
  try {
    mkdirSync(dataDir, { recursive: true });
    // 'wx': two processes creating the key at once must not overwrite each other's key.
    writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if (!(err instanceof Error && 'code' in err && err.code === 'EEXIST')) throw err;
  }
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
  if (key.length < 32) throw new WeirError('BAD_OPTION', `${file}: not a gateway token key (64 hex digits)`);
  return key;
}

function sign(key: Buffer, payload: string): Buffer {
  return createHmac('sha256', key).update(`${PREFIX}.${payload}`).digest();
}

/**
 * Issues a token for `identity`, valid `ttlMs` from `now`, bound to `account` (the issuing key's
 * account; a gateway that checks accounts refuses a token without one).
 */
export function issueToken(
  key: Buffer,
  opts: { identity: string; ttlMs: number; now: number; id?: string; account?: string },
): string {
  const claims: TokenClaims = {
    identity: opts.identity,
    issued: opts.now,
    expires: opts.now + opts.ttlMs,
    id: opts.id ?? randomBytes(12).toString('base64url'),
    ...(opts.account !== undefined ? { account: opts.account } : {}),
  };
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${PREFIX}.${payload}.${sign(key, payload).toString('base64url')}`;
}

/** The 43 characters of an HMAC-SHA256 in unpadded base64url. */
const SIGNATURE_TEXT = /^[A-Za-z0-9_-]{43}$/;

/**
 * Decodes a signature only in its one canonical spelling: unpadded base64url whose re-encoding
 * is the same text. Node's decoder also takes `+`, `/`, `=` and set spare bits in the last
 * character; accepting those would let one signed token be spelled several ways, each a new
 * text that a cache, a log search or a deny list keyed on the token's text would miss.
 */
function canonicalBase64url(text: string): Buffer | undefined {
  if (!SIGNATURE_TEXT.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

/**
 * The claims of a token whose signature (canonical base64url only) holds, whatever its validity
 * window: for inspecting or revoking a token that is expired or not yet valid, which is still
 * ours. Never an answer for whether a token proves an identity: that is {@link verifyToken}.
 */
export function signedTokenClaims(
  key: Buffer,
  token: string,
):
  | { readonly ok: true; readonly claims: TokenClaims }
  | { readonly ok: false; readonly reason: TokenProblem } {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) return { ok: false, reason: 'token-malformed' };
  const payload = parts[1] ?? '';
  const given = canonicalBase64url(parts[2] ?? '');
  if (given === undefined) return { ok: false, reason: 'token-malformed' };
  const want = sign(key, payload);
  // Constant-time: a byte-by-byte compare leaks how much of a forged signature is right.
  if (given.length !== want.length || !timingSafeEqual(given, want)) {
    return { ok: false, reason: 'token-bad-signature' };
  }
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'token-malformed' };
  }
  if (!isClaims(claims)) return { ok: false, reason: 'token-malformed' };
  return { ok: true, claims };
}

/** Checks a token's signature (canonical base64url only) and validity window at `now`. */
export function verifyToken(key: Buffer, token: string, now: number): TokenCheck {
  const signed = signedTokenClaims(key, token);
  if (!signed.ok) return signed;
  const { claims } = signed;
  if (now >= claims.expires) return { ok: false, reason: 'token-expired' };
  if (now < claims.issued) return { ok: false, reason: 'token-not-yet-valid' };
  return { ok: true, claims };
}

/**
 * The token IDs revoked and not yet expired, held in memory and fed from the store's change
 * feed. `replace` swaps the whole list (what the store says now); `add` applies one revocation
 * at once, so the gateway refuses the token before any reload finishes.
 */
export class TokenRevocations {
  /** Token ID → epoch ms after which the entry may be forgotten (the token has expired). */
  #ids = new Map<string, number>();

  /** Whether the token with this ID is revoked. */
  has(id: string): boolean {
    return this.#ids.has(id);
  }

  get size(): number {
    return this.#ids.size;
  }

  add(id: string, expires: number): void {
    this.#ids.set(id, expires);
  }

  /** Replaces the list; entries already expired at `now` are left out. */
  replace(list: readonly { readonly id: string; readonly expires: number }[], now: number): void {
    const next = new Map<string, number>();
    for (const r of list) if (!(r.expires <= now)) next.set(r.id, r.expires);
    this.#ids = next;
  }
}

/**
 * `verifyToken` with a bounded LRU of tokens already verified (by their exact text), so a
 * workload reusing its token costs a map lookup instead of an HMAC and a JSON parse. A hit is
 * re-checked against its validity window at `now` and against `revoked`; only valid tokens are
 * kept, so a refusal is always computed afresh. The key is fixed for the verifier's lifetime.
 */
export function createTokenVerifier(
  key: Buffer,
  max = 1024,
  revoked?: { has(id: string): boolean },
): (token: string, now: number) => TokenCheck {
  const cache = new Map<string, TokenCheck & { ok: true }>();
  const refuse: TokenCheck = { ok: false, reason: 'token-revoked' };
  return (token, now) => {
    const hit = cache.get(token);
    if (hit !== undefined) {
      cache.delete(token);
      // A revoked token is dropped from the cache: the cache must never keep it alive.
      if (revoked?.has(hit.claims.id) === true) return refuse;
      if (now < hit.claims.expires && now >= hit.claims.issued) {
        cache.set(token, hit);
        return hit;
      }
    }
    const check = verifyToken(key, token, now);
    if (check.ok) {
      // Checked only after the signature: an ID in a forged token proves nothing.
      if (revoked?.has(check.claims.id) === true) return refuse;
      if (cache.size >= max) cache.delete(cache.keys().next().value as string);
      cache.set(token, check);
    }
    return check;
  };
}

function isClaims(v: unknown): v is TokenClaims {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Record<string, unknown>;
  return (
    typeof c.identity === 'string' &&
    c.identity !== '' &&
    typeof c.id === 'string' &&
    Number.isFinite(c.issued) &&
    Number.isFinite(c.expires) &&
    (c.account === undefined || (typeof c.account === 'string' && /^\d{12}$/.test(c.account)))
  );
}

/** Parses a TTL: `90s`, `30m`, `24h`, `7d`. */
export function parseTtl(text: string): number | undefined {
  const m = /^([1-9][0-9]*)(s|m|h|d)$/.exec(text);
  if (!m) return undefined;
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}
