/**
 * Issue 17, the evidence report over real traffic: a `weir serve` with its gateway (in-process,
 * real sockets), one allowed and two denied CONNECTs through it (a guardrail and an unknown
 * identity); once the batch writer has stored them, the report's denials by reason and decisions
 * per day count exactly those, and the workload's rule is in "who may reach what".
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runTokenIssue } from '../../src/cli/token.js';
import type { ReportDocument } from '../../src/report/index.js';
import { startServer } from '../../src/server/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { connectVia, loopbackEchoPolicy, startEchoServer } from '../helpers/gateway-client.js';
import { weirCall } from '../helpers/weir-call.js';

const ID = 'spiffe://test/ns/app/sa/reported';
const NOBODY = 'spiffe://test/ns/app/sa/nobody';
const dir = mkdtempSync(join(tmpdir(), 'weir-report-gw-'));
let echo: Server;
let echoPort = 0;
let server: RunningServer;

async function tunnel(to: string, token: string): Promise<number> {
  const t = await connectVia(server.proxyAddress ?? '', to, { token });
  t.socket.destroy();
  return t.status;
}

beforeAll(async () => {
  ({ server: echo, port: echoPort } = await startEchoServer());
  const policyDir = join(dir, 'policies');
  mkdirSync(policyDir);
  writeFileSync(join(policyDir, 'p.yaml'), loopbackEchoPolicy('reported', ID, echoPort));
  server = await startServer({
    dataDir: join(dir, 'data'),
    apiListen: '127.0.0.1:0',
    proxyListen: '127.0.0.1:0',
    policyDir,
    logger: pino({ level: 'silent' }),
    print: () => undefined,
  });
});
afterAll(async () => {
  await server?.close();
  await new Promise((r) => echo?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

it('decisions through the gateway are counted in the report by reason and by day', async () => {
  const token = runTokenIssue({ identity: ID, ttl: '1h', dataDir: join(dir, 'data') });
  const nobody = runTokenIssue({ identity: NOBODY, ttl: '1h', dataDir: join(dir, 'data') });
  expect(await tunnel(`127.0.0.1:${echoPort}`, token)).toBe(200);
  expect(await tunnel(`127.0.0.1:${echoPort === 65535 ? 1 : echoPort + 1}`, token)).toBe(403);
  expect(await tunnel(`127.0.0.1:${echoPort}`, nobody)).toBe(403);
  // The store gets decisions in batches off the gateway's hot path: ask (bounded by attempts,
  // not by a clock) until the three are counted.
  let r: ReportDocument | undefined;
  for (let i = 0; i < 300; i++) {
    r = (await weirCall(server, {
      method: 'GET',
      resource: 'report',
      query: { since: '1h' },
    })) as unknown as ReportDocument;
    const d = r.denials?.totals ?? {};
    if ((d.allow ?? 0) + (d.deny ?? 0) >= 3) break;
    await new Promise((res) => setTimeout(res, 20));
  }
  expect(r?.denials?.totals).toEqual({ allow: 1, deny: 2 });
  expect(r?.denials?.byReason).toEqual([
    { reason: 'guardrail', deny: 1, wouldDeny: 0 },
    { reason: 'unknown-identity', deny: 1, wouldDeny: 0 },
  ]);
  expect(r?.denials?.perDay.reduce((n, d) => n + d.allow + d.deny, 0)).toBe(3);
  expect(r?.denials?.topPairs.map((p) => p.identity).sort()).toEqual([ID, NOBODY].sort());
  expect(r?.access.find((w) => w.identity === ID)?.destinations).toEqual([
    expect.objectContaining({ to: `127.0.0.0/8:${echoPort}`, via: 'policy', policy: 'reported' }),
  ]);
});
