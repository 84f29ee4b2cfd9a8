/**
 * @module test/security/filter-redos — the red team's ReDoS: a read-only key sends
 * DescribeSecurityGroups with `Filter.1.Name=description` and a value of many `*` ending in a
 * character no description has. A regex built from that value backtracks for about 3^stars
 * steps; with 30 stars that is longer than the universe has existed. The server runs as its own
 * process (`weir serve`), so a frozen event loop freezes it and not the test runner: the test
 * then fails by its timeout. No wall clock is asserted (the measured time is reported apart).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawnServe } from '../helpers/serve-process.js';
import type { ServeProcess } from '../helpers/serve-process.js';

const VIEWER = { accessKeyId: 'AKIAWEIRREDOSVIEWER1', secretAccessKey: 'redos-viewer-secret-0123456789' };

let dir = '';
let serve: ServeProcess | undefined;
let api = '';
let viewer: EC2Client;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'weir-redos-'));
  const creds = join(dir, 'credentials');
  writeFileSync(
    creds,
    [
      '[viewer]',
      `aws_access_key_id = ${VIEWER.accessKeyId}`,
      `aws_secret_access_key = ${VIEWER.secretAccessKey}`,
      'weir_role = readonly',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const dataDir = join(dir, 'data');
  serve = await spawnServe(dataDir, ['--credentials', creds]);
  api = readFileSync(join(dataDir, 'endpoint'), 'utf8').trim();
  viewer = new EC2Client({ endpoint: api, region: 'us-east-1', credentials: VIEWER, maxAttempts: 1 });
}, 60_000);

afterAll(async () => {
  viewer?.destroy();
  if (serve && serve.exited() === undefined) {
    serve.child.kill('SIGKILL');
    await serve.exit;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a Describe filter made of wildcards', () => {
  test('30 stars and a mismatching character: the read answers, and /healthz answers meanwhile', async () => {
    const pattern = `${'*'.repeat(30)}x`;
    const describe = viewer.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'description', Values: [pattern] }] }),
    );
    const health = fetch(`${api}/healthz`).then((r) => r.status);
    const [out, status] = await Promise.all([describe, health]);
    // The default group's description ("default VPC security group") has no `x`.
    expect(out.SecurityGroups).toEqual([]);
    expect(status).toBe(200);
    // The same pattern ending in a character it does have still matches (the matcher works).
    const hit = await viewer.send(
      new DescribeSecurityGroupsCommand({
        Filters: [{ Name: 'description', Values: [`${'*'.repeat(30)}p`] }],
      }),
    );
    expect(hit.SecurityGroups?.map((g) => g.GroupName)).toEqual(['default']);
  }, 60_000);

  test('more than 255 characters or 200 values: FilterLimitExceeded, as EC2 answers', async () => {
    const err = (filters: { Name: string; Values: string[] }[]) =>
      viewer.send(new DescribeSecurityGroupsCommand({ Filters: filters })).then(
        () => 'answered',
        (e: Error) => `${e.name}: ${e.message}`,
      );
    expect(await err([{ Name: 'description', Values: ['*'.repeat(256)] }])).toMatch(
      /^FilterLimitExceeded: The maximum length for a filter value is 255 characters/,
    );
    const many = Array.from({ length: 201 }, (_, i) => `v${i}`);
    expect(await err([{ Name: 'description', Values: many }])).toMatch(
      /^FilterLimitExceeded: The maximum number of filter values specified on a single call is 200/,
    );
  }, 60_000);
});
