/**
 * @module store/postgres/rules-groups — security-group rules and security groups in the
 * PostgreSQL `StoreTx` (src/store/sqlite/{rules,groups}.ts): rules unique by their key, which the
 * database itself enforces, and groups whose deletion takes their rules, tags and attachments.
 */
import type { Direction, RuleTarget, Scope, SecurityGroup, SecurityGroupRule } from '../../model/index.js';
import type { NewRule, RuleQuery } from '../types.js';
import { DuplicateRuleKeyError } from '../types.js';
import { PgPrefixListTables } from './ec2-tables.js';
import type { Row } from './tx-core.js';

/**
 * Columns named, never `*`: a statement prepared on a connection fails ("cached plan must not
 * change result type") once another node's newer migration adds a column to its table.
 */
const GROUP_COLUMNS = 'group_id, group_name, description, vpc_id, is_default';

/** The columns a rule is read back from. */
const RULE_COLUMNS =
  'rule_id, group_id, group_owner_id, direction, ip_protocol, from_port, to_port, target_kind, cidr, ' +
  'prefix_list_id, ref_group_id, ref_user_id, ref_vpc_id, description';

/** Security-group rules. */
export abstract class PgRuleTables extends PgPrefixListTables {
  async insertRules(scope: Scope, rules: readonly NewRule[]) {
    this.written.add('rules');
    for (const { rule: r, key } of rules) {
      this.writtenGroups.add(r.groupId);
      const t = targetColumns(r.target);
      // DO NOTHING rather than catching the unique violation: an error would abort the whole
      // transaction, and the caller may still want it (to name the duplicate, then roll back).
      // The constraint decides under concurrency too: a second node's identical insert waits for
      // the first to commit, then does nothing.
      const added = await this.run(
        `INSERT INTO security_group_rules (rule_id, account_id, region, group_id, group_owner_id, direction,
           ip_protocol, from_port, to_port, target_kind, cidr, prefix_list_id, ref_group_id, ref_user_id, ref_vpc_id,
           description, rule_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
         ON CONFLICT ON CONSTRAINT security_group_rules_rule_key DO NOTHING`,
        [
          r.ruleId,
          scope.accountId,
          scope.region,
          r.groupId,
          r.groupOwnerId,
          r.direction,
          r.ipProtocol,
          r.fromPort,
          r.toPort,
          r.target.kind,
          t.cidr,
          t.prefixListId,
          t.refGroupId,
          t.refUserId,
          t.refVpcId,
          r.description ?? null,
          key,
        ],
      );
      if (added === 0) throw new DuplicateRuleKeyError(key);
      if (r.tags.length) await this.putTags(scope, r.ruleId, 'security-group-rule', r.tags);
    }
  }

  async listRules(scope: Scope, q?: RuleQuery) {
    // Absent filters are NULL parameters: one statement text for every combination.
    const rows = await this.q(
      `SELECT ${RULE_COLUMNS} FROM security_group_rules
       WHERE account_id = $1 AND region = $2
         AND ($3::text[] IS NULL OR group_id = ANY($3::text[]))
         AND ($4::text[] IS NULL OR rule_id = ANY($4::text[]))
         AND ($5::text IS NULL OR direction = $5::text)
       ORDER BY seq`,
      [scope.accountId, scope.region, q?.groupIds ?? null, q?.ruleIds ?? null, q?.direction ?? null],
    );
    return this.rules(scope, rows);
  }

  private async rules(scope: Scope, rows: readonly Row[]): Promise<SecurityGroupRule[]> {
    const tags = await this.tagsOf(
      scope,
      rows.map((r) => r['rule_id'] as string),
    );
    return rows.map((r) => {
      const description = r['description'] as string | null;
      const ruleId = r['rule_id'] as string;
      return {
        ruleId,
        groupId: r['group_id'] as string,
        groupOwnerId: r['group_owner_id'] as string,
        direction: r['direction'] as Direction,
        ipProtocol: r['ip_protocol'] as string,
        fromPort: r['from_port'] as number,
        toPort: r['to_port'] as number,
        target: ruleRowTarget(r),
        ...(description !== null ? { description } : {}),
        tags: tags.get(ruleId) ?? [],
      };
    });
  }

  async findRuleByKey(scope: Scope, groupId: string, direction: Direction, key: string) {
    const rows = await this.q(
      `SELECT ${RULE_COLUMNS} FROM security_group_rules
       WHERE account_id = $1 AND region = $2 AND group_id = $3 AND direction = $4 AND rule_key = $5`,
      [scope.accountId, scope.region, groupId, direction, key],
    );
    return rows.length === 0 ? undefined : (await this.rules(scope, rows))[0];
  }

  async replaceRule(scope: Scope, { rule: r, key }: NewRule) {
    this.written.add('rules');
    this.writtenGroups.add(r.groupId);
    // Looked up first rather than caught, as in insertRules: an error would abort the transaction.
    // Race-free: every write transaction holds the write lock (store.ts).
    const taken = await this.one<number>(
      `SELECT 1 FROM security_group_rules o JOIN security_group_rules s
         ON s.account_id = o.account_id AND s.region = o.region AND s.group_id = o.group_id AND s.direction = o.direction
       WHERE s.account_id = $1 AND s.region = $2 AND s.rule_id = $3 AND o.rule_key = $4 AND o.rule_id <> $3`,
      [scope.accountId, scope.region, r.ruleId, key],
    );
    if (taken !== undefined) throw new DuplicateRuleKeyError(key);
    const t = targetColumns(r.target);
    await this.run(
      `UPDATE security_group_rules SET ip_protocol = $1, from_port = $2, to_port = $3, target_kind = $4, cidr = $5,
         prefix_list_id = $6, ref_group_id = $7, ref_user_id = $8, ref_vpc_id = $9, description = $10, rule_key = $11
       WHERE account_id = $12 AND region = $13 AND rule_id = $14`,
      [
        r.ipProtocol,
        r.fromPort,
        r.toPort,
        r.target.kind,
        t.cidr,
        t.prefixListId,
        t.refGroupId,
        t.refUserId,
        t.refVpcId,
        r.description ?? null,
        key,
        scope.accountId,
        scope.region,
        r.ruleId,
      ],
    );
  }

  async deleteRules(scope: Scope, ruleIds: readonly string[]) {
    this.written.add('rules');
    if (ruleIds.length === 0) return;
    const rows = await this.q(
      `DELETE FROM security_group_rules WHERE account_id = $1 AND region = $2 AND rule_id = ANY($3::text[])
       RETURNING group_id`,
      [scope.accountId, scope.region, ruleIds],
    );
    for (const r of rows) this.writtenGroups.add(r['group_id'] as string);
    await this.dropTags(scope, ruleIds);
  }

  async countRules(scope: Scope, groupId: string, direction: Direction) {
    return (
      (await this.one<number>(
        `SELECT COUNT(*) FROM security_group_rules
         WHERE account_id = $1 AND region = $2 AND group_id = $3 AND direction = $4`,
        [scope.accountId, scope.region, groupId, direction],
      )) ?? 0
    );
  }

  async prefixListRefs(scope: Scope, groupId: string, direction: Direction) {
    const rows = await this.q(
      `SELECT prefix_list_id FROM security_group_rules
       WHERE account_id = $1 AND region = $2 AND group_id = $3 AND direction = $4 AND prefix_list_id IS NOT NULL
       ORDER BY seq`,
      [scope.accountId, scope.region, groupId, direction],
    );
    return rows.map((r) => r['prefix_list_id'] as string);
  }

  async countReferences(
    scope: Scope,
    ref: { readonly groupId: string } | { readonly prefixListId: string },
    exceptGroupId?: string,
  ) {
    // The column comes from this closed choice, never from the caller's text.
    const [col, val] =
      'groupId' in ref ? ['ref_group_id', ref.groupId] : ['prefix_list_id', ref.prefixListId];
    return (
      (await this.one<number>(
        `SELECT COUNT(*) FROM security_group_rules
         WHERE account_id = $1 AND region = $2 AND ${col} = $3 AND group_id <> $4`,
        [scope.accountId, scope.region, val, exceptGroupId ?? ''],
      )) ?? 0
    );
  }
}

/** Security groups; deleting one deletes its rules, tags and workload attachments. */
export abstract class PgGroupTables extends PgRuleTables {
  async insertGroup(scope: Scope, g: SecurityGroup) {
    this.written.add('groups');
    this.writtenGroups.add(g.groupId);
    await this.run(
      `INSERT INTO security_groups (group_id, account_id, region, vpc_id, group_name, description, is_default)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [g.groupId, scope.accountId, scope.region, g.vpcId, g.groupName, g.description, g.isDefault],
    );
    if (g.tags.length) await this.putTags(scope, g.groupId, 'security-group', g.tags);
  }

  private async groups(scope: Scope, rows: Row[]): Promise<SecurityGroup[]> {
    const tags = await this.tagsOf(
      scope,
      rows.map((r) => r['group_id'] as string),
    );
    return rows.map((r) => ({
      groupId: r['group_id'] as string,
      groupName: r['group_name'] as string,
      description: r['description'] as string,
      vpcId: r['vpc_id'] as string,
      ownerId: scope.accountId,
      isDefault: r['is_default'] === true,
      tags: tags.get(r['group_id'] as string) ?? [],
    }));
  }

  async getGroup(scope: Scope, groupId: string) {
    const rows = await this.q(
      `SELECT ${GROUP_COLUMNS} FROM security_groups WHERE account_id = $1 AND region = $2 AND group_id = $3`,
      [scope.accountId, scope.region, groupId],
    );
    return (await this.groups(scope, rows))[0];
  }

  async findGroupByName(scope: Scope, vpcId: string, groupName: string) {
    const rows = await this.q(
      `SELECT ${GROUP_COLUMNS} FROM security_groups WHERE account_id = $1 AND region = $2 AND vpc_id = $3 AND group_name = $4`,
      [scope.accountId, scope.region, vpcId, groupName],
    );
    return (await this.groups(scope, rows))[0];
  }

  async listGroups(scope: Scope, q?: { groupIds?: readonly string[]; vpcId?: string }) {
    const rows = await this.q(
      `SELECT ${GROUP_COLUMNS} FROM security_groups WHERE account_id = $1 AND region = $2
         AND ($3::text[] IS NULL OR group_id = ANY($3::text[]))
         AND ($4::text IS NULL OR vpc_id = $4::text)
       ORDER BY seq`,
      [scope.accountId, scope.region, q?.groupIds ?? null, q?.vpcId ?? null],
    );
    return this.groups(scope, rows);
  }

  async countGroups(scope: Scope, vpcId: string) {
    return (
      (await this.one<number>(
        'SELECT COUNT(*) FROM security_groups WHERE account_id = $1 AND region = $2 AND vpc_id = $3',
        [scope.accountId, scope.region, vpcId],
      )) ?? 0
    );
  }

  async deleteGroup(scope: Scope, groupId: string) {
    this.written.add('groups');
    this.writtenGroups.add(groupId);
    const ruleIds = (
      await this.q(
        'SELECT rule_id FROM security_group_rules WHERE account_id = $1 AND region = $2 AND group_id = $3',
        [scope.accountId, scope.region, groupId],
      )
    ).map((r) => r['rule_id'] as string);
    await this.deleteRules(scope, ruleIds);
    await this.run('DELETE FROM security_groups WHERE account_id = $1 AND region = $2 AND group_id = $3', [
      scope.accountId,
      scope.region,
      groupId,
    ]);
    // The API refuses to delete an attached group; this only keeps the store free of dangling rows.
    const detached = await this.run(
      'DELETE FROM workload_attachments WHERE account_id = $1 AND region = $2 AND group_id = $3',
      [scope.accountId, scope.region, groupId],
    );
    if (detached > 0) this.written.add('workloads');
    await this.dropTags(scope, [groupId]);
  }
}

function targetColumns(t: RuleTarget) {
  return {
    cidr: t.kind === 'ipv4' || t.kind === 'ipv6' ? t.cidr : null,
    prefixListId: t.kind === 'prefixList' ? t.prefixListId : null,
    refGroupId: t.kind === 'group' ? t.groupId : null,
    refUserId: t.kind === 'group' ? t.userId : null,
    refVpcId: t.kind === 'group' ? (t.vpcId ?? null) : null,
  };
}

function ruleRowTarget(r: Row): RuleTarget {
  switch (r['target_kind'] as RuleTarget['kind']) {
    case 'ipv4':
      return { kind: 'ipv4', cidr: r['cidr'] as string };
    case 'ipv6':
      return { kind: 'ipv6', cidr: r['cidr'] as string };
    case 'prefixList':
      return { kind: 'prefixList', prefixListId: r['prefix_list_id'] as string };
    default: {
      const vpcId = r['ref_vpc_id'] as string | null;
      return {
        kind: 'group',
        groupId: r['ref_group_id'] as string,
        userId: r['ref_user_id'] as string,
        ...(vpcId !== null ? { vpcId } : {}),
      };
    }
  }
}
