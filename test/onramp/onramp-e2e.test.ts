/**
 * @module test/onramp/onramp-e2e — the on-ramp as a user meets it, every part a real process: one
 * `weir serve` (policy directory, credentials with a developer, two approvers and an on-call
 * engineer, a hosts file, a webhook), the real curl through its gateway with the token in the
 * proxy URL, and the `weir` CLI spawned for each command people type. From a 403 to the command
 * it carries, run as printed by the developer, approved by a second person, enforced, revoked,
 * expired; the two-person rule and the approver list; break-glass with RFC 6238 codes; the
 * webhook's events; and the audit trail of it all, verified once the server has stopped.
 *
 * How soon a change is enforced is measured (and printed) with a request in this process polled
 * every 10 ms; the tests assert only the order of events, with bounds no broken build meets.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken, loadTokenKey } from '../../src/identity/index.js';
import { closeOf } from '../helpers/tunnel-fixture.js';
import { connectVia } from '../helpers/gateway-client.js';
import {
  cleanEnv,
  curlVia,
  firstTrue,
  localUpstreamAddress,
  runProcess,
  startUpstream,
  statusVia,
  totp,
  WEIR_BIN,
  weirShimDir,
} from '../helpers/onramp.js';
import type { Run } from '../helpers/onramp.js';
import { spawnServe } from '../helpers/serve-process.js';
import type { ServeProcess } from '../helpers/serve-process.js';
import { probe, requireTool } from '../helpers/tools.js';

const HAS_CURL = requireTool('curl', probe('curl', ['--version']));
const UPSTREAM_IP = localUpstreamAddress();
// Exceptions may never open loopback (a guardrail), so the upstream listens on another address of
// this machine. Under CI=true a machine without one fails here instead of skipping.
const HAS_UPSTREAM = requireTool(
  'a non-loopback IPv4 address',
  UPSTREAM_IP !== undefined,
  'exceptions may not open loopback, so the upstream needs another address of this machine',
);

const WEB = 'spiffe://prod.example/ns/shop/sa/web';
/** RFC 6238's SHA-1 test secret ("12345678901234567890"), as base32. */
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const HOST = 'upstream.test';

const PROFILES = {
  dev: ['AKIAONRAMPDEV0000001', 'readonly', 'dev@example.com'],
  lead: ['AKIAONRAMPLEAD000001', 'approver', 'lead@example.com'],
  other: ['AKIAONRAMPOTHER00001', 'approver', 'other@example.com'],
  oncall: ['AKIAONRAMPONCALL0001', 'readonly', 'oncall@example.com'],
} as const;

/** What the measurements came to, printed at the end (the report quotes them). */
const measured: Record<string, number> = {};

describe.skipIf(!HAS_CURL || !HAS_UPSTREAM)('the on-ramp, end to end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-onramp-e2e-'));
  const dataDir = join(dir, 'data');
  const creds = join(dir, 'credentials');
  const shim = weirShimDir(dir);
  let serve: ServeProcess;
  let upstream: Server;
  let url = '';
  let api = '';
  let token = '';
  let hookServer: Server;
  const hooks: Record<string, unknown>[] = [];

  /** `weir ARGS…` as profile `profile`, against the running server. */
  const weir = (profile: keyof typeof PROFILES, ...args: string[]): Promise<Run> =>
    runProcess(
      process.execPath,
      [WEIR_BIN, ...args],
      cleanEnv({ AWS_SHARED_CREDENTIALS_FILE: creds, AWS_PROFILE: profile, AWS_ENDPOINT_URL: api }),
    );
  const ok = (r: Run): string => {
    expect(r.stderr + `exit ${String(r.status)}`).toMatch(/exit 0$/);
    return r.stdout.trim();
  };
  const show = async (id: string): Promise<Record<string, unknown>> =>
    JSON.parse(ok(await weir('dev', 'exception', 'show', id, '--output', 'json'))) as Record<string, unknown>;
  const status = (): Promise<number> => statusVia(serve.proxyPort, token, url);
  const decisionLines = (): Record<string, unknown>[] =>
    serve.logLines().filter((l) => l.msg === 'decision' && l.identity === WEB);
  const metrics = async (): Promise<string> => (await fetch(`${api}/metrics`)).text();

  beforeAll(async () => {
    const ip = UPSTREAM_IP!;
    mkdirSync(dataDir);
    mkdirSync(join(dir, 'policy'));
    writeFileSync(
      join(dir, 'policy', 'shop.yaml'),
      `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: shop, owner: shop@example.com }
spec:
  workloads: [{ identity: '${WEB}' }]
  rules: []
  exceptions: { approvers: [lead@example.com], maxTtl: 72h }
`,
    );
    writeFileSync(join(dir, 'hosts'), `${ip} ${HOST}\n`);
    const ini = Object.entries(PROFILES).flatMap(([name, [key, role, principal]]) => [
      `[${name}]`,
      `aws_access_key_id = ${key}`,
      `aws_secret_access_key = ${name}-secret-onramp-e2e-0123456789abcdef`,
      `weir_role = ${role}`,
      `weir_principal = ${principal}`,
      ...(name === 'oncall' ? [`weir_breakglass_totp = ${RFC_SECRET}`] : []),
    ]);
    writeFileSync(creds, ini.join('\n') + '\n', { mode: 0o600 });
    hookServer = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        hooks.push(JSON.parse(body) as Record<string, unknown>);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', () => r()));
    const hookPort = (hookServer.address() as AddressInfo).port;
    const up = await startUpstream(ip);
    upstream = up.server;
    url = `http://${HOST}:${up.port}/`;
    serve = await spawnServe(dataDir, [
      '--credentials',
      creds,
      '--policy',
      join(dir, 'policy'),
      '--dns-hosts',
      join(dir, 'hosts'),
      '--notify-webhook',
      `http://127.0.0.1:${hookPort}/hook`,
    ]);
    api = readFileSync(join(dataDir, 'endpoint'), 'utf8').trim();
    token = issueToken(loadTokenKey(dataDir), {
      identity: WEB,
      ttlMs: 3_600_000,
      now: Date.now(),
      account: '123456789012',
    });
  }, 120_000);

  afterAll(async () => {
    if (serve !== undefined && serve.exited() === undefined) serve.child.kill('SIGKILL');
    upstream?.closeAllConnections();
    upstream?.close();
    hookServer?.close();
    if (process.env.ONRAMP_DEBUG !== undefined) {
      writeFileSync(process.env.ONRAMP_DEBUG, serve?.lines.join('\n') + '\n---\n' + serve?.stderr());
    }
    rmSync(dir, { recursive: true, force: true });
    console.log(`on-ramp e2e measured (ms): ${JSON.stringify(measured)}`);
  });

  let excId = '';
  let bgId = '';

  it('a denied curl carries the request command; the developer runs it as printed', async () => {
    const denied = await curlVia(serve.proxyPort, token, url);
    expect(denied.status).toBe(403);
    const command = denied.headers['weir-exception-request'];
    expect(command).toBe(
      `weir exception request --identity ${WEB} --to ${HOST}:${new URL(url).port} --reason '<why you need it>' --ttl 24h`,
    );
    expect(denied.body).toContain(command);
    const typed = command!.replace("'<why you need it>'", "'release 1.2: fetch the artifacts'");
    const asked = await runProcess(
      'bash',
      ['-c', typed],
      cleanEnv({
        PATH: `${shim}:${process.env.PATH ?? ''}`,
        AWS_SHARED_CREDENTIALS_FILE: creds,
        AWS_PROFILE: 'dev',
        AWS_ENDPOINT_URL: api,
      }),
    );
    expect(asked.stderr + `exit ${String(asked.status)}`).toMatch(/exit 0$/);
    excId = asked.stdout.trim();
    expect(excId).toMatch(/^exc-[0-9a-z-]+$/);
    expect(await show(excId)).toMatchObject({ state: 'pending', requester: 'dev@example.com' });
    expect(await status()).toBe(403); // a request grants nothing
  }, 120_000);

  it('the requester cannot approve their own request; an approver off the policy list is refused', async () => {
    const self = await weir('dev', 'exception', 'approve', excId);
    expect(self.status).not.toBe(0);
    expect(self.stderr).toMatch(/UnauthorizedOperation/);
    const offList = await weir('other', 'exception', 'approve', excId);
    expect(offList.status).not.toBe(0);
    expect(offList.stderr).toMatch(/other@example\.com/);
    expect(offList.stderr).toMatch(/lead@example\.com|approvers/);
    // The two-person rule itself: an approver who asked cannot approve.
    const leadAsks = ok(
      await weir(
        'lead',
        'exception',
        'request',
        '--identity',
        WEB,
        '--to',
        'api.github.com:443',
        '--reason',
        'mine',
      ),
    );
    const own = await weir('lead', 'exception', 'approve', leadAsks);
    expect(own.status).not.toBe(0);
    expect(own.stderr).toMatch(/own request|two-person|requester/i);
    expect(await show(excId)).toMatchObject({ state: 'pending' });
    ok(await weir('lead', 'exception', 'deny', leadAsks, '--reason', 'not needed'));
  }, 120_000);

  it('approved by a second person: the same curl passes, and the decision names the exception', async () => {
    const allowed = firstTrue(async () => (await status()) === 200);
    const approve = await weir('lead', 'exception', 'approve', excId, '--comment', 'ok for the release');
    const cliDone = Date.now();
    ok(approve);
    const passAt = await allowed;
    const exc = await show(excId);
    expect(exc).toMatchObject({ state: 'active', decidedBy: 'lead@example.com' });
    measured.approvalToPass = passAt - Date.parse(String(exc.decidedAt));
    measured.approveCliExitToPass = passAt - cliDone;

    const passed = await curlVia(serve.proxyPort, token, url);
    expect(passed.status).toBe(200);
    expect(passed.body).toBe('hello from upstream\n');
    const grant = {
      kind: 'exception',
      id: excId,
      requester: 'dev@example.com',
      approver: 'lead@example.com',
      reason: 'release 1.2: fetch the artifacts',
      expires: exc.expires,
    };
    await firstTrue(async () => decisionLines().some((l) => l.reason === 'exception'));
    const line = decisionLines().find((l) => l.reason === 'exception');
    expect(line).toMatchObject({ decision: 'allow', reason: 'exception', grant });
    // The store gets decisions in batches off the gateway's hot path: wait until this one is there.
    let listed = '';
    await firstTrue(async () => {
      listed = ok(
        await weir('dev', 'decisions', '--identity', WEB, '--decision', 'allow', '--output', 'json'),
      );
      return listed.includes(excId);
    });
    const rows = listed
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.find((r) => (r.grant as { id?: string } | undefined)?.id === excId)).toMatchObject({ grant });
    const table = ok(await weir('dev', 'decisions', '--identity', WEB, '--decision', 'allow'));
    expect(table).toContain(excId);
    const checked = ok(
      await weir('dev', 'check', '--endpoint', api, '--from', WEB, '--to', `${HOST}:${new URL(url).port}`),
    );
    expect(checked).toContain(
      `allowed by exception ${excId} requested by dev@example.com, approved by lead@example.com, reason "release 1.2: fetch the artifacts", expires ${String(exc.expires)}`,
    );
  }, 180_000);

  it('revoked: the curl is denied again and the tunnel only the exception allowed is closed', async () => {
    const target = `${HOST}:${new URL(url).port}`;
    const tunnel = await connectVia(serve.proxyPort, target, { token });
    expect(tunnel.status).toBe(200);
    // One request through it, so that the upstream holds it as an idle keep-alive connection.
    const got = await new Promise<string>((resolve) => {
      let s = '';
      tunnel.socket.on('data', (c: Buffer) => {
        s += c.toString();
        if (s.includes('hello from upstream')) resolve(s);
      });
      tunnel.socket.resume();
      tunnel.socket.write(`GET / HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
    });
    expect(got).toMatch(/^HTTP\/1\.1 200/);
    let tunnelClosedAt = 0;
    const closed = closeOf(tunnel.socket).then(() => (tunnelClosedAt = Date.now()));
    const denied = firstTrue(async () => (await status()) === 403);
    ok(await weir('lead', 'exception', 'revoke', excId, '--reason', 'release shipped'));
    const deniedAt = await denied;
    await closed;
    const exc = await show(excId);
    expect(exc).toMatchObject({ state: 'revoked', revokedBy: 'lead@example.com' });
    measured.revokeToDeny = deniedAt - Date.parse(String(exc.revokedAt));
    measured.revokeToTunnelClosed = tunnelClosedAt - Date.parse(String(exc.revokedAt));
    expect((await curlVia(serve.proxyPort, token, url)).status).toBe(403);
    await firstTrue(async () =>
      serve
        .logLines()
        .some((l) => l.msg !== 'decision' && l.identity === WEB && l.close === 'policy-changed'),
    );
  }, 180_000);

  it('expired: a 8 s exception stops allowing at its expiry', async () => {
    const id = ok(
      await weir(
        'dev',
        'exception',
        'request',
        '--identity',
        WEB,
        '--to',
        `${HOST}:${new URL(url).port}`,
        '--reason',
        'short',
        '--ttl',
        '8s',
      ),
    );
    const allowed = firstTrue(async () => (await status()) === 200);
    ok(await weir('lead', 'exception', 'approve', id));
    await allowed;
    expect((await curlVia(serve.proxyPort, token, url)).status).toBe(200);
    const exc = await show(id);
    const deniedAt = await firstTrue(async () => (await status()) === 403);
    measured.expiryToDeny = deniedAt - Date.parse(String(exc.expires));
    expect(deniedAt).toBeGreaterThanOrEqual(Date.parse(String(exc.expires)));
    expect((await curlVia(serve.proxyPort, token, url)).status).toBe(403);
    expect(await show(id)).toMatchObject({ state: 'expired' });
  }, 180_000);

  it('a change window: the exception allows only from its start to its end', async () => {
    // Far enough ahead for two CLI runs on a slow machine; whole seconds, as people write them.
    const start = new Date(Math.ceil((Date.now() + 30_000) / 1000) * 1000);
    const end = new Date(start.getTime() + 8_000);
    const window = `${start.toISOString().replace('.000Z', 'Z')}/${end.toISOString().replace('.000Z', 'Z')}`;
    const id = ok(
      await weir(
        'dev',
        'exception',
        'request',
        '--identity',
        WEB,
        '--to',
        `${HOST}:${new URL(url).port}`,
        '--reason',
        'change window',
        '--window',
        window,
      ),
    );
    ok(await weir('lead', 'exception', 'approve', id));
    expect(Date.now()).toBeLessThan(start.getTime()); // else the test proves nothing: a slower machine
    expect(await status()).toBe(403);
    const openAt = await firstTrue(async () => (await status()) === 200);
    expect(openAt).toBeGreaterThanOrEqual(start.getTime());
    measured.windowStartToPass = openAt - start.getTime();
    const closedAt = await firstTrue(async () => (await status()) === 403);
    expect(closedAt).toBeGreaterThanOrEqual(end.getTime());
    measured.windowEndToDeny = closedAt - end.getTime();
  }, 180_000);

  it('break-glass: a valid RFC 6238 code opens a session; reused codes and long TTLs are refused; close ends it', async () => {
    // The test secret and vectors of RFC 6238 appendix B (SHA-1), cut to 6 digits by the same code.
    expect(totp(RFC_SECRET, 59, 8)).toBe('94287082');
    expect(totp(RFC_SECRET, 1111111109, 8)).toBe('07081804');
    expect(totp(RFC_SECRET, 20000000000, 8)).toBe('65353130');

    const tooLong = await weir(
      'oncall',
      'breakglass',
      'open',
      '--identity',
      WEB,
      '--reason',
      'all night',
      '--ttl',
      '2h',
      '--otp',
      '000000',
    );
    expect(tooLong.status).not.toBe(0);
    expect(tooLong.stderr).toMatch(/ttl.*over.*maximum/i);

    const code = totp(RFC_SECRET, Date.now() / 1000);
    const allowed = firstTrue(async () => (await status()) === 200);
    const bg = ok(
      await weir(
        'oncall',
        'breakglass',
        'open',
        '--identity',
        WEB,
        '--reason',
        'INC-1 upstream down',
        '--ttl',
        '30m',
        '--otp',
        code,
      ),
    );
    expect(bg).toMatch(/^bg-/);
    bgId = bg;
    await allowed;
    expect((await curlVia(serve.proxyPort, token, url)).status).toBe(200);
    await firstTrue(async () => decisionLines().some((l) => l.reason === 'breakglass'));
    expect(decisionLines().find((l) => l.reason === 'breakglass')).toMatchObject({
      decision: 'allow',
      grant: { kind: 'breakglass', id: bg, requester: 'oncall@example.com' },
    });
    const during = await metrics();
    expect(during).toMatch(/^weir_breakglass_sessions_open 1$/m);
    expect(during).toMatch(/^weir_gateway_grants_active\{kind="breakglass"\} 1$/m);

    const reused = await weir(
      'oncall',
      'breakglass',
      'open',
      '--identity',
      WEB,
      '--reason',
      'again',
      '--ttl',
      '30m',
      '--otp',
      code,
    );
    expect(reused.status).not.toBe(0);
    expect(reused.stderr).toMatch(/code/i);

    const denied = firstTrue(async () => (await status()) === 403);
    ok(await weir('oncall', 'breakglass', 'close', bg, '--reason', 'recovered'));
    await denied;
    expect((await curlVia(serve.proxyPort, token, url)).status).toBe(403);
    expect(await metrics()).toMatch(/^weir_breakglass_sessions_open 0$/m);

    // A session to one destination that runs out: the next code (the used one and older are
    // refused; an app shows the next within 30 s, the server accepts one step ahead).
    const next = totp(RFC_SECRET, Date.now() / 1000 + 30);
    const opened = firstTrue(async () => (await status()) === 200);
    const short = ok(
      await weir(
        'oncall',
        'breakglass',
        'open',
        '--identity',
        WEB,
        '--to',
        `${HOST}:${new URL(url).port}`,
        '--reason',
        'INC-2 short',
        '--ttl',
        '8s',
        '--otp',
        next,
      ),
    );
    await opened;
    const session = (
      JSON.parse(ok(await weir('oncall', 'breakglass', 'list', '--all', '--output', 'json'))) as {
        sessions: { id: string; expires: string }[];
      }
    ).sessions.find((x) => x.id === short);
    const ends = Date.parse(session!.expires);
    const endedAt = await firstTrue(async () => (await status()) === 403);
    expect(endedAt).toBeGreaterThanOrEqual(ends);
    measured.breakglassExpiryToDeny = endedAt - ends;
    expect(await metrics()).toMatch(/^weir_breakglass_sessions_open 0$/m);
  }, 180_000);

  it('the webhook receiver got the exception and break-glass events', async () => {
    const want = [
      'exception.requested',
      'exception.approved',
      'exception.revoked',
      'breakglass.opened',
      'breakglass.closed',
    ];
    await firstTrue(async () => want.every((e) => hooks.some((h) => h.event === e)));
    // Each event names its exception or session in a field of its own: a receiver can match an
    // approval to its request without parsing the text (`id` is the notice's own number).
    for (const event of ['exception.requested', 'exception.approved', 'exception.revoked']) {
      expect(hooks.find((h) => h.event === event)).toMatchObject({
        text: expect.stringContaining(excId) as unknown,
        exception: excId,
        identity: WEB,
        id: expect.any(Number) as unknown,
      });
    }
    expect(hooks.find((h) => h.event === 'exception.approved')).toMatchObject({
      requester: 'dev@example.com',
      decidedBy: 'lead@example.com',
    });
    for (const event of ['breakglass.opened', 'breakglass.closed']) {
      expect(hooks.find((h) => h.event === event)).toMatchObject({
        text: expect.stringContaining(WEB) as unknown,
        session: bgId,
        identity: WEB,
      });
    }
  }, 120_000);

  it('the audit trail names every step and its principal, and verifies', async () => {
    // Through the API first (any role may read it), then from the data dir once the server stopped.
    const viaApi = await weir('dev', 'audit', 'verify', '--endpoint-url', api);
    expect(viaApi.stdout + viaApi.stderr + `exit ${String(viaApi.status)}`).toMatch(/exit 0$/);
    const apiLog = ok(await weir('dev', 'audit', 'log', '--endpoint-url', api, '--event', 'OpenBreakglass'));
    expect(apiLog).toContain('oncall@example.com');
    // The outcome metrics agree with what happened: 3 approvals, each exception in its state.
    const m = await metrics();
    expect(m).toMatch(/^weir_exception_time_to_approve_seconds_count 3$/m);
    for (const [state, n] of [
      ['pending', 0],
      ['active', 0],
      ['denied', 1],
      ['revoked', 1],
      ['expired', 2],
    ] as const) {
      expect(m).toMatch(new RegExp(`^weir_exceptions\\{state="${state}"\\} ${n}$`, 'm'));
    }
    const expired = (
      JSON.parse(ok(await weir('dev', 'exception', 'list', '--state', 'expired', '--output', 'json'))) as {
        exceptions: unknown[];
      }
    ).exceptions;
    expect(expired).toHaveLength(2);
    serve.child.kill('SIGTERM');
    await serve.exit;
    const log = await runProcess(
      process.execPath,
      [WEIR_BIN, 'audit', 'log', '--data-dir', dataDir, '--output', 'json'],
      cleanEnv(),
    );
    expect(log.stderr + `exit ${String(log.status)}`).toMatch(/exit 0$/);
    const records = (JSON.parse(log.stdout) as { Records: Record<string, unknown>[] }).Records;
    const who = (name: string): string[] =>
      records
        .filter((r) => r.eventName === name && r.errorCode === undefined)
        .map((r) => (r.userIdentity as { principal: string }).principal);
    expect(who('RequestException')).toEqual(expect.arrayContaining(['dev@example.com', 'lead@example.com']));
    expect(who('ApproveException')).toEqual(['lead@example.com', 'lead@example.com', 'lead@example.com']);
    expect(who('DenyException')).toEqual(['lead@example.com']);
    expect(who('RevokeException')).toEqual(['lead@example.com']);
    expect(who('OpenBreakglass')).toEqual(['oncall@example.com', 'oncall@example.com']);
    expect(who('CloseBreakglass')).toEqual(['oncall@example.com']);
    const refused = records.filter((r) => r.eventName === 'ApproveException' && r.errorCode !== undefined);
    expect(refused.map((r) => (r.userIdentity as { principal: string }).principal)).toEqual(
      expect.arrayContaining(['dev@example.com', 'other@example.com', 'lead@example.com']),
    );
    const verify = await runProcess(
      process.execPath,
      [WEIR_BIN, 'audit', 'verify', '--data-dir', dataDir],
      cleanEnv(),
    );
    expect(verify.stdout + verify.stderr + `exit ${String(verify.status)}`).toMatch(/exit 0$/);
  }, 120_000);
});
