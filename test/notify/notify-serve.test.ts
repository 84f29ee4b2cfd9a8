/**
 * `weir serve` in-process with `--notify-webhook`: `--notify-expiring` bounds which rules are
 * told of; a notice written by a store write (as the exception and break-glass routes write
 * theirs) reaches the webhook; a webhook first configured gets what is queued from then on, not
 * the backlog.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, expect, test } from 'vitest';
import { startServer } from '../../src/server/index.js';
import type { ServeOptions } from '../../src/server/index.js';

const DAY = 86_400_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cleanups: (() => void | Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function until(what: string, check: () => boolean): Promise<void> {
  for (let attempt = 0; !check(); attempt++) {
    if (attempt > 1200) throw new Error(`never: ${what}`);
    await sleep(25);
  }
}

test('--notify-expiring bounds the rules told of; store writes are delivered; a new webhook skips the backlog', async () => {
  const got: Record<string, unknown>[] = [];
  const receiver = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      got.push(JSON.parse(text) as Record<string, unknown>);
      res.end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => receiver.close(() => r())));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const dataDir = mkdtempSync(join(tmpdir(), 'weir-notify-serve-'));
  const policy = mkdtempSync(join(tmpdir(), 'weir-notify-policy-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  cleanups.push(() => rmSync(policy, { recursive: true, force: true }));
  const expires = (days: number) => new Date(Date.now() + days * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z');
  writeFileSync(
    join(policy, 'p.yaml'),
    `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: payments, owner: team-payments@example.com }
spec:
  workloads:
    - identity: spiffe://test/payments
  rules:
    - { id: tomorrow, to: [{ fqdn: a.example.com }], ports: [443], justification: t, expires: ${expires(1)} }
    - { id: next-week, to: [{ fqdn: b.example.com }], ports: [443], justification: t, expires: ${expires(7)} }
`,
  );
  const base: ServeOptions = {
    dataDir,
    apiListen: '127.0.0.1:0',
    proxyListen: '127.0.0.1:0',
    policyDir: policy,
    logger: pino({ level: 'silent' }),
    print: () => undefined,
  };
  const notice = (name: string) => ({ event: 'test.event', text: name, fields: { name }, at: new Date() });

  // First without a webhook: a notice queued now is backlog to any webhook configured later.
  const plain = await startServer(base);
  await plain.store.transaction(undefined, (tx) => tx.enqueueNotification(notice('backlog')));
  await plain.close();

  const server = await startServer({ ...base, notifyWebhooks: [url], notifyExpiringMs: 2 * DAY });
  cleanups.push(() => server.close());
  await until('the rule expiring tomorrow is told', () => got.some((g) => g['rule'] === 'tomorrow'));
  await server.store.transaction(undefined, (tx) => tx.enqueueNotification(notice('after')));
  await until('the store write arrives', () => got.some((g) => g['name'] === 'after'));
  await server.close();
  expect(got.map((g) => g['rule'] ?? g['name'])).toEqual(['tomorrow', 'after']);
}, 120_000);
