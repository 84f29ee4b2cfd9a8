/**
 * @module test/security/407-body-trickle — the red team's cheap hold on a connection: a request
 * without credentials gets its 407, then the client keeps the connection by trickling a body
 * (plain HTTP) or bytes after the CONNECT head. After a 407 the gateway closes: `Connection:
 * close`, the answer flushed, then the socket destroyed, with nothing behind the head read.
 * The client sees the close as an error on its next write (a reset) or its socket closing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawnServe } from '../helpers/serve-process.js';
import type { ServeProcess } from '../helpers/serve-process.js';

/** Sends `head`, reads until the answer's head, then writes a byte per step until the socket dies. */
async function trickleAfter(
  port: number,
  head: string,
): Promise<{ answer: string; stepsUntilClosed: number }> {
  // allowHalfOpen: the gateway's FIN alone does not close the client; only its reset or close does.
  const socket: Socket = netConnect({ host: '127.0.0.1', port, allowHalfOpen: true });
  let answer = '';
  let dead = false;
  socket.on('data', (c: Buffer) => (answer += c.toString('latin1')));
  socket.on('error', () => (dead = true));
  socket.on('close', () => (dead = true));
  await new Promise<void>((r) => socket.once('connect', () => r()));
  socket.write(head);
  for (let i = 0; !answer.includes('\r\n\r\n'); i++) {
    if (i > 600 || dead) throw new Error(`no answer: ${JSON.stringify(answer)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  // A broken gateway keeps reading for its request timeout (5 minutes), far past these steps.
  let steps = 0;
  for (; !dead && steps < 200; steps++) {
    if (!socket.destroyed) socket.write('x');
    await new Promise((r) => setTimeout(r, 50));
  }
  socket.destroy();
  return { answer, stepsUntilClosed: dead ? steps : -1 };
}

describe('a 407 closes the connection: no body trickled behind it is read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-407-trickle-'));
  let serve: ServeProcess;

  beforeAll(async () => {
    serve = await spawnServe(join(dir, 'data'), []);
  });
  afterAll(() => {
    serve.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  test('plain HTTP: a POST without credentials, its body trickled after the 407', async () => {
    const r = await trickleAfter(
      serve.proxyPort,
      'POST http://example.test/upload HTTP/1.1\r\nHost: example.test\r\nContent-Length: 1000000\r\n\r\nfirst bytes',
    );
    expect(r.answer).toMatch(/^HTTP\/1\.1 407 /);
    expect(r.answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(r.stepsUntilClosed).toBeGreaterThanOrEqual(0);
  }, 60_000);

  test('CONNECT: bytes after a refused CONNECT head, trickled', async () => {
    const r = await trickleAfter(
      serve.proxyPort,
      'CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n\x16\x03\x01',
    );
    expect(r.answer).toMatch(/^HTTP\/1\.1 407 /);
    expect(r.answer).toMatch(/\r\nConnection: close\r\n/i);
    expect(r.stepsUntilClosed).toBeGreaterThanOrEqual(0);
  }, 60_000);

  test('a 407 on a keep-alive connection that authenticated nothing closes it too (Basic and Bearer offered)', async () => {
    const r = await trickleAfter(
      serve.proxyPort,
      'GET http://example.test/ HTTP/1.1\r\nHost: example.test\r\nConnection: keep-alive\r\n\r\n',
    );
    expect(r.answer).toMatch(/^HTTP\/1\.1 407 Proxy Authentication Required by Weir: no-identity \(/);
    expect(r.answer).toMatch(/\r\nProxy-Authenticate: Bearer realm="weir"\r\n/i);
    expect(r.answer).toMatch(/\r\nProxy-Authenticate: Basic realm="weir"\r\n/i);
    expect(r.stepsUntilClosed).toBeGreaterThanOrEqual(0);
  }, 60_000);
});
