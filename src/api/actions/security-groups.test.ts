/**
 * @module api/actions/security-groups.test — the per-VPC group quota, counted by the store
 * (`countGroups`): the default group counts, a refused create writes nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ec2Error } from '../../model/index.js';
import { openSqliteStore } from '../../store/index.js';
import type { Store } from '../../store/index.js';
import { DEFAULT_API_CONFIG, randomIds } from '../context.js';
import type { ActionContext } from '../context.js';
import type { AccessKey } from '../credentials.js';
import { ScopeRegistry } from '../scope.js';
import { ACTIONS } from './index.js';

const scope = { accountId: '123456789012', region: 'us-east-1' };
const caller: AccessKey = {
  accessKeyId: 'AKIAQUOTA',
  secretAccessKey: 'secret',
  accountId: scope.accountId,
  role: 'admin',
  profile: 'weir',
  principal: 'weir',
};

describe('CreateSecurityGroup quota per VPC', () => {
  let store: Store;
  let ctx: ActionContext;
  beforeEach(async () => {
    store = openSqliteStore({ file: ':memory:' });
    await new ScopeRegistry(store).ensure(scope);
    ctx = {
      store,
      scope,
      caller,
      dryRun: false,
      config: { ...DEFAULT_API_CONFIG, groupsPerVpc: 3 },
      ids: randomIds,
      now: () => new Date(),
      declaredAttachments: undefined,
    };
  });
  afterEach(() => store.close());

  const create = (name: string) =>
    ACTIONS['CreateSecurityGroup']!.handler(ctx, { GroupName: name, Description: name });
  const groups = () => store.transaction(scope, (tx) => tx.listGroups(scope), { readOnly: true });

  it('counts the default group, and a refused create writes nothing', async () => {
    await create('one');
    await create('two');
    const refused = await create('three').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Ec2Error);
    expect(refused).toMatchObject({ code: 'SecurityGroupLimitExceeded' });
    expect((await groups()).map((g) => g.groupName)).toEqual(['default', 'one', 'two']);
  });
});
