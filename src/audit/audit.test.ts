/**
 * @module audit/audit.test — canonical JSON, redaction, the chain and the signed digests on an
 * in-memory store; what the sqlite3 tool can do to a file is test/audit/tamper.test.ts.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openSqliteStore } from '../store/index.js';
import type { Store } from '../store/index.js';
import {
  appendAudit,
  auditEvent,
  canonicalJson,
  HIDDEN,
  recordHash,
  redact,
  startAuditDigests,
  verifyAuditTrail,
  WEIR_EVENT_SOURCE,
  writeAuditDigest,
} from './index.js';
import type { AuditCall } from './index.js';

const call = (eventName: string, requestParameters: unknown = {}): AuditCall => ({
  eventSource: WEIR_EVENT_SOURCE,
  eventName,
  region: 'us-east-1',
  actor: {
    principal: 'alice@example.com',
    role: 'admin',
    accountId: '123456789012',
    accessKeyId: 'AKIDALICE',
    userName: 'alice',
  },
  sourceIPAddress: '127.0.0.1',
  userAgent: 'test',
  requestParameters: redact(requestParameters),
  requestId: 'req-1',
  readOnly: false,
});

describe('canonical JSON (RFC 8785 for the values records hold)', () => {
  it.each([
    [
      { b: 1, a: [true, null, 'x'], c: { z: 'é', y: -0.5 } },
      '{"a":[true,null,"x"],"b":1,"c":{"y":-0.5,"z":"é"}}',
    ],
    [{ '\u00e9': 1, z: 2, Z: 3 }, '{"Z":3,"z":2,"é":1}'],
    [{ a: undefined, b: 'line\nbreak' }, '{"b":"line\\nbreak"}'],
  ])('%j → %s', (value, text) => {
    expect(canonicalJson(value)).toBe(text);
  });
  it('refuses what has no JSON form', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(/no form/);
    expect(() => canonicalJson(10n)).toThrow(/no form/);
  });
});

describe('redact', () => {
  it('hides secrets by name at any depth, and bounds the size', () => {
    expect(
      redact({
        token: 'weir1.abc',
        id: 'tok1',
        nested: { otp: '123456', totpSecret: 'AAAA', identity: 'spiffe://x' },
      }),
    ).toEqual({
      token: HIDDEN,
      id: 'tok1',
      nested: { otp: HIDDEN, totpSecret: HIDDEN, identity: 'spiffe://x' },
    });
    expect(redact({ body: Buffer.alloc(10) })).toEqual({ body: { bytes: 10 } });
    expect(redact({ many: Array.from({ length: 100 }, () => 'x'.repeat(2000)) })).toMatchObject({
      weirTruncated: true,
    });
  });
});

describe('chain and digests', () => {
  let store: Store;
  const key = generateKeyPairSync('ed25519');
  const now = () => new Date('2026-12-06T10:00:00.123Z');
  beforeEach(() => {
    store = openSqliteStore({ file: ':memory:' });
  });
  afterEach(() => store.close());

  const append = (name: string) =>
    store.transaction(undefined, (tx) => appendAudit(tx, auditEvent(call(name), {}, now())));

  it('links each record to the one before, from the genesis hash, and verifies', async () => {
    const r1 = await append('IssueToken');
    const r2 = await append('RevokeToken');
    expect(r1.prevHash).toBe('0'.repeat(64));
    expect(r2.prevHash).toBe(r1.hash);
    expect(r2.hash).toBe(recordHash(2, r1.hash, JSON.parse(r2.event)));
    const event = JSON.parse(r1.event);
    expect(event).toMatchObject({
      eventVersion: '1.08',
      eventTime: '2026-12-06T10:00:00Z',
      eventSource: 'weir.dev',
      eventName: 'IssueToken',
      userIdentity: {
        type: 'IAMUser',
        principal: 'alice@example.com',
        role: 'admin',
        accessKeyId: 'AKIDALICE',
      },
      readOnly: false,
    });
    expect(await verifyAuditTrail(store, key.publicKey)).toMatchObject({ ok: true, records: 2, unsigned: 2 });
  });

  it('signs the tip only when records were added, and chains digests', async () => {
    expect(await writeAuditDigest(store, key.privateKey, now)).toBeUndefined();
    await append('IssueToken');
    const d1 = await writeAuditDigest(store, key.privateKey, now);
    expect(d1).toMatchObject({ seq: 1, lastSeq: 1, previousSignature: null });
    expect(await writeAuditDigest(store, key.privateKey, now)).toBeUndefined();
    await append('RevokeToken');
    const d2 = await writeAuditDigest(store, key.privateKey, now);
    expect(d2).toMatchObject({ seq: 2, lastSeq: 2, previousSignature: d1?.signature });
    expect(await verifyAuditTrail(store, key.publicKey)).toMatchObject({ ok: true, digests: 2, unsigned: 0 });
    const other = generateKeyPairSync('ed25519');
    expect((await verifyAuditTrail(store, other.publicKey)).problem?.reason).toMatch(
      /not the given public key/,
    );
  });

  it('writes a digest every interval while records are added, and one at stop', async () => {
    vi.useFakeTimers();
    try {
      const errors: unknown[] = [];
      const digester = startAuditDigests(store, key.privateKey, {
        now,
        intervalMs: 300_000,
        onError: (e) => errors.push(e),
      });
      await append('IssueToken');
      await vi.advanceTimersByTimeAsync(299_000);
      expect(await store.transaction(undefined, (tx) => tx.listAuditDigests())).toHaveLength(0);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(await store.transaction(undefined, (tx) => tx.listAuditDigests())).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(300_000);
      expect(await store.transaction(undefined, (tx) => tx.listAuditDigests())).toHaveLength(1);
      await append('RevokeToken');
      await digester.stop();
      expect(await store.transaction(undefined, (tx) => tx.listAuditDigests())).toHaveLength(2);
      expect(errors).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('recordHash', () => {
  it('is SHA-256 of canonicalJson({ seq, prevHash, event }), whatever the event', () => {
    const json: fc.Arbitrary<unknown> = fc.jsonValue();
    fc.assert(
      fc.property(fc.nat(), fc.string({ minLength: 1, maxLength: 64 }), json, (seq, prevHash, event) => {
        const expected = createHash('sha256')
          .update(canonicalJson({ seq, prevHash, event }), 'utf8')
          .digest('hex');
        expect(recordHash(seq, prevHash, event as never)).toBe(expected);
      }),
    );
  });
});

/** The plain definition (RFC 8785 for JSON values), as the chain was first written: the reference. */
function referenceCanonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => referenceCanonical(v ?? null)).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${referenceCanonical(obj[k])}`).join(',')}}`;
}

describe('canonicalJson', () => {
  it('writes what the reference definition writes, for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(canonicalJson(v)).toBe(referenceCanonical(v));
      }),
      { numRuns: 500 },
    );
  });
});
