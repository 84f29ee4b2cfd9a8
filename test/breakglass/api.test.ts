/**
 * The break-glass routes of the Weir API against hostile and wrong input, in process (a real
 * server on port 0, requests signed as the CLI signs them): malformed bodies, bad IDs, and the
 * bound on guessing (5 wrong codes per principal per 5 minutes).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callWeirApi, WeirApiCallError } from '../../src/cli/weir-api-client.js';
import { encodeBase32, totpCode } from '../../src/onramp/index.js';
import { startServer } from '../../src/server/index.js';
import type { RunningServer } from '../../src/server/index.js';

const CHECKOUT = 'spiffe://prod.example/ns/payments/sa/checkout';
const SECRET = encodeBase32(Buffer.from('weir-breakglass-api-0'));
const GUESSER = encodeBase32(Buffer.from('weir-breakglass-api-1'));
const KEYS: Record<string, [string, string, string]> = {
  oncall: ['AKIAWEIRBGAPIONCALL1', 'breakglass-api-oncall-secret-012345678', SECRET],
  guesser: ['AKIAWEIRBGAPIGUESS01', 'breakglass-api-guesser-secret-01234567', GUESSER],
};
const dir = mkdtempSync(join(tmpdir(), 'weir-breakglass-api-'));
let server: RunningServer;

/** One call as `who`; the answer, or the API error's code and message. */
async function call(who: string, c: Parameters<typeof callWeirApi>[1]): Promise<Record<string, unknown>> {
  const [id, secret] = KEYS[who]!;
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
    if (err instanceof WeirApiCallError) return { code: err.apiCode, message: err.message };
    throw err;
  }
}

beforeAll(async () => {
  const credentials = join(dir, 'credentials');
  writeFileSync(
    credentials,
    Object.entries(KEYS)
      .map(
        ([name, [id, secret, totp]]) =>
          `[${name}]\naws_access_key_id = ${id}\naws_secret_access_key = ${secret}\nweir_role = readonly\n` +
          `weir_principal = ${name}@example.com\nweir_breakglass_totp = ${totp}\n`,
      )
      .join('\n'),
    { mode: 0o600 },
  );
  server = await startServer({
    dataDir: join(dir, 'data'),
    apiListen: '127.0.0.1:0',
    proxyListen: 'off',
    credentialsFile: credentials,
    logger: pino({ level: 'silent' }),
    print: () => undefined,
  });
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('break-glass API input', () => {
  it.each([
    ['not JSON', Buffer.from('{'), 'InvalidRequest', /not JSON/],
    ['an array', Buffer.from('[]'), 'InvalidRequest', /JSON object/],
    [
      'an unknown field',
      { identity: CHECKOUT, reason: 'x', ttl: '5m', otp: '123456', extra: 1 },
      'UnknownParameter',
      /'extra'/,
    ],
    [
      'to as a string',
      { identity: CHECKOUT, to: 'a.example:443', reason: 'x', ttl: '5m', otp: '123456' },
      'InvalidParameterValue',
      /'to' must be a list/,
    ],
    [
      'no reason',
      { identity: CHECKOUT, ttl: '5m', otp: '123456' },
      'MissingParameter',
      /'reason' is required/,
    ],
    [
      'no ttl',
      { identity: CHECKOUT, reason: 'x', otp: '123456' },
      'MissingParameter',
      /'ttl' is required .*at most 1h/,
    ],
    [
      'a pattern identity',
      { identity: 'spiffe://*', reason: 'x', ttl: '5m', otp: '123456' },
      'InvalidParameterValue',
      /'identity'/,
    ],
  ])('open with %s is refused (%s), spending no code', async (_what, body, code, message) => {
    const r = await call('oncall', {
      method: 'POST',
      resource: 'breakglass',
      ...(Buffer.isBuffer(body) ? { raw: body } : { json: body }),
    });
    expect(r).toMatchObject({ code });
    expect(String(r.message)).toMatch(message);
  });

  it('close checks the ID form and names an unknown one; list checks all', async () => {
    expect(
      await call('oncall', { method: 'POST', resource: 'breakglass/close', json: { id: 'bg-xyz' } }),
    ).toMatchObject({
      code: 'InvalidParameterValue',
    });
    const unknown = await call('oncall', {
      method: 'POST',
      resource: 'breakglass/close',
      json: { id: 'bg-0123456789abcdef0' },
    });
    expect(unknown).toMatchObject({ code: 'NotFound' });
    expect(String(unknown.message)).toMatch(/no break-glass session bg-0123456789abcdef0/);
    expect(
      await call('oncall', { method: 'GET', resource: 'breakglass', query: { all: 'yes' } }),
    ).toMatchObject({
      code: 'InvalidParameterValue',
    });
  });

  it('after 5 wrong codes a principal is locked out for a while, even with the right code; others are not', async () => {
    const open = (who: string, otp: string) =>
      call(who, {
        method: 'POST',
        resource: 'breakglass',
        json: { identity: CHECKOUT, reason: 'guess', ttl: '5m', otp },
      });
    const right = totpCode(GUESSER, Date.now());
    const wrong = String((Number(right) + 500_000) % 1_000_000).padStart(6, '0');
    for (let i = 0; i < 5; i++)
      expect(String((await open('guesser', wrong)).message)).toMatch(/not the code/);
    const locked = await open('guesser', totpCode(GUESSER, Date.now()));
    expect(locked).toMatchObject({ code: 'UnauthorizedOperation' });
    expect(String(locked.message)).toMatch(
      /too many wrong codes for guesser@example.com; the next code is taken from 20/,
    );
    const other = await open('oncall', totpCode(SECRET, Date.now()));
    expect((other.session as Record<string, unknown>).state).toBe('open');
  });
});
