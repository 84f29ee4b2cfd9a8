/**
 * @module test/security/reads-create-nothing — the red team's "reads write": read-only reads
 * signed for 40 made-up regions created 41 scopes, each with a VPC, a default group and its
 * rules, and grew an in-memory set that never shrinks. Now a region the server does not serve
 * is refused by name, and a read of a served region nobody has written to answers with the
 * default VPC and group EC2 shows there, synthesized, writing nothing: the database's rows and
 * the API's set of known scopes stay as they were. The first write materialises the very IDs
 * the reads showed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateSecurityGroupCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  AWS_REGIONS,
  DEFAULT_API_CONFIG,
  KeyRing,
  ScopeRegistry,
  createApiHandler,
  createApiMetrics,
} from '../../src/api/index.js';
import { callWeirApi, WeirApiCallError } from '../../src/cli/weir-api-client.js';
import { buildServerConfig, startServer } from '../../src/server/index.js';
import { openSqliteStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/index.js';

const ACCOUNT = '123456789012';
const ADMIN = { accessKeyId: 'AKIAWEIRREADSADMIN01', secretAccessKey: 'reads-admin-secret-0123456789ab' };
const VIEWER = { accessKeyId: 'AKIAWEIRREADSVIEWER1', secretAccessKey: 'reads-viewer-secret-0123456789' };

let dir = '';
let store: Store;
let scopes: ScopeRegistry;
let http: Server;
let url = '';
const clients: EC2Client[] = [];

function client(key: typeof ADMIN, region: string): EC2Client {
  const c = new EC2Client({ endpoint: url, region, credentials: key, maxAttempts: 1 });
  clients.push(c);
  return c;
}

/** Every row of every table, counted through a second connection to the same file. */
function rowCounts(): Record<string, number> {
  const db = new Database(join(dir, 'weir.db'), { readonly: true, fileMustExist: true });
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .all() as { name: string }[];
    return Object.fromEntries(
      tables.map((t) => [
        t.name,
        (db.prepare(`SELECT count(*) AS n FROM "${t.name}"`).get() as { n: number }).n,
      ]),
    );
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'weir-reads-'));
  store = openSqliteStore({ file: join(dir, 'weir.db') });
  scopes = new ScopeRegistry(store);
  const keys = new KeyRing([
    { ...ADMIN, accountId: ACCOUNT, role: 'admin', profile: 'admin', principal: 'admin' },
    { ...VIEWER, accountId: ACCOUNT, role: 'readonly', profile: 'viewer', principal: 'viewer' },
  ]);
  const handler = createApiHandler({
    store,
    keys,
    scopes,
    logger: pino({ level: 'silent' }),
    metrics: createApiMetrics({ defaultMetrics: false }),
    config: DEFAULT_API_CONFIG,
  });
  http = createServer(handler);
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  // One scope in use, as on any running server.
  await client(ADMIN, 'us-east-1').send(
    new CreateSecurityGroupCommand({ GroupName: 'web', Description: 'web' }),
  );
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  await new Promise<void>((r) => (http ? http.close(() => r()) : r()));
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('read-only reads', () => {
  test('40 made-up regions: each is refused naming the region and --regions, and nothing is created', async () => {
    const before = rowCounts();
    const known = scopes.size;
    for (let i = 0; i < 40; i++) {
      const region = `zz-made-up-${i}`;
      const err = await client(VIEWER, region)
        .send(new DescribeSecurityGroupsCommand({}))
        .then(
          () => undefined,
          (e: Error) => e,
        );
      expect(err?.name).toBe('AuthFailure');
      expect(err?.message).toContain(`'${region}'`);
      expect(err?.message).toContain('--regions');
    }
    expect(rowCounts()).toEqual(before);
    expect(scopes.size).toBe(known);
  });

  test('every served region nobody wrote to shows its default VPC and group, and nothing is created', async () => {
    const before = rowCounts();
    const known = scopes.size;
    const unused = AWS_REGIONS.filter((r) => r !== 'us-east-1');
    expect(unused.length).toBeGreaterThanOrEqual(30);
    for (const region of unused) {
      const ec2 = client(VIEWER, region);
      const groups = (await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? [];
      expect(groups.map((g) => [g.GroupName, g.Description, g.OwnerId])).toEqual([
        ['default', 'default VPC security group', ACCOUNT],
      ]);
      const vpcs = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs ?? [];
      expect(vpcs.map((v) => [v.CidrBlock, v.IsDefault, v.VpcId === groups[0]?.VpcId])).toEqual([
        ['172.31.0.0/16', true, true],
      ]);
      const rules = (await ec2.send(new DescribeSecurityGroupRulesCommand({}))).SecurityGroupRules ?? [];
      expect(rules).toHaveLength(2);
    }
    expect(rowCounts()).toEqual(before);
    expect(scopes.size).toBe(known);
  });

  test('Weir API reads in unwritten regions create nothing; a made-up region is refused', async () => {
    const before = rowCounts();
    const known = scopes.size;
    const at = (region: string) => ({
      endpoint: new URL(url),
      region,
      credentials: { ...VIEWER, method: 'test' },
    });
    for (const region of AWS_REGIONS.slice(1, 11)) {
      const out = await callWeirApi(at(region), { method: 'GET', resource: 'workloads' });
      expect(out.attachments).toEqual([]);
    }
    const err = await callWeirApi(at('zz-made-up'), { method: 'GET', resource: 'workloads' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WeirApiCallError);
    expect((err as WeirApiCallError).apiCode).toBe('AuthFailure');
    expect(rowCounts()).toEqual(before);
    expect(scopes.size).toBe(known);
  });

  test('the first write in a region materialises the IDs its reads showed', async () => {
    const viewer = client(VIEWER, 'eu-west-3');
    const shown = (await viewer.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? [];
    const shownRules =
      (await viewer.send(new DescribeSecurityGroupRulesCommand({}))).SecurityGroupRules ?? [];
    const vpcs = (await viewer.send(new DescribeVpcsCommand({}))).Vpcs ?? [];
    await client(ADMIN, 'eu-west-3').send(
      new CreateSecurityGroupCommand({ GroupName: 'app', Description: 'app' }),
    );
    const after = (await viewer.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? [];
    expect(after.map((g) => g.GroupName)).toEqual(['default', 'app']);
    expect(after[0]).toEqual(shown[0]);
    expect((await viewer.send(new DescribeSecurityGroupRulesCommand({}))).SecurityGroupRules).toEqual(
      expect.arrayContaining(shownRules),
    );
    expect((await viewer.send(new DescribeVpcsCommand({}))).Vpcs).toEqual(vpcs);
  });
});

describe('weir serve --regions', () => {
  test('serves the regions named, refuses others naming the region and the flag', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'weir-regions-'));
    const server = await startServer({
      dataDir,
      apiListen: '127.0.0.1:0',
      regions: ['lab-1'],
      logger: pino({ level: 'silent' }),
      print: () => undefined,
    });
    try {
      const key = [...server.keys.keys()][0]!;
      const at = (region: string) =>
        new EC2Client({
          endpoint: server.url,
          region,
          credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
          maxAttempts: 1,
        });
      const lab = at('lab-1');
      const aws = at('us-east-1');
      clients.push(lab, aws);
      const groups = (await lab.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? [];
      expect(groups.map((g) => g.GroupName)).toEqual(['default']);
      const err = await aws.send(new DescribeSecurityGroupsCommand({})).catch((e: Error) => e);
      expect(err).toMatchObject({ name: 'AuthFailure' });
      expect((err as Error).message).toMatch(/'us-east-1'.*--regions/);
    } finally {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('a bad name, or a gateway region not served, stops the server before it starts', () => {
    const base = { dataDir: dir, apiListen: '127.0.0.1:0' };
    expect(() => buildServerConfig({ ...base, regions: ['us-east-1', 'Not A Region'] })).toThrow(
      /--regions must be region names .*got 'Not A Region'/,
    );
    expect(() =>
      buildServerConfig({
        ...base,
        regions: ['lab-1'],
        proxyListen: '127.0.0.1:0',
        gatewayRegion: 'us-east-1',
      }),
    ).toThrow('--gateway-region us-east-1 is not among the regions served (--regions lab-1)');
    expect(buildServerConfig(base).regions).toEqual(AWS_REGIONS);
  });
});
