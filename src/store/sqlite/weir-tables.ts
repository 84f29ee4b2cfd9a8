/**
 * @module store/sqlite/weir-tables — what Weir keeps beside the EC2 model in the SQLite
 * `StoreTx`: workload attachments, revoked tokens, the applied policy bundle and the
 * notification outbox.
 */
import type { Scope } from '../../model/index.js';
import type {
  IssuedToken,
  NewNotification,
  RevokedToken,
  StoredBundle,
  WorkloadAttachment,
} from '../types.js';
import { GroupTables } from './groups.js';
import type { Row } from './tx-core.js';

/** Workload attachments, revoked tokens, policy bundles. */
export abstract class WeirTables extends GroupTables {
  async attachWorkload(scope: Scope, a: WorkloadAttachment) {
    const added = this.st(
      `INSERT INTO workload_attachments (account_id, region, identity, group_id, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (account_id, region, identity, group_id) DO NOTHING`,
    ).run(scope.accountId, scope.region, a.identity, a.groupId, a.createdAt.getTime());
    if (added.changes > 0) {
      this.written.add('workloads');
      this.writtenGroups.add(a.groupId);
    }
  }

  async detachWorkload(scope: Scope, identity: string, groupId: string) {
    const removed = this.st(
      'DELETE FROM workload_attachments WHERE account_id = ? AND region = ? AND identity = ? AND group_id = ?',
    ).run(scope.accountId, scope.region, identity, groupId);
    if (removed.changes === 0) return false;
    this.written.add('workloads');
    this.writtenGroups.add(groupId);
    return true;
  }

  async listWorkloadAttachments(
    scope: Scope,
    q?: { readonly identity?: string; readonly groupId?: string },
  ): Promise<WorkloadAttachment[]> {
    let sql =
      'SELECT identity, group_id, created_at FROM workload_attachments WHERE account_id = ? AND region = ?';
    const args: unknown[] = [scope.accountId, scope.region];
    if (q?.identity !== undefined) {
      sql += ' AND identity = ?';
      args.push(q.identity);
    }
    if (q?.groupId !== undefined) {
      sql += ' AND group_id = ?';
      args.push(q.groupId);
    }
    const rows = this.st(`${sql} ORDER BY seq`).all(...args) as Row[];
    return rows.map((r) => ({
      identity: r['identity'] as string,
      groupId: r['group_id'] as string,
      createdAt: new Date(r['created_at'] as number),
    }));
  }

  async revokeToken(t: RevokedToken) {
    const added = this.st(
      `INSERT INTO revoked_tokens (token_id, identity, expires, revoked_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (token_id) DO NOTHING`,
    ).run(t.id, t.identity ?? null, t.expires.getTime(), t.revokedAt.getTime());
    if (added.changes > 0) this.written.add('tokens');
  }

  async listRevokedTokens(now: Date): Promise<RevokedToken[]> {
    const rows = this.st(
      'SELECT token_id, identity, expires, revoked_at FROM revoked_tokens WHERE expires > ? ORDER BY seq',
    ).all(now.getTime()) as Row[];
    return rows.map((r) => {
      const identity = r['identity'] as string | null;
      return {
        id: r['token_id'] as string,
        ...(identity !== null ? { identity } : {}),
        expires: new Date(r['expires'] as number),
        revokedAt: new Date(r['revoked_at'] as number),
      };
    });
  }

  async recordIssuedToken(t: IssuedToken) {
    this.st(
      `INSERT INTO issued_tokens (token_id, identity, issued, expires) VALUES (?, ?, ?, ?)
       ON CONFLICT (token_id) DO NOTHING`,
    ).run(t.id, t.identity, t.issued.getTime(), t.expires.getTime());
  }

  async listIssuedTokens(now?: Date): Promise<IssuedToken[]> {
    const rows = (
      now === undefined
        ? this.st('SELECT token_id, identity, issued, expires FROM issued_tokens ORDER BY seq').all()
        : this.st(
            'SELECT token_id, identity, issued, expires FROM issued_tokens WHERE expires > ? ORDER BY seq',
          ).all(now.getTime())
    ) as Row[];
    return rows.map(issuedToken);
  }

  async getIssuedToken(id: string): Promise<IssuedToken | undefined> {
    const r = this.st('SELECT token_id, identity, issued, expires FROM issued_tokens WHERE token_id = ?').get(
      id,
    ) as Row | undefined;
    return r === undefined ? undefined : issuedToken(r);
  }

  async putPolicyBundle(b: StoredBundle) {
    this.st('INSERT INTO policy_bundles (bytes, version, hash, applied_at) VALUES (?, ?, ?, ?)').run(
      b.bytes,
      b.version,
      b.hash,
      b.appliedAt.getTime(),
    );
    this.written.add('bundle');
  }

  async getPolicyBundle(): Promise<StoredBundle | undefined> {
    const r = this.st(
      'SELECT bytes, version, hash, applied_at FROM policy_bundles ORDER BY seq DESC LIMIT 1',
    ).get() as Row | undefined;
    if (r === undefined) return undefined;
    return {
      bytes: r['bytes'] as Buffer,
      version: r['version'] as string,
      hash: r['hash'] as string,
      appliedAt: new Date(r['applied_at'] as number),
    };
  }

  async enqueueNotification(n: NewNotification): Promise<boolean> {
    const added = this.st(
      `INSERT INTO notifications (event, text, fields, created_at, dedupe_key) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (dedupe_key) DO NOTHING`,
    ).run(n.event, n.text, JSON.stringify(n.fields), n.at.getTime(), n.dedupeKey ?? null);
    if (added.changes === 0) return false;
    this.written.add('notifications');
    return true;
  }
}

function issuedToken(r: Row): IssuedToken {
  return {
    id: r['token_id'] as string,
    identity: r['identity'] as string,
    issued: new Date(r['issued'] as number),
    expires: new Date(r['expires'] as number),
  };
}
