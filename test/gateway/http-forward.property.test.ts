/**
 * @module test/gateway-http-forward.property — plain HTTP through the gateway, held against the
 * same exchange without it. Each run is a sequence of generated requests on one keep-alive client
 * connection: every method, paths with queries, repeated and mixed-case header fields, bodies sent
 * with Content-Length or chunked. They are answered by generated responses: statuses with and
 * without a body, Content-Length or chunked, repeated fields.
 *
 * Checks, per request:
 * - the upstream receives the method, path, body and every end-to-end field as sent, in order;
 *   nothing hop-by-hop arrives, and neither does the workload's token;
 * - the client receives the status, body and end-to-end fields as the upstream sent them.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request as httpRequest } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { connect as netConnect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { compilePolicySet } from '../../src/engine/index.js';
import { createGateway } from '../../src/gateway/index.js';
import { issueToken, loadTokenKey } from '../../src/identity/index.js';
import { createResolver } from '../../src/dns/index.js';
import type { Gateway } from '../../src/gateway/index.js';
import { loadPolicySet } from '../../src/policy/index.js';
import { fqdnPolicy, natConnect } from '../helpers/gateway-client.js';

const WEB = 'spiffe://test/ns/app/sa/forward';
/** Fields that are the connection's, not the message's: never compared end to end. */
const HOP = new Set([
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'date',
]);

interface GenRequest {
  method: string;
  path: string;
  fields: [string, string][];
  body: Buffer | undefined;
  chunked: boolean;
  response: { status: number; fields: [string, string][]; body: Buffer; chunked: boolean };
}

/** What the upstream saw of one request. */
interface Seen {
  method: string;
  url: string;
  raw: string[];
  body: Buffer;
}

const endToEnd = (raw: readonly string[]): [string, string][] => {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    if (!HOP.has(name.toLowerCase()) && !name.toLowerCase().startsWith('x-test-'))
      out.push([name.toLowerCase(), raw[i + 1] ?? '']);
  }
  return out;
};

describe('plain HTTP through the gateway, against the same exchange without it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-gw-forward-'));
  let upstream: Server;
  let port = 0;
  let gateway: Gateway;
  let proxyPort = 0;
  let key: Buffer;
  const seen: Seen[] = [];
  /** The response each request asks for, by a header carrying its index. */
  const responses: GenRequest['response'][] = [];

  beforeAll(async () => {
    upstream = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({
          method: req.method ?? '',
          url: req.url ?? '',
          raw: req.rawHeaders,
          body: Buffer.concat(chunks),
        });
        const r = responses[Number(req.headers['x-test-index'])];
        if (r === undefined) return void res.writeHead(500).end();
        const head: string[] = [];
        for (const [n, v] of r.fields) head.push(n, v);
        const bodyless = r.status === 204 || r.status === 304 || req.method === 'HEAD';
        if (!r.chunked && !bodyless) head.push('Content-Length', String(r.body.length));
        res.writeHead(r.status, head as unknown as Record<string, string>);
        res.end(bodyless ? undefined : r.body);
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    port = (upstream.address() as AddressInfo).port;
    mkdirSync(join(dir, 'policies'));
    writeFileSync(
      join(dir, 'policies', 'forward.yaml'),
      fqdnPolicy('forward', WEB, 'public.test', String(port)),
    );
    const snapshot = compilePolicySet(loadPolicySet(join(dir, 'policies')).set, { skipUnresolved: true });
    key = loadTokenKey(dir);
    gateway = createGateway({
      getSnapshot: () => snapshot,
      resolve: createResolver({ hosts: new Map([['public.test', ['198.51.100.10']]]) }),
      connect: natConnect,
      now: Date.now,
      newId: (() => {
        let n = 0;
        return () => `f${++n}`;
      })(),
      logger: pino({ level: 'silent' }),
      tokenKey: key,
    });
    proxyPort = (await gateway.listen('127.0.0.1', 0)).port;
  });

  afterAll(async () => {
    await gateway.close(0);
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const tchar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*');
  const fieldName = fc.string({ unit: tchar, minLength: 1, maxLength: 12 }).filter((n) => {
    const l = n.toLowerCase();
    return (
      !HOP.has(l) &&
      !l.startsWith('proxy-') &&
      !l.startsWith('x-test-') &&
      !['expect', 'cookie', 'set-cookie', 'content-type'].includes(l) &&
      !l.startsWith('sec-')
    );
  });
  // Visible ASCII and inner spaces; no leading or trailing whitespace (parsers trim it).
  const fieldValue = fc
    .string({
      unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
      minLength: 1,
      maxLength: 20,
    })
    .chain((a) => fc.oneof(fc.constant(a), fc.constant(`${a} ${a}`)));
  const fields = fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 5 });
  const body = fc.uint8Array({ maxLength: 3000 }).map((b) => Buffer.from(b));
  const path = fc
    .tuple(
      fc.array(fc.string({ unit: fc.constantFrom(...'abcxyz019-._~%20'), minLength: 1, maxLength: 6 }), {
        maxLength: 3,
      }),
      fc.option(fc.string({ unit: fc.constantFrom(...'ab=&c1%2F'), maxLength: 10 })),
    )
    .map(([segs, q]) => `/${segs.join('/')}${q === null ? '' : `?${q}`}`);
  const request: fc.Arbitrary<GenRequest> = fc
    .record({
      method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'),
      path,
      fields,
      body: fc.option(body),
      chunked: fc.boolean(),
      response: fc.record({
        status: fc.constantFrom(200, 201, 202, 204, 301, 304, 400, 404, 418, 500, 503),
        fields,
        body,
        chunked: fc.boolean(),
      }),
    })
    .map((r) => ({ ...r, body: r.body ?? undefined }));

  /** Sends one request through the proxy on `agent`; resolves with what the client got. */
  function send(
    agent: Agent,
    r: GenRequest,
    index: number,
  ): Promise<{ status: number; raw: string[]; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const head: string[] = [
        'Host',
        `public.test:${port}`,
        'Proxy-Authorization',
        `Bearer ${issueToken(key, { identity: WEB, ttlMs: 60_000, now: Date.now() })}`,
        'X-Test-Index',
        String(index),
      ];
      for (const [n, v] of r.fields) head.push(n, v);
      // Node's client chunks a body by default only for some methods; say it for all.
      if (r.body !== undefined) {
        if (r.chunked) head.push('Transfer-Encoding', 'chunked');
        else head.push('Content-Length', String(r.body.length));
      }
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: proxyPort,
          method: r.method,
          path: `http://public.test:${port}${r.path}`,
          headers: head as unknown as Record<string, string>,
          agent,
          setHost: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, raw: res.rawHeaders, body: Buffer.concat(chunks) }),
          );
        },
      );
      req.on('error', reject);
      if (r.body !== undefined && r.body.length > 0) {
        // Chunked: written in two pieces, so that the body really goes out in chunks.
        const half = r.chunked ? r.body.length >> 1 : r.body.length;
        req.write(r.body.subarray(0, half));
        req.end(r.body.subarray(half));
      } else req.end();
    });
  }

  test('the upstream gets each request as sent, and the client each response as answered', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 5 }), async (requests) => {
        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        try {
          for (const r of requests) {
            responses.length = 0;
            seen.length = 0;
            responses.push(r.response);
            const got = await send(agent, r, 0);
            const what = JSON.stringify({
              method: r.method,
              path: r.path,
              fields: r.fields,
              body: r.body?.length,
              chunked: r.chunked,
              response: { ...r.response, body: r.response.body.length },
            });

            expect(seen, what).toHaveLength(1);
            const up = seen[0]!;
            expect(up.method, what).toBe(r.method);
            expect(up.url, what).toBe(r.path);
            expect(up.body.equals(r.body ?? Buffer.alloc(0)), `request body: ${what}`).toBe(true);
            expect(endToEnd(up.raw), what).toEqual(r.fields.map(([n, v]) => [n.toLowerCase(), v]));
            expect(
              up.raw.some((v) => v.includes('weir1.')),
              'the token reached the upstream',
            ).toBe(false);

            expect(got.status, what).toBe(r.response.status);
            expect(endToEnd(got.raw), what).toEqual(r.response.fields.map(([n, v]) => [n.toLowerCase(), v]));
            const bodyless = [204, 304].includes(r.response.status) || r.method === 'HEAD';
            expect(
              got.body.equals(bodyless ? Buffer.alloc(0) : r.response.body),
              `response body: ${what}`,
            ).toBe(true);
          }
        } finally {
          agent.destroy();
        }
      }),
      { numRuns: 150 },
    );
  }, 300_000);

  /**
   * Reads `count` responses off a raw connection (each framed by Content-Length, or chunked), in
   * the order they come; resolves with status and body of each.
   */
  function readResponses(socket: Socket, count: number): Promise<{ status: number; body: string }[]> {
    return new Promise((resolve, reject) => {
      let buf = Buffer.alloc(0);
      const out: { status: number; body: string }[] = [];
      const take = (): void => {
        for (;;) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = buf.subarray(0, end).toString('latin1');
          const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
          const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
          let rest = buf.subarray(end + 4);
          let body: Buffer;
          if (length !== undefined) {
            if (rest.length < Number(length)) return;
            body = rest.subarray(0, Number(length));
            rest = rest.subarray(Number(length));
          } else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
            const parts: Buffer[] = [];
            for (;;) {
              const nl = rest.indexOf('\r\n');
              if (nl < 0) return;
              const size = parseInt(rest.subarray(0, nl).toString('latin1'), 16);
              if (rest.length < nl + 2 + size + 2) return;
              parts.push(rest.subarray(nl + 2, nl + 2 + size));
              rest = rest.subarray(nl + 2 + size + 2);
              if (size === 0) break;
            }
            body = Buffer.concat(parts);
          } else {
            body = Buffer.alloc(0);
          }
          out.push({ status, body: body.toString('latin1') });
          buf = rest;
          if (out.length === count) return resolve(out);
        }
      };
      socket.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        take();
      });
      socket.on('error', reject);
      socket.on('close', () => reject(new Error(`closed after ${out.length} of ${count} responses`)));
    });
  }

  test('pipelined requests in one write are each forwarded once and answered in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'),
            body: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
            chunked: fc.boolean(),
            status: fc.constantFrom(200, 201, 404, 500),
            answer: fc.string({ maxLength: 40 }).map((t) => Buffer.from(t).toString('latin1')),
          }),
          { minLength: 2, maxLength: 5 },
        ),
        async (requests) => {
          seen.length = 0;
          responses.length = 0;
          let wire = '';
          requests.forEach((r, i) => {
            responses.push({
              status: r.status,
              fields: [],
              body: Buffer.from(r.answer, 'latin1'),
              chunked: false,
            });
            const body = Buffer.from(r.body, 'latin1');
            const framing = r.chunked
              ? `Transfer-Encoding: chunked\r\n\r\n${body.length > 0 ? `${body.length.toString(16)}\r\n${r.body}\r\n` : ''}0\r\n\r\n`
              : `Content-Length: ${body.length}\r\n\r\n${r.body}`;
            wire +=
              `${r.method} http://public.test:${port}/p${i} HTTP/1.1\r\nHost: public.test:${port}\r\n` +
              `Proxy-Authorization: Bearer ${issueToken(key, { identity: WEB, ttlMs: 60_000, now: Date.now() })}\r\n` +
              `X-Test-Index: ${i}\r\n${framing}`;
          });
          const socket = netConnect({ host: '127.0.0.1', port: proxyPort });
          try {
            const answers = readResponses(socket, requests.length);
            socket.write(Buffer.from(wire, 'latin1'));
            expect(await answers).toEqual(requests.map((r) => ({ status: r.status, body: r.answer })));
            // Each request reached the upstream once, with its own body.
            expect(
              [...seen]
                .sort((a, b) => a.url.localeCompare(b.url))
                .map((q) => [q.method, q.url, q.body.toString('latin1')]),
            ).toEqual(requests.map((r, i) => [r.method, `/p${i}`, r.body]));
          } finally {
            socket.destroy();
          }
        },
      ),
      { numRuns: 100 },
    );
  }, 300_000);
});
