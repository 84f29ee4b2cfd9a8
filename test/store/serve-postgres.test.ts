/**
 * @module test/store/serve-postgres.test — `weir serve --store postgres://…` as real processes:
 * two servers (one given the flag, one `WEIR_STORE`), each with its own data dir, on one
 * PostgreSQL database: a group created through one is described through the other, and it is
 * still there after both restart. The password never reaches the logs; a URL that is no
 * PostgreSQL URL is refused before anything opens.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecurityGroupCommand, DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresAvailable, startPostgres } from '../helpers/postgres.js';
import type { PostgresServer } from '../helpers/postgres.js';
import { serveArgv, spawnApiServe, spawnServe, stopServe } from '../helpers/serve-process.js';

const available = postgresAvailable();
const root = mkdtempSync(join(tmpdir(), 'weir-serve-pg-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** An EC2 client signed with the first key of the server's data dir. */
function ec2(dataDir: string, endpoint: string): EC2Client {
  const text = readFileSync(join(dataDir, 'credentials'), 'utf8');
  const id = /aws_access_key_id\s*=\s*(\S+)/.exec(text)![1]!;
  const secret = /aws_secret_access_key\s*=\s*(\S+)/.exec(text)![1]!;
  return new EC2Client({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: id, secretAccessKey: secret },
    maxAttempts: 1,
  });
}

describe.skipIf(!available)('weir serve --store postgres://', () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  }, 120_000);

  it('two servers on one database share the control plane, and keep it across restarts', async () => {
    const url = await server.createDatabase();
    const password = new URL(url).password;
    const [d1, d2] = [join(root, 'node1'), join(root, 'node2')];
    const one = await spawnServe(d1, ['--store', url]);
    let two: Awaited<ReturnType<typeof spawnApiServe>> | undefined;
    try {
      process.env.WEIR_STORE = url;
      try {
        two = await spawnApiServe(d2, [], root);
      } finally {
        delete process.env.WEIR_STORE;
      }
      const endpoint1 = readFileSync(join(d1, 'endpoint'), 'utf8').trim();
      const created = await ec2(d1, endpoint1).send(
        new CreateSecurityGroupCommand({ GroupName: 'shared', Description: 'made on node 1' }),
      );
      const seen = await ec2(d2, two.url).send(
        new DescribeSecurityGroupsCommand({ GroupIds: [created.GroupId!] }),
      );
      expect(seen.SecurityGroups?.[0]?.Description).toBe('made on node 1');
      const opened = one.logLines().find((l) => l['msg'] === 'store opened');
      expect(opened).toMatchObject({ driver: 'postgres', store: expect.stringContaining(':***@127.0.0.1:') });
      expect(one.lines.join('\n') + one.stderr()).not.toContain(password);
    } finally {
      await stopServe(one.child);
      await stopServe(two?.child);
    }
    // Both gone: the data is in PostgreSQL, not in either data dir.
    const again = await spawnApiServe(d2, ['--store', url], root);
    try {
      const groups = await ec2(d2, again.url).send(new DescribeSecurityGroupsCommand({}));
      expect(groups.SecurityGroups?.map((g) => g.GroupName)).toContain('shared');
    } finally {
      await stopServe(again.child);
    }
  }, 300_000);
});

describe('weir serve --store: checked before anything opens', () => {
  it('a value that is no PostgreSQL URL exits 2, naming the flag and never the value', () => {
    const dataDir = join(root, 'bad');
    const run = spawnSync(
      process.execPath,
      serveArgv(dataDir, ['--store', 'mysql://u:hunter2@db/weir'], 'off'),
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--store (or WEIR_STORE) must be a PostgreSQL URL');
    expect(run.stderr).not.toContain('hunter2');
  }, 120_000);
});
