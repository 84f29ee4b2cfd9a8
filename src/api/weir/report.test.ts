/**
 * @module api/weir/report.test — GetReport's own bounds: the period, and at most
 * `MAX_CONCURRENT_REPORTS` reports built at once (a held store transaction keeps them running).
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openSqliteStore } from '../../store/index.js';
import type { Store } from '../../store/index.js';
import { getReportOp, MAX_CONCURRENT_REPORTS } from './report.js';
import type { OperationContext } from './operations.js';

let store: Store;
beforeEach(() => {
  store = openSqliteStore({ file: ':memory:', backgroundCheckpoints: false });
});
afterEach(() => store.close());

const NOW = new Date('2026-12-08T12:00:00Z');

function ctx(s: Store): OperationContext {
  return { store: s, scope: { accountId: '123456789012', region: 'us-east-1' }, now: () => NOW, options: {} };
}

it('refuses a bad period naming the parameter', async () => {
  await expect(getReportOp(ctx(store), { since: 'last week' })).rejects.toMatchObject({
    code: 'InvalidParameterValue',
    message: expect.stringMatching(/^GetReport: 'since' must be a duration back from now/),
  });
});

it(`builds at most ${MAX_CONCURRENT_REPORTS} reports at once; the next caller is told to retry`, async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let started = 0;
  let entered!: () => void;
  const allEntered = new Promise<void>((r) => (entered = r));
  const held: Store = {
    ...store,
    transaction: async (scope, fn, opts) => {
      if (++started === MAX_CONCURRENT_REPORTS) entered();
      await gate;
      return store.transaction(scope, fn, opts);
    },
  };
  const running = Array.from({ length: MAX_CONCURRENT_REPORTS }, () => getReportOp(ctx(held), {}));
  await allEntered;
  await expect(getReportOp(ctx(held), {})).rejects.toMatchObject({
    code: 'ServiceUnavailable',
    message: expect.stringMatching(/retry/),
  });
  release();
  for (const r of await Promise.all(running)) expect(r.format).toBe('weir.report/v1');
  // Once they are done, reports are built again.
  expect((await getReportOp(ctx(store), { since: '1d' })).format).toBe('weir.report/v1');
});
