/**
 * @module test/weir-api-hostile — the Weir API (`/weir/v1/…`) fed generated hostile requests,
 * signed with the admin key so that they reach the operations: every route and some that do not
 * exist, wrong methods, JSON of the wrong shape and type, bodies that are not JSON, hostile
 * identities, group IDs, TTLs, token IDs, times and bundles. Each must get a JSON answer: 200, or
 * a 4xx `{ error: { code, message } }`, never a 5xx; and a refused request changes nothing.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { callWeirApi, WeirApiCallError } from '../../src/cli/weir-api-client.js';
import type { WeirApiTarget } from '../../src/cli/weir-api-client.js';
import { newGroup } from '../api/sdk-helpers.js';
import { startTestServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

type Method = 'GET' | 'POST' | 'PUT';
interface Call {
  method: Method;
  resource: string;
  query?: Record<string, string>;
  raw?: Buffer;
}

describe('the Weir API under generated hostile requests', () => {
  let server: TestServer;
  let admin: WeirApiTarget;
  let groupId = '';

  beforeAll(async () => {
    server = await startTestServer();
    admin = {
      endpoint: new URL(server.url),
      region: 'us-east-1',
      credentials: {
        accessKeyId: server.accessKeyId,
        secretAccessKey: server.secretAccessKey,
        method: 'test',
      },
    };
    const ec2 = server.ec2();
    groupId = await newGroup(ec2, { name: 'weir-api-hostile' });
    ec2.destroy();
    await callWeirApi(admin, {
      method: 'POST',
      resource: 'workloads/attach',
      json: { identity: 'spiffe://test/ns/app/sa/web', groupId },
    });
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
  });

  /** Status and parsed body of one call (error answers included). */
  async function call(c: Call): Promise<{ status: number; body: Record<string, unknown> }> {
    try {
      return { status: 200, body: await callWeirApi(admin, c) };
    } catch (err) {
      if (err instanceof WeirApiCallError)
        return { status: err.status, body: { error: { code: err.apiCode, message: err.message } } };
      throw err;
    }
  }

  /** What a write could change: attachments, revoked tokens, the applied bundle. */
  async function state(): Promise<string> {
    const [workloads, revoked, bundle] = await Promise.all([
      call({ method: 'GET', resource: 'workloads' }),
      call({ method: 'GET', resource: 'tokens/revoked' }),
      call({ method: 'GET', resource: 'bundle' }),
    ]);
    return JSON.stringify([workloads, revoked, bundle]);
  }

  function calls(): fc.Arbitrary<Call> {
    const anyText = fc.string({
      unit: fc.integer({ min: 0, max: 0x3000 }).map((c) => String.fromCharCode(c)),
      maxLength: 40,
    });
    const hostile = fc.oneof(
      fc.constantFrom(
        '',
        ' ',
        '*',
        'spiffe://',
        'spiffe://test/ns/*/sa/x',
        'spiffe://test/ns/app/sa/web',
        'a b',
        'x'.repeat(5000),
        'sg-',
        'sg-00000000000000000',
        groupId,
        'pl-123',
        '24h',
        '0s',
        '-1h',
        '100000d',
        'forever',
        '1e999',
        'example.com:443',
        '169.254.169.254:80',
        '2026-02-30',
        'null',
        '__proto__',
        'constructor',
      ),
      anyText,
    );
    const value = fc.oneof(
      { weight: 6, arbitrary: hostile },
      fc.constantFrom(null, true, false, 0, -1, 1e308, [], {}, ['a'], { a: 1 }),
    );
    const jsonObject = (keys: readonly string[]): fc.Arbitrary<Record<string, unknown>> =>
      fc
        .tuple(
          fc.subarray([...keys]),
          fc.array(value, { minLength: keys.length, maxLength: keys.length }),
          fc.option(fc.tuple(fc.constantFrom('extra', '__proto__', 'constructor', ''), value), { freq: 4 }),
        )
        .map(([present, values, extra]) => {
          const o: Record<string, unknown> = {};
          present.forEach((k, i) => (o[k] = values[i]));
          if (extra !== null) o[extra[0]] = extra[1];
          return o;
        });
    const body = (keys: readonly string[]): fc.Arbitrary<Buffer> =>
      fc.oneof(
        { weight: 6, arbitrary: jsonObject(keys).map((o) => Buffer.from(JSON.stringify(o))) },
        fc
          .constantFrom(
            '',
            'null',
            '[]',
            '"x"',
            '{',
            '{"identity":',
            '{"a":1}{"b":2}',
            '\u0000',
            '{"identity":"x","identity":"y"}',
          )
          .map((t) => Buffer.from(t)),
        fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
      );
    const method = (usual: Method): fc.Arbitrary<Method> =>
      fc.oneof({ weight: 8, arbitrary: fc.constant(usual) }, fc.constantFrom<Method>('GET', 'POST', 'PUT'));
    const withBody = (resource: string, usual: Method, keys: readonly string[]): fc.Arbitrary<Call> =>
      fc.tuple(method(usual), body(keys)).map(([m, raw]) => ({ method: m, resource, raw }));
    return fc.oneof(
      withBody('workloads/attach', 'POST', ['identity', 'groupId']),
      withBody('workloads/detach', 'POST', ['identity', 'groupId']),
      withBody('tokens/issue', 'POST', ['identity', 'ttl']),
      withBody('tokens/revoke', 'POST', ['id', 'token']),
      withBody('check', 'POST', ['from', 'to', 'at', 'resolve']),
      withBody('bundle', 'PUT', ['version', 'sources', 'signature', 'contentHash']),
      fc
        .tuple(
          method('GET'),
          fc.dictionary(fc.constantFrom('identity', 'groupId', 'other', ''), hostile, { maxKeys: 3 }),
        )
        .map(([m, query]) => ({ method: m, resource: 'workloads', query })),
      fc
        .tuple(method('GET'), fc.constantFrom('tokens/revoked', 'bundle'))
        .map(([m, resource]) => ({ method: m, resource })),
      fc
        .tuple(
          method('GET'),
          fc.constantFrom('', 'nope', 'workloads/attach/x', 'workloads/..', 'WORKLOADS', '%00'),
        )
        .map(([m, resource]) => ({ method: m, resource })),
    );
  }

  test('each gets 200 or a 4xx JSON error; a refused one changes nothing', async () => {
    const seen = { ok: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(calls(), async (c) => {
        const before = await state();
        const r = await call(c);
        const what = `${c.method} ${c.resource} ${JSON.stringify(c.query ?? {})} ${JSON.stringify(c.raw?.toString('latin1').slice(0, 200) ?? '')} → ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`;
        expect(r.status, what).toBeLessThan(500);
        if (r.status === 200) {
          seen.ok++;
          return;
        }
        seen.refused++;
        expect(r.status, what).toBeGreaterThanOrEqual(400);
        const error = r.body.error as { code?: string; message?: string } | undefined;
        expect(error?.code, what).toMatch(/^[A-Za-z.]+$/);
        expect(error?.code, what).not.toMatch(/internal/i);
        expect(String(error?.message ?? '').trim(), what).not.toBe('');
        expect(await state(), `state changed by a refused request: ${what}`).toBe(before);
      }),
      { numRuns: 300 },
    );
    expect(seen.ok).toBeGreaterThan(5);
    expect(seen.refused).toBeGreaterThan(50);
  }, 600_000);
});
