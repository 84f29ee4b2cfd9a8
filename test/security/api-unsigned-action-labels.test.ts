/**
 * @module test/security/api-unsigned-action-labels — the red team's "unsigned input grows metrics
 * and logs" attack (issue #15, item 2): 300 unsigned POSTs with unique 100 KB `Action`s made 300
 * Prometheus series (420 MB of /metrics) and 100 KB log lines. Here many unsigned requests with
 * unique huge actions, user agents and paths, and signed ones with made-up actions, must leave
 * the series count and /metrics small, and every log line short.
 */
import { request } from 'node:http';
import { Writable } from 'node:stream';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

/** One HTTP request on a fresh connection; resolves with status and body. */
function send(
  url: string,
  opts: { method: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(opts.path, url),
      { method: opts.method, headers: opts.headers ?? {}, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(opts.body ?? '');
  });
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };

describe('unsigned and unknown actions do not grow metrics or logs', () => {
  let server: TestServer;
  const lines: string[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(line);
        done();
      },
    });
    server = await startTestServer({ serve: { logger: pino({ level: 'info' }, sink) } });
  });
  afterAll(() => server.stop());

  it('keeps /metrics bounded after many unique unsigned actions, user agents and paths', async () => {
    const unique = (i: number, n: number): string => `A${i}`.padEnd(n, 'x');
    for (let i = 0; i < 30; i++) {
      await send(server.url, {
        method: 'POST',
        path: '/',
        headers: { ...FORM, 'user-agent': unique(i, 4000) },
        body: `Action=${unique(i, 20_000)}&Version=2016-11-15`,
      });
      await send(server.url, { method: 'GET', path: `/?Action=${unique(i, 4000)}` });
      await send(server.url, { method: 'GET', path: `/weir/v1/${unique(i, 4000)}` });
    }
    const metrics = await send(server.url, { method: 'GET', path: '/metrics' });
    const series = metrics.text.split('\n').filter((l) => l.startsWith('weir_api_requests_total{'));
    // Each label value comes from a fixed list: no request text in it.
    expect(series.length).toBeLessThanOrEqual(6);
    for (const s of series) expect(s.length).toBeLessThan(200);
    expect(metrics.text).not.toContain('xxxxxxxxxxxxxxxxxxxxxxxx');
    expect(metrics.text.length).toBeLessThan(64 * 1024);
  });

  it('labels a signed call of an unknown action unknown, and a known one by its name', async () => {
    const signer = new SignatureV4({
      service: 'ec2',
      region: 'us-east-1',
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
      sha256: Sha256,
    });
    const host = new URL(server.url).host;
    const call = async (action: string): Promise<number> => {
      const body = `Action=${action}&Version=2016-11-15`;
      const signed = await signer.sign({
        method: 'POST',
        protocol: 'http:',
        hostname: '127.0.0.1',
        path: '/',
        headers: { host, ...FORM },
        body,
      });
      return (await send(server.url, { method: 'POST', path: '/', headers: signed.headers, body })).status;
    };
    for (let i = 0; i < 20; i++) expect(await call(`MadeUp${i}Action${'y'.repeat(500)}`)).toBe(400);
    expect(await call('DescribeSecurityGroups')).toBe(200);
    const metrics = (await send(server.url, { method: 'GET', path: '/metrics' })).text;
    expect(metrics).not.toContain('MadeUp');
    expect(metrics).toMatch(/weir_api_requests_total\{action="unknown",code="InvalidAction"\} 20/);
    expect(metrics).toMatch(/weir_api_requests_total\{action="DescribeSecurityGroups",code="ok"\} 1/);
  });

  it('writes log lines of bounded length whatever the peer sent', () => {
    const apiLines = lines.filter((l) => l.includes('"api request"'));
    expect(apiLines.length).toBeGreaterThanOrEqual(90);
    const longest = Math.max(...lines.map((l) => Buffer.byteLength(l)));
    expect(longest).toBeLessThan(2048);
    // An unsigned request is refused before its parameters are read, so its action is not even
    // parsed; a signed unknown action still shows (its start), marked as cut.
    expect(apiLines.some((l) => /"action":"MadeUp7Actiony+…\(\+\d+\)"/.test(l))).toBe(true);
  });
});
