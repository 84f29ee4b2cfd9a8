/**
 * @module api/scope — accounts and regions are isolated namespaces. Each has what EC2 gives
 * every account in every region: a default VPC (172.31.0.0/16) holding a `default` security
 * group. Reads never create it: a read of a scope nobody has written to sees it synthesized
 * (scope-view.ts); the first write stores it, with the same IDs the reads showed.
 */
import { createHash } from 'node:crypto';
import type { Scope, SecurityGroup, SecurityGroupRule, Vpc } from '../model/index.js';
import { newResourceId, ruleKey } from '../model/index.js';
import type { NewRule, Store, StoreTx } from '../store/index.js';
import type { IdSource } from './context.js';
import { DefaultScopeView } from './scope-view.js';

export const DEFAULT_VPC_CIDR = '172.31.0.0/16';
export const DEFAULT_GROUP_DESCRIPTION = 'default VPC security group';

/**
 * Creates a security group's default rules as EC2 does: egress to everything (IPv4, and IPv6
 * when the VPC has an IPv6 block); a VPC's `default` group also admits traffic from itself.
 */
export async function insertDefaultRules(
  tx: Pick<StoreTx, 'insertRules'>,
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
  tx: Pick<StoreTx, 'insertVpc' | 'insertGroup' | 'insertRules'>,
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

/** What a scope holds before anyone writes to it: its default VPC, group and the group's rules. */
export interface ScopeDefaults {
  readonly vpc: Vpc;
  readonly group: SecurityGroup;
  readonly rules: readonly NewRule[];
}

/**
 * IDs derived from the scope (SHA-256 of account, region, kind and ordinal), not drawn at
 * random: a read of an unused scope shows them without storing anything, and the first write
 * stores the same ones, so an ID a client read stays valid. Account and region are in the
 * hash, so no two scopes share an ID.
 */
function derivedIds(scope: Scope): IdSource {
  let n = 0;
  return {
    next: (prefix) =>
      newResourceId(prefix, (len) =>
        createHash('sha256')
          .update(`weir default ${scope.accountId} ${scope.region} ${prefix} ${n++}`)
          .digest()
          .subarray(0, len),
      ),
  };
}

/** The defaults of `scope`, built by the same code that stores them (so both always agree). */
export async function scopeDefaults(scope: Scope): Promise<ScopeDefaults> {
  const out: { vpc?: Vpc; group?: SecurityGroup; rules: NewRule[] } = { rules: [] };
  const ids = derivedIds(scope);
  await insertVpcWithDefaultGroup(
    {
      insertVpc: async (_s, vpc) => void (out.vpc = vpc),
      insertGroup: async (_s, group) => void (out.group = group),
      insertRules: async (_s, rules) => void out.rules.push(...rules),
    },
    scope,
    ids,
    {
      vpcId: ids.next('vpc'),
      cidrBlock: DEFAULT_VPC_CIDR,
      isDefault: true,
      ownerId: scope.accountId,
      state: 'available',
      tags: [],
    },
  );
  if (!out.vpc || !out.group) throw new Error('the default VPC and group were not built');
  return { vpc: out.vpc, group: out.group, rules: out.rules };
}

const key = (scope: Scope): string => `${scope.accountId}/${scope.region}`;

/**
 * Stores a scope's defaults on its first write, and gives reads a view of the store in which
 * an unwritten scope shows them without storing anything.
 *
 * Reads create nothing: read-only keys signing for ever new regions used to create a scope,
 * VPC, group and rules per region, and grow `known` without end. `known` now grows only when
 * a scope is stored (a write, by an admin key, in a served region) or found stored, so it is
 * bounded by accounts × served regions.
 */
export class ScopeRegistry {
  private readonly known = new Set<string>();
  /** The store as action handlers see it: unwritten scopes show their defaults. */
  readonly view: Store;
  constructor(private readonly store: Store) {
    this.view = {
      transaction: (scope, fn, opts) =>
        this.store.transaction(
          scope,
          async (tx) => {
            if (scope === undefined || this.known.has(key(scope))) return fn(tx);
            if (await tx.getScope(scope)) {
              this.known.add(key(scope));
              return fn(tx);
            }
            return fn(new DefaultScopeView(tx, scope, await scopeDefaults(scope)));
          },
          opts,
        ),
      subscribe: (listener) => this.store.subscribe(listener),
      close: () => this.store.close(),
    };
  }

  /** Scopes known to be stored (for tests: reads must not make it grow). */
  get size(): number {
    return this.known.size;
  }

  /** Makes sure `scope` is stored, with its defaults, before a write. */
  async ensure(scope: Scope): Promise<void> {
    if (this.known.has(key(scope))) return;
    const defaults = await scopeDefaults(scope);
    await this.store.transaction(scope, async (tx) => {
      if (await tx.getScope(scope)) return;
      await tx.insertScope(scope, { defaultVpcId: defaults.vpc.vpcId });
      await tx.insertVpc(scope, defaults.vpc);
      await tx.insertGroup(scope, defaults.group);
      await tx.insertRules(scope, defaults.rules);
    });
    this.known.add(key(scope));
  }
}
