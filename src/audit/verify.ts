/**
 * @module audit/verify — checks the audit trail: every record matches its hash and links to the
 * one before, seqs run 1, 2, 3 … without a gap, the query columns agree with the record, and
 * every digest is signed, chained to the one before, and matches the record it names. Names the
 * first bad record and what is wrong with it.
 */
import type { KeyObject } from 'node:crypto';
import type { AuditDigest, AuditRecord, Store } from '../store/index.js';
import { canonicalJson } from './canonical.js';
import type { Json } from './canonical.js';
import { digestSignatureHolds, keyFingerprint } from './digest.js';
import { GENESIS_HASH, recordHash } from './record.js';

/** The first thing found wrong. */
export interface AuditProblem {
  /** The seq of the first bad record (for a digest problem: the record the digest names). */
  readonly seq: number;
  readonly eventId?: string;
  /** The digest involved, if any. */
  readonly digest?: number;
  readonly reason: string;
}

/** What `weir audit verify` reports. */
export interface AuditVerification {
  readonly ok: boolean;
  readonly records: number;
  readonly lastSeq: number;
  readonly digests: number;
  /** The last digest: what the signature vouches for. */
  readonly lastDigest?: { readonly seq: number; readonly lastSeq: number; readonly time: string };
  /** Records after the last digest (not yet signed; a digest follows within 5 minutes). */
  readonly unsigned: number;
  readonly problem?: AuditProblem;
}

/** Records are read in pages, inside one read transaction. */
const PAGE = 2000;

/**
 * Verifies the store's audit trail. With `publicKey`, each digest's signature is checked with
 * it; without, digests are checked for their chain and their match with the records only.
 */
export async function verifyAuditTrail(store: Store, publicKey?: KeyObject): Promise<AuditVerification> {
  return store.transaction(
    undefined,
    async (tx) => {
      const hashes = new Map<number, string>();
      let problem: AuditProblem | undefined;
      let prev = { seq: 0, hash: GENESIS_HASH };
      let count = 0;
      for (let page = await tx.listAuditRecords({ limit: PAGE }); page.length > 0;) {
        for (const r of page) {
          count++;
          problem ??= checkRecord(r, prev);
          prev = { seq: r.seq, hash: r.hash };
          hashes.set(r.seq, r.hash);
        }
        page = await tx.listAuditRecords({ afterSeq: prev.seq, limit: PAGE });
      }
      const digests = await tx.listAuditDigests();
      problem ??= checkDigests(digests, hashes, prev.seq, publicKey);
      const last = digests[digests.length - 1];
      return {
        ok: problem === undefined,
        records: count,
        lastSeq: prev.seq,
        digests: digests.length,
        ...(last !== undefined
          ? { lastDigest: { seq: last.seq, lastSeq: last.lastSeq, time: last.time.toISOString() } }
          : {}),
        unsigned: Math.max(0, prev.seq - (last?.lastSeq ?? 0)),
        ...(problem !== undefined ? { problem } : {}),
      };
    },
    { readOnly: true },
  );
}

/** What is wrong with record `r` following `prev`, if anything. */
function checkRecord(r: AuditRecord, prev: { seq: number; hash: string }): AuditProblem | undefined {
  let event: Record<string, unknown> | undefined;
  try {
    const parsed = JSON.parse(r.event) as unknown;
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
      event = parsed as Record<string, unknown>;
  } catch {
    // Reported below.
  }
  const eventId = typeof event?.['eventID'] === 'string' ? (event['eventID'] as string) : r.eventId;
  const at = (reason: string, seq = r.seq): AuditProblem => ({ seq, eventId, reason });
  if (r.seq !== prev.seq + 1) {
    return r.seq > prev.seq + 1
      ? {
          seq: prev.seq + 1,
          reason: `record seq ${prev.seq + 1} is missing (deleted): seq ${prev.seq} is followed by seq ${r.seq} (eventID ${eventId})`,
        }
      : at(`seq ${r.seq} follows seq ${prev.seq}: the records are out of order`);
  }
  if (event === undefined) return at('the record is not a JSON object: it was edited');
  if (canonicalJson(event) !== r.event) return at('the record is not in canonical form: it was edited');
  if (recordHash(r.seq, r.prevHash, event as Json) !== r.hash) {
    return at('the record does not match its hash: it was edited, or moved from another seq');
  }
  if (r.prevHash !== prev.hash) {
    return at(
      prev.seq === 0
        ? 'the first record does not start from the genesis hash: records before it were removed'
        : `its prevHash is not the hash of record seq ${prev.seq}: a record was inserted, removed or rewritten before it`,
    );
  }
  const userIdentity = event['userIdentity'] as Record<string, unknown> | undefined;
  const columns: [string, unknown, unknown][] = [
    ['eventName', r.eventName, event['eventName']],
    ['principal', r.principal, userIdentity?.['principal']],
    ['eventID', r.eventId, event['eventID']],
    ['eventTime', r.eventTime.getTime(), Date.parse(String(event['eventTime']))],
  ];
  for (const [name, column, inEvent] of columns) {
    if (column !== inEvent)
      return at(
        `the ${name} column (${String(column)}) differs from the record's (${String(inEvent)}): it was edited`,
      );
  }
  return undefined;
}

/** What is wrong with the digests, given the records' hashes and last seq, if anything. */
function checkDigests(
  digests: readonly AuditDigest[],
  hashes: ReadonlyMap<number, string>,
  lastSeq: number,
  publicKey: KeyObject | undefined,
): AuditProblem | undefined {
  const fingerprint = publicKey !== undefined ? keyFingerprint(publicKey) : undefined;
  let previous: AuditDigest | undefined;
  for (const d of digests) {
    const at = (reason: string, seq = d.lastSeq): AuditProblem => ({ seq, digest: d.seq, reason });
    if (d.seq !== (previous?.seq ?? 0) + 1)
      return at(`digest ${d.seq} follows digest ${previous?.seq ?? 0}: a digest was removed`);
    if (d.previousSignature !== (previous?.signature ?? null)) {
      return at(
        `digest ${d.seq} does not chain to digest ${previous?.seq ?? 0}: a digest was removed or replaced`,
      );
    }
    if (fingerprint !== undefined) {
      if (d.keyFingerprint !== fingerprint) {
        return at(
          `digest ${d.seq} was signed by key ${d.keyFingerprint.slice(0, 16)}…, not the given public key`,
        );
      }
      if (publicKey !== undefined && !digestSignatureHolds(d, publicKey)) {
        return at(`digest ${d.seq}'s signature does not hold: the digest was edited`);
      }
    }
    if (d.lastSeq > lastSeq) {
      return at(
        `the tail was cut: digest ${d.seq} (${d.time.toISOString()}) signed the chain up to seq ${d.lastSeq}, but the records end at seq ${lastSeq}`,
        lastSeq + 1,
      );
    }
    if (hashes.get(d.lastSeq) !== d.lastHash) {
      return at(
        `record seq ${d.lastSeq} is not the one digest ${d.seq} signed (${d.time.toISOString()}): the records up to it were rewritten`,
      );
    }
    previous = d;
  }
  return undefined;
}
