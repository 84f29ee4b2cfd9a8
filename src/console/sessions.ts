/**
 * @module console/sessions — the console's signed-in sessions, in memory: created by a sign-in
 * with an access key and its secret, named by a 256-bit random ID that only the browser holds (in
 * an HttpOnly cookie; the server keeps its SHA-256), each with its own CSRF token, an absolute
 * expiry (`--console-session-ttl`) and an idle expiry. Bounded: past the cap the oldest session
 * ends. A session acts as its key while the key ring holds that key with the same secret; a key
 * removed or rotated ends it at its next request.
 */
import { createHash, randomBytes as cryptoRandomBytes, timingSafeEqual } from 'node:crypto';
import type { AccessKey, KeyRing } from '../api/index.js';

/** Default `--console-session-ttl`: a working day. */
export const DEFAULT_SESSION_TTL_MS = 8 * 3_600_000;
/** A session unused this long ends (a tab left open on a shared machine), whatever its TTL. */
export const DEFAULT_SESSION_IDLE_MS = 3_600_000;
/** Sessions held at once; a sign-in past it ends the oldest (memory stays bounded). */
export const DEFAULT_MAX_SESSIONS = 10_000;

/** What the sessions are built from; clock and randomness are passed in for tests. */
export interface SessionOptions {
  /** The key ring in force, read at every request (a key removed ends its sessions). */
  readonly keys: () => KeyRing;
  readonly ttlMs?: number;
  readonly idleMs?: number;
  readonly maxSessions?: number;
  readonly now?: () => number;
  /** A CSPRNG (default `crypto.randomBytes`). */
  readonly randomBytes?: (size: number) => Buffer;
}

/** One live session, as the server keeps it (never its ID). */
export interface Session {
  readonly accessKeyId: string;
  /** SHA-256 of the key's secret at sign-in: a rotated secret ends the session. */
  readonly secretDigest: Buffer;
  readonly csrfToken: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  lastSeenAt: number;
}

/** A session just created: its ID goes into the cookie, and is not kept. */
export interface NewSession {
  readonly id: string;
  readonly session: Session;
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * Whether two secrets are equal, in time that does not depend on where they differ (both are
 * hashed first, so their lengths do not show either).
 */
export function secretEquals(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

/** Session IDs are 32 random bytes, base64url: exactly 43 characters of this alphabet. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/** The console's sessions. */
export class ConsoleSessions {
  readonly ttlMs: number;
  readonly idleMs: number;
  readonly #max: number;
  readonly #keys: () => KeyRing;
  readonly #now: () => number;
  readonly #random: (size: number) => Buffer;
  /** By SHA-256 of the ID (hex); insertion order is age, so the first is the oldest. */
  readonly #byHash = new Map<string, Session>();

  constructor(opts: SessionOptions) {
    this.ttlMs = opts.ttlMs ?? DEFAULT_SESSION_TTL_MS;
    this.idleMs = Math.min(opts.idleMs ?? DEFAULT_SESSION_IDLE_MS, this.ttlMs);
    this.#max = opts.maxSessions ?? DEFAULT_MAX_SESSIONS;
    this.#keys = opts.keys;
    this.#now = opts.now ?? Date.now;
    this.#random = opts.randomBytes ?? cryptoRandomBytes;
  }

  /** Sessions held now (expired ones included until they are looked up or swept). */
  get size(): number {
    return this.#byHash.size;
  }

  /** Starts a session acting as `key` (already authenticated by the caller). */
  create(key: AccessKey): NewSession {
    this.#sweep();
    while (this.#byHash.size >= this.#max) {
      const oldest = this.#byHash.keys().next();
      if (oldest.done === true) break;
      this.#byHash.delete(oldest.value);
    }
    const id = this.#random(32).toString('base64url');
    const now = this.#now();
    const session: Session = {
      accessKeyId: key.accessKeyId,
      secretDigest: sha256(key.secretAccessKey),
      csrfToken: this.#random(32).toString('base64url'),
      createdAt: now,
      expiresAt: now + this.ttlMs,
      lastSeenAt: now,
    };
    this.#byHash.set(hashId(id), session);
    return { id, session };
  }

  /**
   * The live session `id` names and the key it acts as, its idle clock reset; undefined when it
   * names none, or one that expired, went idle, or whose key left the key ring (then it ends).
   */
  lookup(id: string): { session: Session; key: AccessKey } | undefined {
    if (!SESSION_ID.test(id)) return undefined;
    const hash = hashId(id);
    const session = this.#byHash.get(hash);
    if (session === undefined) return undefined;
    const now = this.#now();
    const key = this.#keys().get(session.accessKeyId);
    if (
      now >= session.expiresAt ||
      now - session.lastSeenAt >= this.idleMs ||
      key === undefined ||
      !timingSafeEqual(sha256(key.secretAccessKey), session.secretDigest)
    ) {
      this.#byHash.delete(hash);
      return undefined;
    }
    session.lastSeenAt = now;
    return { session, key };
  }

  /** Ends the session `id` names; whether there was one. */
  end(id: string): boolean {
    return SESSION_ID.test(id) && this.#byHash.delete(hashId(id));
  }

  /** Drops sessions past their expiry, oldest first, stopping at the first live one it meets. */
  #sweep(): void {
    const now = this.#now();
    for (const [hash, s] of this.#byHash) {
      if (now < s.expiresAt && now - s.lastSeenAt < this.idleMs) break;
      this.#byHash.delete(hash);
    }
  }
}

/** Whether `token` is `session`'s CSRF token, in constant time. */
export function csrfMatches(session: Session, token: string | undefined): boolean {
  return token !== undefined && secretEquals(token, session.csrfToken);
}

const hashId = (id: string): string => createHash('sha256').update(id, 'utf8').digest('hex');

/** Failed sign-ins allowed per address in {@link SIGN_IN_WINDOW_MS}. */
export const MAX_FAILED_SIGN_INS = 10;
/** The window failed sign-ins are counted in. */
export const SIGN_IN_WINDOW_MS = 15 * 60_000;
const MAX_TRACKED_ADDRESSES = 10_000;

/**
 * Failed sign-ins per client address: past {@link MAX_FAILED_SIGN_INS} in a window, the address
 * may not try again until the window ends (guessing secrets online is bounded). Bounded memory:
 * past its cap the oldest address is forgotten.
 */
export class SignInThrottle {
  readonly #byAddress = new Map<string, { count: number; since: number }>();
  constructor(private readonly now: () => number = Date.now) {}

  /** Milliseconds until `address` may try again, or 0 when it may now. */
  blockedFor(address: string): number {
    const entry = this.#byAddress.get(address);
    if (entry === undefined) return 0;
    const left = entry.since + SIGN_IN_WINDOW_MS - this.now();
    if (left <= 0) {
      this.#byAddress.delete(address);
      return 0;
    }
    return entry.count >= MAX_FAILED_SIGN_INS ? left : 0;
  }

  /** Counts a failed sign-in from `address`. */
  failed(address: string): void {
    const now = this.now();
    const entry = this.#byAddress.get(address);
    if (entry !== undefined && now - entry.since < SIGN_IN_WINDOW_MS) {
      entry.count++;
      return;
    }
    this.#byAddress.delete(address);
    if (this.#byAddress.size >= MAX_TRACKED_ADDRESSES) {
      const oldest = this.#byAddress.keys().next();
      if (oldest.done !== true) this.#byAddress.delete(oldest.value);
    }
    this.#byAddress.set(address, { count: 1, since: now });
  }
}
