/**
 * @module store/sqlite/notify-tables — the SQLite side of webhook delivery: which webhooks exist
 * (by a digest of their URL) and, per webhook, each notification's attempts, next attempt,
 * delivery or giving up, and last error (migration 11). Delivery writes name no change kind: the
 * deliverer wakes on `notifications` (a new notice), and its own bookkeeping must not wake it.
 */
import type { NotificationAttempt, NotificationBacklog, QueuedNotification } from '../types.js';
import type { Row } from './tx-core.js';
import { WeirTables } from './weir-tables.js';

/** Longest `last_error` kept: an error text comes from a peer and must not grow the file. */
const MAX_ERROR = 500;

/** Webhooks and their delivery state, on top of the outbox of `WeirTables`. */
export abstract class NotifyTables extends WeirTables {
  async addNotificationWebhook(webhook: string, at: Date): Promise<boolean> {
    const added = this.st(
      `INSERT INTO notification_webhooks (webhook, queued_through, added_at)
       VALUES (?, (SELECT COALESCE(MAX(seq), 0) FROM notifications), ?)
       ON CONFLICT (webhook) DO NOTHING`,
    ).run(webhook, at.getTime());
    return added.changes > 0;
  }

  async takeNewNotifications(webhook: string): Promise<number> {
    const through = this.st('SELECT queued_through FROM notification_webhooks WHERE webhook = ?')
      .pluck()
      .get(webhook) as number | undefined;
    if (through === undefined) return 0;
    const taken = this.st(
      `INSERT INTO notification_deliveries (webhook, seq, attempts, next_attempt_at)
       SELECT ?, seq, 0, created_at FROM notifications WHERE seq > ? ORDER BY seq
       ON CONFLICT (webhook, seq) DO NOTHING`,
    ).run(webhook, through);
    if (taken.changes > 0) {
      this.st(
        `UPDATE notification_webhooks SET queued_through = (SELECT MAX(seq) FROM notifications) WHERE webhook = ?`,
      ).run(webhook);
    }
    return taken.changes;
  }

  async dueNotifications(webhook: string, now: Date, limit: number): Promise<QueuedNotification[]> {
    const rows = this.st(
      `SELECT n.seq, n.event, n.text, n.fields, n.created_at, d.attempts
       FROM notification_deliveries d JOIN notifications n ON n.seq = d.seq
       WHERE d.webhook = ? AND d.delivered_at IS NULL AND d.given_up_at IS NULL AND d.next_attempt_at <= ?
       ORDER BY d.next_attempt_at, d.seq LIMIT ?`,
    ).all(webhook, now.getTime(), limit) as Row[];
    return rows.map((r) => ({
      seq: r['seq'] as number,
      event: r['event'] as string,
      text: r['text'] as string,
      fields: JSON.parse(r['fields'] as string) as Record<string, unknown>,
      at: new Date(r['created_at'] as number),
      attempts: r['attempts'] as number,
    }));
  }

  async recordNotificationAttempt(webhook: string, seq: number, a: NotificationAttempt): Promise<void> {
    const at = a.at.getTime();
    if (a.outcome === 'delivered') {
      this.st(
        `UPDATE notification_deliveries SET attempts = attempts + 1, delivered_at = ?, last_error = NULL
         WHERE webhook = ? AND seq = ?`,
      ).run(at, webhook, seq);
    } else if (a.outcome === 'retry') {
      this.st(
        `UPDATE notification_deliveries SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?
         WHERE webhook = ? AND seq = ?`,
      ).run(a.nextAttemptAt.getTime(), a.error.slice(0, MAX_ERROR), webhook, seq);
    } else {
      this.st(
        `UPDATE notification_deliveries SET attempts = attempts + 1, given_up_at = ?, last_error = ?
         WHERE webhook = ? AND seq = ?`,
      ).run(at, a.error.slice(0, MAX_ERROR), webhook, seq);
    }
  }

  async notificationBacklog(webhook: string): Promise<NotificationBacklog> {
    const r = this.st(
      `SELECT COUNT(*) AS pending, MIN(n.created_at) AS oldest, MIN(d.next_attempt_at) AS next
       FROM notification_deliveries d JOIN notifications n ON n.seq = d.seq
       WHERE d.webhook = ? AND d.delivered_at IS NULL AND d.given_up_at IS NULL`,
    ).get(webhook) as Row;
    const oldest = r['oldest'] as number | null;
    const next = r['next'] as number | null;
    return {
      pending: r['pending'] as number,
      ...(oldest !== null ? { oldestAt: new Date(oldest) } : {}),
      ...(next !== null ? { nextAttemptAt: new Date(next) } : {}),
    };
  }
}
