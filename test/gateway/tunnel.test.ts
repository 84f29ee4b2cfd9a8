/**
 * @module test/gateway-tunnel — CONNECT tunnels over real sockets: half-close both ways (a side
 * that has sent everything still receives the other side's whole answer, and the tunnel is
 * logged closed only when both directions are done), heads read by the gateway's own parser
 * (split into single bytes, with pipelined bytes, malformed), and plain HTTP handed on to Node's
 * parser byte by byte.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { compilePolicySet } from '../../src/engine/index.js';
import { createGateway } from '../../src/gateway/index.js';
import { issueToken, loadTokenKey } from '../../src/identity/index.js';
import { createResolver } from '../../src/dns/index.js';
import type { Gateway } from '../../src/gateway/index.js';
import { loadPolicySet } from '../../src/policy/index.js';
import { connectVia, echo } from '../helpers/gateway-client.js';

const ID = 'spiffe://test/ns/app/sa/tunnel';
const ANSWER_BYTES = 3 * 1024 * 1024 + 17;

type LogLine = Record<string, unknown>;

/** Reads a socket to its end; resolves with everything it received. */
function readAll(s: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    s.on('data', (c: Buffer) => parts.push(c));
    s.once('end', () => resolve(Buffer.concat(parts)));
    s.once('error', reject);
    s.resume();
  });
}

/** Sends `text` one byte per write, each after the previous one has left. */
async function trickle(s: Socket, text: string): Promise<void> {
  for (const ch of text) {
    await new Promise<void>((res) => s.write(ch, () => res()));
    await new Promise((res) => setImmediate(res));
  }
}

describe('CONNECT tunnels', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-gw-tunnel-'));
  const servers: Server[] = [];
  const lines: LogLine[] = [];
  let gateway: Gateway;
  let proxyPort = 0;
  let key: Buffer;
  /** Reads the request to its end (the client's FIN), then answers ANSWER_BYTES and ends. */
  let answerPort = 0;
  /** Greets on the client's first bytes, ends its side at once, and reports how many bytes it got. */
  let greeterPort = 0;
  const received: Promise<number>[] = [];
  let echoPort = 0;
  /** Answers a request after `release()` is called. */
  let heldPort = 0;
  let release: (() => void) | undefined;
  /** Per upstream connect: whether the gateway gave it `onread`. */
  const givenOnread: boolean[] = [];

  const token = (): string => issueToken(key, { identity: ID, ttlMs: 3_600_000, now: Date.now() });
  const closeLines = (): LogLine[] => lines.filter((l) => l.msg === 'tunnel closed');

  async function listen(server: Server): Promise<number> {
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return (server.address() as AddressInfo).port;
  }

  beforeAll(async () => {
    answerPort = await listen(
      createServer({ allowHalfOpen: true }, (s) => {
        let request = 0;
        s.on('data', (c: Buffer) => (request += c.length));
        s.once('end', () => s.end(Buffer.alloc(ANSWER_BYTES, request % 256)));
      }),
    );
    greeterPort = await listen(
      createServer({ allowHalfOpen: true }, (s) => {
        s.once('data', () => s.end('hello, then my side is done\n'));
        received.push(readAll(s).then((b) => (s.destroy(), b.length)));
      }),
    );
    echoPort = await listen(createServer((s) => s.pipe(s)));
    heldPort = await listen(
      createServer({ allowHalfOpen: true }, (s) => {
        s.resume();
        s.once('end', () => {
          release = () => s.end('late answer');
        });
      }),
    );
    mkdirSync(join(dir, 'policies'));
    writeFileSync(
      join(dir, 'policies', 'tunnel.yaml'),
      `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: tunnel, owner: test@example.com }
spec:
  workloads: [{ identity: '${ID}' }]
  rules:
    - id: loopback
      to: [{ cidr: 127.0.0.0/8 }]
      ports: [${[answerPort, greeterPort, echoPort, heldPort].join(', ')}]
`,
    );
    const loaded = loadPolicySet(join(dir, 'policies'));
    expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const snapshot = compilePolicySet(loaded.set, { skipUnresolved: true });
    key = loadTokenKey(dir);
    gateway = createGateway({
      getSnapshot: () => snapshot,
      resolve: createResolver({}),
      connect: (ip, port, onread) => {
        givenOnread.push(onread !== undefined);
        return netConnect({ host: ip, port, onread });
      },
      now: Date.now,
      newId: (() => {
        let n = 0;
        return () => `t${++n}`;
      })(),
      logger: pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) }),
      tokenKey: key,
      limits: { maxHeaderSize: 2048, maxHeadersCount: 10 },
    });
    proxyPort = (await gateway.listen('127.0.0.1', 0)).port;
  });

  afterAll(async () => {
    await gateway.close(0);
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    rmSync(dir, { recursive: true, force: true });
  });

  test('client half-close: request then FIN, the whole answer still arrives; closed once both are done', async () => {
    const r = await connectVia(proxyPort, `127.0.0.1:${answerPort}`, { token: token() });
    expect(r.status).toBe(200);
    r.socket.end('GET / HTTP/1.0\r\n\r\n');
    // A slow reader: the upstream finishes while most of its answer still waits in the gateway.
    await new Promise((res) => setTimeout(res, 200));
    const got = await readAll(r.socket);
    expect(got.length).toBe(ANSWER_BYTES);
    expect(got[0]).toBe(18);
    const id = lines.find((l) => l.msg === 'decision' && l.port === answerPort)?.decisionId;
    await expect
      .poll(() => closeLines().find((l) => l.decisionId === id))
      .toMatchObject({
        close: 'closed',
        bytesOut: 18,
        bytesIn: ANSWER_BYTES,
      });
  });

  test.each([
    ['a request after the head', 'GET / HTTP/1.0\r\n\r\n', 18],
    ['nothing after the head', '', 0],
  ])(
    'head and FIN in one write (`printf … | nc -N`), %s: the FIN reaches the upstream, its whole answer comes back',
    async (_what, tail, sent) => {
      // The FIN arrives while the tunnel is being decided; it used to be lost, leaving the
      // upstream waiting for the request's end until the idle timeout.
      const s = netConnect({ host: '127.0.0.1', port: proxyPort });
      s.end(
        `CONNECT 127.0.0.1:${answerPort} HTTP/1.1\r\nProxy-Authorization: Bearer ${token()}\r\n\r\n${tail}`,
      );
      const got = await readAll(s);
      const established = 'HTTP/1.1 200 Connection established\r\n\r\n';
      expect(got.subarray(0, established.length).toString('latin1')).toBe(established);
      expect(got.length - established.length).toBe(ANSWER_BYTES);
      expect(got[established.length]).toBe(sent);
      const id = lines.filter((l) => l.msg === 'decision' && l.port === answerPort).at(-1)?.decisionId;
      await expect
        .poll(() => closeLines().find((l) => l.decisionId === id))
        .toMatchObject({ close: 'closed', bytesOut: sent, bytesIn: ANSWER_BYTES });
    },
  );

  test('head, part of a ClientHello and FIN in one write: the hello is judged as it is (refused)', async () => {
    const s = netConnect({ host: '127.0.0.1', port: proxyPort });
    s.end(
      `CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\nProxy-Authorization: Bearer ${token()}\r\n\r\n\x16\x03\x01\x00`,
    );
    const got = await readAll(s);
    expect(got.toString('latin1')).toBe('HTTP/1.1 200 Connection established\r\n\r\n');
    const id = lines.filter((l) => l.msg === 'decision' && l.port === echoPort).at(-1)?.decisionId;
    await expect
      .poll(() => closeLines().find((l) => l.decisionId === id))
      .toMatchObject({ close: 'malformed-client-hello', bytesOut: 0 });
  });

  test.each([
    ['nothing of a head', '', ''],
    ['part of a method', 'CONN', 'HTTP/1.1 400 Bad Request by Weir: malformed-request ('],
    [
      'part of a head',
      `CONNECT 127.0.0.1:${1} HTTP/1.1\r\nX-A: 1\r\n`,
      'HTTP/1.1 400 Bad Request by Weir: malformed-request (',
    ],
  ])('a FIN after %s: answered and closed at once, not at the head deadline', async (_what, text, reply) => {
    const s = netConnect({ host: '127.0.0.1', port: proxyPort });
    s.end(text);
    const got = (await readAll(s)).toString('latin1');
    expect(got.startsWith(reply)).toBe(true);
    if (reply !== '') {
      expect(got).toContain('Weir-Reason: malformed-request');
      expect(got).toContain('The connection was half-closed before the request head was complete.');
    } else expect(got).toBe('');
  });

  test('the upstream of a CONNECT tunnel is read with onread (into reused buffers)', async () => {
    const before = givenOnread.length;
    const r = await connectVia(proxyPort, `127.0.0.1:${echoPort}`, { token: token() });
    expect(r.status).toBe(200);
    r.socket.destroy();
    expect(givenOnread.slice(before)).toEqual([true]);
  });

  test('upstream half-close: it greets and ends its side; what the client sends after still reaches it', async () => {
    const r = await connectVia(proxyPort, `127.0.0.1:${greeterPort}`, { token: token() });
    expect(r.status).toBe(200);
    // The client keeps its side open after the upstream's FIN, to send the rest.
    r.socket.allowHalfOpen = true;
    const greeting = readAll(r.socket);
    r.socket.write('hi');
    expect((await greeting).toString()).toBe('hello, then my side is done\n');
    const upload = Buffer.alloc(2 * 1024 * 1024, 7);
    r.socket.end(upload);
    expect(await received.at(-1)).toBe(2 + upload.length);
    const id = lines.find((l) => l.msg === 'decision' && l.port === greeterPort)?.decisionId;
    await expect
      .poll(() => closeLines().find((l) => l.decisionId === id))
      .toMatchObject({
        close: 'closed',
        bytesOut: 2 + upload.length,
        bytesIn: 28,
      });
  });

  test('a tunnel with one direction still open is not logged closed', async () => {
    const r = await connectVia(proxyPort, `127.0.0.1:${heldPort}`, { token: token() });
    expect(r.status).toBe(200);
    const answer = readAll(r.socket);
    r.socket.end('question');
    const id = lines.find((l) => l.msg === 'decision' && l.port === heldPort)?.decisionId;
    await expect.poll(() => release).toBeDefined();
    // Give a wrong close every chance to happen before the answer is released.
    await new Promise((res) => setTimeout(res, 100));
    expect(closeLines().find((l) => l.decisionId === id)).toBeUndefined();
    release?.();
    expect((await answer).toString()).toBe('late answer');
    await expect.poll(() => closeLines().find((l) => l.decisionId === id)).toMatchObject({ close: 'closed' });
  });

  test('a client reset takes the tunnel down at once and is logged as such', async () => {
    const r = await connectVia(proxyPort, `127.0.0.1:${echoPort}`, { token: token() });
    expect(r.status).toBe(200);
    expect(await echo(r.socket, 'x')).toBe('x');
    const id = lines.filter((l) => l.msg === 'decision' && l.port === echoPort).at(-1)?.decisionId;
    r.socket.resetAndDestroy();
    await expect
      .poll(() => closeLines().find((l) => l.decisionId === id))
      .toMatchObject({
        close: 'client-reset',
      });
  });

  test('a CONNECT head sent one byte at a time, with tunnel bytes in the same write as its end', async () => {
    const s = netConnect({ host: '127.0.0.1', port: proxyPort });
    const head = `CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\nProxy-Authorization: Bearer ${token()}\r\n\r`;
    let got = '';
    s.on('data', (c: Buffer) => (got += c.toString('latin1')));
    await trickle(s, head);
    s.write('\nping');
    await expect.poll(() => got).toBe('HTTP/1.1 200 Connection established\r\n\r\nping');
    s.destroy();
  });

  test('plain HTTP sent one byte at a time goes to Node’s parser intact', async () => {
    const s = netConnect({ host: '127.0.0.1', port: proxyPort });
    let got = '';
    s.on('data', (c: Buffer) => (got += c.toString('latin1')));
    // No token: the 407 shows that the whole head was parsed as an HTTP request.
    await trickle(s, `GET http://127.0.0.1:${answerPort}/ HTTP/1.1\r\nHost: 127.0.0.1:${answerPort}\r\n\r\n`);
    await expect.poll(() => got).toMatch(/^HTTP\/1\.1 407 Proxy Authentication Required by Weir: /);
    expect(got).toContain('Weir-Reason: no-identity');
    s.destroy();
  });

  test.each([
    ['obs-fold', 'X-A: 1\r\n 2\r\n', 400, 'malformed-request'],
    ['a bare LF', 'X-A: 1\n', 400, 'malformed-request'],
    ['NUL in a value', 'X-A: \0\r\n', 400, 'malformed-request'],
    ['a head over the size limit', `X-Pad: ${'p'.repeat(2100)}\r\n`, 431, 'header-too-large'],
    ['more fields than allowed', 'X-A: 1\r\n'.repeat(11), 431, 'too-many-headers'],
  ])('a CONNECT head with %s: %i %s, logged, nothing connected', async (_what, extra, status, reason) => {
    const r = await connectVia(proxyPort, `127.0.0.1:${echoPort}`, { token: token(), extra });
    r.socket.destroy();
    expect(r.status).toBe(status);
    expect(r.headers['weir-reason']).toBe(reason);
    expect(lines.find((l) => l.decisionId === r.headers['weir-decision-id'])).toMatchObject({
      decision: 'error',
      status,
      reason,
    });
  });
});
