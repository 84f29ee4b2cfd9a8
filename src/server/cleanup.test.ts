/**
 * @module server/cleanup.test — the cleanup stack closes last-registered first, every step even
 * when one fails (the first failure is thrown after all ran), each once, and unwinds a failed
 * start with the start's own error.
 */
import { describe, expect, it } from 'vitest';
import { CleanupStack } from './cleanup.js';

describe('CleanupStack', () => {
  it('closes last registered first, awaiting each step, and each only once', async () => {
    const stack = new CleanupStack();
    const order: string[] = [];
    stack.defer('store', () => void order.push('store'));
    stack.defer('api', async () => {
      await new Promise((r) => setImmediate(r));
      order.push('api');
    });
    stack.defer('gateway', () => void order.push('gateway'));
    await stack.closeAll();
    await stack.closeAll();
    expect(order).toEqual(['gateway', 'api', 'store']);
  });

  it('a failing step does not keep the others from closing; the first failure is thrown', async () => {
    const stack = new CleanupStack();
    const order: string[] = [];
    stack.defer('store', () => void order.push('store'));
    stack.defer('watch', () => {
      throw new Error('second');
    });
    stack.defer('gateway', () => Promise.reject(new Error('first')));
    await expect(stack.closeAll()).rejects.toThrow('first');
    expect(order).toEqual(['store']);
  });

  it('unwinds what a failed start registered and rethrows the start error', async () => {
    const stack = new CleanupStack();
    const closed: string[] = [];
    const start = stack.unwindOnFailure(async () => {
      stack.defer('store', () => {
        closed.push('store');
        throw new Error('closing fails too');
      });
      stack.defer('source', () => void closed.push('source'));
      throw new Error('--policy does not load');
    });
    await expect(start).rejects.toThrow('--policy does not load');
    expect(closed).toEqual(['source', 'store']);
  });

  it('returns what a successful start returns and closes nothing', async () => {
    const stack = new CleanupStack();
    let closed = false;
    const value = await stack.unwindOnFailure(async () => {
      stack.defer('store', () => void (closed = true));
      return 42;
    });
    expect(value).toBe(42);
    expect(closed).toBe(false);
  });
});
