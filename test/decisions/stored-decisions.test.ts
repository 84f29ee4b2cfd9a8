/**
 * @module test/decisions/stored-decisions — the gateway's decisions in the store, every part a
 * real process: `weir serve` (policy directory, hosts file), the real curl through its gateway,
 * and the `weir` CLI (bin/weir.js, built) finding the local server through its data directory.
 * A denied curl is listed by `weir decisions` and explained by `GET decisions/show`; the writer's
 * metrics count it; after `weir serve` stops and starts again it is still listed (the in-memory
 * ring it replaced forgot everything at a restart), and new decisions follow it in `seq`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callWeirApi, resolveApiTarget } from '../../src/cli/weir-api-client.js';
import { issueToken, loadTokenKey } from '../../src/identity/index.js';
import { cleanEnv, curlVia, runProcess, WEIR_BIN } from '../helpers/onramp.js';
import { spawnServe, stopServe } from '../helpers/serve-process.js';
import type { ServeProcess } from '../helpers/serve-process.js';
import { probe, requireTool } from '../helpers/tools.js';

const HAS_CURL = requireTool('curl', probe('curl', ['--version']));
const WEB = 'spiffe://prod.example/ns/shop/sa/web';
const DENIED = 'denied.example.com';
/** Each test starts the CLI (or the server) several times, on a machine other tests share. */
const SLOW = { timeout: 300_000 };

interface Row {
  readonly seq: number;
  readonly decisionId: string;
  readonly decision: string;
  readonly identity?: string;
  readonly host?: string;
  readonly reason?: string;
}

describe.runIf(HAS_CURL)('stored decisions, through real processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-stored-decisions-'));
  const dataDir = join(dir, 'data');
  const env = cleanEnv({ HOME: dir, WEIR_DATA_DIR: dataDir });
  let serve: ServeProcess;
  let token = '';

  const start = (): Promise<ServeProcess> =>
    spawnServe(dataDir, [
      '--policy',
      join(dir, 'policies'),
      '--dns-hosts',
      join(dir, 'hosts'),
      '--decisions-retention',
      '1d',
    ]);

  /** `weir decisions ARGS --output json` as a user runs it; its rows. */
  async function listed(...args: string[]): Promise<Row[]> {
    const r = await runProcess(process.execPath, [WEIR_BIN, 'decisions', '--output', 'json', ...args], env);
    expect(r.status, r.stderr).toBe(0);
    return r.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Row);
  }

  /** The rows once `seen` holds for one (decisions are stored in batches): bounded by attempts. */
  async function listedOnce(seen: (r: Row) => boolean, ...args: string[]): Promise<Row[]> {
    let rows: Row[] = [];
    for (let i = 0; i < 100; i++) {
      rows = await listed(...args);
      if (rows.some(seen)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return rows;
  }

  beforeAll(async () => {
    mkdirSync(join(dir, 'policies'));
    writeFileSync(
      join(dir, 'policies', 'shop.yaml'),
      `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: shop, owner: shop-team@example.com }
spec:
  workloads: [{ identity: ${JSON.stringify(WEB)} }]
  rules:
    - id: payments
      to: [{ fqdn: api.payments.example.com }]
      ports: ["443"]
      justification: card payments
`,
    );
    // The name resolves (to TEST-NET-2, never connected to): the policy, not DNS, denies it.
    writeFileSync(join(dir, 'hosts'), `198.51.100.7 ${DENIED}\n`);
    serve = await start();
    token = issueToken(loadTokenKey(dataDir), {
      identity: WEB,
      ttlMs: 3_600_000,
      now: Date.now(),
      account: '123456789012',
    });
  }, 120_000);

  afterAll(async () => {
    await stopServe(serve?.child);
    rmSync(dir, { recursive: true, force: true });
  });

  let denied: Row | undefined;

  it('a denied curl is listed by weir decisions, found by destination, and explained', SLOW, async () => {
    const reply = await curlVia(serve.proxyPort, token, `https://${DENIED}/`);
    expect(reply.status).toBe(403);
    const rows = await listedOnce((r) => r.host === DENIED, '--destination', DENIED);
    denied = rows.find((r) => r.host === DENIED);
    expect(denied).toMatchObject({ decision: 'deny', identity: WEB, reason: 'no-match' });
    expect(await listed('--destination', 'other.example.com')).toEqual([]);
    expect((await listed('--reason', 'no-match', '--decision', 'deny')).map((r) => r.decisionId)).toContain(
      denied!.decisionId,
    );
    const target = resolveApiTarget({}, env, dir);
    const shown = await callWeirApi(target, {
      method: 'GET',
      resource: 'decisions/show',
      query: { id: denied!.decisionId },
    });
    expect(shown.rule).toMatchObject({ policy: 'shop', ruleId: 'payments', justification: 'card payments' });
    expect(shown.fix).toMatchObject({
      to: `${DENIED}:443`,
      console: `#/exceptions/request?identity=${encodeURIComponent(WEB)}&to=${encodeURIComponent(`${DENIED}:443`)}`,
    });
    expect((shown.fix as { command: string }).command).toContain(`--to ${DENIED}:443`);
  });

  it('the writer counts what it stored, and dropped nothing', async () => {
    const url = `${resolveApiTarget({}, env, dir).endpoint.origin}/metrics`;
    const text = await (await fetch(url)).text();
    expect(Number(/^weir_decisions_written_total (\d+)/m.exec(text)?.[1])).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^weir_decisions_dropped_total 0$/m);
  });

  it('a restart keeps the decisions, and new ones follow them in seq', SLOW, async () => {
    await stopServe(serve.child);
    serve = await start();
    const after = await listed('--destination', DENIED);
    expect(after.map((r) => r.decisionId)).toEqual([denied!.decisionId]);
    expect((await curlVia(serve.proxyPort, token, `https://${DENIED}/`)).status).toBe(403);
    const both = await listedOnce((r) => r.seq > denied!.seq, '--destination', DENIED);
    expect(both.map((r) => r.seq)).toEqual([denied!.seq, denied!.seq + 1]);
  });
});
