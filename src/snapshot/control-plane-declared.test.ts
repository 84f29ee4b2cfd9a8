/**
 * @module snapshot/control-plane-declared.test — attachments declared by the policy directory's
 * `WorkloadRegistry` (`securityGroups`) on a real SQLite store: they join the API's, a reload
 * re-reads only the groups whose declared identities changed, and a store write to a declared
 * group is enforced like one to an API-attached group.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Scope } from '../model/index.js';
import { openSqliteStore } from '../store/index.js';
import type { Store } from '../store/index.js';
import { createControlPlaneSource } from './control-plane-source.js';
import type { ControlPlaneSource } from './control-plane-source.js';

const SCOPE: Scope = { accountId: '123456789012', region: 'us-east-1' };
const APP = 'spiffe://t/ns/a/sa/app';
const BATCH = 'spiffe://t/ns/a/sa/batch';
const SG_A = 'sg-0000000a';
const SG_B = 'sg-0000000b';

const registry = (entries: Record<string, string[]>): string =>
  `apiVersion: weir.dev/v1\nkind: WorkloadRegistry\nmetadata: { name: r }\nspec:\n  workloads: [${Object.entries(
    entries,
  )
    .map(([identity, groups]) => `{ identity: '${identity}', securityGroups: [${groups.join(', ')}] }`)
    .join(', ')}]\n`;

describe('declared attachments in the control-plane source', () => {
  let dir: string;
  let policyDir: string;
  let store: Store;
  let source: ControlPlaneSource | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weir-cpd-'));
    policyDir = join(dir, 'policies');
    mkdirSync(policyDir);
    store = openSqliteStore({ file: join(dir, 'weir.sqlite') });
    await store.transaction(SCOPE, async (tx) => {
      for (const [i, id] of [SG_A, SG_B].entries()) {
        await tx.insertGroup(SCOPE, {
          groupId: id,
          groupName: `g${i}`,
          description: id,
          vpcId: 'vpc-1',
          ownerId: SCOPE.accountId,
          isDefault: false,
          tags: [],
        });
        await tx.insertRules(SCOPE, [
          {
            key: `k${i}`,
            rule: {
              ruleId: `sgr-0000000${i}`,
              groupId: id,
              groupOwnerId: SCOPE.accountId,
              direction: 'egress',
              ipProtocol: 'tcp',
              fromPort: 1000 + i,
              toPort: 1000 + i,
              target: { kind: 'ipv4', cidr: '192.0.2.0/24' },
              tags: [],
            },
          },
        ]);
      }
    });
  });

  afterEach(async () => {
    source?.close();
    source = undefined;
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (entries: Record<string, string[]>): Promise<ControlPlaneSource> => {
    writeFileSync(join(policyDir, 'registry.yaml'), registry(entries));
    source = await createControlPlaneSource({
      store,
      scope: SCOPE,
      policy: { kind: 'dir', dir: policyDir, debounceMs: 0 },
      logger: pino({ level: 'silent' }),
      now: Date.now,
    });
    return source;
  };
  const allows = (src: ControlPlaneSource, identity: string, port: number): boolean =>
    src.current().decide({ identity, ip: '192.0.2.1', port, protocol: 'tcp', now: Date.now() }).allow;
  /** Rewrites the registry and waits for the reload it causes. */
  const redeclare = async (src: ControlPlaneSource, entries: Record<string, string[]>): Promise<void> => {
    const g = src.generation();
    writeFileSync(join(policyDir, 'registry.yaml'), registry(entries));
    while (src.generation() <= g) await new Promise((r) => setImmediate(r));
  };

  it('a reload recompiles only the groups whose declared identities changed', async () => {
    const src = await start({ [APP]: [SG_A, SG_B] });
    expect(allows(src, APP, 1000)).toBe(true);
    expect(allows(src, APP, 1001)).toBe(true);
    const a = src.compiler.compiledGroup(SG_A);
    await redeclare(src, { [APP]: [SG_A], [BATCH]: [SG_B] });
    expect(src.compiler.compiledGroup(SG_A)).toBe(a);
    expect(allows(src, APP, 1001)).toBe(false);
    expect(allows(src, BATCH, 1001)).toBe(true);
    await redeclare(src, { [APP]: [] });
    expect(src.compiler.groupIds()).toEqual([]);
    expect(allows(src, APP, 1000)).toBe(false);
  });

  it('joins the API attachments, and a store write to a declared group is enforced', async () => {
    await store.transaction(SCOPE, (tx) =>
      tx.attachWorkload(SCOPE, { identity: BATCH, groupId: SG_A, createdAt: new Date() }),
    );
    const src = await start({ [APP]: [SG_A] });
    expect(allows(src, APP, 1000)).toBe(true);
    expect(allows(src, BATCH, 1000)).toBe(true);
    const g = src.generation();
    await store.transaction(SCOPE, (tx) => tx.deleteRules(SCOPE, ['sgr-00000000']));
    while (src.generation() <= g) await new Promise((r) => setImmediate(r));
    expect(allows(src, APP, 1000)).toBe(false);
    expect(src.compiler.group(SG_A)?.identities).toEqual([BATCH, APP]);
  });
});
