/**
 * @module notify/metrics — webhook delivery on the API's Prometheus registry. The `webhook` label
 * is the position of its `--notify-webhook` flag (1, 2 …): bounded, and never the URL, which may
 * carry a token.
 */
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

/** The delivery metrics, each labelled by webhook position. */
export interface NotifyMetrics {
  readonly queued: Counter<'webhook'>;
  readonly delivered: Counter<'webhook'>;
  readonly failed: Counter<'webhook'>;
  readonly givenUp: Counter<'webhook'>;
  readonly pending: Gauge<'webhook'>;
  /**
   * Tells the oldest-undelivered gauge when a webhook's oldest pending notice was queued
   * (undefined: none); the gauge computes its age at each scrape.
   */
  setOldest(webhook: number, queuedAt: number | undefined): void;
}

/** Registers the delivery metrics on `registry`; `now` (epoch ms) ages the oldest pending notice. */
export function createNotifyMetrics(registry: Registry, now: () => number): NotifyMetrics {
  const oldest = new Map<string, number | undefined>();
  const counter = (name: string, help: string) =>
    new Counter({ name, help, labelNames: ['webhook'], registers: [registry] });
  new Gauge({
    name: 'weir_notifications_oldest_undelivered_seconds',
    help: 'Age of the oldest notification not yet delivered (0: none), by --notify-webhook position.',
    labelNames: ['webhook'],
    registers: [registry],
    // Aged at each scrape, so the figure grows while the deliverer sleeps.
    collect() {
      const t = now();
      for (const [webhook, at] of oldest)
        this.set({ webhook }, at === undefined ? 0 : Math.max(0, (t - at) / 1000));
    },
  });
  return {
    queued: counter(
      'weir_notifications_queued_total',
      'Notifications taken into a webhook’s deliveries, by --notify-webhook position.',
    ),
    delivered: counter(
      'weir_notifications_delivered_total',
      'Notifications a webhook answered with 2xx, by --notify-webhook position.',
    ),
    failed: counter(
      'weir_notifications_failed_total',
      'Failed delivery attempts (network error, timeout, non-2xx), by --notify-webhook position.',
    ),
    givenUp: counter(
      'weir_notifications_given_up_total',
      'Notifications no longer tried (older than the give-up age after a failure), by --notify-webhook position.',
    ),
    pending: new Gauge({
      name: 'weir_notifications_pending',
      help: 'Notifications neither delivered nor given up, by --notify-webhook position.',
      labelNames: ['webhook'],
      registers: [registry],
    }),
    setOldest: (webhook, queuedAt) => void oldest.set(String(webhook), queuedAt),
  };
}
