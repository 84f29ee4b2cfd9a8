import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { UpstreamReads } from './upstream-reads.js';

/** Bytes whose value depends on their position, so that a chunk overwritten or misplaced shows. */
function pattern(bytes: number): Buffer {
  const b = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < bytes; i++) b[i] = (i * 7 + (i >>> 16)) & 0xff;
  return b;
}

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function listen(onConnection: (s: Socket) => void): Promise<number> {
  const server = createServer(onConnection);
  servers.push(server);
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return (server.address() as AddressInfo).port;
}

interface Relayed {
  received: Buffer;
  counted: number;
  /** Whether the source was read with `onread` at all. */
  inUse: boolean;
}

/**
 * `send` writes to the upstream end; the upstream socket is read with `upstreamReads` and relayed
 * to a receiver, which starts reading after `receiverDelayMs` (backpressure meanwhile). With
 * `corkMs`, the relay's writes stay queued on the receiving socket for that long.
 */
async function relayThrough(
  send: (s: Socket) => void,
  { receiverDelayMs = 0, corkMs = 0 } = {},
): Promise<Relayed> {
  const sourcePort = await listen(send);
  let receiverSide: Socket | undefined;
  const receiverPort = await listen((s) => (receiverSide = s));
  const to = connect({ host: '127.0.0.1', port: receiverPort });
  await new Promise<void>((res) => to.once('connect', res));
  while (receiverSide === undefined) await new Promise((res) => setImmediate(res));
  const receiver = receiverSide;
  const chunks: Buffer[] = [];
  const done = new Promise<void>((res) => receiver.once('end', res));
  receiver.pause();
  setTimeout(() => receiver.on('data', (c: Buffer) => chunks.push(c)).resume(), receiverDelayMs);

  if (corkMs > 0) {
    to.cork();
    setTimeout(() => to.uncork(), corkMs);
  }
  const reads = new UpstreamReads();
  let counted = 0;
  const from = connect({ host: '127.0.0.1', port: sourcePort, onread: reads.onread });
  from.pause();
  from.once('connect', () => reads.start(from, { to, count: (n) => (counted += n) }));
  await done;
  from.destroy();
  to.destroy();
  reads.release();
  return { received: Buffer.concat(chunks), counted, inUse: reads.inUse };
}

/** Sends `data` in small writes, one per event-loop turn, then ends. */
function trickle(data: Buffer, size = 1000): (s: Socket) => void {
  return (s) => {
    let at = 0;
    const next = (): void => {
      if (at >= data.length) return void s.end();
      s.write(data.subarray(at, at + size));
      at += size;
      setImmediate(next);
    };
    next();
  };
}

describe('UpstreamReads', () => {
  test('relays a bulk transfer byte for byte, counts it and passes the end on', async () => {
    const data = pattern(8 * 1024 * 1024);
    const r = await relayThrough((s) => s.end(data));
    expect(r.inUse).toBe(true);
    expect(r.received.equals(data)).toBe(true);
    expect(r.counted).toBe(data.length);
  });

  test('keeps every byte while the receiver is not reading (writes queue, reads stop)', async () => {
    const data = pattern(16 * 1024 * 1024);
    const r = await relayThrough((s) => s.end(data), { receiverDelayMs: 300 });
    expect(r.received.equals(data)).toBe(true);
    expect(r.counted).toBe(data.length);
  });

  test('relays small writes that come one by one (read into the shared buffer and copied)', async () => {
    const data = pattern(200 * 1000);
    const r = await relayThrough(trickle(data));
    expect(r.received.equals(data)).toBe(true);
  });

  test('small reads stay intact while their writes wait on the receiving socket', async () => {
    const data = pattern(200 * 1000);
    const r = await relayThrough(trickle(data), { corkMs: 100 });
    expect(r.received.equals(data)).toBe(true);
  });

  test('two tunnels at once, one bulk and one trickling, get their own bytes', async () => {
    const bulk = pattern(4 * 1024 * 1024);
    const small = Buffer.from(pattern(50_000).map((b) => 255 - b));
    const [a, b] = await Promise.all([
      relayThrough((s) => s.end(bulk), { receiverDelayMs: 100 }),
      relayThrough(trickle(small, 500)),
    ]);
    expect(a.received.equals(bulk)).toBe(true);
    expect(b.received.equals(small)).toBe(true);
  });
});
