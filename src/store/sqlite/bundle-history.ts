/**
 * @module store/sqlite/bundle-history — the policy bundles applied over time (the console's
 * "Policies and rules" history, the evidence report): every bundle `putPolicyBundle` stored is
 * kept in `policy_bundles` (migration 3), so the history is a read of that table, newest first.
 */
import type { StoredBundle } from '../types.js';
import type { Row } from './tx-core.js';
import { DecisionTables } from './decisions.js';

/** Reads of the bundle history. */
export abstract class BundleHistoryTables extends DecisionTables {
  async listPolicyBundles(limit: number): Promise<StoredBundle[]> {
    // A negative or fractional limit would read everything: the caller bounds what it asks for.
    const n = Math.max(0, Math.floor(limit));
    const rows = this.st(
      'SELECT bytes, version, hash, applied_at FROM policy_bundles ORDER BY seq DESC LIMIT ?',
    ).all(n) as Row[];
    return rows.map((r) => ({
      bytes: r['bytes'] as Buffer,
      version: r['version'] as string,
      hash: r['hash'] as string,
      appliedAt: new Date(r['applied_at'] as number),
    }));
  }
}
