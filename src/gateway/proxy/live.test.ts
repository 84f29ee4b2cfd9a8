import { describe, expect, test } from 'vitest';
import type { DecisionRequest, Snapshot } from '../../engine/index.js';
import { LiveConnections } from './live.js';
import type { CutReason, LiveConnection, Right } from './live.js';

/** A snapshot that allows what `allow` says and counts its decisions. */
function snapshot(allow: (r: DecisionRequest) => boolean): Snapshot & { calls: number } {
  const s = {
    calls: 0,
    decide(r: DecisionRequest) {
      s.calls++;
      return { allow: allow(r) };
    },
  };
  return s as unknown as Snapshot & { calls: number };
}

function conn(right: Partial<Right>, decidedOn: Snapshot, cuts: CutReason[]): LiveConnection {
  return {
    right: { identity: 'id', token: undefined, host: 'a.test', ip: '198.51.100.1', port: 443, ...right },
    decidedOn,
    cut: (reason) => void cuts.push(reason),
  };
}

describe('LiveConnections', () => {
  test('a swap re-decides once per distinct destination and cuts only what is no longer allowed', () => {
    const first = snapshot(() => true);
    let current: Snapshot = first;
    const cuts: CutReason[] = [];
    const counted: CutReason[] = [];
    const live = new LiveConnections({
      getSnapshot: () => current,
      now: () => 0,
      revokedTokens: undefined,
      counted: (r) => void counted.push(r),
    });
    for (let i = 0; i < 100; i++) live.add(conn({}, first, cuts));
    live.add(conn({ host: 'b.test' }, first, cuts));
    const next = snapshot((r) => r.host === 'b.test');
    current = next;
    live.recheck();
    expect(next.calls).toBe(2);
    expect(cuts).toHaveLength(100);
    expect(counted.every((r) => r === 'policy-changed')).toBe(true);
    expect(live.size).toBe(1);
    // Nothing swapped since: no decision at all.
    live.recheck();
    expect(next.calls).toBe(2);
  });

  test('a connection added after a swap it missed is decided on the new snapshot at once', () => {
    const old = snapshot(() => true);
    const current = snapshot(() => false);
    const cuts: CutReason[] = [];
    const live = new LiveConnections({
      getSnapshot: () => current,
      now: () => 0,
      revokedTokens: undefined,
      counted: () => undefined,
    });
    live.add(conn({}, old, cuts));
    expect(cuts).toEqual(['policy-changed']);
  });

  test('revoked and expired tokens are cut on recheck; the expiry timer cuts without one', async () => {
    const s = snapshot(() => true);
    let now = 1_000;
    const revoked = new Set<string>();
    const cuts: CutReason[] = [];
    const live = new LiveConnections({
      getSnapshot: () => s,
      now: () => now,
      revokedTokens: revoked,
      counted: () => undefined,
    });
    live.add(conn({ token: { id: 'r', expires: 10_000_000 } }, s, cuts));
    live.add(conn({ token: { id: 'e', expires: 5_000 } }, s, cuts));
    revoked.add('r');
    live.recheck();
    expect(cuts).toEqual(['revoked']);
    now = 5_000;
    live.recheck();
    expect(cuts).toEqual(['revoked', 'expired']);
    // The timer: armed for an expiry 20 ms ahead on the real clock.
    const timed = new LiveConnections({
      getSnapshot: () => s,
      now: Date.now,
      revokedTokens: undefined,
      counted: () => undefined,
    });
    const fired = new Promise<CutReason>((res) =>
      timed.add({ ...conn({ token: { id: 't', expires: Date.now() + 20 } }, s, []), cut: res }),
    );
    expect(await fired).toBe('expired');
    timed.close();
    live.close();
  });
});
