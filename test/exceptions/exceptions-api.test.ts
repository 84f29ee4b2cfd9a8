/**
 * The exception workflow through a real server (the code `weir serve` runs, on real sockets):
 * one principal requests (a readonly key), another approves; self-approval and an approver not on
 * the policy's `spec.exceptions.approvers` are refused; list and show by state, including an
 * exception that expires (5 s TTL, waited for); notifications are queued with each change; the
 * CLI prints the new ID alone and `promote` prints a rule that loads and lints without errors.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promoteYaml, runExceptionList, runExceptionRequest } from '../../src/cli/exception.js';
import type { ExceptionView } from '../../src/cli/exception.js';
import { callWeirApi, WeirApiCallError } from '../../src/cli/weir-api-client.js';
import type { WeirApiTarget } from '../../src/cli/weir-api-client.js';
import { lintPolicySet, loadPolicySources } from '../../src/policy/index.js';
import { startServer } from '../../src/server/index.js';
import type { RunningServer } from '../../src/server/index.js';

const WEB = 'spiffe://prod.example/ns/shop/sa/web';
const PAY = 'spiffe://prod.example/ns/payments/sa/checkout';
const KEYS = {
  admin: { accessKeyId: 'AKIAEXCEPTIONSADMIN0', secretAccessKey: 'admin-secret-exceptions-0123456789' },
  dev: { accessKeyId: 'AKIAEXCEPTIONSDEV000', secretAccessKey: 'dev-secret-exceptions-0123456789' },
  lead: { accessKeyId: 'AKIAEXCEPTIONSLEAD00', secretAccessKey: 'lead-secret-exceptions-0123456789' },
  other: { accessKeyId: 'AKIAEXCEPTIONSOTHER0', secretAccessKey: 'other-secret-exceptions-0123456789' },
};
const POLICY = `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: payments, owner: pay@example.com }
spec:
  workloads: [{ identity: ${PAY} }]
  rules:
    - id: stripe
      to: [{ fqdn: api.stripe.com }]
      ports: [443]
      justification: payments
      dataClass: pci
      expires: 2099-01-01
  exceptions: { approvers: [lead@example.com], maxTtl: 72h }
---
apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: shop, owner: shop@example.com }
spec:
  workloads: [{ identity: ${WEB} }]
  rules: []
---
apiVersion: weir.dev/v1
kind: WorkloadRegistry
metadata: { name: registry }
spec:
  workloads: [{ identity: ${PAY}, labels: { dataClass: pci } }]
`;

const dir = mkdtempSync(join(tmpdir(), 'weir-exceptions-'));
const dataDir = join(dir, 'data');
let server: RunningServer;
const as = (who: keyof typeof KEYS): WeirApiTarget => ({
  endpoint: new URL(server.url),
  region: 'us-east-1',
  credentials: { ...KEYS[who], method: 'test' },
});

async function refused(p: Promise<unknown>, code: string): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WeirApiCallError);
  expect((err as WeirApiCallError).apiCode).toBe(code);
  return (err as Error).message;
}

const request = async (who: keyof typeof KEYS, json: Record<string, unknown>): Promise<ExceptionView> =>
  (await callWeirApi(as(who), { method: 'POST', resource: 'exceptions', json })).exception as ExceptionView;
const act = async (
  who: keyof typeof KEYS,
  action: string,
  json: Record<string, string>,
): Promise<ExceptionView> =>
  (await callWeirApi(as(who), { method: 'POST', resource: `exceptions/${action}`, json }))
    .exception as ExceptionView;
const show = async (id: string): Promise<ExceptionView> =>
  (await callWeirApi(as('dev'), { method: 'GET', resource: 'exceptions/show', query: { id } }))
    .exception as ExceptionView;
const list = async (query: Record<string, string>): Promise<ExceptionView[]> =>
  (await callWeirApi(as('dev'), { method: 'GET', resource: 'exceptions', query }))
    .exceptions as ExceptionView[];

beforeAll(async () => {
  mkdirSync(join(dir, 'policy'));
  mkdirSync(dataDir);
  writeFileSync(join(dir, 'policy', 'p.yaml'), POLICY);
  const creds = join(dir, 'credentials');
  writeFileSync(
    creds,
    [
      '[admin]',
      `aws_access_key_id = ${KEYS.admin.accessKeyId}`,
      `aws_secret_access_key = ${KEYS.admin.secretAccessKey}`,
      '[dev]',
      `aws_access_key_id = ${KEYS.dev.accessKeyId}`,
      `aws_secret_access_key = ${KEYS.dev.secretAccessKey}`,
      'weir_role = readonly',
      'weir_principal = dev@example.com',
      '[lead]',
      `aws_access_key_id = ${KEYS.lead.accessKeyId}`,
      `aws_secret_access_key = ${KEYS.lead.secretAccessKey}`,
      'weir_role = approver',
      'weir_principal = lead@example.com',
      '[other]',
      `aws_access_key_id = ${KEYS.other.accessKeyId}`,
      `aws_secret_access_key = ${KEYS.other.secretAccessKey}`,
      'weir_role = approver',
      'weir_principal = other@example.com',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  server = await startServer({
    dataDir,
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

describe('request and approve, by two principals', () => {
  it('a readonly key requests; the request is pending and queued as a notification', async () => {
    const e = await request('dev', {
      identity: WEB,
      to: ['api.github.com:443'],
      reason: 'release 1.2',
      ttl: '1h',
    });
    expect(e).toMatchObject({
      identity: WEB,
      destinations: ['api.github.com:443/tcp'],
      state: 'pending',
      requester: 'dev@example.com',
      ttl: '1h',
    });
    expect(e.id).toMatch(/^exc-[0-9a-f]{17}$/);
    expect((await list({ state: 'pending' })).map((x) => x.id)).toContain(e.id);
  });

  it('the requester cannot approve their own request, even with an approver key', async () => {
    const mine = await request('other', { identity: WEB, to: ['api.github.com:443'], reason: 'self' });
    const message = await refused(act('other', 'approve', { id: mine.id }), 'UnauthorizedOperation');
    expect(message).toContain('two-person rule');
    expect((await show(mine.id)).state).toBe('pending');
  });

  it('a readonly key cannot approve; an approver not on spec.exceptions.approvers cannot either', async () => {
    const e = await request('dev', {
      identity: PAY,
      to: ['api.stripe.com:8443'],
      reason: 'r',
      dataClass: 'pci',
    });
    await refused(act('dev', 'approve', { id: e.id }), 'UnauthorizedOperation');
    const message = await refused(act('other', 'approve', { id: e.id }), 'UnauthorizedOperation');
    expect(message).toContain("policy 'payments' allows only lead@example.com");
    const approved = await act('lead', 'approve', { id: e.id, ttl: '30m', comment: 'ok' });
    expect(approved).toMatchObject({
      state: 'active',
      decidedBy: 'lead@example.com',
      ttl: '30m',
      comment: 'ok',
    });
    expect(Date.parse(approved.expires!) - Date.parse(approved.decidedAt!)).toBe(30 * 60_000);
    await refused(act('lead', 'approve', { id: e.id }), 'IncorrectState');
  });

  it('requests over the policy maximum, to guardrails, to public suffixes or with the wrong data class are refused naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [
        { identity: PAY, to: ['api.stripe.com:443'], reason: 'r', dataClass: 'pci', ttl: '73h' },
        "field 'ttl'",
      ],
      [{ identity: WEB, to: ['169.254.169.254:80'], reason: 'r' }, "field 'to'"],
      [{ identity: WEB, to: ['*.com:443'], reason: 'r' }, 'public suffix'],
      [{ identity: PAY, to: ['api.stripe.com:443'], reason: 'r' }, "field 'dataClass'"],
    ];
    for (const [json, text] of cases) {
      expect(await refused(request('dev', json), 'InvalidParameterValue')).toContain(text);
    }
    await refused(request('dev', { identity: WEB, reason: 'r' }), 'MissingParameter');
  });

  it('deny and revoke need a reason; the requester may withdraw their own; another readonly key may not', async () => {
    const e = await request('dev', { identity: WEB, to: ['api.github.com:443'], reason: 'r' });
    await refused(act('lead', 'deny', { id: e.id }), 'MissingParameter');
    const denied = await act('lead', 'deny', { id: e.id, reason: 'use the mirror' });
    expect(denied).toMatchObject({ state: 'denied', comment: 'use the mirror' });
    const f = await request('lead', { identity: WEB, to: ['api.github.com:443'], reason: 'r' });
    await refused(act('dev', 'revoke', { id: f.id, reason: 'x' }), 'UnauthorizedOperation');
    const g = await request('dev', { identity: WEB, to: ['api.github.com:443'], reason: 'r' });
    expect(await act('dev', 'revoke', { id: g.id, reason: 'not needed' })).toMatchObject({
      state: 'revoked',
      revokedBy: 'dev@example.com',
      revokeReason: 'not needed',
    });
    await refused(act('lead', 'approve', { id: 'exc-00000000000000000' }), 'InvalidException.NotFound');
    await refused(act('lead', 'approve', { id: 'nope' }), 'InvalidParameterValue');
  });

  it('an approved exception with a 5 s TTL is listed active, then expired (derived from time; nothing written)', async () => {
    const e = await request('dev', { identity: WEB, to: ['198.51.100.7:443'], reason: 'drill', ttl: '5s' });
    const approved = await act('other', 'approve', { id: e.id });
    expect(approved.state).toBe('active');
    expect((await list({ state: 'active' })).map((x) => x.id)).toContain(e.id);
    // Waited for, not timed: the state must turn once the expiry (set by the server) has passed.
    const expires = Date.parse(approved.expires!);
    while (Date.now() <= expires)
      await new Promise((r) => setTimeout(r, Math.max(50, expires - Date.now() + 20)));
    expect((await show(e.id)).state).toBe('expired');
    expect((await list({ state: 'expired' })).map((x) => x.id)).toEqual([e.id]);
    expect((await list({ state: 'active' })).map((x) => x.id)).not.toContain(e.id);
    expect((await list({ identity: PAY })).every((x) => x.identity === PAY)).toBe(true);
    await refused(list({ state: 'approved' }), 'InvalidParameterValue');
  });

  it('every change queued its notification (requested, approved, denied, revoked) with a text line', () => {
    const db = new Database(join(dataDir, 'weir.sqlite'), { readonly: true });
    try {
      const rows = db.prepare('SELECT event, text, fields FROM notifications ORDER BY seq').all() as {
        event: string;
        text: string;
        fields: string;
      }[];
      const events = new Set(rows.map((r) => r.event));
      for (const ev of [
        'exception.requested',
        'exception.approved',
        'exception.denied',
        'exception.revoked',
      ]) {
        expect(events.has(ev), ev).toBe(true);
      }
      const approved = rows.find((r) => r.event === 'exception.approved');
      expect(approved?.text).toMatch(/approved exception exc-[0-9a-f]{17} for /);
      expect(JSON.parse(approved?.fields ?? '{}')).toHaveProperty('decidedBy');
    } finally {
      db.close();
    }
  });

  it('metrics: time to approve and exceptions by state', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/weir_exception_time_to_approve_seconds_count \d+/);
    expect(text).toMatch(/weir_exceptions\{state="expired"\} 1/);
    expect(text).toMatch(/weir_exceptions\{state="pending"\} \d+/);
  });
});

describe('weir exception (CLI)', () => {
  it('request prints the new ID alone on stdout; list shows it', async () => {
    let out = '';
    let err = '';
    const id = await runExceptionRequest(
      { identity: WEB, to: ['api.github.com:443', 'uploads.github.com:443'], reason: 'release', ttl: '2h' },
      { out: (s) => void (out += s), err: (s) => void (err += s) },
      as('dev'),
    );
    expect(out).toBe(`${id}\n`);
    expect(err).toContain(`weir exception approve ${id}`);
    let table = '';
    await runExceptionList(
      { state: 'pending' },
      { out: (s) => void (table += s), err: () => undefined },
      as('dev'),
    );
    expect(table).toContain(id);
  });

  it('promote prints a rule that, pasted under spec.rules, loads and lints without errors', async () => {
    const e = await request('dev', {
      identity: PAY,
      to: ['api.stripe.com:443', '*.stripe.network:443', 'files.stripe.com:8443'],
      reason: 'payouts: reconcile',
      dataClass: 'pci',
    });
    const approved = await act('lead', 'approve', { id: e.id });
    const yaml = promoteYaml(approved);
    expect(yaml).toContain('justification: "payouts: reconcile"');
    expect(yaml).toContain('owner: "dev@example.com"');
    expect(yaml).toContain('dataClass: "pci"');
    expect(yaml).toContain(`expires: "${approved.expires}"`);
    const indented = yaml
      .split('\n')
      .map((l) => (l === '' ? l : `    ${l}`))
      .join('\n');
    const text = `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: payments, owner: pay@example.com }
spec:
  workloads: [{ identity: ${PAY} }]
  rules:
${indented}`;
    const { set, diagnostics } = loadPolicySources([{ file: 'p.yaml', text }]);
    const report = lintPolicySet(set, diagnostics, { now: Date.now() });
    expect(report.errors, JSON.stringify(report.diagnostics)).toBe(0);
    expect(set.policies[0]?.rules.map((r) => r.id)).toEqual([`${e.id}-1`, `${e.id}-2`]);
  });
});
