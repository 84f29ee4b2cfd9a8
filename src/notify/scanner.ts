/**
 * @module notify/scanner — notices nobody's write causes, found by looking: policy rules about to
 * expire, and whatever sources the server adds (exceptions about to expire …). A scan runs at
 * start and then every `intervalMs`; each source queues its notices in a transaction of its own
 * (one that throws loses only its own), and dedupe keys make a repeated scan queue nothing new.
 */
import type { PolicySet } from '../policy-types/index.js';
import type { NewNotification, Store, StoreTx } from '../store/index.js';
import type { NotifyLog } from './deliverer.js';

/**
 * A source of notices: given a transaction and the time, what to queue. Notices that must be
 * sent once (per day, per record) carry a `dedupeKey`; the outbox drops a key it has seen.
 */
export type NoticeSource = (tx: StoreTx, now: Date) => Promise<readonly NewNotification[]>;

const DAY_MS = 86_400_000;

/** `in 6 days`, `in 5 hours`, `in 12 minutes`: how far off an expiry is, for people. */
function inWords(ms: number): string {
  const unit = (n: number, word: string) => `in ${n} ${word}${n === 1 ? '' : 's'}`;
  if (ms >= DAY_MS) return unit(Math.floor(ms / DAY_MS), 'day');
  if (ms >= 3_600_000) return unit(Math.floor(ms / 3_600_000), 'hour');
  return unit(Math.max(1, Math.floor(ms / 60_000)), 'minute');
}

/**
 * Notices for the rules of `policySet()` (the set the gateway enforces) that expire within
 * `withinMs` of the scan and have not expired yet: one per rule per UTC day (dedupe key
 * `rule-expiring:<policy>/<rule>:<YYYY-MM-DD>`).
 */
export function ruleExpiryNotices(policySet: () => PolicySet, withinMs: number): NoticeSource {
  return async (_tx, now) => {
    const t = now.getTime();
    const day = now.toISOString().slice(0, 10);
    const out: NewNotification[] = [];
    for (const policy of policySet().policies) {
      for (const rule of policy.rules) {
        if (rule.expires === undefined || rule.expires <= t || rule.expires - t > withinMs) continue;
        const expires = new Date(rule.expires).toISOString();
        const owner = rule.owner ?? policy.owner;
        out.push({
          event: 'rule.expiring',
          text:
            `Policy rule ${policy.name}/${rule.id} expires ${inWords(rule.expires - t)} (${expires})` +
            `${owner !== undefined ? `, owner ${owner}` : ''}: renew it in the policy files or let it lapse.`,
          fields: {
            policy: policy.name,
            rule: rule.id,
            expires,
            ...(owner !== undefined ? { owner } : {}),
            ...(rule.justification !== undefined ? { justification: rule.justification } : {}),
            file: `${rule.loc.file}:${rule.loc.line}`,
          },
          at: now,
          dedupeKey: `rule-expiring:${policy.name}/${rule.id}:${day}`,
        });
      }
    }
    return out;
  };
}

/** What a scanner is built with. */
export interface ScannerOptions {
  readonly store: Store;
  readonly sources: readonly NoticeSource[];
  readonly log: NotifyLog;
  /** Between scans (default 60 s). */
  readonly intervalMs?: number;
  /** Epoch ms. */
  readonly now?: () => number;
}

/** Runs the notice sources at start and on an interval. */
export class NoticeScanner {
  readonly #o: ScannerOptions;
  #timer: NodeJS.Timeout | undefined;
  #scan: Promise<number> | undefined;
  #closed = false;

  constructor(o: ScannerOptions) {
    this.#o = o;
  }

  /** Scans now, then every interval (the timer never keeps the process alive). */
  start(): void {
    void this.scan();
    this.#timer = setInterval(() => void this.scan(), this.#o.intervalMs ?? 60_000);
    this.#timer.unref();
  }

  /** One scan (the running one, if any): resolves with how many notices were newly queued. */
  scan(): Promise<number> {
    this.#scan ??= this.#scanAll().finally(() => (this.#scan = undefined));
    return this.#scan;
  }

  async #scanAll(): Promise<number> {
    const now = new Date((this.#o.now ?? Date.now)());
    let queued = 0;
    for (const source of this.#o.sources) {
      if (this.#closed) break;
      try {
        queued += await this.#o.store.transaction(undefined, async (tx) => {
          let n = 0;
          for (const notice of await source(tx, now)) if (await tx.enqueueNotification(notice)) n++;
          return n;
        });
      } catch (err) {
        this.#o.log.error({ err: String(err) }, 'notify: a notice source failed; the others ran');
      }
    }
    return queued;
  }

  /** Stops the interval and waits for a scan under way. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#scan;
  }
}
