/**
 * @module audit/digest — signed digests of the audit chain: Ed25519 over the last record's seq
 * and hash, written at least every 5 minutes while records are added, and at shutdown. The key
 * is made in the data dir on first start (`audit-signing.key`, 0600, beside the gateway token
 * key); its public half (`audit-signing.pub`) is for copying elsewhere: `weir audit verify
 * --public-key` with a copy kept off the host catches a rewrite by someone who has the data dir.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WeirError } from '../model/index.js';
import type { AuditDigest, Store } from '../store/index.js';
import { canonicalJson } from './canonical.js';

/** The signing key's file in the data dir (PKCS#8 PEM, 0600). */
export const AUDIT_KEY_FILE = 'audit-signing.key';
/** Its public key (SPKI PEM), written beside it for people to copy. */
export const AUDIT_PUBLIC_KEY_FILE = 'audit-signing.pub';
/** How often digests are written while records are added: CloudTrail's own digest promise is hourly; ours 5 min. */
export const DIGEST_INTERVAL_MS = 5 * 60_000;

const codeOf = (err: unknown): unknown =>
  err instanceof Error && 'code' in err ? (err as { code: unknown }).code : undefined;

/**
 * The data dir's audit signing key, made on first use ('wx': two processes starting at once do
 * not overwrite each other's key). The public key file is (re)written when missing.
 * @throws WeirError when the file holds no Ed25519 private key.
 */
export function loadAuditKey(dataDir: string): KeyObject {
  const file = join(dataDir, AUDIT_KEY_FILE);
  try {
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if (codeOf(err) !== 'EEXIST') throw err;
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new WeirError('BAD_OPTION', `${file}: not an audit signing key (${(err as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new WeirError(
      'BAD_OPTION',
      `${file}: the audit signing key must be Ed25519, not ${key.asymmetricKeyType}`,
    );
  }
  try {
    writeFileSync(join(dataDir, AUDIT_PUBLIC_KEY_FILE), publicKeyPem(key), { mode: 0o644, flag: 'wx' });
  } catch (err) {
    if (codeOf(err) !== 'EEXIST') throw err;
  }
  return key;
}

/** The public key of `key` as SPKI PEM. */
export function publicKeyPem(key: KeyObject): string {
  return createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
}

/**
 * Reads a public key file (SPKI PEM).
 * @throws WeirError naming the file when it holds no Ed25519 public key.
 */
export function readPublicKey(file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new WeirError('BAD_OPTION', `${file}: not a public key (${(err as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new WeirError(
      'BAD_OPTION',
      `${file}: the audit public key must be Ed25519, not ${key.asymmetricKeyType}`,
    );
  }
  return key;
}

/** SHA-256 (hex) of the public key's DER SPKI bytes: which key signed a digest. */
export function keyFingerprint(key: KeyObject): string {
  const pub = key.type === 'public' ? key : createPublicKey(key);
  return createHash('sha256')
    .update(pub.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/** The bytes a digest's signature covers: `canonicalJson` of everything but the signature. */
export function digestPayload(d: Omit<AuditDigest, 'signature'>): Buffer {
  return Buffer.from(
    canonicalJson({
      digestVersion: 1,
      seq: d.seq,
      lastSeq: d.lastSeq,
      lastHash: d.lastHash,
      time: d.time.toISOString(),
      previousSignature: d.previousSignature,
      keyFingerprint: d.keyFingerprint,
    }),
    'utf8',
  );
}

/** Whether `d` is signed by `publicKey`. */
export function digestSignatureHolds(d: AuditDigest, publicKey: KeyObject): boolean {
  try {
    return verify(null, digestPayload(d), publicKey, Buffer.from(d.signature, 'base64'));
  } catch {
    return false;
  }
}

/**
 * Writes a digest of the chain's tip when records were added since the last one; returns it,
 * or undefined when there was nothing new to sign.
 */
export async function writeAuditDigest(
  store: Store,
  key: KeyObject,
  now: () => Date,
): Promise<AuditDigest | undefined> {
  return store.transaction(undefined, async (tx) => {
    const tip = await tx.lastAuditRecord();
    if (tip === undefined) return undefined;
    const digests = await tx.listAuditDigests();
    const last = digests[digests.length - 1];
    if (last !== undefined && last.lastSeq === tip.seq && last.lastHash === tip.hash) return undefined;
    const unsigned = {
      seq: (last?.seq ?? 0) + 1,
      lastSeq: tip.seq,
      lastHash: tip.hash,
      time: now(),
      previousSignature: last?.signature ?? null,
      keyFingerprint: keyFingerprint(key),
    };
    const d: AuditDigest = {
      ...unsigned,
      signature: sign(null, digestPayload(unsigned), key).toString('base64'),
    };
    await tx.appendAuditDigest(d);
    return d;
  });
}

/** The periodic digest writer of a running server. */
export interface AuditDigester {
  /** Stops the timer and writes a last digest (at shutdown). */
  stop(): Promise<void>;
}

/**
 * Writes a digest every `intervalMs` (when records were added) until `stop`, which writes one
 * more. A failed write is reported and retried at the next tick: it never stops the server.
 */
export function startAuditDigests(
  store: Store,
  key: KeyObject,
  opts: { readonly now?: () => Date; readonly intervalMs?: number; readonly onError: (err: unknown) => void },
): AuditDigester {
  const now = opts.now ?? (() => new Date());
  let running: Promise<unknown> = Promise.resolve();
  const tick = (): Promise<unknown> =>
    (running = running.then(() => writeAuditDigest(store, key, now)).catch(opts.onError));
  const timer = setInterval(() => void tick(), opts.intervalMs ?? DIGEST_INTERVAL_MS);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await tick();
    },
  };
}
