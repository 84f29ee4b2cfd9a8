/**
 * @module test/weir-api/overview — `GET /weir/v1/overview` against a real `weir serve` (API and
 * gateway on loopback, a policy directory): the rules expiring within 30 days and the wildcard
 * rules of the policy in force, an exception requested by one key and approved by another (time
 * to approve, expiring in 30 days), the policy change to enforcement the gateway observed, the
 * workloads Weir knows, and the bounds on `since` and `bucket` (precise errors), roles and
 * tenancy.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { callWeirApi, WeirApiCallError } from '../../src/cli/weir-api-client.js';
import { runTokenIssue } from '../../src/cli/token.js';
import { startServer } from '../../src/server/index.js';
import { connectVia } from '../helpers/gateway-client.js';
import type { RunningServer } from '../../src/server/index.js';

const WEB = 'spiffe://test/ns/shop/sa/web';
const SILENT = 'spiffe://test/ns/shop/sa/batch';
const KEYS = {
  admin: ['AKIAWEIROVERVIEWADMN', 'overview-admin-secret-0123456789abcdef', '123456789012', 'admin'],
  viewer: ['AKIAWEIROVERVIEWVIEW', 'overview-viewer-secret-0123456789abcde', '123456789012', 'readonly'],
  stranger: ['AKIAWEIROVERVIEWSTRN', 'overview-other-secret-0123456789abcdef', '210987654321', 'admin'],
} as const;
type Who = keyof typeof KEYS;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const day = (offset: number): string => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

function policy(): string {
  return `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: shop, owner: shop@example.com }
spec:
  workloads: [{ identity: '${WEB}' }, { identity: '${SILENT}' }]
  rules:
    - id: stripe
      to: [{ fqdn: api.stripe.com }]
      ports: [443]
      owner: pay@example.com
      justification: card payments
      expires: ${day(10)}
    - id: cdn
      to: [{ fqdn: '*.cdn.example' }]
      ports: [443]
    - id: later
      to: [{ fqdn: reports.example }]
      ports: [443]
      expires: ${day(60)}
`;
}

describe('GET /weir/v1/overview', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-overview-'));
  const credentials = join(dir, 'credentials');
  let server: RunningServer;

  /** GET overview with `query`, or POST `json` to `resource`, as `who`; errors as values. */
  async function call(query: Record<string, string>, who: Who = 'admin'): Promise<Json> {
    return send(who, { method: 'GET', resource: 'overview', query });
  }
  async function post(resource: string, json: unknown, who: Who): Promise<Json> {
    return send(who, { method: 'POST', resource, json });
  }
  async function send(who: Who, c: Parameters<typeof callWeirApi>[1]): Promise<Json> {
    const [id, secret] = KEYS[who];
    try {
      return await callWeirApi(
        {
          endpoint: new URL(server.url),
          region: 'us-east-1',
          credentials: { accessKeyId: id, secretAccessKey: secret, method: 'test' },
        },
        c,
      );
    } catch (err) {
      if (err instanceof WeirApiCallError) return { error: { code: err.apiCode, message: err.message } };
      throw err;
    }
  }

  beforeAll(async () => {
    writeFileSync(
      credentials,
      Object.entries(KEYS)
        .map(
          ([name, [id, secret, account, role]]) =>
            `[${name}]\naws_access_key_id = ${id}\naws_secret_access_key = ${secret}\nweir_account_id = ${account}\nweir_role = ${role}\n`,
        )
        .join('\n'),
    );
    const policyDir = join(dir, 'policies');
    mkdirSync(policyDir);
    writeFileSync(join(policyDir, 'p.yaml'), policy());
    server = await startServer({
      dataDir: join(dir, 'data'),
      apiListen: '127.0.0.1:0',
      proxyListen: '127.0.0.1:0',
      credentialsFile: credentials,
      policyDir,
      logger: pino({ level: 'silent' }),
      print: () => undefined,
    });
    const token = runTokenIssue({ identity: WEB, ttl: '1h', dataDir: join(dir, 'data') });
    // Two denials of WEB at a guarded address (loopback), one request with no token.
    for (const t of [token, token, undefined]) {
      const c = await connectVia(
        server.proxyAddress ?? '',
        '127.0.0.1:9',
        t !== undefined ? { token: t } : {},
      );
      c.socket.destroy();
    }
  });

  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the rules of the policy in force: expiring within 30 days, and wildcards', async () => {
    const o = await call({ since: '7d' }, 'viewer');
    expect(o.period.bucketSeconds).toBe(3600);
    expect(o.period.buckets.length).toBeGreaterThanOrEqual(168);
    expect(o.expiring.withinDays).toBe(30);
    expect(o.expiring.rules).toEqual([
      {
        policy: 'shop',
        ruleId: 'stripe',
        source: 'policy',
        owner: 'pay@example.com',
        expires: expect.stringMatching(new RegExp(`^${day(10)}T`)),
        destinations: ['api.stripe.com'],
      },
    ]);
    expect(o.wildcardRules).toMatchObject({
      count: 1,
      rulesInForce: 3,
      rules: [{ ruleId: 'cdn', wildcards: ['name'], destinations: ['*.cdn.example'] }],
    });
  });

  test('decisions from the store: series, top denied pairs, guardrail denials, share through the gateway', async () => {
    // The gateway writes decisions in batches off its hot path: poll until all three are stored.
    let o: Json = {};
    for (let i = 0; i < 200; i++) {
      o = await call({ since: '1h', bucket: '1m' });
      const t = o.decisions.totals;
      if (t.denied + t.refused >= 3) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(o.decisionsStored).toBe(true);
    expect(o.decisions.totals).toEqual({ allowed: 0, denied: 2, wouldDeny: 0, refused: 1 });
    expect(o.decisions.denied.reduce((a: number, b: number) => a + b, 0)).toBe(2);
    expect(o.topDenied).toEqual([{ identity: WEB, destination: '127.0.0.1:9', count: 2 }]);
    expect(o.guardrailDenials).toMatchObject({
      total: 2,
      byRange: [{ range: '127.0.0.0/8', count: 2 }],
      rangesFrom: 2,
    });
    // Known: WEB and SILENT (policy), WEB also by its token; WEB went through the gateway.
    expect(o.gatewayShare).toMatchObject({
      known: 2,
      active: 1,
      share: 0.5,
      silent: [{ identity: SILENT, knownBy: ['policy'] }],
      silentCount: 1,
      unauthenticated: { count: 1, decisions: 3 },
    });
  });

  test('an exception requested by one key and approved by another: time to approve, expiring, enforcement', async () => {
    const req = await post(
      'exceptions',
      { identity: WEB, to: ['api.example.com:443'], reason: 'overview test', ttl: '2h' },
      'viewer',
    );
    const id = req.exception.id as string;
    const ok = await post('exceptions/approve', { id }, 'admin');
    expect(ok.exception.state).toBe('active');
    const o = await call({ since: '24h', bucket: '1h' });
    expect(o.timeToApprove.overall.count).toBe(1);
    expect(o.timeToApprove.approvals[0]).toMatchObject({ id, requester: 'viewer', approver: 'admin' });
    expect(o.timeToApprove.approvals[0].seconds).toBeGreaterThanOrEqual(0);
    expect(o.timeToApprove.medianSeconds.filter((v: unknown) => v !== null)).toHaveLength(1);
    expect(o.expiring.exceptions).toEqual([
      { id, identity: WEB, destinations: ['api.example.com:443/tcp'], expires: expect.any(String) },
    ]);
    // The approval is a change the gateway enforces: its lag is sampled (the swap follows the
    // change feed, so poll; the deadline is far beyond any lag the broken code could not meet).
    let enforcement: Json = {};
    for (let i = 0; i < 200 && !(enforcement.overall?.count >= 1); i++) {
      enforcement = (await call({ since: '1h', bucket: '1m' })).enforcement as Json;
      if (!(enforcement.overall?.count >= 1)) await new Promise((r) => setTimeout(r, 50));
    }
    expect(enforcement.overall.count).toBeGreaterThanOrEqual(1);
    expect(enforcement.byChange.length).toBeGreaterThanOrEqual(1);
    expect(enforcement.medianSeconds.some((v: unknown) => typeof v === 'number')).toBe(true);
    expect(Date.parse(enforcement.recordedSince as string)).toBeLessThanOrEqual(Date.now());
  });

  test.each([
    [{ since: 'forever' }, /'since' must be a duration from 1m to 366d .*since=30d \(got "forever"\)/],
    [{ since: '400d' }, /'since' must be a duration from 1m to 366d/],
    [{ bucket: '30s' }, /'bucket' must be a duration from 1m to 7d .*bucket=1h/],
    [{ bucket: '1' }, /'bucket' must be a duration/],
    [{ since: '30d', bucket: '1m' }, /makes more than 2000 buckets; use bucket=22m or larger/],
    [{ since: '1d'.repeat(100) }, /'since' must be a duration/],
  ])('bounds %j with a precise error', async (query, message) => {
    const o = await call(query);
    expect(o.error.code).toBe('InvalidParameterValue');
    expect(o.error.message).toMatch(message);
  });

  test('an unknown parameter is refused; another account may not read the gateway account’s overview', async () => {
    expect((await call({ limit: '5' })).error.code).toBe('UnknownParameter');
    const other = await call({}, 'stranger');
    expect(other.error).toBeDefined();
    expect(other.error.message).toMatch(/123456789012/);
  });
});
