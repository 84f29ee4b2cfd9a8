/**
 * Item 20: `weir token issue` with no server or data dir made a key and printed a token no
 * server accepts; it printed no token ID; revoking an unknown ID was "done"; and there was no
 * way to list or inspect issued tokens. The server records each issued token's ID, identity
 * and validity (never the token or its signature), `token list` and `token inspect` read that
 * record, and `issue`/`revoke` print the ID and take `--output json`.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  runTokenInspect,
  runTokenIssueCommand as runTokenIssue,
  runTokenList,
  runTokenRevoke,
} from '../../src/cli/token.js';
import type { WeirApiTarget } from '../../src/cli/weir-api-client.js';
import { WeirError } from '../../src/model/index.js';
import { startServer } from '../../src/server/index.js';
import type { RunningServer } from '../../src/server/index.js';

const CHECKOUT = 'spiffe://prod.example/ns/payments/sa/checkout';
const dir = mkdtempSync(join(tmpdir(), 'weir-tokens-'));
const dataDir = join(dir, 'data');
let server: RunningServer;
let target: WeirApiTarget;

beforeAll(async () => {
  server = await startServer({
    dataDir,
    apiListen: '127.0.0.1:0',
    proxyListen: 'off',
    logger: pino({ level: 'silent' }),
    print: () => undefined,
  });
  const key = [...server.keys.keys()][0]!;
  target = {
    endpoint: new URL(server.url),
    region: 'us-east-1',
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, method: 'test' },
  };
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const collect = () => {
  let text = '';
  return { write: (s: string) => void (text += s), text: () => text };
};
const quiet = { out: () => undefined, err: () => undefined };

describe('weir token issue', () => {
  it('with no server data dir it fails, naming the fix, and creates nothing', async () => {
    const empty = join(dir, 'nowhere');
    const err = await runTokenIssue({ identity: CHECKOUT, ttl: '1h', dataDir: empty }, quiet).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WeirError);
    expect((err as Error).message).toContain('start weir serve');
    expect((err as Error).message).toContain('--data-dir');
    expect((err as Error).message).toContain('--endpoint-url');
    expect(existsSync(empty) ? readdirSync(empty) : []).toEqual([]);
  });

  it('prints the token alone on stdout and its ID on stderr; --output json prints both', async () => {
    const out = collect();
    const err = collect();
    const token = await runTokenIssue(
      { identity: CHECKOUT, ttl: '1h', dataDir },
      { out: out.write, err: err.write },
    );
    expect(out.text()).toBe(`${token.token}\n`);
    expect(out.text()).toMatch(/^weir1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}\n$/);
    expect(err.text()).toMatch(new RegExp(`^token ID ${token.id} for ${CHECKOUT}, expires \\d{4}-`));

    const json = collect();
    await runTokenIssue(
      { identity: 'svc-json', ttl: '2h', dataDir, output: 'json' },
      { out: json.write, err: () => undefined },
      target,
    );
    expect(JSON.parse(json.text())).toMatchObject({
      token: expect.stringMatching(/^weir1\./),
      id: expect.any(String),
      identity: 'svc-json',
    });
  });
});

describe('weir token list, inspect, revoke', () => {
  it('lists issued tokens (ID, identity, expiry, revoked), inspects by ID and by text, revokes known IDs only', async () => {
    const a = await runTokenIssue({ identity: 'svc-a', ttl: '1h', dataDir }, quiet, target);
    const b = await runTokenIssue({ identity: 'svc-b', ttl: '1h', dataDir }, quiet);

    const revoked = collect();
    await runTokenRevoke({ id: a.id, dataDir, output: 'json' }, revoked.write, target);
    expect(JSON.parse(revoked.text())).toMatchObject({ id: a.id, identity: 'svc-a', expires: a.expires });

    const list = collect();
    await runTokenList({ output: 'json' }, list.write, target);
    const rows = (JSON.parse(list.text()) as { tokens: Record<string, unknown>[] }).tokens;
    expect(rows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: a.id, identity: 'svc-a', expires: a.expires, revoked: true }),
        expect.objectContaining({ id: b.id, identity: 'svc-b', revoked: false }),
      ]),
    );
    // The record never holds the token or its signature.
    expect(list.text()).not.toContain(b.token.split('.')[2]);
    const table = collect();
    await runTokenList({}, table.write, target);
    expect(table.text().split('\n')[0]).toMatch(/^ID\s+Identity\s+Expires\s+Revoked$/);
    expect(table.text()).toMatch(new RegExp(`${b.id}\\s+svc-b\\s+\\S+\\s+no`));

    const byText = collect();
    await runTokenInspect(b.token, {}, byText.write, target);
    expect(byText.text()).toContain(`id:        ${b.id}`);
    expect(byText.text()).toContain('identity:  svc-b');
    expect(byText.text()).toContain('status:    valid');
    const byId = collect();
    await runTokenInspect(a.id, { output: 'json' }, byId.write, target);
    expect(JSON.parse(byId.text())).toMatchObject({ id: a.id, identity: 'svc-a', status: 'revoked' });

    await expect(runTokenRevoke({ id: 'nosuchtoken', dataDir }, collect().write, target)).rejects.toThrow(
      /InvalidToken\.NotFound: RevokeToken: no token with ID 'nosuchtoken' was issued by this server/,
    );
    await expect(runTokenInspect('nosuchtoken', {}, collect().write, target)).rejects.toThrow(
      /InvalidToken\.NotFound/,
    );
    // Data-dir mode goes through the same check.
    await expect(runTokenRevoke({ id: 'nosuchtoken', dataDir }, collect().write)).rejects.toThrow(
      /no token with ID 'nosuchtoken'/,
    );
  });
});
