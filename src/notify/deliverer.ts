/**
 * @module notify/deliverer — delivers the notification outbox to the webhooks, at least once, in
 * the background. Woken by the store's change feed (kind `notifications`) and by a timer at the
 * next due retry; nothing a request does waits for it. Every attempt's outcome is written to the
 * store before the next one is chosen, so a restart (kill -9 too) resumes where it stopped: a
 * notice is repeated at worst (sent, then the process died before recording it), never lost.
 *
 * Per webhook at most `concurrency` POSTs are in flight; after a failure only one (a probe) until
 * one succeeds, so a webhook that is down is not hammered by its whole backlog. When it answers
 * again, everything pending is sent at once rather than each notice waiting out its own backoff.
 */
import type { Store } from '../store/index.js';
import type { QueuedNotification } from '../store/index.js';
import { DEFAULT_RETRY, afterFailure } from './backoff.js';
import type { RetryPolicy } from './backoff.js';
import type { NotifyMetrics } from './metrics.js';
import { createWebhookPoster, notificationBody, redactedUrl } from './webhook.js';
import type { PostResult, Webhook, WebhookPoster } from './webhook.js';

/** The log lines the deliverer writes (a pino logger fits). */
export interface NotifyLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What a deliverer is built with; only `store`, `webhooks` and `log` are required. */
export interface DelivererOptions {
  readonly store: Store;
  readonly webhooks: readonly Webhook[];
  readonly log: NotifyLog;
  readonly metrics?: NotifyMetrics;
  /** Epoch ms (tests pass a clock of their own). */
  readonly now?: () => number;
  /** In [0, 1): the backoff's jitter. */
  readonly random?: () => number;
  readonly retry?: RetryPolicy;
  /** POSTs in flight per webhook (default 4). */
  readonly concurrency?: number;
  /** A POST must be answered within this (default 10 s). */
  readonly timeoutMs?: number;
  /** Response body bytes read, then dropped (default 64 KiB). */
  readonly maxResponseBytes?: number;
  /** The longest the loop sleeps without a wake-up (default 60 s): a safety net, not a schedule. */
  readonly maxSleepMs?: number;
  /** Makes the poster of a webhook (tests pass their own). */
  readonly poster?: (hook: Webhook) => WebhookPoster;
}

/** One webhook's live state; what lasts is in the store. */
interface HookState {
  readonly hook: Webhook;
  readonly poster: WebhookPoster;
  /** Outbox rows being posted now, and the promise of each attempt (recorded included). */
  readonly inFlight: Map<number, Promise<void>>;
  /** False after a failure until a success: then one attempt at a time. */
  healthy: boolean;
  /** Set when the webhook answered again after failing: send all pending, due or not. */
  flush: boolean;
}

/** A background loop delivering the outbox to the configured webhooks. */
export class NotificationDeliverer {
  readonly #o: DelivererOptions;
  readonly #hooks: HookState[];
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #retry: RetryPolicy;
  readonly #concurrency: number;
  #pass: Promise<void> | undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #closed = false;

  constructor(o: DelivererOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
    this.#random = o.random ?? Math.random;
    this.#retry = o.retry ?? DEFAULT_RETRY;
    this.#concurrency = Math.max(1, o.concurrency ?? 4);
    const make =
      o.poster ??
      ((hook: Webhook) =>
        createWebhookPoster(hook.url, {
          timeoutMs: o.timeoutMs ?? 10_000,
          maxResponseBytes: o.maxResponseBytes ?? 65_536,
          concurrency: this.#concurrency,
        }));
    this.#hooks = o.webhooks.map((hook) => ({
      hook,
      poster: make(hook),
      inFlight: new Map(),
      healthy: true,
      flush: false,
    }));
    for (const { hook } of this.#hooks) {
      const webhook = String(hook.index);
      // Zero series from the start, so a dashboard sees each webhook before its first notice.
      for (const c of [o.metrics?.queued, o.metrics?.delivered, o.metrics?.failed, o.metrics?.givenUp])
        c?.inc({ webhook }, 0);
    }
  }

  /**
   * Registers the webhooks in the store (a new one gets what is queued from now on), follows
   * the change feed and runs a first pass. Call before anything queues notices at start.
   */
  async start(): Promise<void> {
    const at = new Date(this.#now());
    await this.#o.store.transaction(undefined, async (tx) => {
      for (const { hook } of this.#hooks) {
        if (await tx.addNotificationWebhook(hook.key, at))
          this.#o.log.info({ webhook: hook.index, url: redactedUrl(hook.url) }, 'notify: new webhook');
      }
    });
    this.#unsubscribe = this.#o.store.subscribe((e) => {
      if (e.kinds.includes('notifications')) this.wake();
    });
    this.wake();
  }

  /** Runs a pass now, or once more after the running one. */
  wake(): void {
    if (this.#closed) return;
    if (this.#pass !== undefined) {
      this.#again = true;
      return;
    }
    this.#pass = this.#runPass().finally(() => {
      this.#pass = undefined;
      if (this.#again) {
        this.#again = false;
        this.wake();
      }
    });
  }

  /**
   * Runs a pass and waits until the loop is idle: no pass running, nothing in flight, every
   * outcome recorded (tests drive the loop with their own clock so).
   */
  async settle(): Promise<void> {
    this.wake();
    for (;;) {
      const busy = [this.#pass, ...this.#hooks.flatMap((h) => [...h.inFlight.values()])].filter(
        (p) => p !== undefined,
      );
      if (busy.length === 0) return;
      await Promise.all(busy);
    }
  }

  /** Stops the loop: no new attempts; those in flight are cut and stay due for the next start. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#unsubscribe?.();
    for (const h of this.#hooks) h.poster.close();
    await this.#pass;
    await Promise.all(this.#hooks.flatMap((h) => [...h.inFlight.values()]));
  }

  async #runPass(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    let wakeAt = this.#now() + (this.#o.maxSleepMs ?? 60_000);
    try {
      for (const h of this.#hooks) {
        if (this.#closed) return;
        const next = await this.#serve(h);
        if (next !== undefined) wakeAt = Math.min(wakeAt, next);
      }
    } catch (err) {
      // The store failed (closing, disk full): try again at the next wake-up or timer.
      this.#o.log.error({ err: String(err) }, 'notify: delivery pass failed');
    }
    if (this.#closed) return;
    this.#timer = setTimeout(() => this.wake(), Math.max(0, wakeAt - this.#now()));
    this.#timer.unref();
  }

  /** Takes new notices, starts what is due within capacity; returns when the webhook is next due. */
  async #serve(h: HookState): Promise<number | undefined> {
    const { store, metrics } = this.#o;
    const webhook = String(h.hook.index);
    const now = this.#now();
    const capacity = (h.healthy ? this.#concurrency : 1) - h.inFlight.size;
    const { taken, due, backlog } = await store.transaction(undefined, async (tx) => {
      const taken = await tx.takeNewNotifications(h.hook.key);
      // After a recovery, everything pending is due: the webhook answers again.
      const until = new Date(h.flush ? 8.64e15 : now);
      const due =
        capacity > 0 ? await tx.dueNotifications(h.hook.key, until, capacity + h.inFlight.size) : [];
      return { taken, due, backlog: await tx.notificationBacklog(h.hook.key) };
    });
    if (taken > 0) metrics?.queued.inc({ webhook }, taken);
    metrics?.pending.set({ webhook }, backlog.pending);
    metrics?.setOldest(h.hook.index, backlog.oldestAt?.getTime());
    const start = due.filter((n) => !h.inFlight.has(n.seq)).slice(0, Math.max(0, capacity));
    if (start.length < capacity) h.flush = false;
    for (const n of start) {
      const attempt = this.#attempt(h, n).finally(() => {
        h.inFlight.delete(n.seq);
        this.wake();
      });
      h.inFlight.set(n.seq, attempt);
    }
    // A full webhook is woken by its attempts' ends; otherwise by its next due retry.
    if (capacity - start.length <= 0) return undefined;
    return backlog.nextAttemptAt?.getTime();
  }

  /** Posts one notice and records the outcome (not when cut short by shutdown: it stays due). */
  async #attempt(h: HookState, n: QueuedNotification): Promise<void> {
    const result: PostResult = await h.poster.post(notificationBody(n));
    if (this.#closed) return;
    const { store, metrics, log } = this.#o;
    const webhook = String(h.hook.index);
    const at = this.#now();
    const failures = n.attempts + 1;
    try {
      if (result.ok) {
        await store.transaction(undefined, (tx) =>
          tx.recordNotificationAttempt(h.hook.key, n.seq, { outcome: 'delivered', at: new Date(at) }),
        );
        metrics?.delivered.inc({ webhook });
        if (!h.healthy) {
          h.healthy = true;
          h.flush = true;
          log.info({ webhook: h.hook.index, url: redactedUrl(h.hook.url) }, 'notify: webhook answers again');
        }
        return;
      }
      metrics?.failed.inc({ webhook });
      const next = afterFailure(failures, n.at.getTime(), at, this.#retry, this.#random, result.retryAfterMs);
      await store.transaction(undefined, (tx) =>
        tx.recordNotificationAttempt(
          h.hook.key,
          n.seq,
          next.giveUp
            ? { outcome: 'given-up', at: new Date(at), error: result.error }
            : {
                outcome: 'retry',
                at: new Date(at),
                error: result.error,
                nextAttemptAt: new Date(next.nextAttemptAt),
              },
        ),
      );
      if (h.healthy) {
        h.healthy = false;
        log.warn(
          { webhook: h.hook.index, url: redactedUrl(h.hook.url), error: result.error },
          'notify: webhook failing; retrying with backoff',
        );
      }
      if (next.giveUp) {
        metrics?.givenUp.inc({ webhook });
        log.warn(
          {
            webhook: h.hook.index,
            id: n.seq,
            event: n.event,
            queuedAt: n.at.toISOString(),
            attempts: failures,
          },
          'notify: gave up on a notification (older than the give-up age)',
        );
      }
    } catch (err) {
      // Not recorded: the attempt is made again when due, which at-least-once allows.
      log.error(
        { webhook: h.hook.index, id: n.seq, err: String(err) },
        'notify: could not record an attempt',
      );
    }
  }
}
