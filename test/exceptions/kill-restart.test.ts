/**
 * kill -9 of `weir serve` between an exception's request and its approval loses nothing: the
 * request committed before it was answered, so the restarted server approves it, its gateway then
 * lets the real curl through (a local upstream on this machine's non-loopback address, by name
 * from a hosts file), and the notification of the request is still queued.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Server } from 'node:http';
import { afterAll, expect, it } from 'vitest';
import { callWeirApi } from '../../src/cli/weir-api-client.js';
import type { WeirApiTarget } from '../../src/cli/weir-api-client.js';
import { issueToken, loadTokenKey } from '../../src/identity/index.js';
import { curlVia, firstTrue, localUpstreamAddress, startUpstream, statusVia } from '../helpers/onramp.js';
import { probe, requireTool } from '../helpers/tools.js';
import { spawnServe } from '../helpers/serve-process.js';
import type { ServeProcess } from '../helpers/serve-process.js';

const WEB = 'spiffe://prod.example/ns/shop/sa/web';
const DEV = { accessKeyId: 'AKIAKILLRESTARTDEV00', secretAccessKey: 'dev-secret-kill-restart-0123456789' };
const LEAD = { accessKeyId: 'AKIAKILLRESTARTLEAD0', secretAccessKey: 'lead-secret-kill-restart-0123456789' };
const dir = mkdtempSync(join(tmpdir(), 'weir-exc-kill-'));
const dataDir = join(dir, 'data');
const running: ServeProcess[] = [];
const HAS_CURL = requireTool('curl', probe('curl', ['--version']));
/** Loopback is a guardrail no exception opens: the upstream listens on this machine's own address. */
const UPSTREAM_IP = localUpstreamAddress();
let upstream: Server | undefined;

afterAll(async () => {
  upstream?.closeAllConnections();
  upstream?.close();
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
  let url: string | undefined;
  if (HAS_CURL && UPSTREAM_IP !== undefined) {
    const up = await startUpstream(UPSTREAM_IP);
    upstream = up.server;
    url = `http://upstream.test:${up.port}/`;
    writeFileSync(join(dir, 'hosts'), `${UPSTREAM_IP} upstream.test\n`);
    args.push('--dns-hosts', join(dir, 'hosts'));
  }
  const to = url === undefined ? 'api.github.com:443' : new URL(url).host;
  const first = await spawnServe(dataDir, args);
  running.push(first);
  const asked = await callWeirApi(as(DEV), {
    method: 'POST',
    resource: 'exceptions',
    json: { identity: WEB, to: [to], reason: 'release', ttl: '1h' },
  });
  const id = (asked.exception as { id: string }).id;
  const token = issueToken(loadTokenKey(dataDir), {
    identity: WEB,
    ttlMs: 3_600_000,
    now: Date.now(),
    account: '123456789012',
  });
  // A request grants nothing.
  if (url !== undefined) expect(await statusVia(first.proxyPort, token, url)).toBe(403);
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
  if (url !== undefined) {
    // The approval reaches the restarted gateway: the same request, denied before, now passes.
    await firstTrue(async () => (await statusVia(second.proxyPort, token, url)) === 200);
    const passed = await curlVia(second.proxyPort, token, url);
    expect(passed.status).toBe(200);
    expect(passed.body).toBe('hello from upstream\n');
  }
  second.child.kill('SIGKILL');
  await second.exit;
  if (url !== undefined) {
    // An active exception is a grant from the moment a server starts: its first answer passes.
    const third = await spawnServe(dataDir, args);
    running.push(third);
    expect(await statusVia(third.proxyPort, token, url)).toBe(200);
    third.child.kill('SIGTERM');
    await third.exit;
  }
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
