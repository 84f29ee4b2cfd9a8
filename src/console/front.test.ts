import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { KeyRing } from '../api/index.js';
import { openSqliteStore } from '../store/index.js';
import type { Store } from '../store/index.js';
import { createConsole } from './front.js';
import { MAX_FAILED_SIGN_INS } from './sessions.js';

const KEY = {
  accessKeyId: 'AKIAFRONTTEST0000001',
  secretAccessKey: 'front-test-secret-0123456789',
  accountId: '123456789012',
  role: 'admin' as const,
  profile: 'front',
  principal: 'front@example.com',
};

let server: Server | undefined;
let store: Store | undefined;
afterEach(async () => {
  await new Promise((r) => server?.close(r));
  await store?.close();
});

/** The console alone on a real socket, with `opts`; resolves with its origin. */
async function serve(opts: { assetsDir?: string; keys?: KeyRing; account?: string } = {}): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'weir-console-front-'));
  store = openSqliteStore({ file: join(dir, 'weir.sqlite') });
  const front = createConsole({
    store,
    keys: () => opts.keys ?? new KeyRing([KEY]),
    logger: pino({ level: 'silent' }),
    account: opts.account ?? '123456789012',
    region: 'us-east-1',
    tls: false,
    ...(opts.assetsDir !== undefined ? { assetsDir: opts.assetsDir } : {}),
  });
  server = createServer((req, res) => {
    if (!front.handle(req, res, new URL(req.url ?? '/', 'http://x').pathname)) res.writeHead(418).end();
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const signIn = (url: string, secret: string) =>
  fetch(`${url}/console/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ accessKeyId: KEY.accessKeyId, secretAccessKey: secret }),
  });

describe('the console front', () => {
  it('says to run npm run build when the console is not built (503), and serves nothing else', async () => {
    const url = await serve({ assetsDir: mkdtempSync(join(tmpdir(), 'weir-console-empty-')) });
    const res = await fetch(`${url}/console/`);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('<code>npm run build</code>');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect((await fetch(`${url}/console/app.js`)).status).toBe(503);
    expect((await fetch(`${url}/other`)).status).toBe(418);
  });

  it(`answers 429 with Retry-After after ${MAX_FAILED_SIGN_INS} failed sign-ins from one address, even for the right secret`, async () => {
    const url = await serve();
    for (let i = 0; i < MAX_FAILED_SIGN_INS; i++)
      expect((await signIn(url, 'wrong-secret-000000')).status).toBe(401);
    const blocked = await signIn(url, KEY.secretAccessKey);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await blocked.json()) as { error: { code: string } }).error.code).toBe('TooManyRequests');
  });

  it("refuses a key of another account than the gateway's (403), and recorded it", async () => {
    const url = await serve({ account: '999999999999' });
    const res = await signIn(url, KEY.secretAccessKey);
    expect(res.status).toBe(403);
    expect(res.headers.get('set-cookie')).toBeNull();
    const records = await store!.transaction(undefined, (tx) => tx.listAuditRecords({ limit: 10 }), {
      readOnly: true,
    });
    expect(records.map((r) => JSON.parse(r.event) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ eventName: 'ConsoleLogin', errorCode: 'AuthFailure' }),
    ]);
  });

  it('refuses a body that is not JSON, too large, or of the wrong type, naming the problem', async () => {
    const url = await serve();
    const post = (body: string, type = 'application/json') =>
      fetch(`${url}/console/session`, { method: 'POST', headers: { 'content-type': type }, body });
    expect((await post('{')).status).toBe(400);
    expect((await post('x'.repeat(10_000))).status).toBe(413);
    expect((await post('a=b', 'application/x-www-form-urlencoded')).status).toBe(415);
    const missing = await post(JSON.stringify({ secretAccessKey: 'x' }));
    expect(((await missing.json()) as { error: { message: string } }).error.message).toContain(
      "'accessKeyId'",
    );
  });
});
