import { afterEach, beforeEach, expect, it } from 'vitest';
import { openSqliteStore } from '../store/index.js';
import type { ExceptionRecord, Store } from '../store/index.js';
import { activeExceptionGrants, exceptionsExpiringNotices } from './index.js';

const H = 3_600_000;
const NOW = new Date('2026-12-08T00:00:00.000Z');
let store: Store;
beforeEach(() => {
  store = openSqliteStore({ file: ':memory:', backgroundCheckpoints: false });
});
afterEach(() => store.close());

const rec = (
  id: string,
  state: ExceptionRecord['state'],
  expiresIn?: number,
  window?: [number, number],
): ExceptionRecord => ({
  id,
  identity: 'spiffe://prod.example/ns/shop/sa/web',
  destinations: ['api.github.com:443/tcp'],
  reason: 'release',
  ttlMs: H,
  requester: 'dev@example.com',
  requestedAt: new Date(NOW.getTime() - 2 * H),
  state,
  ...(expiresIn !== undefined
    ? {
        decidedBy: 'lead@example.com',
        decidedAt: new Date(NOW.getTime() - H),
        expires: new Date(NOW.getTime() + expiresIn),
      }
    : {}),
  ...(window !== undefined
    ? { window: { start: new Date(NOW.getTime() + window[0]), end: new Date(NOW.getTime() + window[1]) } }
    : {}),
});

it('grants: approved exceptions that still allow, or will (a window ahead); never pending, denied, revoked or expired ones', async () => {
  await store.transaction(undefined, async (tx) => {
    await tx.insertException(rec('exc-0000000000000000a', 'approved', H));
    await tx.insertException(rec('exc-0000000000000000b', 'approved', -1));
    await tx.insertException(rec('exc-0000000000000000c', 'approved', 10 * H, [2 * H, 3 * H]));
    await tx.insertException(rec('exc-0000000000000000d', 'approved', 10 * H, [-3 * H, -2 * H]));
    await tx.insertException(rec('exc-0000000000000000e', 'pending'));
    await tx.insertException(rec('exc-0000000000000000f', 'revoked', H));
  });
  const grants = await store.transaction(undefined, (tx) => activeExceptionGrants(tx, NOW), {
    readOnly: true,
  });
  expect(grants.map((g) => [g.id, g.from - NOW.getTime(), g.until - NOW.getTime()])).toEqual([
    ['exc-0000000000000000a', -H, H],
    ['exc-0000000000000000c', 2 * H, 3 * H],
  ]);
});

it('expiring notices: active exceptions that stop within 48 h, each with its dedupe key', async () => {
  await store.transaction(undefined, async (tx) => {
    await tx.insertException(rec('exc-00000000000000001', 'approved', 47 * H));
    await tx.insertException(rec('exc-00000000000000002', 'approved', 49 * H));
    await tx.insertException(rec('exc-00000000000000003', 'approved', -H));
    await tx.insertException(rec('exc-00000000000000004', 'approved', 100 * H, [0, 5 * H]));
  });
  const notes = await store.transaction(undefined, (tx) => exceptionsExpiringNotices(tx, NOW), {
    readOnly: true,
  });
  expect(notes.map((n) => [n.event, n.dedupeKey])).toEqual([
    ['exception.expiring', 'exception-expiring:exc-00000000000000001'],
    ['exception.expiring', 'exception-expiring:exc-00000000000000004'],
  ]);
  expect(notes[0]?.text).toContain('weir exception promote exc-00000000000000001');
  // Queued twice, sent once: the scanner may run as often as it likes.
  const queued = await store.transaction(undefined, async (tx) => [
    await tx.enqueueNotification(notes[0]!),
    await tx.enqueueNotification(notes[0]!),
  ]);
  expect(queued).toEqual([true, false]);
});
