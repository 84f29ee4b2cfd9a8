/**
 * kill -9 of `weir serve` between an exception's request and its approval loses nothing: the
 * request committed before it was answered, so the restarted server approves it, and the
 * notification of the request is still queued.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { callWeirApi } from '../../src/cli/weir-api-client.js';
import type { WeirApiTarget } from '../../src/cli/weir-api-client.js';
import { spawnServe } from '../helpers/serve-process.js';
import type { ServeProcess } from '../helpers/serve-process.js';

const WEB = 'spiffe://prod.example/ns/shop/sa/web';
const DEV = { accessKeyId: 'AKIAKILLRESTARTDEV00', secretAccessKey: 'dev-secret-kill-restart-0123456789' };
const LEAD = { accessKeyId: 'AKIAKILLRESTARTLEAD0', secretAccessKey: 'lead-secret-kill-restart-0123456789' };
const dir = mkdtempSync(join(tmpdir(), 'weir-exc-kill-'));
const dataDir = join(dir, 'data');
const running: ServeProcess[] = [];

afterAll(async () => {
  for (const s of running) if (s.exited() === undefined) s.child.kill('SIGKILL');
  await Promise.all(running.map((s) => s.exit));
  rmSync(dir, { recursive: true, force: true });
});

const as = (creds: typeof DEV): WeirApiTarget => ({
  endpoint: new URL(readFileSync(join(dataDir, 'endpoint'), 'utf8').trim()),
  region: 'us-east-1',
  credentials: { ...creds, method: 'test' },
});

it('a request survives kill -9; the restarted server approves it', async () => {
  mkdirSync(dataDir);
  mkdirSync(join(dir, 'policy'));
  writeFileSync(
    join(dir, 'policy', 'p.yaml'),
    `apiVersion: weir.dev/v1\nkind: EgressPolicy\nmetadata: { name: shop, owner: shop@example.com }\nspec:\n  workloads: [{ identity: ${WEB} }]\n  rules: []\n  exceptions: { approvers: [lead@example.com] }\n`,
  );
  const creds = join(dir, 'credentials');
  writeFileSync(
    creds,
    [
      '[dev]',
      `aws_access_key_id = ${DEV.accessKeyId}`,
      `aws_secret_access_key = ${DEV.secretAccessKey}`,
      'weir_role = readonly',
      'weir_principal = dev@example.com',
      '[lead]',
      `aws_access_key_id = ${LEAD.accessKeyId}`,
      `aws_secret_access_key = ${LEAD.secretAccessKey}`,
      'weir_role = approver',
      'weir_principal = lead@example.com',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const args = ['--credentials', creds, '--policy', join(dir, 'policy')];
  const first = await spawnServe(dataDir, args);
  running.push(first);
  const asked = await callWeirApi(as(DEV), {
    method: 'POST',
    resource: 'exceptions',
    json: { identity: WEB, to: ['api.github.com:443'], reason: 'release', ttl: '1h' },
  });
  const id = (asked.exception as { id: string }).id;
  first.child.kill('SIGKILL');
  expect(await first.exit).toBe('SIGKILL');

  const second = await spawnServe(dataDir, args);
  running.push(second);
  const approved = await callWeirApi(as(LEAD), {
    method: 'POST',
    resource: 'exceptions/approve',
    json: { id },
  });
  expect(approved.exception).toMatchObject({
    id,
    state: 'active',
    requester: 'dev@example.com',
    decidedBy: 'lead@example.com',
  });
  second.child.kill('SIGTERM');
  await second.exit;
  const db = new Database(join(dataDir, 'weir.sqlite'), { readonly: true });
  try {
    const events = (
      db.prepare('SELECT event FROM notifications ORDER BY seq').all() as { event: string }[]
    ).map((r) => r.event);
    expect(events).toEqual(['exception.requested', 'exception.approved']);
  } finally {
    db.close();
  }
}, 120_000);
