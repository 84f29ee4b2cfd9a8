import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/index.js';
import type { NewNotification, Store } from '../store/index.js';
import { NotificationDeliverer } from './deliverer.js';
import type { DelivererOptions } from './deliverer.js';
import { createNotifyMetrics } from './metrics.js';
import { parseWebhookUrls } from './webhook.js';
import type { PostResult, Webhook } from './webhook.js';

const T0 = Date.parse('2026-12-06T12:00:00.000Z');
const RETRY = { baseMs: 1000, capMs: 8000, giveUpAfterMs: 3_600_000 };

let dir: string;
let store: Store;
let clock: number;
let sent: { webhook: number; body: Record<string, unknown> }[];
/** What each webhook answers now (by position). */
let answer: Map<number, PostResult | 'hang'>;
/** The most POSTs in flight at once, per webhook. */
let peak: Map<number, number>;
let logs: { level: string; msg: string; obj: object }[];
const open: NotificationDeliverer[] = [];

const notice = (n: number): NewNotification => ({
  event: 'exception.requested',
  text: `exception exc-${n} requested`,
  fields: { exception: `exc-${n}`, text: 'a field may not replace the text' },
  at: new Date(clock),
});
const queue = (...ns: number[]) =>
  store.transaction(undefined, async (tx) => {
    for (const n of ns) await tx.enqueueNotification(notice(n));
  });
const ids = (webhook: number) => sent.filter((s) => s.webhook === webhook).map((s) => s.body['exception']);

function deliverer(urls: readonly string[], extra: Partial<DelivererOptions> = {}): NotificationDeliverer {
  const log = (level: string) => (obj: object, msg: string) => void logs.push({ level, msg, obj });
  const d = new NotificationDeliverer({
    store,
    webhooks: parseWebhookUrls(urls),
    log: { info: log('info'), warn: log('warn'), error: log('error') },
    now: () => clock,
    random: () => 0,
    retry: RETRY,
    concurrency: 2,
    poster: (hook: Webhook) => {
      const hung: ((r: PostResult) => void)[] = [];
      let inFlight = 0;
      return {
        post: async (body: string) => {
          sent.push({ webhook: hook.index, body: JSON.parse(body) as Record<string, unknown> });
          inFlight++;
          peak.set(hook.index, Math.max(peak.get(hook.index) ?? 0, inFlight));
          // A turn of the event loop, so that attempts started together overlap.
          await new Promise((r) => setImmediate(r));
          const a = answer.get(hook.index);
          const r = await (a === 'hang'
            ? new Promise<PostResult>((resolve) => hung.push(resolve))
            : (a ?? { ok: true, status: 200 }));
          inFlight--;
          return r;
        },
        // As the real poster: what is in flight is cut.
        close: () => hung.forEach((resolve) => resolve({ ok: false, error: 'aborted' })),
      };
    },
    ...extra,
  });
  open.push(d);
  return d;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weir-notify-'));
  store = openSqliteStore({ file: join(dir, 'weir.sqlite') });
  clock = T0;
  sent = [];
  answer = new Map();
  peak = new Map();
  logs = [];
});

afterEach(async () => {
  for (const d of open.splice(0)) await d.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('NotificationDeliverer', () => {
  it('posts each notice queued by a store write, woken by the change feed, with text, event, at, id and fields', async () => {
    const d = deliverer(['https://hooks.example.com/T0/B0/secret']);
    await d.start();
    await d.settle();
    const arrived = new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (sent.length === 1) resolve(clearInterval(poll));
      }, 5);
    });
    // A plain store write, as the exception and break-glass routes make in their transactions:
    // nothing calls the deliverer; the change feed wakes it.
    await queue(1);
    await arrived;
    await d.settle();
    expect(sent[0]!.body).toEqual({
      text: 'exception exc-1 requested',
      event: 'exception.requested',
      at: new Date(T0).toISOString(),
      id: expect.any(Number) as number,
      exception: 'exc-1',
    });
    expect(Object.keys(sent[0]!.body).slice(0, 4)).toEqual(['text', 'event', 'at', 'id']);
    expect(
      await store.transaction(undefined, (tx) =>
        tx.notificationBacklog(parseWebhookUrls(['https://hooks.example.com/T0/B0/secret'])[0]!.key),
      ),
    ).toEqual({ pending: 0 });
  });

  it('retries a failing webhook with backoff, one probe at a time, then sends everything pending when it answers', async () => {
    const registry = new Registry();
    const d = deliverer(['http://127.0.0.1:9/hook'], { metrics: createNotifyMetrics(registry, () => clock) });
    await d.start();
    answer.set(1, { ok: false, error: 'HTTP 503' });
    await queue(1, 2, 3);
    await d.settle();
    // Healthy at first: two (the concurrency) go out together and fail; the third is a probe.
    expect(ids(1)).toEqual(['exc-1', 'exc-2', 'exc-3']);
    expect(peak.get(1)).toBe(2);
    sent = [];
    peak.clear();
    clock += 499;
    await d.settle();
    expect(ids(1)).toEqual([]); // nothing is due before its backoff (0.5 s with this jitter)
    clock += 1;
    await d.settle();
    expect(ids(1)).toEqual(['exc-1', 'exc-2', 'exc-3']); // due again, probed one at a time
    expect(peak.get(1)).toBe(1);
    sent = [];
    answer.delete(1);
    clock += 10_000;
    await d.settle();
    // The first probe succeeds; the rest follow at once, whatever their own backoff said.
    expect(ids(1).sort()).toEqual(['exc-1', 'exc-2', 'exc-3']);
    sent = [];
    clock += 60_000;
    await d.settle();
    expect(sent).toEqual([]);
    const text = await registry.metrics();
    expect(text).toContain('weir_notifications_queued_total{webhook="1"} 3');
    expect(text).toContain('weir_notifications_delivered_total{webhook="1"} 3');
    expect(text).toContain('weir_notifications_failed_total{webhook="1"} 6');
    expect(text).toContain('weir_notifications_given_up_total{webhook="1"} 0');
    expect(text).toContain('weir_notifications_oldest_undelivered_seconds{webhook="1"} 0');
    expect(text).not.toContain('127.0.0.1:9');
    expect(logs.map((l) => l.msg)).toEqual([
      'notify: new webhook',
      'notify: webhook failing; retrying with backoff',
      'notify: webhook answers again',
    ]);
  });

  it('when a failing webhook answers again, notices still waiting out their backoff go at once', async () => {
    const d = deliverer(['http://127.0.0.1:9/hook']);
    await d.start();
    answer.set(1, { ok: false, error: 'HTTP 503' });
    await queue(1);
    await d.settle();
    clock += 500;
    await d.settle(); // second failure: next attempt 1 s later
    expect(ids(1)).toEqual(['exc-1', 'exc-1']);
    sent = [];
    clock += 900;
    answer.delete(1);
    await queue(2); // due at once: the probe that finds the webhook back
    await d.settle();
    expect(ids(1)).toEqual(['exc-2', 'exc-1']);
  });

  it('gives up on a notice older than the give-up age after its next failure, logs and counts it', async () => {
    const registry = new Registry();
    const d = deliverer(['http://127.0.0.1:9/hook'], { metrics: createNotifyMetrics(registry, () => clock) });
    await d.start();
    answer.set(1, { ok: false, error: 'ECONNREFUSED' });
    await queue(1);
    await d.settle();
    clock += 30 * 60_000;
    expect(await registry.metrics()).toContain(
      'weir_notifications_oldest_undelivered_seconds{webhook="1"} 1800',
    );
    await d.settle();
    clock = T0 + RETRY.giveUpAfterMs;
    await d.settle();
    sent = [];
    clock += 3_600_000;
    answer.delete(1);
    await d.settle();
    expect(sent).toEqual([]);
    const text = await registry.metrics();
    expect(text).toContain('weir_notifications_given_up_total{webhook="1"} 1');
    expect(text).toContain('weir_notifications_pending{webhook="1"} 0');
    expect(logs.find((l) => l.msg.startsWith('notify: gave up'))?.obj).toMatchObject({
      webhook: 1,
      event: 'exception.requested',
      attempts: 3,
    });
  });

  it('resumes after a restart: what failed before is sent by the next deliverer; a new webhook gets only newer notices', async () => {
    const first = deliverer(['http://a.example/hook']);
    await first.start();
    answer.set(1, { ok: false, error: 'HTTP 500' });
    await queue(1, 2);
    await first.settle();
    await first.close();
    // Like kill -9: no more than what the store holds carries over.
    await store.close();
    store = openSqliteStore({ file: join(dir, 'weir.sqlite') });
    sent = [];
    answer.clear();
    clock += 60_000;
    const second = deliverer(['http://a.example/hook', 'http://b.example/hook']);
    await second.start();
    await queue(3);
    await second.settle();
    expect(ids(1).sort()).toEqual(['exc-1', 'exc-2', 'exc-3']);
    expect(ids(2)).toEqual(['exc-3']);
  });

  it('a webhook that never answers holds neither the other webhook nor more than its concurrency', async () => {
    const d = deliverer(['http://slow.example/hook', 'http://fast.example/hook']);
    await d.start();
    answer.set(1, 'hang');
    await queue(1, 2, 3);
    const arrived = new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (ids(2).length === 3) resolve(clearInterval(poll));
      }, 5);
    });
    d.wake();
    await arrived;
    expect(ids(2).sort()).toEqual(['exc-1', 'exc-2', 'exc-3']);
    expect(ids(1)).toEqual(['exc-1', 'exc-2']);
    expect(peak.get(1)).toBe(2);
  });
});
