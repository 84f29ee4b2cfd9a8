/**
 * @module api/scope — accounts and regions are isolated namespaces. On first use a scope
 * gets what EC2 gives every account in every region: a default VPC (172.31.0.0/16) holding a
 * `default` security group.
 */
import type { Scope, SecurityGroupRule, Vpc } from '../model/index.js';
import { ruleKey } from '../model/index.js';
import type { StoreTx, Store } from '../store/index.js';
import type { IdSource } from './context.js';

export const DEFAULT_VPC_CIDR = '172.31.0.0/16';
export const DEFAULT_GROUP_DESCRIPTION = 'default VPC security group';

/**
 * Creates a security group's default rules as EC2 does: egress to everything (IPv4, and IPv6
 * when the VPC has an IPv6 block); a VPC's `default` group also admits traffic from itself.
 */
export async function insertDefaultRules(
  tx: StoreTx,
  scope: Scope,
  ids: IdSource,
  groupId: string,
  vpc: Vpc,
  isDefaultGroup: boolean,
): Promise<void> {
  const base = {
    groupId,
    groupOwnerId: scope.accountId,
    ipProtocol: '-1',
    fromPort: -1,
    toPort: -1,
    tags: [],
  };
  const rules: SecurityGroupRule[] = [
    { ...base, ruleId: ids.next('sgr'), direction: 'egress', target: { kind: 'ipv4', cidr: '0.0.0.0/0' } },
  ];
  if (vpc.ipv6CidrBlock) {
    rules.push({
      ...base,
      ruleId: ids.next('sgr'),
      direction: 'egress',
      target: { kind: 'ipv6', cidr: '::/0' },
    });
  }
  if (isDefaultGroup) {
    rules.push({
      ...base,
      ruleId: ids.next('sgr'),
      direction: 'ingress',
      target: { kind: 'group', groupId, userId: scope.accountId },
    });
  }
  await tx.insertRules(
    scope,
    rules.map((rule) => ({ rule, key: ruleKey(rule.direction, rule) })),
  );
}

/** Creates a VPC with its `default` group. */
export async function insertVpcWithDefaultGroup(
  tx: StoreTx,
  scope: Scope,
  ids: IdSource,
  vpc: Vpc,
): Promise<void> {
  await tx.insertVpc(scope, vpc);
  const groupId = ids.next('sg');
  await tx.insertGroup(scope, {
    groupId,
    groupName: 'default',
    description: DEFAULT_GROUP_DESCRIPTION,
    vpcId: vpc.vpcId,
    ownerId: scope.accountId,
    isDefault: true,
    tags: [],
  });
  await insertDefaultRules(tx, scope, ids, groupId, vpc, true);
}

/**
 * Makes sure `scope` exists, creating its default VPC and group on first use. Known scopes
 * are remembered per store so the common case costs one Set lookup.
 */
export class ScopeRegistry {
  private readonly known = new Set<string>();
  constructor(
    private readonly store: Store,
    private readonly ids: IdSource,
  ) {}

  async ensure(scope: Scope): Promise<void> {
    const k = `${scope.accountId}/${scope.region}`;
    if (this.known.has(k)) return;
    await this.store.transaction(scope, async (tx) => {
      if (await tx.getScope(scope)) return;
      const vpcId = this.ids.next('vpc');
      await tx.insertScope(scope, { defaultVpcId: vpcId });
      await insertVpcWithDefaultGroup(tx, scope, this.ids, {
        vpcId,
        cidrBlock: DEFAULT_VPC_CIDR,
        isDefault: true,
        ownerId: scope.accountId,
        state: 'available',
        tags: [],
      });
    });
    this.known.add(k);
  }
}
