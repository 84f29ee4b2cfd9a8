/**
 * Break-glass end to end: a spawned `weir serve --breakglass-max-ttl 2h` with a credentials file
 * whose principals carry TOTP secrets, the `weir breakglass` CLI spawned against it and its
 * commands called in process over real sockets. Codes are computed here from each principal's
 * secret for the current time step (a spawned server has no injected clock; ±1 step absorbs the
 * gap). Each principal's steps only go up, so each test uses its own principal.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBreakglassClose, runBreakglassList, runBreakglassOpen } from '../../src/cli/breakglass.js';
import type { BreakglassOpenFlags } from '../../src/cli/breakglass.js';
import { resolveApiTarget, WeirApiCallError } from '../../src/cli/weir-api-client.js';
import { encodeBase32, openBreakglassGrants, totpCode } from '../../src/onramp/index.js';
import { openSqliteStore } from '../../src/store/index.js';
import { spawnApiServe, stopServe } from '../helpers/serve-process.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const CHECKOUT = 'spiffe://prod.example/ns/payments/sa/checkout';
/** Each spawned process compiles TypeScript on start: on a busy two-core machine that takes seconds. */
const SLOW = { timeout: 600_000 };

/** A secret per principal: RFC 6238's seed for the first, then other 20-byte seeds. */
const secretOf = (n: number): string =>
  encodeBase32(
    Buffer.from(n === 0 ? '12345678901234567890' : `weir-breakglass-${String(n).padStart(4, '0')}`),
  );

/** profile → [key ID, secret key, role, principal, TOTP secret?] */
const KEYS: Record<string, [string, string, string, string, string?]> = {
  admin: ['AKIAWEIRBGADMIN00001', 'breakglass-admin-secret-0123456789abcd', 'admin', 'admin@example.com'],
  oncall: [
    'AKIAWEIRBGONCALL0001',
    'breakglass-oncall-secret-0123456789abc',
    'readonly',
    'oncall@example.com',
    secretOf(0),
  ],
  second: [
    'AKIAWEIRBGSECOND0001',
    'breakglass-second-secret-0123456789abc',
    'readonly',
    'second@example.com',
    secretOf(1),
  ],
  third: [
    'AKIAWEIRBGTHIRD00001',
    'breakglass-third-secret-0123456789abcd',
    'readonly',
    'third@example.com',
    secretOf(2),
  ],
  fourth: [
    'AKIAWEIRBGFOURTH0001',
    'breakglass-fourth-secret-0123456789abc',
    'approver',
    'fourth@example.com',
    secretOf(3),
  ],
  nosecret: ['AKIAWEIRBGNOSECRET01', 'breakglass-nosecret-secret-0123456789a', 'readonly', 'dev@example.com'],
};

let dir: string;
let dataDir: string;
let credentials: string;
let url: string;
let serve: ChildProcess;

const env = (): NodeJS.ProcessEnv => {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('AWS_') && k !== 'WEIR_DATA_DIR') out[k] = v;
  return { ...out, HOME: dir, AWS_SHARED_CREDENTIALS_FILE: credentials, AWS_CONFIG_FILE: join(dir, 'none') };
};
const target = (profile: string) => resolveApiTarget({ endpointUrl: url, profile }, env(), dir);
const code = (profile: string, offsetSteps = 0): string =>
  totpCode(KEYS[profile]![4]!, Date.now() + offsetSteps * 30_000);

function weir(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, join(ROOT, 'src/cli/main.ts'), ...args], {
      cwd: dir,
      env: env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (c) => done({ code: c ?? -1, out, err }));
  });
}

const quiet = { out: () => undefined, err: () => undefined };
/** Opens (or drills) in process as `profile`; the session ID, or the API error. */
async function open(
  profile: string,
  flags: Partial<BreakglassOpenFlags>,
  drill = false,
): Promise<string | WeirApiCallError> {
  const full: BreakglassOpenFlags = {
    identity: CHECKOUT,
    to: [],
    reason: 'INC-7 payments down',
    ttl: '30m',
    otp: code(profile),
    ...flags,
  };
  return runBreakglassOpen(full, drill, quiet, target(profile)).catch((e: unknown) => {
    if (e instanceof WeirApiCallError) return e;
    throw e;
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'weir-breakglass-'));
  dataDir = join(dir, 'data');
  credentials = join(dir, 'credentials');
  writeFileSync(
    credentials,
    Object.entries(KEYS)
      .map(
        ([name, [id, secret, role, principal, totp]]) =>
          `[${name}]\naws_access_key_id = ${id}\naws_secret_access_key = ${secret}\nweir_account_id = 123456789012\n` +
          `weir_role = ${role}\nweir_principal = ${principal}\n${totp !== undefined ? `weir_breakglass_totp = ${totp}\n` : ''}`,
      )
      .join('\n'),
  );
  ({ child: serve, url } = await spawnApiServe(
    dataDir,
    ['--log-level', 'warn', '--credentials', credentials, '--breakglass-max-ttl', '2h'],
    dir,
  ));
}, 600_000);

afterAll(async () => {
  await stopServe(serve);
  rmSync(dir, { recursive: true, force: true });
});

describe('weir breakglass', () => {
  it('open with a valid code prints the session ID alone; the same code again is refused', SLOW, async () => {
    const otp = code('oncall');
    const r = await weir([
      'breakglass',
      'open',
      '--endpoint-url',
      url,
      '--profile',
      'oncall',
      '--identity',
      CHECKOUT,
      '--to',
      'api.stripe.com:443',
      '--reason',
      'INC-7 payments down',
      '--ttl',
      '30m',
      '--otp',
      otp,
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^bg-[0-9a-f]{17}\n$/);
    expect(r.err).toContain('weir breakglass close bg-');
    const again = await open('oncall', { otp });
    expect(again).toBeInstanceOf(WeirApiCallError);
    expect((again as WeirApiCallError).apiCode).toBe('UnauthorizedOperation');
    expect((again as WeirApiCallError).message).toMatch(/already used; a code is accepted once/);

    const list = await weir([
      'breakglass',
      'list',
      '--endpoint-url',
      url,
      '--profile',
      'oncall',
      '--output',
      'json',
    ]);
    expect(list.code, list.err).toBe(0);
    const sessions = (JSON.parse(list.out) as { sessions: Record<string, unknown>[] }).sessions;
    expect(sessions.find((s) => s.id === r.out.trim())).toMatchObject({
      state: 'open',
      identity: CHECKOUT,
      destinations: ['api.stripe.com:443/tcp'],
      principal: 'oncall@example.com',
      reason: 'INC-7 payments down',
      drill: false,
    });
  });

  it('an older code, still inside the window, is refused after a newer one was used', async () => {
    const newer = await open('second', { otp: code('second', 1) });
    expect(typeof newer).toBe('string');
    const older = await open('second', { otp: code('second', 0) });
    expect(older).toBeInstanceOf(WeirApiCallError);
    expect((older as WeirApiCallError).message).toMatch(/already used/);
  });

  it("a TTL over the server's cap is refused, naming the cap; within the raised cap it opens", async () => {
    const over = await open('third', { ttl: '3h' });
    expect(over).toBeInstanceOf(WeirApiCallError);
    expect((over as WeirApiCallError).apiCode).toBe('InvalidParameterValue');
    expect((over as WeirApiCallError).message).toMatch(
      /field 'ttl': 3h is over this server's break-glass maximum of 2h .*cannot be extended/,
    );
    // The refused request did not spend the code.
    expect(typeof (await open('third', { ttl: '90m', to: ['10.0.0.0/8:5432'] }))).toBe('string');
  });

  it('a principal without a TOTP secret is refused, naming weir_breakglass_totp', async () => {
    const r = await runBreakglassOpen(
      { identity: CHECKOUT, to: [], reason: 'x', ttl: '30m', otp: '123456' },
      false,
      quiet,
      target('nosecret'),
    ).catch((e: unknown) => e);
    expect(r).toBeInstanceOf(WeirApiCallError);
    expect((r as WeirApiCallError).apiCode).toBe('UnauthorizedOperation');
    expect((r as WeirApiCallError).message).toMatch(
      /dev@example.com .* has no break-glass secret; add weir_breakglass_totp/,
    );
  });

  it('a wrong code and a guardrail destination are refused', async () => {
    const wrong = String((Number(code('fourth')) + 500_000) % 1_000_000).padStart(6, '0');
    const r = await open('fourth', { otp: wrong });
    expect((r as WeirApiCallError).message).toMatch(/field 'otp': not the code/);
    const g = await open('fourth', { to: ['169.254.169.254:80'] });
    expect((g as WeirApiCallError).message).toMatch(/guardrail 169\.254\.169\.254\/32/);
  });

  it(
    'a drill records itself, grants nothing, and counts apart; close by the opener, refused to others',
    SLOW,
    async () => {
      const drill = await weir([
        'breakglass',
        'drill',
        '--endpoint-url',
        url,
        '--profile',
        'fourth',
        '--identity',
        CHECKOUT,
        '--reason',
        'quarterly drill',
        '--otp',
        code('fourth'),
      ]);
      expect(drill.code, drill.err).toBe(0);
      const drillId = drill.out.trim();
      expect(drill.err).toContain('it granted nothing');
      const openNow = (await collectList('admin', false)).map((s) => s.id);
      expect(openNow).not.toContain(drillId);
      expect((await collectList('admin', true)).find((s) => s.id === drillId)).toMatchObject({
        state: 'drill',
        drill: true,
      });

      const sessionId = (await collectList('admin', false)).find((s) => s.principal === 'oncall@example.com')!
        .id as string;
      const stranger = await runBreakglassClose(sessionId, {}, quiet, target('third')).catch(
        (e: unknown) => e,
      );
      expect((stranger as WeirApiCallError).message).toMatch(
        /only they, an approver or an admin may close it/,
      );
      let out = '';
      await runBreakglassClose(
        sessionId,
        { reason: 'fixed' },
        { out: (s) => (out += s), err: () => undefined },
        target('oncall'),
      );
      expect(out).toContain(`closed ${sessionId}`);
      const again = await runBreakglassClose(sessionId, {}, quiet, target('admin')).catch((e: unknown) => e);
      expect((again as WeirApiCallError).apiCode).toBe('IncorrectState');

      const metrics = await (await fetch(`${url}/metrics`)).text();
      // second and third still open; oncall's closed.
      expect(metrics).toMatch(/^weir_breakglass_sessions_open 2$/m);
      expect(metrics).toMatch(/^weir_breakglass_sessions_opened_total 3$/m);
      expect(metrics).toMatch(/^weir_breakglass_drills_total 1$/m);

      // The store, as the gateway's grant loader reads it: open sessions grant, the drill does not.
      const store = openSqliteStore({ file: join(dataDir, 'weir.sqlite'), backgroundCheckpoints: false });
      try {
        const grants = await store.transaction(undefined, (tx) => openBreakglassGrants(tx, new Date()), {
          readOnly: true,
        });
        expect(grants.map((g) => g.requester).sort()).toEqual(['second@example.com', 'third@example.com']);
        expect(grants.find((g) => g.requester === 'second@example.com')?.everything).toBe(true);
      } finally {
        await store.close();
      }
    },
  );

  it('every event queued its notification, with text and fields', async () => {
    const db = new Database(join(dataDir, 'weir.sqlite'), { readonly: true });
    try {
      const rows = db
        .prepare("SELECT event, text, fields FROM notifications WHERE event LIKE 'breakglass.%' ORDER BY seq")
        .all() as {
        event: string;
        text: string;
        fields: string;
      }[];
      expect(rows.map((r) => r.event)).toEqual([
        'breakglass.opened',
        'breakglass.opened',
        'breakglass.opened',
        'breakglass.drill',
        'breakglass.closed',
      ]);
      expect(rows[0]!.text).toMatch(
        /^Break-glass (bg-[0-9a-f]{17}) opened by oncall@example.com for spiffe:\/\/.* to api.stripe.com:443\/tcp until .*\(30m\): INC-7.*Close it when done: weir breakglass close \1$/,
      );
      // The session's ID as `session`: a webhook body's `id` is the notice's own number.
      for (const r of rows)
        expect(JSON.parse(r.fields)).toMatchObject({ session: expect.stringMatching(/^bg-/) });
      expect(JSON.parse(rows[4]!.fields)).not.toHaveProperty('id');
      expect(JSON.parse(rows[4]!.fields)).toMatchObject({
        state: 'closed',
        closedBy: 'oncall@example.com',
        closeReason: 'fixed',
      });
    } finally {
      db.close();
    }
  });

  it('weir serve refuses --breakglass-max-ttl over 4h, precisely', SLOW, async () => {
    const r = await weir([
      'serve',
      '--data-dir',
      join(dir, 'other'),
      '--api-listen',
      '127.0.0.1:0',
      '--proxy-listen',
      'off',
      '--breakglass-max-ttl',
      '5h',
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--breakglass-max-ttl: 5h is over the limit of 4h; give a duration from 5s to 4h/);
  });
});

async function collectList(profile: string, all: boolean): Promise<Record<string, unknown>[]> {
  let out = '';
  await runBreakglassList({ output: 'json', ...(all ? { all } : {}) }, (s) => (out += s), target(profile));
  return (JSON.parse(out) as { sessions: Record<string, unknown>[] }).sessions;
}
