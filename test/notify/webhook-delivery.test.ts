/**
 * `weir serve --notify-webhook` as a real process with real receivers on 127.0.0.1: a webhook
 * that is down (503) for a while, through a kill -9 and a restart, gets every queued notice once
 * or more when it comes back; a webhook that never answers delays no API request; a URL that is
 * not http(s) stops the server at start naming the flag.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateSecurityGroupCommand, DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, describe, expect, test } from 'vitest';
import { parseCredentialsFile } from '../../src/api/credentials.js';
import { serveArgv, spawnServe } from '../helpers/serve-process.js';
import type { ServeProcess } from '../helpers/serve-process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DAY = 86_400_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cleanups: (() => void | Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

interface Received {
  readonly body: Record<string, unknown>;
  readonly status: number;
}

/** A webhook receiver: answers 503 while `mode` is down, 200 when up, never when hang. */
async function receiver(): Promise<{
  url: string;
  got: Received[];
  mode: { value: 'down' | 'up' | 'hang' };
}> {
  const got: Received[] = [];
  const mode = { value: 'down' as 'down' | 'up' | 'hang' };
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(text) as Record<string, unknown>;
      if (mode.value === 'hang') {
        got.push({ body, status: 0 });
        return;
      }
      const status = mode.value === 'up' ? 200 : 503;
      got.push({ body, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/T0/B0/s3cret`, got, mode };
}

/** Polls `check` until it holds; bounded by attempts, not a clock. */
async function until(what: string, check: () => boolean): Promise<void> {
  for (let attempt = 0; !check(); attempt++) {
    if (attempt > 1200) throw new Error(`never: ${what}`);
    await sleep(50);
  }
}

/** A policy whose rules expire `days` from now (ISO times, so the test runs any day). */
function writePolicy(dir: string, rules: Record<string, number>): void {
  const lines = Object.entries(rules).map(
    ([id, days]) =>
      `    - id: ${id}\n      to: [{ fqdn: ${id}.example.com }]\n      ports: [443]\n      justification: test\n      expires: ${new Date(Date.now() + days * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z')}`,
  );
  writeFileSync(
    join(dir, 'payments.yaml'),
    `apiVersion: weir.dev/v1\nkind: EgressPolicy\nmetadata: { name: payments, owner: team-payments@example.com }\nspec:\n  workloads:\n    - identity: spiffe://test/payments\n  rules:\n${lines.join('\n')}\n`,
  );
}

/** The API URL of a spawned server, from its "weir API listening" log line. */
async function apiUrl(p: ServeProcess): Promise<string> {
  await until('the API listens', () => p.lines.some((l) => l.includes('"weir API listening"')));
  const line = p.lines.find((l) => l.includes('"weir API listening"'))!;
  return (JSON.parse(line) as { url: string }).url;
}

function ec2(url: string, dataDir: string): EC2Client {
  const file = join(dataDir, 'credentials');
  const key = parseCredentialsFile(readFileSync(file, 'utf8'), file).find((k) => k.role === 'admin')!;
  return new EC2Client({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
    maxAttempts: 1,
  });
}

const rulesOf = (got: readonly Received[], status?: number) =>
  new Set(got.filter((g) => status === undefined || g.status === status).map((g) => g.body['rule']));

describe('weir serve --notify-webhook', () => {
  test('a webhook down across a kill -9 gets every notice once it is back; a hung one delays no API request', async () => {
    const data = mkdtempSync(join(tmpdir(), 'weir-notify-data-'));
    const policy = mkdtempSync(join(tmpdir(), 'weir-notify-policy-'));
    cleanups.push(() => rmSync(data, { recursive: true, force: true }));
    cleanups.push(() => rmSync(policy, { recursive: true, force: true }));
    const hook = await receiver();
    const hung = await receiver();
    hung.mode.value = 'hang';
    writePolicy(policy, { 'stripe-api': 3, 'old-partner': 10, 'far-off': 60 });
    const args = ['--policy', policy, '--notify-webhook', hook.url, '--notify-webhook', hung.url];

    const first = await spawnServe(data, args);
    cleanups.push(() => void first.child.kill('SIGKILL'));
    const url = await apiUrl(first);
    // The scan at start queued both rules within 14 days; the webhook fails them (503).
    await until('both notices failed once', () => rulesOf(hook.got, 503).size === 2);
    expect(rulesOf(hook.got)).toEqual(new Set(['stripe-api', 'old-partner']));
    expect(hook.got[0]!.body).toMatchObject({
      event: 'rule.expiring',
      policy: 'payments',
      text: expect.stringMatching(
        /^Policy rule payments\/(stripe-api|old-partner) expires in \d+ days/,
      ) as string,
    });
    // The other webhook holds its POSTs open and never answers; the API answers all the same,
    // reads and a write (which goes through the same store the deliverer records in).
    await until('the hung webhook has requests in flight', () => hung.got.length === 2);
    const client = ec2(url, data);
    const created = await client.send(new CreateSecurityGroupCommand({ GroupName: 'g1', Description: 'g1' }));
    expect(created.GroupId).toMatch(/^sg-/);
    const described = await client.send(new DescribeSecurityGroupsCommand({ GroupIds: [created.GroupId!] }));
    expect(described.SecurityGroups).toHaveLength(1);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/weir_notifications_failed_total\{webhook="1"\} [1-9]/);
    expect(metrics).toContain('weir_notifications_queued_total{webhook="2"} 2');
    expect(metrics).not.toContain('s3cret');
    expect(hung.got).toHaveLength(2); // at most the concurrency; still unanswered

    first.child.kill('SIGKILL');
    await first.exit;
    // A third rule, about to expire, is found by the next start's scan.
    writePolicy(policy, { 'stripe-api': 3, 'old-partner': 10, 'far-off': 60, 'new-vendor': 2 });
    const second = await spawnServe(data, args);
    cleanups.push(() => void second.child.kill('SIGKILL'));
    await until('the new notice failed once', () => rulesOf(hook.got, 503).has('new-vendor'));
    hook.mode.value = 'up';
    const backUp = performance.now();
    await until('every notice arrived', () => rulesOf(hook.got, 200).size === 3);
    // Reported, not asserted (no wall-clock thresholds): from the webhook's return to the last notice.
    console.info(
      `notify: all notices delivered ${Math.round(performance.now() - backUp)} ms after the webhook came back`,
    );
    expect(rulesOf(hook.got, 200)).toEqual(new Set(['stripe-api', 'old-partner', 'new-vendor']));
    // Each rule was queued once (once a day per rule), whatever the restart: three notices.
    expect(new Set(hook.got.map((g) => g.body['id'])).size).toBe(3);
    const after = await (await fetch(`${await apiUrl(second)}/metrics`)).text();
    expect(after).toContain('weir_notifications_delivered_total{webhook="1"} 3');
    // SIGTERM with POSTs still hung: the loop stops cleanly and the server exits 0.
    second.child.kill('SIGTERM');
    expect(await second.exit).toBe(0);
  }, 180_000);

  test('a webhook URL that is not http(s) stops weir serve at start, naming the flag and not the URL path', async () => {
    const data = mkdtempSync(join(tmpdir(), 'weir-notify-bad-'));
    cleanups.push(() => rmSync(data, { recursive: true, force: true }));
    const child = spawn(
      process.execPath,
      serveArgv(
        data,
        ['--notify-webhook', 'https://ok.example/a', '--notify-webhook', 'ftp://h/T0/secret'],
        'off',
      ),
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(2);
    expect(err).toContain("--notify-webhook (#2): the scheme 'ftp' is not http or https");
    expect(err).not.toContain('secret');
  }, 60_000);
});
