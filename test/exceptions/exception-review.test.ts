/**
 * The Weir API's reads for people deciding an exception, through a real server on real sockets:
 * `GET exceptions/review` (time left, who may still approve under the two-person rule and the
 * policies' approver lists, and what the calling key may do, with the server's reason when not)
 * and `GET exceptions/promote` (the same YAML `weir exception promote` prints). Reads never write.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExceptionPromote } from '../../src/cli/exception.js';
import type { ExceptionView } from '../../src/cli/exception.js';
import { callWeirApi, WeirApiCallError } from '../../src/cli/weir-api-client.js';
import type { WeirApiTarget } from '../../src/cli/weir-api-client.js';
import { startServer } from '../../src/server/index.js';
import type { RunningServer } from '../../src/server/index.js';

const WEB = 'spiffe://prod.example/ns/shop/sa/web';
const PAY = 'spiffe://prod.example/ns/payments/sa/checkout';
const KEYS = {
  dev: {
    accessKeyId: 'AKIAREVIEWDEV0000001',
    secretAccessKey: 'dev-secret-review-0123456789abcdef',
    role: 'readonly',
    principal: 'dev@example.com',
  },
  lead: {
    accessKeyId: 'AKIAREVIEWLEAD000001',
    secretAccessKey: 'lead-secret-review-0123456789abcdef',
    role: 'approver',
    principal: 'lead@example.com',
  },
  other: {
    accessKeyId: 'AKIAREVIEWOTHER00001',
    secretAccessKey: 'other-secret-review-0123456789abcdef',
    role: 'approver',
    principal: 'other@example.com',
  },
} as const;
// Two policies select PAY: an approver must be on both lists (lead is; other only on one).
const POLICY = `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: payments, owner: pay@example.com }
spec:
  workloads: [{ identity: ${PAY} }]
  rules: []
  exceptions: { approvers: [lead@example.com, other@example.com], maxTtl: 72h }
---
apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: payments-audit, owner: audit@example.com }
spec:
  workloads: [{ identity: ${PAY} }]
  rules: []
  exceptions: { approvers: [lead@example.com, dev@example.com] }
---
apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: shop, owner: shop@example.com }
spec:
  workloads: [{ identity: ${WEB} }]
  rules: []
`;

const dir = mkdtempSync(join(tmpdir(), 'weir-exception-review-'));
let server: RunningServer;
const as = (who: keyof typeof KEYS): WeirApiTarget => ({
  endpoint: new URL(server.url),
  region: 'us-east-1',
  credentials: {
    accessKeyId: KEYS[who].accessKeyId,
    secretAccessKey: KEYS[who].secretAccessKey,
    method: 'test',
  },
});
const request = async (who: keyof typeof KEYS, json: Record<string, unknown>): Promise<ExceptionView> =>
  (await callWeirApi(as(who), { method: 'POST', resource: 'exceptions', json })).exception as ExceptionView;
type May = { allowed: boolean; why?: string };
/** The answer of `GET exceptions/review`, as far as these tests read it. */
interface Review {
  exception: ExceptionView;
  serverTime: string;
  until?: string;
  timeLeftSeconds?: number;
  approval: { decidedBy?: string; mayApprove?: unknown } & Record<string, unknown>;
  caller: { principal: string; role: string; approve: May; deny: May; revoke: May };
}
const review = async (who: keyof typeof KEYS, id: string): Promise<Review> =>
  (await callWeirApi(as(who), {
    method: 'GET',
    resource: 'exceptions/review',
    query: { id },
  })) as unknown as Review;

async function refused(p: Promise<unknown>, code: string): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WeirApiCallError);
  expect((err as WeirApiCallError).apiCode).toBe(code);
  return (err as Error).message;
}

beforeAll(async () => {
  mkdirSync(join(dir, 'policy'));
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'policy', 'p.yaml'), POLICY);
  const creds = join(dir, 'credentials');
  writeFileSync(
    creds,
    Object.entries(KEYS)
      .map(
        ([name, k]) =>
          `[${name}]\naws_access_key_id = ${k.accessKeyId}\naws_secret_access_key = ${k.secretAccessKey}\n` +
          `weir_role = ${k.role}\nweir_principal = ${k.principal}\n`,
      )
      .join(''),
    { mode: 0o600 },
  );
  server = await startServer({
    dataDir: join(dir, 'data'),
    apiListen: '127.0.0.1:0',
    proxyListen: '127.0.0.1:0',
    policyDir: join(dir, 'policy'),
    credentialsFile: creds,
    logger: pino({ level: 'silent' }),
    print: () => undefined,
  });
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('GET exceptions/review', () => {
  it('names who may still approve: on every approver list of the policies, never the requester', async () => {
    const e = await request('dev', {
      identity: PAY,
      to: ['api.stripe.com:443'],
      reason: 'payouts',
      ttl: '2h',
    });
    const r = await review('dev', e.id);
    expect(r.exception).toMatchObject({ id: e.id, state: 'pending' });
    expect(r.approval).toEqual({
      requester: 'dev@example.com',
      maxTtl: '3d',
      approverLists: [
        { policy: 'payments', approvers: ['lead@example.com', 'other@example.com'] },
        { policy: 'payments-audit', approvers: ['lead@example.com', 'dev@example.com'] },
      ],
      mayApprove: { anyApprover: false, principals: ['lead@example.com'], except: ['dev@example.com'] },
    });
    expect(r.timeLeftSeconds).toBeUndefined();
  });

  it('says what the calling key may do, with the reason the write would give when it may not', async () => {
    const e = await request('other', { identity: PAY, to: ['api.stripe.com:443'], reason: 'payouts' });
    const dev = await review('dev', e.id);
    expect(dev.caller).toMatchObject({
      principal: 'dev@example.com',
      role: 'readonly',
    });
    // A read-only key withdraws only its own requests.
    expect(dev.caller.revoke).toEqual({ allowed: false, why: expect.stringContaining('only their own') });
    expect(dev.caller.approve.allowed).toBe(false);
    expect(dev.caller.approve.why).toContain('approver or admin');
    const mine = await request('dev', { identity: PAY, to: ['api.stripe.com:443'], reason: 'payouts' });
    expect((await review('dev', mine.id)).caller.revoke).toEqual({ allowed: true });
    const other = await review('other', mine.id);
    expect(other.caller.approve).toEqual({
      allowed: false,
      why: expect.stringContaining("policy 'payments-audit' allows only lead@example.com, dev@example.com"),
    });
    const lead = await review('lead', e.id);
    expect(lead.caller).toMatchObject({
      approve: { allowed: true },
      deny: { allowed: true },
      revoke: { allowed: true },
    });
    // Reading as the one who may approve approved nothing.
    expect((await review('dev', e.id)).exception.state).toBe('pending');
  });

  it('the requester holding an approver key is refused by the two-person rule; any other approver may', async () => {
    const e = await request('lead', { identity: WEB, to: ['api.github.com:443'], reason: 'release' });
    const lead = await review('lead', e.id);
    expect(lead.caller.approve).toEqual({ allowed: false, why: expect.stringContaining('two-person rule') });
    expect(lead.approval.mayApprove).toEqual({ anyApprover: true, except: ['lead@example.com'] });
    expect((await review('other', e.id)).caller.approve).toEqual({ allowed: true });
  });

  it('an approved exception has its time left, until, its approver, and can no longer be approved', async () => {
    const e = await request('dev', {
      identity: WEB,
      to: ['api.github.com:443'],
      reason: 'release',
      ttl: '2h',
    });
    await callWeirApi(as('other'), {
      method: 'POST',
      resource: 'exceptions/approve',
      json: { id: e.id, ttl: '1h' },
    });
    const r = await review('dev', e.id);
    expect(r.exception.state).toBe('active');
    expect(r.until).toBe(r.exception.expires);
    const left = r.timeLeftSeconds ?? 0;
    expect(left).toBeGreaterThan(3500);
    expect(left).toBeLessThanOrEqual(3600);
    expect(Date.parse(r.until ?? '') - Date.parse(r.serverTime)).toBeGreaterThanOrEqual(left * 1000);
    expect(r.approval.decidedBy).toBe('other@example.com');
    expect(r.approval.mayApprove).toBeUndefined();
    expect((await review('lead', e.id)).caller.approve).toEqual({
      allowed: false,
      why: expect.stringContaining('is active'),
    });
  });

  it('bad, unknown and missing IDs are refused naming the field', async () => {
    expect(await refused(review('dev', 'exc-nope'), 'InvalidParameterValue')).toContain("field 'id'");
    await refused(review('dev', 'exc-00000000000000000'), 'InvalidException.NotFound');
    await refused(
      callWeirApi(as('dev'), { method: 'GET', resource: 'exceptions/review' }),
      'MissingParameter',
    );
    await refused(
      callWeirApi(as('dev'), {
        method: 'GET',
        resource: 'exceptions/review',
        query: { id: 'x', extra: '1' },
      }),
      'UnknownParameter',
    );
  });
});

describe('GET exceptions/promote', () => {
  it('answers the YAML `weir exception promote` prints, to the character', async () => {
    const e = await request('dev', {
      identity: WEB,
      to: ['api.github.com:443', 'uploads.github.com:443', 'dns.example:53/udp'],
      reason: 'release: artifacts',
    });
    await callWeirApi(as('lead'), { method: 'POST', resource: 'exceptions/approve', json: { id: e.id } });
    const out = await callWeirApi(as('dev'), {
      method: 'GET',
      resource: 'exceptions/promote',
      query: { id: e.id },
    });
    let cli = '';
    await runExceptionPromote(e.id, {}, { out: (s) => void (cli += s), err: () => undefined }, as('dev'));
    expect(out).toEqual({ id: e.id, yaml: cli });
    expect(cli).toContain('justification: "release: artifacts"');
    expect(cli).toContain(`- id: ${e.id}-2`);
    await refused(
      callWeirApi(as('dev'), {
        method: 'GET',
        resource: 'exceptions/promote',
        query: { id: 'exc-00000000000000000' },
      }),
      'InvalidException.NotFound',
    );
  });
});
