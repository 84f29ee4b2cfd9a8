/**
 * @module store/store.suite — the `Store` contract as one test suite. Every driver runs it in
 * three lines (as hono's routers run `common.case.test.ts`), so SQLite and PostgreSQL are held
 * to the same behaviour. Not a test file itself: vitest only collects `*.test.ts`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  ManagedPrefixList,
  PrefixListEntry,
  RuleTarget,
  Scope,
  SecurityGroup,
  SecurityGroupRule,
  Tag,
  Vpc,
} from '../model/index.js';
import type {
  AuditDigest,
  AuditRecord,
  ChangeEvent,
  ExceptionRecord,
  NewRule,
  Store,
  StoredBundle,
  StoreTx,
  TagRecord,
} from './types.js';
import { DuplicateRuleKeyError } from './types.js';

/** What a driver's factory hands the suite: a fresh, empty store. */
export interface StoreFixture {
  readonly store: Store;
  /** Closes whatever store the fixture has open (the suite may already have closed it) and frees it. */
  cleanup(): Promise<void>;
  /**
   * Closes the open store and opens the same database again. Absent where data cannot outlive
   * the store (an in-memory database); the reopen test is then skipped.
   */
  reopen?(): Promise<Store>;
}

const A: Scope = { accountId: '111111111111', region: 'us-east-1' };
/** Same region as A, another account. */
const B: Scope = { accountId: '222222222222', region: 'us-east-1' };
/** Same account as A, another region. */
const C: Scope = { accountId: '111111111111', region: 'eu-west-1' };

function vpc(vpcId: string, extra: Partial<Vpc> = {}): Vpc {
  return {
    vpcId,
    cidrBlock: '172.31.0.0/16',
    isDefault: false,
    ownerId: A.accountId,
    state: 'available',
    tags: [],
    ...extra,
  };
}

function group(groupId: string, vpcId: string, groupName: string, extra: Partial<SecurityGroup> = {}) {
  const g: SecurityGroup = {
    groupId,
    groupName,
    description: `${groupName} group`,
    vpcId,
    ownerId: A.accountId,
    isDefault: false,
    tags: [],
    ...extra,
  };
  return g;
}

let ruleSeq = 0;
/** A rule whose key is derived from its spec, as the API layer derives it. */
function rule(
  groupId: string,
  direction: 'egress' | 'ingress',
  target: RuleTarget,
  extra: Partial<SecurityGroupRule> = {},
): NewRule {
  const r: SecurityGroupRule = {
    ruleId: `sgr-${String(++ruleSeq).padStart(4, '0')}`,
    groupId,
    groupOwnerId: A.accountId,
    direction,
    ipProtocol: 'tcp',
    fromPort: 443,
    toPort: 443,
    target,
    tags: [],
    ...extra,
  };
  return { rule: r, key: keyOf(r) };
}

function keyOf(r: SecurityGroupRule): string {
  const t = r.target;
  const dest =
    t.kind === 'ipv4' || t.kind === 'ipv6'
      ? t.cidr
      : t.kind === 'prefixList'
        ? t.prefixListId
        : `${t.userId}/${t.groupId}`;
  return `${r.direction}|${r.ipProtocol}|${r.fromPort}|${r.toPort}|${t.kind}|${dest}`;
}

const ipv4 = (cidr: string): RuleTarget => ({ kind: 'ipv4', cidr });
const ipv6 = (cidr: string): RuleTarget => ({ kind: 'ipv6', cidr });
const pl = (prefixListId: string): RuleTarget => ({ kind: 'prefixList', prefixListId });
const sg = (groupId: string, vpcId?: string): RuleTarget => ({
  kind: 'group',
  groupId,
  userId: A.accountId,
  ...(vpcId !== undefined ? { vpcId } : {}),
});

function prefixList(prefixListId: string, extra: Partial<ManagedPrefixList> = {}): ManagedPrefixList {
  return {
    prefixListId,
    prefixListName: `list-${prefixListId}`,
    addressFamily: 'IPv4',
    maxEntries: 10,
    version: 1,
    state: 'create-complete',
    ownerId: A.accountId,
    tags: [],
    ...extra,
  };
}

const ids = (xs: readonly { ruleId: string }[]): string[] => xs.map((x) => x.ruleId);
const cmp = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
/**
 * `listTags` order is not yet settled (types.ts says creation order for every list; SQLite
 * sorts by resource and key, which DescribeTags relies on), so the suite compares it sorted.
 */
const byResourceAndKey = (tags: readonly TagRecord[]): TagRecord[] =>
  [...tags].sort((x, y) => cmp(x.resourceId, y.resourceId) || cmp(x.key, y.key));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Registers the whole `Store` contract as a vitest suite. `makeStore` must return a new, empty
 * store each call; the suite cleans it up after each test.
 */
export function runStoreTests(name: string, makeStore: () => Promise<StoreFixture>): void {
  describe(`Store contract: ${name}`, () => {
    let fx: StoreFixture;
    let store: Store;

    beforeEach(async () => {
      fx = await makeStore();
      store = fx.store;
    });
    afterEach(async () => {
      await fx.cleanup();
    });

    const write = <T>(scope: Scope, fn: (tx: StoreTx) => Promise<T>): Promise<T> =>
      store.transaction(scope, fn);
    const read = <T>(scope: Scope, fn: (tx: StoreTx) => Promise<T>): Promise<T> =>
      store.transaction(scope, fn, { readOnly: true });

    /** A VPC, three groups, rules of every target kind, tags and a prefix list, all in A. */
    async function populate(scope: Scope = A) {
      const rules = [
        rule('sg-01', 'egress', ipv4('10.0.0.0/8'), { tags: [{ key: 'Name', value: 'intra' }] }),
        rule('sg-01', 'egress', ipv6('2001:db8::/32'), { description: 'docs' }),
        rule('sg-01', 'egress', pl('pl-01')),
        rule('sg-01', 'ingress', sg('sg-02')),
        rule('sg-02', 'egress', sg('sg-01', 'vpc-01'), { ipProtocol: '-1', fromPort: -1, toPort: -1 }),
        rule('sg-03', 'ingress', pl('pl-01'), { ipProtocol: 'udp', fromPort: 53, toPort: 53 }),
      ];
      await write(scope, async (tx) => {
        await tx.insertScope(scope, { defaultVpcId: 'vpc-01' });
        await tx.insertVpc(scope, vpc('vpc-01', { isDefault: true, tags: [{ key: 'Name', value: 'main' }] }));
        await tx.insertVpc(scope, vpc('vpc-02', { ipv6CidrBlock: '2001:db8:1::/56' }));
        await tx.insertGroup(scope, group('sg-01', 'vpc-01', 'default', { isDefault: true }));
        await tx.insertGroup(
          scope,
          group('sg-02', 'vpc-01', 'web', { tags: [{ key: 'tier', value: 'web' }] }),
        );
        await tx.insertGroup(scope, group('sg-03', 'vpc-02', 'web'));
        await tx.insertPrefixList(scope, prefixList('pl-01', { tags: [{ key: 'env', value: 'prod' }] }), [
          { cidr: '192.0.2.0/24', description: 'test-net-1' },
          { cidr: '198.51.100.0/24' },
        ]);
        await tx.insertRules(scope, rules);
      });
      return { rules: rules.map((r) => r.rule) };
    }

    // --- Scopes -------------------------------------------------------------------------------

    describe('scopes', () => {
      it('records what a scope was given and keeps scopes apart', async () => {
        expect(await read(A, (tx) => tx.getScope(A))).toBeUndefined();
        await write(A, (tx) => tx.insertScope(A, { defaultVpcId: 'vpc-01' }));
        await write(C, (tx) => tx.insertScope(C, { defaultVpcId: 'vpc-09' }));
        expect(await read(A, (tx) => tx.getScope(A))).toStrictEqual({ defaultVpcId: 'vpc-01' });
        expect(await read(C, (tx) => tx.getScope(C))).toStrictEqual({ defaultVpcId: 'vpc-09' });
        expect(await read(B, (tx) => tx.getScope(B))).toBeUndefined();
      });
    });

    // --- VPCs ---------------------------------------------------------------------------------

    describe('VPCs', () => {
      it('round-trips every field, with and without the optional ones', async () => {
        const full = vpc('vpc-01', {
          ipv6CidrBlock: '2001:db8::/56',
          isDefault: true,
          tags: [
            { key: 'Name', value: 'main' },
            { key: 'env', value: '' },
          ],
        });
        const bare = vpc('vpc-02', { cidrBlock: '10.1.0.0/16' });
        await write(A, async (tx) => {
          await tx.insertVpc(A, full);
          await tx.insertVpc(A, bare);
        });
        expect(await read(A, (tx) => tx.getVpc(A, 'vpc-01'))).toStrictEqual(full);
        const got = await read(A, (tx) => tx.getVpc(A, 'vpc-02'));
        expect(got).toStrictEqual(bare);
        expect(got).not.toHaveProperty('ipv6CidrBlock');
        expect(await read(A, (tx) => tx.getVpc(A, 'vpc-99'))).toBeUndefined();
      });

      it('lists in creation order, optionally by ID', async () => {
        await write(A, async (tx) => {
          for (const id of ['vpc-0c', 'vpc-0a', 'vpc-0b']) await tx.insertVpc(A, vpc(id));
        });
        const all = await read(A, (tx) => tx.listVpcs(A));
        expect(all.map((v) => v.vpcId)).toEqual(['vpc-0c', 'vpc-0a', 'vpc-0b']);
        const some = await read(A, (tx) => tx.listVpcs(A, ['vpc-0b', 'vpc-0c', 'vpc-99']));
        expect(some.map((v) => v.vpcId)).toEqual(['vpc-0c', 'vpc-0b']);
      });

      it('deletes a VPC and its tags', async () => {
        await write(A, async (tx) => {
          await tx.insertVpc(A, vpc('vpc-01', { tags: [{ key: 'Name', value: 'a' }] }));
          await tx.insertVpc(A, vpc('vpc-02', { tags: [{ key: 'Name', value: 'b' }] }));
        });
        await write(A, (tx) => tx.deleteVpc(A, 'vpc-01'));
        expect(await read(A, (tx) => tx.getVpc(A, 'vpc-01'))).toBeUndefined();
        expect((await read(A, (tx) => tx.listVpcs(A))).map((v) => v.vpcId)).toEqual(['vpc-02']);
        expect(await read(A, (tx) => tx.listTags(A))).toStrictEqual([
          { resourceId: 'vpc-02', resourceType: 'vpc', key: 'Name', value: 'b' },
        ]);
      });
    });

    // --- Security groups ----------------------------------------------------------------------

    describe('security groups', () => {
      it('round-trips a group and finds it by name within its VPC', async () => {
        const g = group('sg-01', 'vpc-01', 'web', {
          description: 'web tier',
          isDefault: true,
          tags: [{ key: 'tier', value: 'web' }],
        });
        await write(A, (tx) => tx.insertGroup(A, g));
        expect(await read(A, (tx) => tx.getGroup(A, 'sg-01'))).toStrictEqual(g);
        expect(await read(A, (tx) => tx.findGroupByName(A, 'vpc-01', 'web'))).toStrictEqual(g);
        expect(await read(A, (tx) => tx.findGroupByName(A, 'vpc-02', 'web'))).toBeUndefined();
        expect(await read(A, (tx) => tx.findGroupByName(A, 'vpc-01', 'Web'))).toBeUndefined();
        expect(await read(A, (tx) => tx.getGroup(A, 'sg-99'))).toBeUndefined();
      });

      it('lists in creation order, filtered by IDs, by VPC, or both', async () => {
        await populate();
        const names = (gs: SecurityGroup[]) => gs.map((g) => g.groupId);
        expect(names(await read(A, (tx) => tx.listGroups(A)))).toEqual(['sg-01', 'sg-02', 'sg-03']);
        expect(names(await read(A, (tx) => tx.listGroups(A, {})))).toEqual(['sg-01', 'sg-02', 'sg-03']);
        expect(names(await read(A, (tx) => tx.listGroups(A, { groupIds: ['sg-03', 'sg-01'] })))).toEqual([
          'sg-01',
          'sg-03',
        ]);
        expect(names(await read(A, (tx) => tx.listGroups(A, { vpcId: 'vpc-01' })))).toEqual([
          'sg-01',
          'sg-02',
        ]);
        expect(
          names(await read(A, (tx) => tx.listGroups(A, { groupIds: ['sg-01', 'sg-03'], vpcId: 'vpc-02' }))),
        ).toEqual(['sg-03']);
        expect(names(await read(A, (tx) => tx.listGroups(A, { vpcId: 'vpc-99' })))).toEqual([]);
        expect(await read(A, (tx) => tx.countGroups(A, 'vpc-01'))).toBe(2);
        expect(await read(A, (tx) => tx.countGroups(A, 'vpc-02'))).toBe(1);
        expect(await read(A, (tx) => tx.countGroups(A, 'vpc-99'))).toBe(0);
        expect(await read(B, (tx) => tx.countGroups(B, 'vpc-01'))).toBe(0);
        const web = await read(A, (tx) => tx.getGroup(A, 'sg-02'));
        expect(web?.tags).toEqual([{ key: 'tier', value: 'web' }]);
      });

      it('refuses a second group of the same name in one VPC, allows it in another', async () => {
        await write(A, (tx) => tx.insertGroup(A, group('sg-01', 'vpc-01', 'web')));
        await expect(write(A, (tx) => tx.insertGroup(A, group('sg-02', 'vpc-01', 'web')))).rejects.toThrow();
        expect(await read(A, (tx) => tx.getGroup(A, 'sg-02'))).toBeUndefined();
        await write(A, (tx) => tx.insertGroup(A, group('sg-03', 'vpc-02', 'web')));
        expect((await read(A, (tx) => tx.findGroupByName(A, 'vpc-02', 'web')))?.groupId).toBe('sg-03');
      });

      it('deleting a group removes its rules, their tags and its tags, and nothing else', async () => {
        const { rules } = await populate();
        await write(A, (tx) => tx.putTags(A, 'sg-01', 'security-group', [{ key: 'k', value: 'v' }]));
        await write(A, (tx) => tx.deleteGroup(A, 'sg-01'));
        expect(await read(A, (tx) => tx.getGroup(A, 'sg-01'))).toBeUndefined();
        const left = await read(A, (tx) => tx.listRules(A));
        expect(ids(left)).toEqual(ids(rules.filter((r) => r.groupId !== 'sg-01')));
        const tagged = (await read(A, (tx) => tx.listTags(A))).map((t) => t.resourceId).sort();
        expect(tagged).toEqual(['pl-01', 'sg-02', 'vpc-01']);
        expect(await read(A, (tx) => tx.countRules(A, 'sg-01', 'egress'))).toBe(0);
      });
    });

    // --- Rules --------------------------------------------------------------------------------

    describe('rules', () => {
      it('inserts many rules in one call and lists them in insertion order, every target kind intact', async () => {
        const { rules } = await populate();
        const all = await read(A, (tx) => tx.listRules(A));
        expect(all).toStrictEqual(rules);
        // Optional fields stay absent rather than coming back as null or undefined.
        expect(all[0]).not.toHaveProperty('description');
        expect(all[3]?.target).not.toHaveProperty('vpcId');
        expect(all[4]?.target).toStrictEqual({
          kind: 'group',
          groupId: 'sg-01',
          userId: A.accountId,
          vpcId: 'vpc-01',
        });
      });

      it('lists by group IDs, rule IDs, direction, and their combination', async () => {
        const { rules } = await populate();
        const [r0, r1, r2, r3, r4, r5] = rules;
        const q = (query: Parameters<StoreTx['listRules']>[1]) => read(A, (tx) => tx.listRules(A, query));
        expect(ids(await q({ groupIds: ['sg-02', 'sg-03'] }))).toEqual(ids([r4!, r5!]));
        expect(ids(await q({ ruleIds: [r5!.ruleId, r1!.ruleId] }))).toEqual(ids([r1!, r5!]));
        expect(ids(await q({ direction: 'ingress' }))).toEqual(ids([r3!, r5!]));
        expect(ids(await q({ groupIds: ['sg-01'], direction: 'egress' }))).toEqual(ids([r0!, r1!, r2!]));
        expect(ids(await q({ groupIds: ['sg-01'], ruleIds: [r2!.ruleId, r4!.ruleId] }))).toEqual(ids([r2!]));
        expect(await q({ groupIds: ['sg-99'] })).toEqual([]);
        expect(await q({ ruleIds: ['sgr-none'] })).toEqual([]);
      });

      it('finds a rule by its key within group and direction', async () => {
        const { rules } = await populate();
        const r0 = rules[0]!;
        const key = keyOf(r0);
        expect(await read(A, (tx) => tx.findRuleByKey(A, 'sg-01', 'egress', key))).toStrictEqual(r0);
        expect(await read(A, (tx) => tx.findRuleByKey(A, 'sg-01', 'ingress', key))).toBeUndefined();
        expect(await read(A, (tx) => tx.findRuleByKey(A, 'sg-02', 'egress', key))).toBeUndefined();
        expect(await read(A, (tx) => tx.findRuleByKey(A, 'sg-01', 'egress', 'no-such-key'))).toBeUndefined();
      });

      it('allows the same key in another group or direction', async () => {
        const a = rule('sg-01', 'egress', ipv4('0.0.0.0/0'));
        const inOtherGroup = { rule: { ...a.rule, ruleId: 'sgr-x1', groupId: 'sg-02' }, key: a.key };
        const inOtherDir = {
          rule: { ...a.rule, ruleId: 'sgr-x2', direction: 'ingress' as const },
          key: a.key,
        };
        await write(A, (tx) => tx.insertRules(A, [a, inOtherGroup, inOtherDir]));
        expect(await read(A, (tx) => tx.listRules(A))).toHaveLength(3);
      });

      it('replaceRule changes protocol, ports, target and description, keeping ID, tags and position', async () => {
        const { rules } = await populate();
        const before = rules[0]!;
        const replaced: SecurityGroupRule = {
          ...before,
          ipProtocol: 'udp',
          fromPort: 1000,
          toPort: 2000,
          target: sg('sg-02', 'vpc-01'),
          description: 'now described',
        };
        await write(A, (tx) => tx.replaceRule(A, { rule: replaced, key: keyOf(replaced) }));
        const all = await read(A, (tx) => tx.listRules(A));
        expect(all[0]).toStrictEqual({ ...replaced, tags: [{ key: 'Name', value: 'intra' }] });
        expect(ids(all)).toEqual(ids(rules));
        expect(await read(A, (tx) => tx.findRuleByKey(A, 'sg-01', 'egress', keyOf(before)))).toBeUndefined();
        expect((await read(A, (tx) => tx.findRuleByKey(A, 'sg-01', 'egress', keyOf(replaced))))?.ruleId).toBe(
          before.ruleId,
        );
        // Replacing again without a description removes it.
        const { description: _d, ...plain } = replaced;
        await write(A, (tx) => tx.replaceRule(A, { rule: plain, key: keyOf(plain) }));
        expect((await read(A, (tx) => tx.listRules(A, { ruleIds: [before.ruleId] })))[0]).not.toHaveProperty(
          'description',
        );
      });

      it("replaceRule onto another rule's key raises DuplicateRuleKeyError and changes nothing", async () => {
        const { rules } = await populate();
        const [r0, r1] = rules;
        const clash: SecurityGroupRule = { ...r1!, target: r0!.target, description: 'clash' };
        const err = await write(A, (tx) => tx.replaceRule(A, { rule: clash, key: keyOf(clash) })).catch(
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(DuplicateRuleKeyError);
        expect((err as DuplicateRuleKeyError).key).toBe(keyOf(clash));
        expect(await read(A, (tx) => tx.listRules(A))).toStrictEqual(rules);
      });

      it('deleteRules removes the rules and their tags, and no others', async () => {
        const { rules } = await populate();
        const [r0, r1] = rules;
        await write(A, (tx) => tx.putTags(A, r1!.ruleId, 'security-group-rule', [{ key: 'k', value: 'v' }]));
        await write(A, (tx) => tx.deleteRules(A, [r0!.ruleId, r1!.ruleId, 'sgr-none']));
        expect(ids(await read(A, (tx) => tx.listRules(A)))).toEqual(ids(rules.slice(2)));
        const tagged = await read(A, (tx) => tx.listTags(A, [r0!.ruleId, r1!.ruleId]));
        expect(tagged).toEqual([]);
        // A later rule may reuse a deleted rule's key.
        await write(A, (tx) => tx.insertRules(A, [{ rule: { ...r0!, ruleId: 'sgr-new' }, key: keyOf(r0!) }]));
        expect((await read(A, (tx) => tx.findRuleByKey(A, 'sg-01', 'egress', keyOf(r0!))))?.ruleId).toBe(
          'sgr-new',
        );
      });

      it('counts rules per group and direction', async () => {
        await populate();
        const count = (g: string, d: 'egress' | 'ingress') => read(A, (tx) => tx.countRules(A, g, d));
        expect(await count('sg-01', 'egress')).toBe(3);
        expect(await count('sg-01', 'ingress')).toBe(1);
        expect(await count('sg-02', 'egress')).toBe(1);
        expect(await count('sg-02', 'ingress')).toBe(0);
        expect(await count('sg-99', 'egress')).toBe(0);
      });

      it('lists the prefix lists referenced by a group and direction', async () => {
        await populate();
        const refs = (g: string, d: 'egress' | 'ingress') => read(A, (tx) => tx.prefixListRefs(A, g, d));
        expect(await refs('sg-01', 'egress')).toEqual(['pl-01']);
        expect(await refs('sg-01', 'ingress')).toEqual([]);
        expect(await refs('sg-03', 'ingress')).toEqual(['pl-01']);
        expect(await read(B, (tx) => tx.prefixListRefs(B, 'sg-01', 'egress'))).toEqual([]);
      });

      it('counts references to a group or prefix list, optionally except one group', async () => {
        await populate();
        // A self-reference in sg-01 and one more reference from sg-03.
        await write(A, (tx) =>
          tx.insertRules(A, [rule('sg-01', 'egress', sg('sg-01'), { fromPort: 22, toPort: 22 })]),
        );
        await write(A, (tx) => tx.insertRules(A, [rule('sg-03', 'egress', sg('sg-01'))]));
        const refs = (ref: { groupId: string } | { prefixListId: string }, except?: string) =>
          read(A, (tx) => tx.countReferences(A, ref, except));
        expect(await refs({ groupId: 'sg-01' })).toBe(3);
        expect(await refs({ groupId: 'sg-01' }, 'sg-01')).toBe(2);
        expect(await refs({ groupId: 'sg-01' }, 'sg-03')).toBe(2);
        expect(await refs({ groupId: 'sg-02' })).toBe(1);
        expect(await refs({ groupId: 'sg-02' }, 'sg-01')).toBe(0);
        expect(await refs({ groupId: 'sg-03' })).toBe(0);
        expect(await refs({ prefixListId: 'pl-01' })).toBe(2);
        expect(await refs({ prefixListId: 'pl-01' }, 'sg-03')).toBe(1);
        expect(await refs({ prefixListId: 'pl-99' })).toBe(0);
        // A CIDR target is not a reference, even one that looks like an ID.
        await write(A, (tx) => tx.insertRules(A, [rule('sg-02', 'egress', ipv4('10.9.0.0/16'))]));
        expect(await refs({ groupId: 'sg-02' })).toBe(1);
      });
    });

    // --- Duplicate keys and atomicity ---------------------------------------------------------

    describe('atomicity', () => {
      it('a duplicate of a stored key raises DuplicateRuleKeyError and the transaction stores nothing', async () => {
        const first = rule('sg-01', 'egress', ipv4('10.0.0.0/8'));
        await write(A, (tx) => tx.insertRules(A, [first]));
        const fresh = rule('sg-01', 'egress', ipv4('10.1.0.0/16'), { tags: [{ key: 'k', value: 'v' }] });
        const dup = rule('sg-01', 'egress', ipv4('10.0.0.0/8'));
        const err = await write(A, async (tx) => {
          await tx.insertGroup(A, group('sg-02', 'vpc-01', 'other'));
          await tx.insertRules(A, [fresh, dup]);
        }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(DuplicateRuleKeyError);
        expect((err as DuplicateRuleKeyError).key).toBe(dup.key);
        expect(await read(A, (tx) => tx.listRules(A))).toStrictEqual([first.rule]);
        expect(await read(A, (tx) => tx.getGroup(A, 'sg-02'))).toBeUndefined();
        expect(await read(A, (tx) => tx.listTags(A))).toEqual([]);
      });

      it('a duplicate within one batch raises DuplicateRuleKeyError and stores nothing', async () => {
        const a = rule('sg-01', 'egress', ipv4('10.0.0.0/8'));
        const b = rule('sg-01', 'egress', ipv4('10.0.0.0/8'));
        await expect(write(A, (tx) => tx.insertRules(A, [a, b]))).rejects.toBeInstanceOf(
          DuplicateRuleKeyError,
        );
        expect(await read(A, (tx) => tx.listRules(A))).toEqual([]);
      });

      it('a transaction whose fn throws after writes leaves nothing behind and rejects with that error', async () => {
        await write(A, (tx) => tx.insertVpc(A, vpc('vpc-keep')));
        const boom = new Error('boom');
        await expect(
          write(A, async (tx) => {
            await tx.insertScope(A, { defaultVpcId: 'vpc-01' });
            await tx.insertVpc(A, vpc('vpc-01', { tags: [{ key: 'Name', value: 'x' }] }));
            await tx.insertGroup(A, group('sg-01', 'vpc-01', 'default'));
            await tx.insertRules(A, [rule('sg-01', 'egress', ipv4('0.0.0.0/0'))]);
            await tx.insertPrefixList(A, prefixList('pl-01'), [{ cidr: '192.0.2.0/24' }]);
            await tx.putTags(A, 'vpc-keep', 'vpc', [{ key: 'added', value: 'yes' }]);
            await tx.deleteVpc(A, 'vpc-keep');
            // Writes are visible inside the transaction before it fails.
            expect(await tx.getGroup(A, 'sg-01')).toBeDefined();
            expect(await tx.getVpc(A, 'vpc-keep')).toBeUndefined();
            await sleep(1);
            throw boom;
          }),
        ).rejects.toBe(boom);
        expect(await read(A, (tx) => tx.getScope(A))).toBeUndefined();
        expect((await read(A, (tx) => tx.listVpcs(A))).map((v) => v.vpcId)).toEqual(['vpc-keep']);
        expect(await read(A, (tx) => tx.listGroups(A))).toEqual([]);
        expect(await read(A, (tx) => tx.listRules(A))).toEqual([]);
        expect(await read(A, (tx) => tx.listPrefixLists(A))).toEqual([]);
        expect(await read(A, (tx) => tx.getPrefixListEntries(A, 'pl-01'))).toEqual([]);
        expect(await read(A, (tx) => tx.listTags(A))).toEqual([]);
        // The store carries on after a rollback.
        await write(A, (tx) => tx.insertVpc(A, vpc('vpc-01')));
        expect(await read(A, (tx) => tx.getVpc(A, 'vpc-01'))).toBeDefined();
      });
    });

    // --- Tags ---------------------------------------------------------------------------------

    describe('tags', () => {
      it('putTags adds and overwrites by key, keeping the first position of a key', async () => {
        await write(A, (tx) => tx.insertGroup(A, group('sg-01', 'vpc-01', 'web')));
        await write(A, (tx) =>
          tx.putTags(A, 'sg-01', 'security-group', [
            { key: 'a', value: '1' },
            { key: 'b', value: '2' },
          ]),
        );
        await write(A, (tx) =>
          tx.putTags(A, 'sg-01', 'security-group', [
            { key: 'a', value: 'one' },
            { key: 'c', value: '' },
          ]),
        );
        expect((await read(A, (tx) => tx.getGroup(A, 'sg-01')))?.tags).toStrictEqual([
          { key: 'a', value: 'one' },
          { key: 'b', value: '2' },
          { key: 'c', value: '' },
        ]);
        expect(byResourceAndKey(await read(A, (tx) => tx.listTags(A)))).toStrictEqual([
          { resourceId: 'sg-01', resourceType: 'security-group', key: 'a', value: 'one' },
          { resourceId: 'sg-01', resourceType: 'security-group', key: 'b', value: '2' },
          { resourceId: 'sg-01', resourceType: 'security-group', key: 'c', value: '' },
        ]);
      });

      it('deleteTags by key, by key and value, and all', async () => {
        const tags: Tag[] = [
          { key: 'a', value: '1' },
          { key: 'b', value: '2' },
          { key: 'c', value: '' },
          { key: 'd', value: '4' },
        ];
        await write(A, async (tx) => {
          await tx.putTags(A, 'vpc-01', 'vpc', tags);
          await tx.putTags(A, 'vpc-02', 'vpc', tags);
        });
        const keysOf = async (id: string) =>
          (await read(A, (tx) => tx.listTags(A, [id]))).map((t) => `${t.key}=${t.value}`).sort();

        await write(A, (tx) =>
          tx.deleteTags(A, 'vpc-01', [
            { key: 'a' }, // any value
            { key: 'b', value: 'not-2' }, // wrong value: kept
            { key: 'c', value: '' }, // empty value is a value
            { key: 'zz' }, // absent: ignored
          ]),
        );
        expect(await keysOf('vpc-01')).toEqual(['b=2', 'd=4']);
        await write(A, (tx) => tx.deleteTags(A, 'vpc-01', [{ key: 'b', value: '2' }]));
        expect(await keysOf('vpc-01')).toEqual(['d=4']);
        expect(await keysOf('vpc-02')).toEqual(['a=1', 'b=2', 'c=', 'd=4']);

        await write(A, (tx) => tx.deleteTags(A, 'vpc-02', undefined));
        expect(await keysOf('vpc-02')).toEqual([]);
        expect(await keysOf('vpc-01')).toEqual(['d=4']);
      });

      it('listTags lists the scope, or only the given resources', async () => {
        const { rules } = await populate();
        const ruleId = rules[0]!.ruleId;
        expect(byResourceAndKey(await read(A, (tx) => tx.listTags(A)))).toStrictEqual([
          { resourceId: 'pl-01', resourceType: 'prefix-list', key: 'env', value: 'prod' },
          { resourceId: 'sg-02', resourceType: 'security-group', key: 'tier', value: 'web' },
          { resourceId: ruleId, resourceType: 'security-group-rule', key: 'Name', value: 'intra' },
          { resourceId: 'vpc-01', resourceType: 'vpc', key: 'Name', value: 'main' },
        ]);
        const some = byResourceAndKey(await read(A, (tx) => tx.listTags(A, ['vpc-01', 'pl-01', 'vpc-99'])));
        expect(some.map((t) => t.resourceId)).toEqual(['pl-01', 'vpc-01']);
        expect(await read(A, (tx) => tx.listTags(A, ['vpc-99']))).toEqual([]);
      });
    });

    // --- Prefix lists -------------------------------------------------------------------------

    describe('prefix lists', () => {
      const v1Entries: PrefixListEntry[] = [
        { cidr: '192.0.2.0/24', description: 'one' },
        { cidr: '198.51.100.0/24' },
        { cidr: '203.0.113.0/24', description: 'three' },
      ];

      async function withV2() {
        const v1 = prefixList('pl-01', { tags: [{ key: 'env', value: 'prod' }] });
        await write(A, (tx) => tx.insertPrefixList(A, v1, v1Entries));
        const v2: ManagedPrefixList = {
          ...v1,
          prefixListName: 'renamed',
          version: 2,
          state: 'modify-complete',
        };
        await write(A, (tx) =>
          tx.updatePrefixList(A, v2, {
            add: [{ cidr: '10.0.0.0/8', description: 'ten' }],
            remove: ['198.51.100.0/24'],
          }),
        );
        return { v1, v2 };
      }

      it('round-trips a list and its entries, and lists lists in creation order', async () => {
        const a = prefixList('pl-0b', {
          addressFamily: 'IPv6',
          maxEntries: 5,
          tags: [{ key: 'k', value: 'v' }],
        });
        const b = prefixList('pl-0a');
        await write(A, async (tx) => {
          await tx.insertPrefixList(A, a, [{ cidr: '2001:db8::/32', description: 'doc' }]);
          await tx.insertPrefixList(A, b, v1Entries);
        });
        expect(await read(A, (tx) => tx.getPrefixList(A, 'pl-0b'))).toStrictEqual(a);
        expect(await read(A, (tx) => tx.getPrefixList(A, 'pl-99'))).toBeUndefined();
        expect(await read(A, (tx) => tx.listPrefixLists(A))).toStrictEqual([a, b]);
        expect(await read(A, (tx) => tx.listPrefixLists(A, ['pl-0a', 'pl-99']))).toStrictEqual([b]);
        expect(await read(A, (tx) => tx.getPrefixListEntries(A, 'pl-0a'))).toStrictEqual(v1Entries);
        const entries = await read(A, (tx) => tx.getPrefixListEntries(A, 'pl-0a'));
        expect(entries[1]).not.toHaveProperty('description');
        expect(await read(A, (tx) => tx.getPrefixListEntries(A, 'pl-99'))).toEqual([]);
      });

      it('a new version adds and removes entries; every past version stays readable', async () => {
        const { v2 } = await withV2();
        expect(await read(A, (tx) => tx.getPrefixList(A, 'pl-01'))).toStrictEqual(v2);
        const at = (v?: number) => read(A, (tx) => tx.getPrefixListEntries(A, 'pl-01', v));
        const v2Entries = [
          { cidr: '192.0.2.0/24', description: 'one' },
          { cidr: '203.0.113.0/24', description: 'three' },
          { cidr: '10.0.0.0/8', description: 'ten' },
        ];
        expect(await at(1)).toStrictEqual(v1Entries);
        expect(await at(2)).toStrictEqual(v2Entries);
        expect(await at()).toStrictEqual(v2Entries);

        const v3: ManagedPrefixList = { ...v2, version: 3 };
        await write(A, (tx) =>
          tx.updatePrefixList(A, v3, { add: [], remove: ['192.0.2.0/24', '203.0.113.0/24', '10.0.0.0/8'] }),
        );
        expect(await at()).toEqual([]);
        expect(await at(2)).toStrictEqual(v2Entries);
        // A removed CIDR can come back in a later version.
        await write(A, (tx) =>
          tx.updatePrefixList(A, { ...v3, version: 4 }, { add: [{ cidr: '198.51.100.0/24' }], remove: [] }),
        );
        expect(await at()).toStrictEqual([{ cidr: '198.51.100.0/24' }]);
        expect(await at(1)).toStrictEqual(v1Entries);
      });

      it('re-adding a live CIDR replaces its description from that version on', async () => {
        const { v2 } = await withV2();
        await write(A, (tx) =>
          tx.updatePrefixList(
            A,
            { ...v2, version: 3 },
            {
              add: [{ cidr: '192.0.2.0/24', description: 'renamed' }, { cidr: '203.0.113.0/24' }],
              remove: [],
            },
          ),
        );
        const byCidr = async (v: number) =>
          new Map((await read(A, (tx) => tx.getPrefixListEntries(A, 'pl-01', v))).map((e) => [e.cidr, e]));
        const v3 = await byCidr(3);
        expect(v3.size).toBe(3);
        expect(v3.get('192.0.2.0/24')).toStrictEqual({ cidr: '192.0.2.0/24', description: 'renamed' });
        expect(v3.get('203.0.113.0/24')).toStrictEqual({ cidr: '203.0.113.0/24' });
        expect(v3.get('10.0.0.0/8')).toStrictEqual({ cidr: '10.0.0.0/8', description: 'ten' });
        expect((await byCidr(2)).get('192.0.2.0/24')).toStrictEqual({
          cidr: '192.0.2.0/24',
          description: 'one',
        });
        expect((await byCidr(1)).get('203.0.113.0/24')).toStrictEqual({
          cidr: '203.0.113.0/24',
          description: 'three',
        });
      });

      it('an update without a change rewrites the list fields and keeps the entries', async () => {
        const { v2 } = await withV2();
        const resized: ManagedPrefixList = { ...v2, maxEntries: 20, version: 3, prefixListName: 'bigger' };
        await write(A, (tx) => tx.updatePrefixList(A, resized));
        expect(await read(A, (tx) => tx.getPrefixList(A, 'pl-01'))).toStrictEqual(resized);
        expect(await read(A, (tx) => tx.getPrefixListEntries(A, 'pl-01'))).toStrictEqual(
          await read(A, (tx) => tx.getPrefixListEntries(A, 'pl-01', 2)),
        );
      });

      it('deletes a list, its entries and its tags', async () => {
        await withV2();
        await write(A, (tx) => tx.insertPrefixList(A, prefixList('pl-02'), [{ cidr: '10.0.0.0/8' }]));
        await write(A, (tx) => tx.deletePrefixList(A, 'pl-01'));
        expect(await read(A, (tx) => tx.getPrefixList(A, 'pl-01'))).toBeUndefined();
        expect(await read(A, (tx) => tx.getPrefixListEntries(A, 'pl-01', 1))).toEqual([]);
        expect(await read(A, (tx) => tx.listTags(A, ['pl-01']))).toEqual([]);
        expect((await read(A, (tx) => tx.listPrefixLists(A))).map((p) => p.prefixListId)).toEqual(['pl-02']);
        expect(await read(A, (tx) => tx.getPrefixListEntries(A, 'pl-02'))).toStrictEqual([
          { cidr: '10.0.0.0/8' },
        ]);
      });
    });

    // --- Scope isolation ----------------------------------------------------------------------

    describe('scope isolation', () => {
      it("another account or region sees nothing of a scope's objects, even asked by ID", async () => {
        const { rules } = await populate(A);
        const ruleIds = ids(rules);
        for (const other of [B, C]) {
          const seen = await read(other, async (tx) => ({
            scope: await tx.getScope(other),
            vpc: await tx.getVpc(other, 'vpc-01'),
            vpcs: await tx.listVpcs(other),
            vpcsById: await tx.listVpcs(other, ['vpc-01', 'vpc-02']),
            group: await tx.getGroup(other, 'sg-01'),
            byName: await tx.findGroupByName(other, 'vpc-01', 'default'),
            groups: await tx.listGroups(other),
            groupsById: await tx.listGroups(other, { groupIds: ['sg-01', 'sg-02'], vpcId: 'vpc-01' }),
            rules: await tx.listRules(other),
            rulesById: await tx.listRules(other, { ruleIds, groupIds: ['sg-01', 'sg-02', 'sg-03'] }),
            byKey: await tx.findRuleByKey(other, 'sg-01', 'egress', keyOf(rules[0]!)),
            count: await tx.countRules(other, 'sg-01', 'egress'),
            groupRefs: await tx.countReferences(other, { groupId: 'sg-01' }),
            listRefs: await tx.countReferences(other, { prefixListId: 'pl-01' }),
            tags: await tx.listTags(other),
            tagsById: await tx.listTags(other, ['vpc-01', 'sg-02', 'pl-01', ...ruleIds]),
            list: await tx.getPrefixList(other, 'pl-01'),
            lists: await tx.listPrefixLists(other),
            listsById: await tx.listPrefixLists(other, ['pl-01']),
            entries: await tx.getPrefixListEntries(other, 'pl-01'),
            entriesV1: await tx.getPrefixListEntries(other, 'pl-01', 1),
          }));
          expect(seen).toStrictEqual({
            scope: undefined,
            vpc: undefined,
            vpcs: [],
            vpcsById: [],
            group: undefined,
            byName: undefined,
            groups: [],
            groupsById: [],
            rules: [],
            rulesById: [],
            byKey: undefined,
            count: 0,
            groupRefs: 0,
            listRefs: 0,
            tags: [],
            tagsById: [],
            list: undefined,
            lists: [],
            listsById: [],
            entries: [],
            entriesV1: [],
          });
        }
      });

      it("writes in another scope naming a scope's IDs leave that scope untouched", async () => {
        const { rules } = await populate(A);
        const snapshot = () =>
          read(A, async (tx) => ({
            vpcs: await tx.listVpcs(A),
            groups: await tx.listGroups(A),
            rules: await tx.listRules(A),
            tags: byResourceAndKey(await tx.listTags(A)),
            lists: await tx.listPrefixLists(A),
            entries: await tx.getPrefixListEntries(A, 'pl-01'),
          }));
        const before = await snapshot();
        const r0 = rules[0]!;
        for (const other of [B, C]) {
          await write(other, async (tx) => {
            await tx.deleteTags(other, 'vpc-01', undefined);
            await tx.deleteTags(other, 'sg-02', [{ key: 'tier' }]);
            await tx.putTags(other, 'pl-01', 'prefix-list', [
              { key: 'env', value: 'hijacked' },
              { key: 'extra', value: 'x' },
            ]);
            const moved: SecurityGroupRule = { ...r0, target: ipv4('0.0.0.0/0') };
            await tx.replaceRule(other, { rule: moved, key: keyOf(moved) });
            await tx.updatePrefixList(other, prefixList('pl-01', { version: 2, prefixListName: 'x' }), {
              add: [{ cidr: '0.0.0.0/0' }],
              remove: ['192.0.2.0/24', '198.51.100.0/24'],
            });
            await tx.deleteRules(other, ids(rules));
            await tx.deleteGroup(other, 'sg-01');
            await tx.deleteGroup(other, 'sg-02');
            await tx.deleteVpc(other, 'vpc-01');
            await tx.deletePrefixList(other, 'pl-01');
          });
        }
        expect(await snapshot()).toStrictEqual(before);
      });
    });

    // --- Transactions -------------------------------------------------------------------------

    describe('transactions', () => {
      it('returns what fn returns', async () => {
        expect(await write(A, async () => 42)).toBe(42);
        expect(await read(A, async () => 'r')).toBe('r');
        expect(await store.transaction(undefined, async () => 'no scope')).toBe('no scope');
      });

      it('serializes concurrent read-modify-write transactions: no update is lost', async () => {
        await write(A, (tx) => tx.insertPrefixList(A, prefixList('pl-01'), []));
        const n = 25;
        const seen: number[] = [];
        await Promise.all(
          Array.from({ length: n }, (_, i) =>
            write(A, async (tx) => {
              const cur = (await tx.getPrefixList(A, 'pl-01'))!;
              seen.push(cur.version);
              // Yield to the event loop between read and write, where another writer could slip in.
              await sleep(i % 3);
              await tx.updatePrefixList(
                A,
                { ...cur, version: cur.version + 1 },
                { add: [{ cidr: `10.${i}.0.0/16` }], remove: [] },
              );
            }),
          ),
        );
        expect((await read(A, (tx) => tx.getPrefixList(A, 'pl-01')))?.version).toBe(n + 1);
        expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
        expect(await read(A, (tx) => tx.getPrefixListEntries(A, 'pl-01'))).toHaveLength(n);
      });

      it('read-only transactions see committed data and run alongside writers', async () => {
        await write(A, (tx) => tx.insertVpc(A, vpc('vpc-01')));
        const results = await Promise.all([
          read(A, async (tx) => (await tx.listVpcs(A)).length),
          write(A, async (tx) => {
            await sleep(1);
            await tx.insertVpc(A, vpc('vpc-02'));
          }),
          read(A, async (tx) => {
            // Two reads in one read-only transaction agree with each other.
            const first = (await tx.listVpcs(A)).length;
            await sleep(1);
            return [first, (await tx.listVpcs(A)).length];
          }),
        ]);
        expect(results[0]).toBeGreaterThanOrEqual(1);
        const [first, second] = results[2];
        expect(first).toBe(second);
        expect(await read(A, async (tx) => (await tx.listVpcs(A)).length)).toBe(2);
      });

      it('a read-only transaction that writes stores nothing', async () => {
        await read(A, (tx) => tx.insertVpc(A, vpc('vpc-01'))).catch(() => undefined);
        expect(await read(A, (tx) => tx.listVpcs(A))).toEqual([]);
      });
    });

    // --- Workloads, tokens, bundles ------------------------------------------------------------

    describe('workload attachments', () => {
      const t0 = new Date('2026-11-01T10:00:00.123Z');
      const t1 = new Date('2026-11-02T10:00:00.456Z');
      const checkout = 'spiffe://prod.example/ns/payments/sa/checkout';
      const builder = 'spiffe://prod.example/ns/ci/sa/builder';

      it('attach, list (all, by identity, by group, both), detach', async () => {
        await populate(A);
        await write(A, async (tx) => {
          await tx.attachWorkload(A, { identity: checkout, groupId: 'sg-02', createdAt: t0 });
          await tx.attachWorkload(A, { identity: builder, groupId: 'sg-02', createdAt: t1 });
          await tx.attachWorkload(A, { identity: checkout, groupId: 'sg-03', createdAt: t1 });
        });
        expect(await read(A, (tx) => tx.listWorkloadAttachments(A))).toStrictEqual([
          { identity: checkout, groupId: 'sg-02', createdAt: t0 },
          { identity: builder, groupId: 'sg-02', createdAt: t1 },
          { identity: checkout, groupId: 'sg-03', createdAt: t1 },
        ]);
        const of = (q: { identity?: string; groupId?: string }) =>
          read(A, async (tx) =>
            (await tx.listWorkloadAttachments(A, q)).map((a) => `${a.identity} ${a.groupId}`),
          );
        expect(await of({ identity: checkout })).toEqual([`${checkout} sg-02`, `${checkout} sg-03`]);
        expect(await of({ groupId: 'sg-02' })).toEqual([`${checkout} sg-02`, `${builder} sg-02`]);
        expect(await of({ identity: builder, groupId: 'sg-03' })).toEqual([]);

        expect(await write(A, (tx) => tx.detachWorkload(A, checkout, 'sg-02'))).toBe(true);
        expect(await write(A, (tx) => tx.detachWorkload(A, checkout, 'sg-02'))).toBe(false);
        expect(await of({})).toEqual([`${builder} sg-02`, `${checkout} sg-03`]);
      });

      it('attaching the same pair again is a no-op that keeps the first time', async () => {
        await write(A, (tx) => tx.attachWorkload(A, { identity: checkout, groupId: 'sg-01', createdAt: t0 }));
        await write(A, (tx) => tx.attachWorkload(A, { identity: checkout, groupId: 'sg-01', createdAt: t1 }));
        expect(await read(A, (tx) => tx.listWorkloadAttachments(A))).toStrictEqual([
          { identity: checkout, groupId: 'sg-01', createdAt: t0 },
        ]);
      });

      it('scopes are apart: another account or region neither sees nor detaches', async () => {
        await write(A, (tx) => tx.attachWorkload(A, { identity: checkout, groupId: 'sg-01', createdAt: t0 }));
        expect(await read(B, (tx) => tx.listWorkloadAttachments(B))).toEqual([]);
        expect(await read(C, (tx) => tx.listWorkloadAttachments(C, { identity: checkout }))).toEqual([]);
        expect(await write(B, (tx) => tx.detachWorkload(B, checkout, 'sg-01'))).toBe(false);
        expect(await read(A, (tx) => tx.listWorkloadAttachments(A))).toHaveLength(1);
      });

      it('deleting a group drops its attachments, and only its own', async () => {
        await populate(A);
        await write(A, async (tx) => {
          await tx.attachWorkload(A, { identity: checkout, groupId: 'sg-02', createdAt: t0 });
          await tx.attachWorkload(A, { identity: checkout, groupId: 'sg-03', createdAt: t0 });
        });
        await write(A, (tx) => tx.deleteGroup(A, 'sg-02'));
        expect((await read(A, (tx) => tx.listWorkloadAttachments(A))).map((a) => a.groupId)).toEqual([
          'sg-03',
        ]);
      });

      it('a rolled-back attach stores nothing', async () => {
        await write(A, async (tx) => {
          await tx.attachWorkload(A, { identity: checkout, groupId: 'sg-01', createdAt: t0 });
          throw new Error('rolled back');
        }).catch(() => undefined);
        expect(await read(A, (tx) => tx.listWorkloadAttachments(A))).toEqual([]);
      });

      it('listScopes names every scope used, in creation order', async () => {
        expect(await store.transaction(undefined, (tx) => tx.listScopes(), { readOnly: true })).toEqual([]);
        await write(C, (tx) => tx.insertScope(C, { defaultVpcId: 'vpc-09' }));
        await write(A, (tx) => tx.insertScope(A, { defaultVpcId: 'vpc-01' }));
        expect(await store.transaction(undefined, (tx) => tx.listScopes(), { readOnly: true })).toStrictEqual(
          [C, A],
        );
      });
    });

    describe('revoked tokens', () => {
      const server = <T>(fn: (tx: StoreTx) => Promise<T>, readOnly = false): Promise<T> =>
        store.transaction(undefined, fn, { readOnly });
      const now = new Date('2026-11-23T12:00:00.000Z');
      const at = (ms: number): Date => new Date(now.getTime() + ms);

      it('lists only tokens not yet expired, with every field, in revocation order', async () => {
        await server(async (tx) => {
          await tx.revokeToken({ id: 'tok-a', identity: 'spiffe://a', expires: at(60_000), revokedAt: now });
          await tx.revokeToken({ id: 'tok-b', expires: at(1), revokedAt: at(-5) });
          await tx.revokeToken({ id: 'tok-c', identity: 'spiffe://c', expires: now, revokedAt: at(-10) });
          await tx.revokeToken({ id: 'tok-d', expires: at(-1), revokedAt: at(-10) });
        });
        expect(await server((tx) => tx.listRevokedTokens(now), true)).toStrictEqual([
          { id: 'tok-a', identity: 'spiffe://a', expires: at(60_000), revokedAt: now },
          { id: 'tok-b', expires: at(1), revokedAt: at(-5) },
        ]);
        expect((await server((tx) => tx.listRevokedTokens(at(1)), true)).map((t) => t.id)).toEqual(['tok-a']);
        expect(await server((tx) => tx.listRevokedTokens(at(60_000)), true)).toEqual([]);
        // Before its expiry, a token is listed: tok-c (expires now) is, tok-d (expired at -1 ms) is not.
        expect((await server((tx) => tx.listRevokedTokens(at(-1)), true)).map((t) => t.id)).toEqual([
          'tok-a',
          'tok-b',
          'tok-c',
        ]);
      });

      it('records issued tokens once each, lists them in issue order (unexpired given a time), finds one by ID', async () => {
        const t1 = { id: 'iss-a', identity: 'spiffe://a', issued: at(-10), expires: at(60_000) };
        const t2 = { id: 'iss-b', identity: 'spiffe://b', issued: at(-5), expires: at(-1) };
        await server(async (tx) => {
          await tx.recordIssuedToken(t1);
          await tx.recordIssuedToken(t2);
          await tx.recordIssuedToken({ ...t1, identity: 'spiffe://other' });
        });
        expect(await server((tx) => tx.listIssuedTokens(), true)).toStrictEqual([t1, t2]);
        expect(await server((tx) => tx.listIssuedTokens(now), true)).toStrictEqual([t1]);
        expect(await server((tx) => tx.getIssuedToken('iss-b'), true)).toStrictEqual(t2);
        expect(await server((tx) => tx.getIssuedToken('nope'), true)).toBeUndefined();
      });

      it('revoking the same ID again keeps the first record', async () => {
        await server((tx) => tx.revokeToken({ id: 'tok-a', expires: at(1000), revokedAt: now }));
        await server((tx) =>
          tx.revokeToken({ id: 'tok-a', identity: 'spiffe://x', expires: at(9000), revokedAt: at(5) }),
        );
        expect(await server((tx) => tx.listRevokedTokens(now), true)).toStrictEqual([
          { id: 'tok-a', expires: at(1000), revokedAt: now },
        ]);
      });

      it('tokens are server-wide: a scoped transaction sees them too', async () => {
        await server((tx) => tx.revokeToken({ id: 'tok-a', expires: at(1000), revokedAt: now }));
        expect(await read(B, (tx) => tx.listRevokedTokens(now))).toHaveLength(1);
      });
    });

    describe('policy bundles', () => {
      const server = <T>(fn: (tx: StoreTx) => Promise<T>, readOnly = false): Promise<T> =>
        store.transaction(undefined, fn, { readOnly });
      const bundle = (version: string, text: string): StoredBundle => ({
        bytes: Buffer.from(text),
        version,
        hash: `sha256:${version.padStart(64, '0')}`,
        appliedAt: new Date(`2026-11-2${version}T00:00:00.000Z`),
      });

      it('none at first; then always the last one put, bytes intact', async () => {
        expect(await server((tx) => tx.getPolicyBundle(), true)).toBeUndefined();
        const binary = Buffer.from([0, 255, 10, 13, 0x7b]);
        await server((tx) => tx.putPolicyBundle({ ...bundle('1', ''), bytes: binary }));
        const first = await server((tx) => tx.getPolicyBundle(), true);
        expect(first).toStrictEqual({ ...bundle('1', ''), bytes: binary });
        expect(Buffer.isBuffer(first?.bytes)).toBe(true);
        await server((tx) => tx.putPolicyBundle(bundle('2', '{"b":2}')));
        expect(await server((tx) => tx.getPolicyBundle(), true)).toStrictEqual(bundle('2', '{"b":2}'));
      });

      it('a rolled-back put leaves the previous bundle in force', async () => {
        await server((tx) => tx.putPolicyBundle(bundle('1', 'one')));
        await server(async (tx) => {
          await tx.putPolicyBundle(bundle('2', 'two'));
          throw new Error('rolled back');
        }).catch(() => undefined);
        expect((await server((tx) => tx.getPolicyBundle(), true))?.version).toBe('1');
      });

      it('the history lists every bundle applied, newest first, at most the limit asked', async () => {
        expect(await server((tx) => tx.listPolicyBundles(10), true)).toStrictEqual([]);
        await server((tx) => tx.putPolicyBundle(bundle('1', 'one')));
        await server((tx) => tx.putPolicyBundle(bundle('2', 'two')));
        await server((tx) => tx.putPolicyBundle(bundle('3', 'three')));
        expect(await server((tx) => tx.listPolicyBundles(10), true)).toStrictEqual([
          bundle('3', 'three'),
          bundle('2', 'two'),
          bundle('1', 'one'),
        ]);
        expect((await server((tx) => tx.listPolicyBundles(2), true)).map((b) => b.version)).toStrictEqual([
          '3',
          '2',
        ]);
        expect(await server((tx) => tx.listPolicyBundles(-1), true)).toStrictEqual([]);
      });
    });

    describe('notification outbox', () => {
      const server = <T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> => store.transaction(undefined, fn);
      const note = (dedupeKey?: string) => ({
        event: 'rule.expiring',
        text: 'rule payments/stripe-api expires on 2026-12-20',
        fields: { rule: 'stripe-api' },
        at: new Date('2026-12-06T00:00:00.000Z'),
        ...(dedupeKey !== undefined ? { dedupeKey } : {}),
      });

      it('queues every notice; a dedupe key queued before is dropped, and a rollback queues nothing', async () => {
        expect(await server((tx) => tx.enqueueNotification(note()))).toBe(true);
        expect(await server((tx) => tx.enqueueNotification(note()))).toBe(true);
        expect(await server((tx) => tx.enqueueNotification(note('rule:stripe-api:2026-12-06')))).toBe(true);
        expect(await server((tx) => tx.enqueueNotification(note('rule:stripe-api:2026-12-06')))).toBe(false);
        await server(async (tx) => {
          expect(await tx.enqueueNotification(note('rolled-back'))).toBe(true);
          throw new Error('rolled back');
        }).catch(() => undefined);
        expect(await server((tx) => tx.enqueueNotification(note('rolled-back')))).toBe(true);
      });

      it('a webhook gets what is queued after it was first added; a second add keeps its place', async () => {
        await server((tx) => tx.enqueueNotification(note('before')));
        expect(await server((tx) => tx.addNotificationWebhook('hook-a', new Date(0)))).toBe(true);
        expect(await server((tx) => tx.takeNewNotifications('hook-a'))).toBe(0);
        await server((tx) => tx.enqueueNotification(note('after-1')));
        expect(await server((tx) => tx.addNotificationWebhook('hook-a', new Date(1)))).toBe(false);
        await server((tx) => tx.enqueueNotification(note('after-2')));
        expect(await server((tx) => tx.takeNewNotifications('hook-a'))).toBe(2);
        expect(await server((tx) => tx.takeNewNotifications('hook-a'))).toBe(0);
        expect(await server((tx) => tx.takeNewNotifications('never-added'))).toBe(0);
        const due = await server((tx) => tx.dueNotifications('hook-a', new Date('2030-01-01'), 10));
        expect(due.map((d) => [d.event, d.text, d.fields, d.at.toISOString(), d.attempts])).toEqual([
          ['rule.expiring', note().text, { rule: 'stripe-api' }, '2026-12-06T00:00:00.000Z', 0],
          ['rule.expiring', note().text, { rule: 'stripe-api' }, '2026-12-06T00:00:00.000Z', 0],
        ]);
        expect(due[0]!.seq).toBeLessThan(due[1]!.seq);
        // A webhook added now starts at the end of the outbox.
        expect(await server((tx) => tx.addNotificationWebhook('hook-b', new Date(2)))).toBe(true);
        expect(await server((tx) => tx.takeNewNotifications('hook-b'))).toBe(0);
      });

      it('records attempts per webhook: retried when due again, delivered and given up leave the backlog', async () => {
        const t = (iso: string) => new Date(`2026-12-06T${iso}Z`);
        await server((tx) => tx.addNotificationWebhook('h1', t('00:00:00')));
        await server((tx) => tx.addNotificationWebhook('h2', t('00:00:00')));
        for (const k of ['n1', 'n2', 'n3']) await server((tx) => tx.enqueueNotification(note(k)));
        await server((tx) => tx.takeNewNotifications('h1'));
        await server((tx) => tx.takeNewNotifications('h2'));
        const [a, b, c] = await server((tx) => tx.dueNotifications('h1', t('00:00:00'), 10));
        expect(await server((tx) => tx.dueNotifications('h1', t('00:00:00'), 2))).toHaveLength(2);
        await server(async (tx) => {
          await tx.recordNotificationAttempt('h1', a!.seq, { outcome: 'delivered', at: t('00:00:01') });
          await tx.recordNotificationAttempt('h1', b!.seq, {
            outcome: 'retry',
            at: t('00:00:01'),
            error: 'HTTP 503'.repeat(200),
            nextAttemptAt: t('00:00:05'),
          });
          await tx.recordNotificationAttempt('h1', c!.seq, {
            outcome: 'given-up',
            at: t('00:00:01'),
            error: 'x',
          });
        });
        expect(await server((tx) => tx.dueNotifications('h1', t('00:00:04'), 10))).toEqual([]);
        const again = await server((tx) => tx.dueNotifications('h1', t('00:00:05'), 10));
        expect(again.map((d) => [d.seq, d.attempts])).toEqual([[b!.seq, 1]]);
        expect(await server((tx) => tx.notificationBacklog('h1'))).toEqual({
          pending: 1,
          oldestAt: note().at,
          nextAttemptAt: t('00:00:05'),
        });
        // The other webhook's deliveries are its own.
        expect((await server((tx) => tx.notificationBacklog('h2'))).pending).toBe(3);
        expect(await server((tx) => tx.notificationBacklog('none'))).toEqual({ pending: 0 });
      });
    });

    // --- Audit trail --------------------------------------------------------------------------

    describe('audit trail', () => {
      const server = <T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> => store.transaction(undefined, fn);
      const rec = (seq: number, extra: Partial<AuditRecord> = {}): AuditRecord => ({
        seq,
        prevHash: seq === 1 ? '0'.repeat(64) : `h${seq - 1}`,
        hash: `h${seq}`,
        event: JSON.stringify({ eventName: seq % 2 === 0 ? 'IssueToken' : 'CreateSecurityGroup', n: seq }),
        eventTime: new Date(Date.UTC(2026, 11, 6, 0, seq)),
        eventName: seq % 2 === 0 ? 'IssueToken' : 'CreateSecurityGroup',
        principal: seq <= 2 ? 'alice@example.com' : 'bob@example.com',
        eventId: `00000000-0000-4000-8000-00000000000${seq}`,
        ...extra,
      });
      const digest = (seq: number, lastSeq: number): AuditDigest => ({
        seq,
        lastSeq,
        lastHash: `h${lastSeq}`,
        time: new Date(Date.UTC(2026, 11, 6, 1, seq)),
        previousSignature: seq === 1 ? null : `sig${seq - 1}`,
        keyFingerprint: 'f'.repeat(64),
        signature: `sig${seq}`,
      });

      it('appends records in seq order, reads the tip, and filters by seq, time, principal and event', async () => {
        expect(await server((tx) => tx.lastAuditRecord())).toBeUndefined();
        await server(async (tx) => {
          for (const n of [1, 2, 3, 4]) await tx.appendAuditRecord(rec(n));
        });
        expect(await server((tx) => tx.lastAuditRecord())).toEqual({ seq: 4, hash: 'h4' });
        const all = await server((tx) => tx.listAuditRecords());
        expect(all).toEqual([rec(1), rec(2), rec(3), rec(4)]);
        const seqs = async (q: Parameters<StoreTx['listAuditRecords']>[0]) =>
          (await server((tx) => tx.listAuditRecords(q))).map((r) => r.seq);
        expect(await seqs({ afterSeq: 2 })).toEqual([3, 4]);
        expect(await seqs({ since: new Date(Date.UTC(2026, 11, 6, 0, 3)) })).toEqual([3, 4]);
        expect(await seqs({ principal: 'alice@example.com' })).toEqual([1, 2]);
        expect(await seqs({ eventName: 'IssueToken', principal: 'bob@example.com' })).toEqual([4]);
        expect(await seqs({ limit: 1, afterSeq: 1 })).toEqual([2]);
      });

      it('refuses a record or digest out of seq, and a rolled-back append leaves nothing', async () => {
        await expect(server((tx) => tx.appendAuditRecord(rec(2)))).rejects.toThrow(/does not follow 0/);
        await server((tx) => tx.appendAuditRecord(rec(1)));
        await expect(server((tx) => tx.appendAuditRecord(rec(1)))).rejects.toThrow(/does not follow 1/);
        await server(async (tx) => {
          await tx.appendAuditRecord(rec(2));
          throw new Error('the change failed');
        }).catch(() => undefined);
        expect(await server((tx) => tx.lastAuditRecord())).toEqual({ seq: 1, hash: 'h1' });
        await expect(server((tx) => tx.appendAuditDigest(digest(2, 1)))).rejects.toThrow(/does not follow 0/);
      });

      it('appends and lists signed digests', async () => {
        await server(async (tx) => {
          for (const n of [1, 2, 3]) await tx.appendAuditRecord(rec(n));
          await tx.appendAuditDigest(digest(1, 2));
          await tx.appendAuditDigest(digest(2, 3));
        });
        expect(await server((tx) => tx.listAuditDigests())).toEqual([digest(1, 2), digest(2, 3)]);
        expect(
          await store.transaction(undefined, (tx) => tx.listAuditDigests(), { readOnly: true }),
        ).toHaveLength(2);
      });
    });

    describe('exceptions', () => {
      const server = <T>(fn: (tx: StoreTx) => Promise<T>, readOnly = false): Promise<T> =>
        store.transaction(undefined, fn, { readOnly });
      const pending = (id: string, identity = 'spiffe://prod.example/ns/a/sa/web'): ExceptionRecord => ({
        id,
        identity,
        destinations: ['api.stripe.com:443/tcp', '10.0.0.0/8:5432/tcp'],
        reason: 'incident 42: reconcile payouts',
        ttlMs: 86_400_000,
        requester: 'dev@example.com',
        requestedAt: new Date('2026-12-06T10:00:00.000Z'),
        state: 'pending',
      });

      it('round-trips a record with and without its optional fields; an unknown ID is undefined', async () => {
        const bare = pending('exc-0123456789abcdef0');
        const full: ExceptionRecord = {
          ...pending('exc-0123456789abcdef1'),
          dataClass: 'pci',
          window: { start: new Date('2026-12-07T00:00:00.000Z'), end: new Date('2026-12-07T06:00:00.000Z') },
          state: 'revoked',
          decidedBy: 'lead@example.com',
          decidedAt: new Date('2026-12-06T11:00:00.000Z'),
          comment: 'ok for the incident',
          expires: new Date('2026-12-07T11:00:00.000Z'),
          revokedBy: 'lead@example.com',
          revokedAt: new Date('2026-12-06T12:00:00.000Z'),
          revokeReason: 'incident closed',
        };
        await server(async (tx) => {
          await tx.insertException(bare);
          await tx.insertException(full);
        });
        expect(await server((tx) => tx.getException(bare.id), true)).toStrictEqual(bare);
        expect(await server((tx) => tx.getException(full.id), true)).toStrictEqual(full);
        expect(await server((tx) => tx.getException('exc-00000000000000000'), true)).toBeUndefined();
      });

      it('lists in request order, by identity and by state; updates in place; a rollback keeps the old record', async () => {
        await server(async (tx) => {
          await tx.insertException(pending('exc-00000000000000001'));
          await tx.insertException(pending('exc-00000000000000002', 'spiffe://prod.example/ns/b/sa/job'));
          await tx.insertException(pending('exc-00000000000000003'));
        });
        const ids = (l: ExceptionRecord[]) => l.map((e) => e.id);
        expect(ids(await server((tx) => tx.listExceptions(), true))).toEqual([
          'exc-00000000000000001',
          'exc-00000000000000002',
          'exc-00000000000000003',
        ]);
        expect(
          ids(
            await server((tx) => tx.listExceptions({ identity: 'spiffe://prod.example/ns/b/sa/job' }), true),
          ),
        ).toEqual(['exc-00000000000000002']);
        const approved: ExceptionRecord = {
          ...pending('exc-00000000000000003'),
          state: 'approved',
          decidedBy: 'lead@example.com',
          decidedAt: new Date('2026-12-06T10:05:00.000Z'),
          expires: new Date('2026-12-07T10:05:00.000Z'),
        };
        expect(await server((tx) => tx.updateException(approved))).toBe(true);
        expect(await server((tx) => tx.updateException(pending('exc-0000000000000dead')))).toBe(false);
        expect(ids(await server((tx) => tx.listExceptions({ states: ['approved'] }), true))).toEqual([
          'exc-00000000000000003',
        ]);
        expect(ids(await server((tx) => tx.listExceptions({ states: [] }), true))).toEqual([]);
        await server(async (tx) => {
          await tx.updateException({ ...approved, state: 'revoked' });
          throw new Error('rolled back');
        }).catch(() => undefined);
        expect(await server((tx) => tx.getException('exc-00000000000000003'), true)).toStrictEqual(approved);
      });

      it('a write names the kind exceptions in its change event; a duplicate ID is refused', async () => {
        const events: ChangeEvent[] = [];
        const unsubscribe = store.subscribe((e) => events.push(e));
        await server((tx) => tx.insertException(pending('exc-00000000000000009')));
        await server((tx) => tx.updateException({ ...pending('exc-00000000000000009'), state: 'denied' }));
        unsubscribe();
        expect(events.map((e) => e.kinds)).toEqual([['exceptions'], ['exceptions']]);
        await expect(server((tx) => tx.insertException(pending('exc-00000000000000009')))).rejects.toThrow();
      });
    });

    // --- Change feed --------------------------------------------------------------------------

    describe('subscribe', () => {
      it('one event per committed write transaction; none for read-only or rolled-back ones', async () => {
        const events: ChangeEvent[] = [];
        const unsubscribe = store.subscribe((e) => events.push(e));
        await write(A, async (tx) => {
          await tx.insertVpc(A, vpc('vpc-01'));
          await tx.insertGroup(A, group('sg-01', 'vpc-01', 'default'));
        });
        await write(C, (tx) => tx.insertVpc(C, vpc('vpc-02')));
        await read(A, (tx) => tx.listVpcs(A));
        await write(A, async (tx) => {
          await tx.insertVpc(A, vpc('vpc-03'));
          throw new Error('rolled back');
        }).catch(() => undefined);
        await write(A, (tx) => tx.insertRules(A, [rule('sg-01', 'egress', ipv4('0.0.0.0/0'))]));
        await write(A, (tx) => tx.insertRules(A, [rule('sg-01', 'egress', ipv4('0.0.0.0/0'))])).catch(
          () => undefined,
        );
        expect(events.map((e) => e.scope)).toEqual([A, C, A]);
        for (const e of events) expect(e.at).toBeInstanceOf(Date);
        expect(events.map((e) => [...e.kinds].sort())).toEqual([['groups'], [], ['rules']]);

        unsubscribe();
        await write(A, (tx) => tx.insertVpc(A, vpc('vpc-04')));
        expect(events).toHaveLength(3);
      });

      it('events name what the transaction wrote, server-wide writes included', async () => {
        const events: ChangeEvent[] = [];
        store.subscribe((e) => events.push(e));
        const now = new Date('2026-11-23T00:00:00Z');
        await write(A, async (tx) => {
          await tx.insertPrefixList(A, prefixList('pl-01'), []);
          await tx.attachWorkload(A, { identity: 'spiffe://x', groupId: 'sg-01', createdAt: now });
        });
        // A no-op attach writes nothing: the event (it has a scope) names no kind.
        await write(A, (tx) =>
          tx.attachWorkload(A, { identity: 'spiffe://x', groupId: 'sg-01', createdAt: now }),
        );
        await write(A, (tx) => tx.detachWorkload(A, 'spiffe://x', 'sg-01'));
        await store.transaction(undefined, async (tx) => {
          await tx.revokeToken({ id: 't1', expires: new Date(now.getTime() + 1000), revokedAt: now });
          await tx.putPolicyBundle({
            bytes: Buffer.from('{}'),
            version: '1',
            hash: 'sha256:0',
            appliedAt: now,
          });
        });
        // A server-wide transaction that wrote nothing tells no one.
        await store.transaction(undefined, (tx) => tx.listScopes());
        expect(events.map((e) => [e.scope, [...e.kinds].sort()])).toEqual([
          [A, ['prefixLists', 'workloads']],
          [A, []],
          [A, ['workloads']],
          [undefined, ['bundle', 'tokens']],
        ]);
      });

      it('events name the groups and prefix lists the transaction wrote', async () => {
        await write(A, async (tx) => {
          await tx.insertVpc(A, vpc('vpc-01'));
          await tx.insertGroup(A, group('sg-01', 'vpc-01', 'a'));
          await tx.insertGroup(A, group('sg-02', 'vpc-01', 'b'));
          await tx.insertPrefixList(A, prefixList('pl-01'), []);
        });
        const events: ChangeEvent[] = [];
        store.subscribe((e) => events.push(e));
        const named = (): [string[], string[]][] =>
          events.splice(0).map((e) => [[...(e.groupIds ?? ['?'])].sort(), [...(e.prefixListIds ?? ['?'])]]);
        const r1 = rule('sg-01', 'egress', ipv4('10.0.0.0/8'));
        const r2 = rule('sg-02', 'egress', pl('pl-01'));
        await write(A, (tx) => tx.insertRules(A, [r1, r2]));
        await write(A, (tx) =>
          tx.putTags(A, r2.rule.ruleId, 'security-group-rule', [{ key: 'k', value: 'v' }]),
        );
        await write(A, (tx) => tx.deleteTags(A, r1.rule.ruleId, undefined));
        await write(A, (tx) => tx.deleteRules(A, [r2.rule.ruleId, 'sgr-none']));
        await write(A, (tx) =>
          tx.updatePrefixList(A, prefixList('pl-01', { version: 2 }), { add: [], remove: [] }),
        );
        await write(A, (tx) =>
          tx.attachWorkload(A, { identity: 'spiffe://x', groupId: 'sg-02', createdAt: new Date(0) }),
        );
        await write(A, (tx) => tx.insertVpc(A, vpc('vpc-02')));
        await write(A, (tx) => tx.deleteGroup(A, 'sg-01'));
        expect(named()).toEqual([
          [['sg-01', 'sg-02'], []],
          [['sg-02'], []],
          [['sg-01'], []],
          [['sg-02'], []],
          [[], ['pl-01']],
          [['sg-02'], []],
          [[], []],
          [['sg-01'], []],
        ]);
      });

      it('events come after the commit: a listener reading the store sees the write', async () => {
        const reads: Promise<string[]>[] = [];
        store.subscribe(() => {
          reads.push(read(A, async (tx) => (await tx.listVpcs(A)).map((v) => v.vpcId)));
        });
        await write(A, (tx) => tx.insertVpc(A, vpc('vpc-01')));
        expect(reads).toHaveLength(1);
        expect(await reads[0]).toEqual(['vpc-01']);
      });

      it("a listener's failure neither fails the write nor starves other listeners", async () => {
        let calls = 0;
        store.subscribe(() => {
          throw new Error('listener bug');
        });
        store.subscribe(() => void calls++);
        await write(A, (tx) => tx.insertVpc(A, vpc('vpc-01')));
        expect(calls).toBe(1);
        expect(await read(A, (tx) => tx.getVpc(A, 'vpc-01'))).toBeDefined();
      });
    });

    // --- Lifecycle ----------------------------------------------------------------------------

    describe('close', () => {
      it('waits for queued transactions, then refuses new ones', async () => {
        const done: number[] = [];
        const pending = Array.from({ length: 5 }, (_, i) =>
          write(A, async (tx) => {
            await sleep(2);
            await tx.insertVpc(A, vpc(`vpc-0${i}`));
            done.push(i);
            return i;
          }),
        );
        await store.close();
        expect(done).toEqual([0, 1, 2, 3, 4]);
        expect(await Promise.all(pending)).toEqual([0, 1, 2, 3, 4]);
        await expect(read(A, (tx) => tx.listVpcs(A))).rejects.toThrow();
        // Closing twice is harmless.
        await store.close();
      });

      it('a reopened store keeps committed data and nothing rolled back', async (ctx) => {
        if (!fx.reopen) return ctx.skip();
        const { rules } = await populate(A);
        const t = new Date('2026-11-23T00:00:00.001Z');
        await write(A, (tx) =>
          tx.attachWorkload(A, { identity: 'spiffe://x', groupId: 'sg-02', createdAt: t }),
        );
        await store.transaction(undefined, async (tx) => {
          await tx.revokeToken({
            id: 'tok',
            identity: 'spiffe://x',
            expires: new Date(t.getTime() + 1),
            revokedAt: t,
          });
          await tx.putPolicyBundle({
            bytes: Buffer.from('{"x":1}'),
            version: '7',
            hash: 'sha256:7',
            appliedAt: t,
          });
        });
        await write(A, async (tx) => {
          await tx.insertVpc(A, vpc('vpc-gone'));
          throw new Error('rolled back');
        }).catch(() => undefined);
        const before = await read(A, async (tx) => ({
          scope: await tx.getScope(A),
          vpcs: await tx.listVpcs(A),
          groups: await tx.listGroups(A),
          rules: await tx.listRules(A),
          tags: byResourceAndKey(await tx.listTags(A)),
          lists: await tx.listPrefixLists(A),
          entries: await tx.getPrefixListEntries(A, 'pl-01', 1),
          attachments: await tx.listWorkloadAttachments(A),
          revoked: await tx.listRevokedTokens(t),
          bundle: await tx.getPolicyBundle(),
        }));
        store = await fx.reopen();
        const after = await read(A, async (tx) => ({
          scope: await tx.getScope(A),
          vpcs: await tx.listVpcs(A),
          groups: await tx.listGroups(A),
          rules: await tx.listRules(A),
          tags: byResourceAndKey(await tx.listTags(A)),
          lists: await tx.listPrefixLists(A),
          entries: await tx.getPrefixListEntries(A, 'pl-01', 1),
          attachments: await tx.listWorkloadAttachments(A),
          revoked: await tx.listRevokedTokens(t),
          bundle: await tx.getPolicyBundle(),
        }));
        expect(after).toStrictEqual(before);
        expect(after.rules).toStrictEqual(rules);
        expect(after.attachments).toHaveLength(1);
        expect(after.revoked).toHaveLength(1);
        expect(after.bundle?.bytes.toString()).toBe('{"x":1}');
        expect(after.vpcs.map((v) => v.vpcId)).toEqual(['vpc-01', 'vpc-02']);
        // And it still takes writes.
        await write(A, (tx) => tx.insertVpc(A, vpc('vpc-03')));
        expect(await read(A, (tx) => tx.getVpc(A, 'vpc-03'))).toBeDefined();
      });
    });
  });
}
