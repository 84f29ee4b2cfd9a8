/**
 * @module test/gateway-garbage — `weir serve` as a process, fed generated hostile input over real
 * sockets: random bytes, CONNECT heads with broken or forged tokens, guardrail targets and bad
 * fields, absolute-URI requests with smuggling-shaped headers and bodies, and tunnels whose first
 * bytes are a broken TLS ClientHello. Each connection is written in random pieces and half-closed.
 * Every one must end with a well-formed reply or a close, never a hang; a 200 needs the valid
 * token; and afterwards the process is alive, a good request still works, and every log line is
 * JSON. The same runs against the TLS listener (`--proxy-tls-cert`, client certificates asked
 * for): over TLS with no certificate, a good one, an expired one and an untrusted one, and raw
 * bytes where a handshake should be. The seed is printed on failure (fast-check), so a found case
 * can be replayed.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runTokenIssue } from '../../src/cli/token.js';
import { connectVia, echo, loopbackEchoPolicy, startEchoServer } from '../helpers/gateway-client.js';
import { clientCert, fixture, TLS_FIXTURES, tlsConnectVia } from '../helpers/gateway-tls-client.js';
import { spawnServe } from '../helpers/serve-process.js';
import type { ServeProcess } from '../helpers/serve-process.js';

const WEB = 'spiffe://test/ns/app/sa/web';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What one hostile connection got back. */
interface Outcome {
  readonly reply: string;
  /** The connection neither answered nor closed in time: a hang. */
  readonly hung: boolean;
}

/**
 * How a case reaches the gateway: plain TCP, or TLS with no client certificate or with one of the
 * fixtures (`client-spiffe` proves the test identity; the others are refused with 407).
 */
type Transport = 'tcp' | 'tls' | 'tls:client-spiffe' | 'tls:client-expired' | 'tls:client-untrusted';

function open(port: number, how: Transport): Socket {
  if (how === 'tcp') return connect(port, '127.0.0.1');
  const cert = how === 'tls' ? {} : clientCert(how.slice('tls:'.length));
  return tlsConnect({
    host: '127.0.0.1',
    port,
    servername: 'localhost',
    ca: fixture('server-ca.pem'),
    ...cert,
  });
}

/** Writes `pieces` (a turn of the event loop apart), half-closes, and collects the reply until close. */
function send(port: number, how: Transport, pieces: readonly Buffer[]): Promise<Outcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = open(port, how);
    // Generous: the gateway's head timeout is 2 s here. Only a connection left open far longer
    // than every configured limit counts as a hang.
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ reply: Buffer.concat(chunks).toString('latin1'), hung: true });
    }, 30_000);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ reply: Buffer.concat(chunks).toString('latin1'), hung: false });
    });
    void (async () => {
      for (const p of pieces) {
        if (socket.destroyed) return;
        socket.write(p);
        await new Promise((r) => setImmediate(r));
      }
      if (!socket.destroyed) socket.end();
    })();
  });
}

describe.each([
  { listener: 'plain TCP', tls: false },
  { listener: 'TLS with client certificates', tls: true },
])('weir serve under generated hostile input, $listener', ({ tls }) => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-garbage-'));
  const dataDir = join(dir, 'data');
  const policyDir = join(dir, 'policies');
  let serve: ServeProcess | undefined;
  let echoServer: Server;
  let echoPort = 0;
  let proxyPort = 0;
  let token = '';

  beforeAll(async () => {
    ({ server: echoServer, port: echoPort } = await startEchoServer());
    mkdirSync(policyDir);
    writeFileSync(join(policyDir, 'echo.yaml'), loopbackEchoPolicy('echo', WEB, echoPort));
    serve = await spawnServe(dataDir, [
      '--policy',
      policyDir,
      '--proxy-headers-timeout',
      '2s',
      '--proxy-idle-timeout',
      '5s',
      ...(tls
        ? [
            '--proxy-tls-cert',
            `${TLS_FIXTURES}proxy.pem`,
            '--proxy-tls-key',
            `${TLS_FIXTURES}proxy-key.pem`,
            '--proxy-client-ca',
            `${TLS_FIXTURES}client-ca.pem`,
          ]
        : []),
    ]);
    proxyPort = serve.proxyPort;
    token = runTokenIssue({ identity: WEB, ttl: '1h', dataDir });
  }, 120_000);

  afterAll(() => {
    serve?.child.kill('SIGKILL');
    echoServer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The arbitraries need the ports and the token, known only once the server runs. */
  function hostileInput(): fc.Arbitrary<Buffer> {
    const text = (s: string): Buffer => Buffer.from(s, 'latin1');
    const anyText = fc.string({
      unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)),
      maxLength: 40,
    });
    const flip = (s: string): fc.Arbitrary<string> =>
      fc.tuple(fc.nat(), fc.integer({ min: 33, max: 126 })).map(([i, c]) => {
        const at = i % s.length;
        return `${s.slice(0, at)}${String.fromCharCode(c)}${s.slice(at + 1)}`;
      });
    const auth = fc.oneof(
      { weight: 6, arbitrary: fc.constant(`Bearer ${token}`) },
      flip(token).map((t) => `Bearer ${t}`),
      fc.constant(`Bearer ${token.slice(0, -4)}`),
      fc.constant(`bearer  ${token}`),
      fc.constantFrom(
        'Basic dXNlcjpwYXNz',
        'Bearer',
        'Bearer ',
        `Bearer ${'A'.repeat(6000)}`,
        'Bearer a.b.c',
      ),
      anyText.map((s) => `Bearer ${s}`),
    );
    const target = fc.oneof(
      { weight: 6, arbitrary: fc.constant(`127.0.0.1:${echoPort}`) },
      fc.constantFrom(
        `127.0.0.1:${echoPort}`,
        `127.1:${echoPort}`,
        `0x7f.0.0.1:${echoPort}`,
        `2130706433:${echoPort}`,
        `[::ffff:127.0.0.1]:${echoPort}`,
        `[::1]:${echoPort}`,
        `localhost:${echoPort}`,
        '169.254.169.254:80',
        '[fd00:ec2::254]:80',
        '[fe80::1%25eth0]:443',
        `127.0.0.1:${echoPort + 1}`,
        '127.0.0.1:0',
        '127.0.0.1:99999',
        `127.0.0.1`,
        ':80',
      ),
      fc.tuple(fc.domain(), fc.integer({ min: 0, max: 70_000 })).map(([h, p]) => `${h}:${p}`),
      anyText,
    );
    const visible = fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      maxLength: 30,
    });
    const field = fc.oneof(
      {
        weight: 6,
        arbitrary: fc
          .tuple(
            fc.constantFrom('X-Req', 'User-Agent', 'Accept', 'Via', 'Forwarded', 'X-Forwarded-For'),
            visible,
          )
          .map(([n, v]) => `${n}: ${v}\r\n`),
      },
      { weight: 2, arbitrary: fc.constant(`Host: 127.0.0.1:${echoPort}\r\n`) },
      fc.constantFrom(
        'Host: a\r\n',
        'Host: a\r\nHost: b\r\n',
        'Transfer-Encoding: chunked\r\n',
        'Content-Length: 5\r\n',
        'Content-Length: -1\r\n',
        'X: \x00\r\n',
        ' folded\r\n',
        'X-Long: ' + 'x'.repeat(20_000) + '\r\n',
      ),
      fc
        .tuple(fc.string({ unit: fc.constantFrom(...'abcXYZ-_:'), minLength: 1, maxLength: 8 }), anyText)
        .map(([n, v]) => `${n}: ${v}\r\n`),
    );
    // A first TLS record: a handshake byte, then anything (the gateway reads it as a ClientHello).
    const tlsish = fc
      .uint8Array({ maxLength: 80 })
      .map((b) => Buffer.concat([Buffer.from([0x16, 3, 1]), Buffer.from(b)]));
    const tail = fc.oneof(
      fc.constant(Buffer.alloc(0)),
      tlsish,
      fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b)),
      fc.constant(text('GET / HTTP/1.1\r\n\r\n')),
    );
    const connectHead = fc
      .tuple(
        target,
        fc.option(auth, { freq: 6 }),
        fc.array(field, { maxLength: 3 }),
        fc.oneof(
          { weight: 8, arbitrary: fc.constant('HTTP/1.1') },
          fc.constantFrom('HTTP/1.0', 'HTTP/1.2', ''),
        ),
        tail,
      )
      .map(([t, a, fields, v, rest]) =>
        Buffer.concat([
          text(
            `CONNECT ${t} ${v}\r\n${a === null ? '' : `Proxy-Authorization: ${a}\r\n`}${fields.join('')}\r\n`,
          ),
          rest,
        ]),
      );
    const url = fc.oneof(
      { weight: 6, arbitrary: fc.constant(`http://127.0.0.1:${echoPort}/x`) },
      fc.constantFrom(
        `http://127.0.0.1:${echoPort}/x`,
        `http://127.1:${echoPort}/`,
        'http://169.254.169.254/latest/meta-data/',
        'http://[::ffff:169.254.169.254]/',
        `http://user@127.0.0.1:${echoPort}@evil.example/`,
        'https://example.com/',
        '/relative',
        '*',
        'http://',
      ),
      anyText,
    );
    // A body with its framing field: none, Content-Length, chunked (sometimes broken), or bytes
    // with no framing at all (read as a pipelined second request).
    const body = fc.oneof(
      { weight: 3, arbitrary: fc.constant('\r\n') },
      { weight: 3, arbitrary: anyText.map((b) => `Content-Length: ${b.length}\r\n\r\n${b}`) },
      {
        weight: 2,
        arbitrary: fc
          .constantFrom('0\r\n\r\n', '5\r\nhello\r\n0\r\n\r\n', 'ffffffffffffffff\r\n', '5\r\nhel', 'zz\r\n')
          .map((b) => `Transfer-Encoding: chunked\r\n\r\n${b}`),
      },
      anyText.map((b) => `\r\n${b}`),
    );
    const httpRequest = fc
      .tuple(
        fc.oneof(
          {
            weight: 8,
            arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PATCH', 'HEAD'),
          },
          fc.constantFrom('G ET', 'get', 'CONNECTX'),
        ),
        url,
        fc.option(auth, { freq: 6 }),
        // HTTP/1.1 needs a Host; the gateway wants it to name the URI's host.
        fc.oneof({ weight: 6, arbitrary: fc.constant('same') }, fc.constantFrom('none', 'other')),
        fc.array(field, { maxLength: 3 }),
        body,
      )
      .map(([m, u, a, hostKind, fields, b]) => {
        const authority = /^https?:\/\/([^/]*)/.exec(u)?.[1] ?? 'a';
        const host =
          hostKind === 'none' ? '' : `Host: ${hostKind === 'same' ? authority : 'other.example'}\r\n`;
        return text(
          `${m} ${u} HTTP/1.1\r\n${host}${a === null ? '' : `Proxy-Authorization: ${a}\r\n`}${fields.join('')}${b}`,
        );
      });
    return fc.oneof(
      { weight: 4, arbitrary: connectHead },
      { weight: 3, arbitrary: httpRequest },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)) },
    );
  }

  /** `data` cut into up to four pieces. */
  const pieces = (data: Buffer): fc.Arbitrary<Buffer[]> =>
    fc
      .uniqueArray(fc.integer({ min: 1, max: Math.max(1, data.length - 1) }), { maxLength: 3 })
      .map((cuts) => {
        const at = [0, ...cuts.filter((c) => c < data.length).sort((a, b) => a - b), data.length];
        return at.slice(1).map((end, i) => data.subarray(at[i], end));
      });

  const transport: fc.Arbitrary<Transport> = tls
    ? fc.constantFrom('tls', 'tls:client-spiffe', 'tls:client-expired', 'tls:client-untrusted', 'tcp')
    : fc.constant('tcp');

  /** A case: its bytes, how they are cut, and how they travel. */
  const hostileCase = (): fc.Arbitrary<[Buffer, Buffer[], Transport]> =>
    hostileInput().chain((d) => fc.tuple(fc.constant(d), pieces(d), transport));

  function check(data: Buffer, how: Transport, outcome: Outcome): void {
    const sent = data.toString('latin1');
    expect(outcome.hung, `no answer and no close for ${JSON.stringify(sent.slice(0, 300))}`).toBe(false);
    // Plain bytes where a TLS handshake belongs get no HTTP answer (at most a TLS alert).
    if (outcome.reply === '' || (tls && how === 'tcp')) return;
    const status = /^HTTP\/1\.[01] (\d{3}) /.exec(outcome.reply);
    expect(status, `a malformed reply ${JSON.stringify(outcome.reply.slice(0, 200))}`).not.toBeNull();
    // Every connection is half-closed right after its bytes: a 408 would mean the FIN was missed.
    expect(status?.[1], `a head timeout for ${JSON.stringify(sent.slice(0, 300))}`).not.toBe('408');
    if (status?.[1] === '200' && sent.startsWith('CONNECT ') && how !== 'tls:client-spiffe') {
      // The scheme is case-insensitive and may be followed by several spaces (RFC 9110 11.4);
      // the token itself must be the one issued, byte for byte.
      const auth = sent.split('\r\n').find((l) => /^proxy-authorization:/i.test(l)) ?? '';
      expect(
        /^proxy-authorization: *bearer +(\S*)$/i.exec(auth)?.[1],
        'a tunnel opened without the token',
      ).toBe(token);
    }
  }

  test('one connection at a time: each gets a well-formed reply or a close', async () => {
    await fc.assert(
      fc.asyncProperty(hostileCase(), async ([data, parts, how]) => {
        check(data, how, await send(proxyPort, how, parts));
        expect(serve?.exited(), `weir serve exited:\n${serve?.stderr()}`).toBeUndefined();
      }),
      { numRuns: 400 },
    );
  }, 600_000);

  test('sixteen at once, then a good tunnel still works and the process is whole', async () => {
    const cases = fc.sample(hostileCase(), { numRuns: 320 });
    for (let i = 0; i < cases.length; i += 16) {
      const batch = cases.slice(i, i + 16);
      const outcomes = await Promise.all(batch.map(([, parts, how]) => send(proxyPort, how, parts)));
      outcomes.forEach((o, k) => check(batch[k]![0], batch[k]![2], o));
    }
    expect(serve?.exited(), `weir serve exited:\n${serve?.stderr()}`).toBeUndefined();

    const good = tls
      ? await tlsConnectVia(proxyPort, `127.0.0.1:${echoPort}`, { token })
      : await connectVia(proxyPort, `127.0.0.1:${echoPort}`, { token });
    expect(good.status).toBe(200);
    expect(await echo(good.socket, 'still here')).toBe('still here');
    good.socket.destroy();
    // A head, tunnel bytes and the FIN (or TLS close_notify) in one write: the 200, the bytes
    // echoed, and a close once the upstream has ended too.
    const head = `CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\nProxy-Authorization: Bearer ${token}\r\n\r\n`;
    for (const how of tls ? (['tls', 'tls:client-spiffe'] as const) : (['tcp'] as const)) {
      const oneWrite = await send(proxyPort, how, [Buffer.from(`${head}one write`)]);
      expect(oneWrite).toEqual({
        reply: 'HTTP/1.1 200 Connection established\r\n\r\none write',
        hung: false,
      });
    }

    const api = readFileSync(join(dataDir, 'endpoint'), 'utf8').trim();
    const metrics = await (await fetch(new URL('/metrics', api))).text();
    expect(metrics).toMatch(/^weir_gateway_decisions_total\{/m);
    // Every line the process wrote is one JSON object; stderr holds the start-up banner only,
    // no error or stack trace.
    await sleep(300);
    const lines = serve!.lines;
    for (const l of lines) expect(() => JSON.parse(l) as unknown, l.slice(0, 200)).not.toThrow();
    // Every tunnel opened is closed, each by its client's FIN (or a refusal), none by waiting
    // for the idle timeout (5 s here; the poll waits longer, so a stuck tunnel shows up as one).
    const logged = (): { msg?: string; close?: string; decision?: string; protocol?: string }[] =>
      lines.map(
        (l) => JSON.parse(l) as { msg?: string; close?: string; decision?: string; protocol?: string },
      );
    const opened = logged().filter(
      (l) => l.msg === 'decision' && l.decision === 'allow' && l.protocol === 'connect',
    );
    expect(opened.length).toBeGreaterThan(0);
    await expect
      .poll(() => logged().filter((l) => l.msg === 'tunnel closed').length, { timeout: 15_000 })
      .toBe(opened.length);
    expect(logged().filter((l) => l.msg === 'tunnel closed' && l.close === 'idle-timeout')).toEqual([]);
    expect(serve!.stderr()).toContain('Weir EC2 API: http://127.0.0.1:');
    expect(serve!.stderr()).not.toMatch(/error|exception|^\s+at /im);
  }, 600_000);
});
