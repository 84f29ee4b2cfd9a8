/**
 * @module store/sqlite/groups — the security groups of the SQLite `StoreTx`; deleting one
 * deletes its rules, tags and workload attachments.
 */
import type { Scope, SecurityGroup } from '../../model/index.js';
import { RuleTables } from './rules.js';
import type { Row } from './tx-core.js';
import { inList } from './tx-core.js';

/** Security groups. */
export abstract class GroupTables extends RuleTables {
  async insertGroup(scope: Scope, g: SecurityGroup) {
    this.written.add('groups');
    this.writtenGroups.add(g.groupId);
    this.st(
      `INSERT INTO security_groups (group_id, account_id, region, vpc_id, group_name, description, is_default)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(g.groupId, scope.accountId, scope.region, g.vpcId, g.groupName, g.description, g.isDefault ? 1 : 0);
    if (g.tags.length) await this.putTags(scope, g.groupId, 'security-group', g.tags);
  }

  private groups(scope: Scope, rows: Row[]): SecurityGroup[] {
    const tags = this.tagsOf(
      scope,
      rows.map((r) => r['group_id'] as string),
      'security-group',
    );
    return rows.map((r) => ({
      groupId: r['group_id'] as string,
      groupName: r['group_name'] as string,
      description: r['description'] as string,
      vpcId: r['vpc_id'] as string,
      ownerId: scope.accountId,
      isDefault: r['is_default'] === 1,
      tags: tags.get(r['group_id'] as string) ?? [],
    }));
  }

  async getGroup(scope: Scope, groupId: string) {
    const rows = this.st(
      'SELECT * FROM security_groups WHERE account_id = ? AND region = ? AND group_id = ?',
    ).all(scope.accountId, scope.region, groupId) as Row[];
    return this.groups(scope, rows)[0];
  }

  async findGroupByName(scope: Scope, vpcId: string, groupName: string) {
    const rows = this.st(
      'SELECT * FROM security_groups WHERE account_id = ? AND region = ? AND vpc_id = ? AND group_name = ?',
    ).all(scope.accountId, scope.region, vpcId, groupName) as Row[];
    return this.groups(scope, rows)[0];
  }

  async listGroups(scope: Scope, q?: { groupIds?: readonly string[]; vpcId?: string }) {
    let sql = 'SELECT * FROM security_groups WHERE account_id = ? AND region = ?';
    const args: unknown[] = [scope.accountId, scope.region];
    if (q?.groupIds) {
      sql += ` AND group_id IN (${inList(q.groupIds.length)})`;
      args.push(...q.groupIds);
    }
    if (q?.vpcId !== undefined) {
      sql += ' AND vpc_id = ?';
      args.push(q.vpcId);
    }
    return this.groups(scope, this.db.prepare(sql + ' ORDER BY seq').all(...args) as Row[]);
  }

  async countGroups(scope: Scope, vpcId: string) {
    const row = this.st(
      'SELECT COUNT(*) AS n FROM security_groups WHERE account_id = ? AND region = ? AND vpc_id = ?',
    ).get(scope.accountId, scope.region, vpcId) as { n: number };
    return row.n;
  }

  async deleteGroup(scope: Scope, groupId: string) {
    this.written.add('groups');
    this.writtenGroups.add(groupId);
    const ruleIds = (
      this.st(
        'SELECT rule_id FROM security_group_rules WHERE account_id = ? AND region = ? AND group_id = ?',
      ).all(scope.accountId, scope.region, groupId) as Row[]
    ).map((r) => r['rule_id'] as string);
    await this.deleteRules(scope, ruleIds);
    this.st('DELETE FROM security_groups WHERE account_id = ? AND region = ? AND group_id = ?').run(
      scope.accountId,
      scope.region,
      groupId,
    );
    // The API refuses to delete an attached group; this only keeps the store free of dangling rows.
    const detached = this.st(
      'DELETE FROM workload_attachments WHERE account_id = ? AND region = ? AND group_id = ?',
    ).run(scope.accountId, scope.region, groupId);
    if (detached.changes > 0) this.written.add('workloads');
    this.st('DELETE FROM tags WHERE account_id = ? AND region = ? AND resource_id = ?').run(
      scope.accountId,
      scope.region,
      groupId,
    );
  }
}
