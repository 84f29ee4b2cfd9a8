/**
 * @module store/postgres/weir-tables — what Weir keeps beside the EC2 model in the PostgreSQL
 * `StoreTx`: workload attachments, issued and revoked tokens, applied policy bundles, and the
 * notification outbox with its per-webhook delivery state. The contract of
 * src/store/sqlite/{weir-tables,notify-tables}.ts.
 */
import type { Scope } from '../../model/index.js';
import type {
  IssuedToken,
  NewNotification,
  NotificationAttempt,
  NotificationBacklog,
  QueuedNotification,
  RevokedToken,
  StoredBundle,
  WorkloadAttachment,
} from '../types.js';
import { PgGroupTables } from './rules-groups.js';
import type { Row } from './tx-core.js';

/** Longest `last_error` kept: an error text comes from a peer and must not grow the database. */
const MAX_ERROR = 500;

/** Workload attachments, tokens, policy bundles. */
export abstract class PgWeirTables extends PgGroupTables {
  async attachWorkload(scope: Scope, a: WorkloadAttachment) {
    const added = await this.run(
      `INSERT INTO workload_attachments (account_id, region, identity, group_id, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (account_id, region, identity, group_id) DO NOTHING`,
      [scope.accountId, scope.region, a.identity, a.groupId, a.createdAt],
    );
    if (added > 0) {
      this.written.add('workloads');
      this.writtenGroups.add(a.groupId);
    }
  }

  async detachWorkload(scope: Scope, identity: string, groupId: string) {
    const removed = await this.run(
      'DELETE FROM workload_attachments WHERE account_id = $1 AND region = $2 AND identity = $3 AND group_id = $4',
      [scope.accountId, scope.region, identity, groupId],
    );
    if (removed === 0) return false;
    this.written.add('workloads');
    this.writtenGroups.add(groupId);
    return true;
  }

  async listWorkloadAttachments(
    scope: Scope,
    q?: { readonly identity?: string; readonly groupId?: string },
  ): Promise<WorkloadAttachment[]> {
    const rows = await this.q(
      `SELECT identity, group_id, created_at FROM workload_attachments WHERE account_id = $1 AND region = $2
         AND ($3::text IS NULL OR identity = $3::text) AND ($4::text IS NULL OR group_id = $4::text)
       ORDER BY seq`,
      [scope.accountId, scope.region, q?.identity ?? null, q?.groupId ?? null],
    );
    return rows.map((r) => ({
      identity: r['identity'] as string,
      groupId: r['group_id'] as string,
      createdAt: r['created_at'] as Date,
    }));
  }

  async revokeToken(t: RevokedToken) {
    const added = await this.run(
      `INSERT INTO revoked_tokens (token_id, identity, expires, revoked_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (token_id) DO NOTHING`,
      [t.id, t.identity ?? null, t.expires, t.revokedAt],
    );
    if (added > 0) this.written.add('tokens');
  }

  async listRevokedTokens(now: Date): Promise<RevokedToken[]> {
    const rows = await this.q(
      'SELECT token_id, identity, expires, revoked_at FROM revoked_tokens WHERE expires > $1 ORDER BY seq',
      [now],
    );
    return rows.map((r) => {
      const identity = r['identity'] as string | null;
      return {
        id: r['token_id'] as string,
        ...(identity !== null ? { identity } : {}),
        expires: r['expires'] as Date,
        revokedAt: r['revoked_at'] as Date,
      };
    });
  }

  async recordIssuedToken(t: IssuedToken) {
    await this.run(
      `INSERT INTO issued_tokens (token_id, identity, issued, expires) VALUES ($1, $2, $3, $4)
       ON CONFLICT (token_id) DO NOTHING`,
      [t.id, t.identity, t.issued, t.expires],
    );
  }

  async listIssuedTokens(now?: Date): Promise<IssuedToken[]> {
    const rows = await this.q(
      `SELECT token_id, identity, issued, expires FROM issued_tokens
       WHERE $1::timestamptz IS NULL OR expires > $1::timestamptz ORDER BY seq`,
      [now ?? null],
    );
    return rows.map(issuedToken);
  }

  async getIssuedToken(id: string): Promise<IssuedToken | undefined> {
    const r = (
      await this.q('SELECT token_id, identity, issued, expires FROM issued_tokens WHERE token_id = $1', [id])
    )[0];
    return r === undefined ? undefined : issuedToken(r);
  }

  async putPolicyBundle(b: StoredBundle) {
    await this.run('INSERT INTO policy_bundles (bytes, version, hash, applied_at) VALUES ($1, $2, $3, $4)', [
      b.bytes,
      b.version,
      b.hash,
      b.appliedAt,
    ]);
    this.written.add('bundle');
  }

  async listPolicyBundles(limit: number): Promise<StoredBundle[]> {
    // A negative or fractional limit would read everything: the caller bounds what it asks for.
    const rows = await this.q(
      'SELECT bytes, version, hash, applied_at FROM policy_bundles ORDER BY seq DESC LIMIT $1',
      [Math.max(0, Math.floor(limit))],
    );
    return rows.map((r) => ({
      bytes: r['bytes'] as Buffer,
      version: r['version'] as string,
      hash: r['hash'] as string,
      appliedAt: r['applied_at'] as Date,
    }));
  }

  async getPolicyBundle(): Promise<StoredBundle | undefined> {
    const r = (
      await this.q('SELECT bytes, version, hash, applied_at FROM policy_bundles ORDER BY seq DESC LIMIT 1')
    )[0];
    if (r === undefined) return undefined;
    return {
      bytes: r['bytes'] as Buffer,
      version: r['version'] as string,
      hash: r['hash'] as string,
      appliedAt: r['applied_at'] as Date,
    };
  }
}

/** The notification outbox and each webhook's delivery state. */
export abstract class PgNotifyTables extends PgWeirTables {
  async enqueueNotification(n: NewNotification): Promise<boolean> {
    const added = await this.run(
      `INSERT INTO notifications (event, text, fields, created_at, dedupe_key) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (dedupe_key) DO NOTHING`,
      [n.event, n.text, JSON.stringify(n.fields), n.at, n.dedupeKey ?? null],
    );
    if (added === 0) return false;
    this.written.add('notifications');
    return true;
  }

  async addNotificationWebhook(webhook: string, at: Date): Promise<boolean> {
    const added = await this.run(
      `INSERT INTO notification_webhooks (webhook, queued_through, added_at)
       VALUES ($1, (SELECT COALESCE(MAX(seq), 0) FROM notifications), $2)
       ON CONFLICT (webhook) DO NOTHING`,
      [webhook, at],
    );
    return added > 0;
  }

  async takeNewNotifications(webhook: string): Promise<number> {
    const through = await this.one<number>(
      'SELECT queued_through FROM notification_webhooks WHERE webhook = $1',
      [webhook],
    );
    if (through === undefined) return 0;
    const taken = await this.run(
      `INSERT INTO notification_deliveries (webhook, seq, attempts, next_attempt_at)
       SELECT $1, seq, 0, created_at FROM notifications WHERE seq > $2 ORDER BY seq
       ON CONFLICT (webhook, seq) DO NOTHING`,
      [webhook, through],
    );
    if (taken > 0) {
      await this.run(
        'UPDATE notification_webhooks SET queued_through = (SELECT MAX(seq) FROM notifications) WHERE webhook = $1',
        [webhook],
      );
    }
    return taken;
  }

  async dueNotifications(webhook: string, now: Date, limit: number): Promise<QueuedNotification[]> {
    const rows = await this.q(
      `SELECT n.seq, n.event, n.text, n.fields, n.created_at, d.attempts
       FROM notification_deliveries d JOIN notifications n ON n.seq = d.seq
       WHERE d.webhook = $1 AND d.delivered_at IS NULL AND d.given_up_at IS NULL AND d.next_attempt_at <= $2
       ORDER BY d.next_attempt_at, d.seq LIMIT $3`,
      [webhook, now, limit],
    );
    return rows.map((r) => ({
      seq: r['seq'] as number,
      event: r['event'] as string,
      text: r['text'] as string,
      fields: JSON.parse(r['fields'] as string) as Record<string, unknown>,
      at: r['created_at'] as Date,
      attempts: r['attempts'] as number,
    }));
  }

  async recordNotificationAttempt(webhook: string, seq: number, a: NotificationAttempt): Promise<void> {
    if (a.outcome === 'delivered') {
      await this.run(
        `UPDATE notification_deliveries SET attempts = attempts + 1, delivered_at = $1, last_error = NULL
         WHERE webhook = $2 AND seq = $3`,
        [a.at, webhook, seq],
      );
    } else if (a.outcome === 'retry') {
      await this.run(
        `UPDATE notification_deliveries SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2
         WHERE webhook = $3 AND seq = $4`,
        [a.nextAttemptAt, a.error.slice(0, MAX_ERROR), webhook, seq],
      );
    } else {
      await this.run(
        `UPDATE notification_deliveries SET attempts = attempts + 1, given_up_at = $1, last_error = $2
         WHERE webhook = $3 AND seq = $4`,
        [a.at, a.error.slice(0, MAX_ERROR), webhook, seq],
      );
    }
  }

  async notificationBacklog(webhook: string): Promise<NotificationBacklog> {
    const r = (
      await this.q(
        `SELECT COUNT(*) AS pending, MIN(n.created_at) AS oldest, MIN(d.next_attempt_at) AS next
         FROM notification_deliveries d JOIN notifications n ON n.seq = d.seq
         WHERE d.webhook = $1 AND d.delivered_at IS NULL AND d.given_up_at IS NULL`,
        [webhook],
      )
    )[0] as Row;
    const oldest = r['oldest'] as Date | null;
    const next = r['next'] as Date | null;
    return {
      pending: r['pending'] as number,
      ...(oldest !== null ? { oldestAt: oldest } : {}),
      ...(next !== null ? { nextAttemptAt: next } : {}),
    };
  }
}

function issuedToken(r: Row): IssuedToken {
  return {
    id: r['token_id'] as string,
    identity: r['identity'] as string,
    issued: r['issued'] as Date,
    expires: r['expires'] as Date,
  };
}
