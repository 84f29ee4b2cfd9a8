/**
 * @module api/audit-hook.test — the handler-level audit hook on an in-memory store: the record
 * is written in the change's own transaction (a record that cannot be written undoes the
 * change), and a write through a store method the hook has never heard of (one another
 * component adds) is recorded all the same.
 */
import type { IncomingMessage } from 'node:http';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/index.js';
import type { Store, StoreTx } from '../store/index.js';
import { RequestAudit } from './audit-hook.js';
import type { AccessKey } from './credentials.js';

const A = { accountId: '123456789012', region: 'us-east-1' };
const key: AccessKey = {
  accessKeyId: 'AKIDAPPROVER',
  secretAccessKey: 'x'.repeat(40),
  accountId: A.accountId,
  role: 'approver',
  profile: 'bob',
  principal: 'bob@example.com',
};
const req = {
  socket: { remoteAddress: '::ffff:10.0.0.7' },
  headers: { 'user-agent': 'curl/8' },
} as unknown as IncomingMessage;

let store: Store;
beforeEach(() => {
  store = openSqliteStore({ file: ':memory:' });
});
afterEach(() => store.close());

const audit = (s: Store = store) => {
  const a = new RequestAudit(
    { store: s, now: () => new Date('2026-12-06T10:00:00Z'), logger: pino({ level: 'silent' }), options: {} },
    'req-1',
    req,
  );
  a.begin(
    { eventSource: 'weir.dev', eventName: 'ApproveException', region: A.region, key, readOnly: false },
    { id: 'ex-1', otp: '123456' },
  );
  return a;
};
const records = () => store.transaction(undefined, (tx) => tx.listAuditRecords());

describe('RequestAudit', () => {
  it('records a write made through a method it does not know, by the route name, with the IDs it named', async () => {
    // A store whose transactions carry a method added by another component.
    const extended: Store = {
      transaction: (scope, fn, opts) =>
        store.transaction(
          scope,
          (tx) => {
            const more = Object.create(tx) as StoreTx & {
              approveException(e: { id: string }): Promise<void>;
            };
            more.approveException = (e) => tx.insertScope(A, { defaultVpcId: e.id }).then(() => undefined);
            return fn(more);
          },
          opts,
        ),
      subscribe: (l) => store.subscribe(l),
      close: () => store.close(),
    };
    const a = audit(extended);
    await a.wrap(extended).transaction(A, (tx) =>
      (tx as unknown as { approveException(e: { id: string }): Promise<void> }).approveException({
        id: 'ex-1',
      }),
    );
    await a.end();
    const [r, more] = await records();
    expect(more).toBeUndefined();
    expect(JSON.parse(r!.event)).toMatchObject({
      eventName: 'ApproveException',
      sourceIPAddress: '10.0.0.7',
      userAgent: 'curl/8',
      userIdentity: { principal: 'bob@example.com', role: 'approver', userName: 'bob' },
      requestParameters: { id: 'ex-1', otp: 'HIDDEN_DUE_TO_SECURITY_REASONS' },
      responseElements: { changes: [{ op: 'approveException', ids: ['ex-1'] }] },
    });
  });

  it('a record that cannot be written undoes the change it tells of', async () => {
    const failing: Store = {
      transaction: (scope, fn, opts) =>
        store.transaction(
          scope,
          (tx) => {
            const broken = Object.create(tx) as StoreTx;
            broken.appendAuditRecord = () => Promise.reject(new Error('disk full'));
            return fn(broken);
          },
          opts,
        ),
      subscribe: (l) => store.subscribe(l),
      close: () => store.close(),
    };
    await expect(
      audit(failing)
        .wrap(failing)
        .transaction(A, (tx) => tx.insertScope(A, { defaultVpcId: 'vpc-1' })),
    ).rejects.toThrow('disk full');
    expect(await store.transaction(undefined, (tx) => tx.listScopes())).toEqual([]);
  });

  it('a failed write leaves one failure record, in a transaction of its own', async () => {
    const a = audit();
    await a
      .wrap(store)
      .transaction(A, async (tx) => {
        await tx.insertScope(A, { defaultVpcId: 'vpc-1' });
        throw new Error('refused');
      })
      .catch(() => undefined);
    await a.end({ code: 'IncorrectState', message: 'refused' });
    const list = await records();
    expect(list).toHaveLength(1);
    expect(JSON.parse(list[0]!.event)).toMatchObject({
      errorCode: 'IncorrectState',
      errorMessage: 'refused',
      responseElements: null,
    });
    expect(await store.transaction(undefined, (tx) => tx.listScopes())).toEqual([]);
  });
});
