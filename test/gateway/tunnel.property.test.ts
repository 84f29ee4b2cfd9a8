/**
 * @module test/gateway-tunnel.property — CONNECT tunnels carry bytes exactly. Generated payloads
 * (any bytes not starting a TLS record, up to 200 KB) go through in generated pieces: some in the
 * same write as the head, the rest written later. The client then half-closes and the upstream
 * echoes everything and ends. The client must get back exactly what it sent, the upstream must have
 * received exactly that, and the tunnel must close once both directions are done.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
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
import { loopbackEchoPolicy } from '../helpers/gateway-client.js';

const ID = 'spiffe://test/ns/app/sa/bytes';
const ESTABLISHED = 'HTTP/1.1 200 Connection established\r\n\r\n';

describe('CONNECT tunnels carry bytes exactly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-gw-bytes-'));
  let upstream: Server;
  let port = 0;
  let gateway: Gateway;
  let proxyPort = 0;
  let key: Buffer;
  /** What the upstream received on each connection, once the client's FIN came. */
  const received: Buffer[] = [];
  const closes: Record<string, unknown>[] = [];

  beforeAll(async () => {
    // Echoes as it reads; ends its side after the client's FIN, having echoed everything.
    upstream = createServer({ allowHalfOpen: true }, (s) => {
      const got: Buffer[] = [];
      s.on('data', (c: Buffer) => {
        got.push(c);
        s.write(c);
      });
      s.on('end', () => {
        received.push(Buffer.concat(got));
        s.end();
      });
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    port = (upstream.address() as AddressInfo).port;
    mkdirSync(join(dir, 'policies'));
    writeFileSync(join(dir, 'policies', 'bytes.yaml'), loopbackEchoPolicy('bytes', ID, port));
    const snapshot = compilePolicySet(loadPolicySet(join(dir, 'policies')).set, { skipUnresolved: true });
    key = loadTokenKey(dir);
    gateway = createGateway({
      getSnapshot: () => snapshot,
      resolve: createResolver({}),
      connect: (ip, p, onread) => netConnect({ host: ip, port: p, onread }),
      now: Date.now,
      newId: (() => {
        let n = 0;
        return () => `b${++n}`;
      })(),
      logger: pino(
        { level: 'info' },
        {
          write: (s: string) => {
            const l = JSON.parse(s) as Record<string, unknown>;
            if (l.msg === 'tunnel closed') closes.push(l);
          },
        },
      ),
      tokenKey: key,
    });
    proxyPort = (await gateway.listen('127.0.0.1', 0)).port;
  });

  afterAll(async () => {
    await gateway.close(0);
    await new Promise((r) => upstream.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  test('what goes in comes out, both ways, whatever the pieces', async () => {
    const payload = fc
      .oneof(fc.uint8Array({ maxLength: 2000 }), fc.uint8Array({ minLength: 50_000, maxLength: 200_000 }))
      .map((b) => Buffer.from(b))
      // A first byte 0x16 starts a TLS record: the gateway reads it as a ClientHello (sni tests).
      .filter((b) => b[0] !== 0x16);
    await fc.assert(
      fc.asyncProperty(
        payload.chain((p) =>
          fc.tuple(
            fc.constant(p),
            fc.integer({ min: 0, max: p.length }),
            fc.uniqueArray(fc.integer({ min: 0, max: p.length }), { maxLength: 4 }),
          ),
        ),
        async ([data, withHead, cuts]) => {
          const closedBefore = closes.length;
          const receivedBefore = received.length;
          const socket = netConnect({ host: '127.0.0.1', port: proxyPort });
          const chunks: Buffer[] = [];
          const done = new Promise<void>((resolve, reject) => {
            socket.on('data', (c: Buffer) => chunks.push(c));
            socket.on('end', () => resolve());
            socket.on('error', reject);
          });
          const token = issueToken(key, { identity: ID, ttlMs: 60_000, now: Date.now() });
          socket.write(
            Buffer.concat([
              Buffer.from(
                `CONNECT 127.0.0.1:${port} HTTP/1.1\r\nProxy-Authorization: Bearer ${token}\r\n\r\n`,
              ),
              data.subarray(0, withHead),
            ]),
          );
          const at = [withHead, ...cuts.filter((c) => c > withHead).sort((a, b) => a - b), data.length];
          for (let i = 0; i + 1 < at.length; i++) {
            await new Promise((r) => setImmediate(r));
            socket.write(data.subarray(at[i], at[i + 1]));
          }
          socket.end();
          await done;
          socket.destroy();
          const all = Buffer.concat(chunks);
          expect(all.subarray(0, ESTABLISHED.length).toString('latin1')).toBe(ESTABLISHED);
          expect(all.subarray(ESTABLISHED.length).equals(data), 'the client got back other bytes').toBe(true);
          await expect.poll(() => received.length).toBe(receivedBefore + 1);
          expect(received.at(-1)?.equals(data), 'the upstream got other bytes').toBe(true);
          await expect.poll(() => closes.length).toBe(closedBefore + 1);
          expect(closes.at(-1)).toMatchObject({
            close: 'closed',
            bytesIn: data.length,
            bytesOut: data.length,
          });
        },
      ),
      { numRuns: 120 },
    );
  }, 300_000);
});
