/**
 * @module server/decisions-ring — the gateway's recent decisions, kept in memory for
 * `GET /weir/v1/decisions` (`weir decisions`): a ring of fixed capacity, fed by the gateway's
 * decision lines as they are written. Bounded whatever the traffic (the oldest are overwritten),
 * and a reader can only select from it, never make it grow or read the log file.
 */
import type { DecisionQuery, DecisionRecord, RecentDecisions } from '../api/index.js';
import type { LogEntry } from '../gateway/index.js';
import type { Scope } from '../model/index.js';

/** Decisions kept by default: enough for "what was just denied", at about 300 bytes each. */
export const DEFAULT_DECISIONS_RING = 1000;

/** The ring, and `push` for the gateway's `onDecision`. */
export interface DecisionRing extends RecentDecisions {
  push(entry: Readonly<LogEntry>): void;
}

/** A ring of `capacity` decisions of the gateway that enforces `scope`. */
export function createDecisionRing(scope: Scope, capacity = DEFAULT_DECISIONS_RING): DecisionRing {
  const slots: (DecisionRecord | undefined)[] = new Array<DecisionRecord | undefined>(capacity);
  let seq = 0;
  return {
    scope,
    push(e) {
      seq += 1;
      // A copy of the fields shown: the entry goes on being filled after its line is written.
      slots[seq % capacity] = {
        seq,
        at: e.at,
        decisionId: e.decisionId,
        decision: e.decision ?? 'error',
        src: e.src,
        protocol: e.protocol,
        ...(e.identity !== undefined ? { identity: e.identity } : {}),
        ...(e.host !== undefined ? { host: e.host } : {}),
        ...(e.ip !== undefined && e.ip !== '' ? { ip: e.ip } : {}),
        ...(e.port !== undefined ? { port: e.port } : {}),
        ...(e.reason !== undefined ? { reason: e.reason } : {}),
        ...(e.policy !== undefined ? { policy: e.policy } : {}),
        ...(e.ruleId !== undefined ? { ruleId: e.ruleId } : {}),
        ...(e.grant !== undefined ? { grant: e.grant } : {}),
      };
    },
    select(q: DecisionQuery) {
      const picked: DecisionRecord[] = [];
      // Newest first, so that `limit` keeps the newest; at most `capacity` steps.
      for (let s = seq; s > Math.max(0, seq - capacity) && picked.length < q.limit; s--) {
        const r = slots[s % capacity];
        if (r === undefined || (q.after !== undefined && r.seq <= q.after)) break;
        if (q.since !== undefined && Date.parse(r.at) < q.since) continue;
        if (q.identity !== undefined && r.identity !== q.identity) continue;
        if (q.decision !== undefined && r.decision !== q.decision) continue;
        picked.push(r);
      }
      return { decisions: picked.reverse(), last: seq };
    },
  };
}
