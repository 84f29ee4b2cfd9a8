/**
 * @module api/actions/rules-filters.test — DescribeSecurityGroupRules' `group-id` filter as EC2
 * answers it (moto 5.2.1's test_invalid_security_group_id_in_rules_search): a value that cannot
 * be a group ID is `InvalidGroupId.Malformed`; a well-formed ID of no group matches nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ec2Error } from '../../model/index.js';
import { openSqliteStore } from '../../store/index.js';
import type { Store } from '../../store/index.js';
import { DEFAULT_API_CONFIG, randomIds } from '../context.js';
import type { ActionContext } from '../context.js';
import { ScopeRegistry } from '../scope.js';
import { ACTIONS } from './index.js';

const scope = { accountId: '123456789012', region: 'us-east-1' };

describe('DescribeSecurityGroupRules filtered by group-id', () => {
  let store: Store;
  let ctx: ActionContext;
  beforeEach(async () => {
    store = openSqliteStore({ file: ':memory:' });
    await new ScopeRegistry(store).ensure(scope);
    ctx = {
      store,
      scope,
      caller: {
        accessKeyId: 'AKIAR',
        secretAccessKey: 's',
        accountId: scope.accountId,
        role: 'readonly',
        profile: 'r',
        principal: 'r',
      },
      dryRun: false,
      config: DEFAULT_API_CONFIG,
      ids: randomIds,
      now: () => new Date(),
      declaredAttachments: undefined,
    };
  });
  afterEach(() => store.close());

  const describeRules = (values: string[]) =>
    ACTIONS['DescribeSecurityGroupRules']!.handler(ctx, {
      Filters: [{ Name: 'group-id', Values: values }],
    }) as Promise<{
      SecurityGroupRules: unknown[];
    }>;

  it('a malformed ID is InvalidGroupId.Malformed naming it', async () => {
    const err = await describeRules(['foobar']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Ec2Error);
    expect(err).toMatchObject({
      code: 'InvalidGroupId.Malformed',
      message: "The security group ID 'foobar' is malformed",
    });
  });

  it('a well-formed ID of no group matches nothing; a wildcard is a pattern, not an ID', async () => {
    expect((await describeRules(['sg-005216b55886f0fdc'])).SecurityGroupRules).toEqual([]);
    expect((await describeRules(['sg-*'])).SecurityGroupRules).toHaveLength(2);
  });
});
