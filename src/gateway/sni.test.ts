import fc from 'fast-check';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { beforeAll, describe, expect, test } from 'vitest';
import { parseClientHello } from './sni.js';

/** The first bytes a real Node TLS client sends for `servername`. */
async function realHello(servername: string | undefined): Promise<Buffer> {
  return new Promise((resolve) => {
    const server = createServer((s) => {
      let buf = Buffer.alloc(0);
      s.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        if (parseClientHello(buf).kind !== 'incomplete') {
          s.destroy();
          server.close();
          resolve(buf);
        }
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      const t = tlsConnect({ host: '127.0.0.1', port, ...(servername !== undefined ? { servername } : {}) });
      t.on('error', () => undefined);
    });
  });
}

describe('parseClientHello', () => {
  test('reads the SNI of a real ClientHello, byte by byte as well as whole', async () => {
    const hello = await realHello('API.Example.com');
    expect(parseClientHello(hello)).toEqual({ kind: 'client-hello', sni: 'api.example.com' });
    for (let n = 0; n < hello.length; n += 37)
      expect(parseClientHello(hello.subarray(0, n)).kind).toBe('incomplete');
  });

  test('a ClientHello split over two records is reassembled', async () => {
    const hello = await realHello('split.example');
    const body = hello.subarray(5);
    const rec = (b: Buffer): Buffer =>
      Buffer.concat([Buffer.from([0x16, 3, 1, b.length >> 8, b.length & 255]), b]);
    const split = Buffer.concat([rec(body.subarray(0, 50)), rec(body.subarray(50))]);
    expect(parseClientHello(split)).toEqual({ kind: 'client-hello', sni: 'split.example' });
  });

  test('no SNI, not TLS, and malformed input', async () => {
    expect(parseClientHello(await realHello(undefined))).toEqual({ kind: 'client-hello', sni: undefined });
    expect(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n')).kind).toBe('not-tls');
    expect(parseClientHello(Buffer.from([0x16, 3, 1, 0, 4, 2, 0, 0, 0])).kind).toBe('malformed');
    expect(parseClientHello(Buffer.from([0x16, 3, 1, 0, 6, 1, 0, 0, 2, 3, 3])).kind).toBe('malformed');
  });
});

describe('parseClientHello, properties', () => {
  /** Real ClientHellos: for generated names, for none, and for a long name. */
  const named: { name: string; hello: Buffer }[] = [];
  const hellos: Buffer[] = [];
  beforeAll(async () => {
    for (const name of fc.sample(fc.domain(), { numRuns: 12, seed: 7 })) {
      named.push({ name, hello: await realHello(name) });
    }
    const long = `${'a'.repeat(63)}.${'b'.repeat(63)}.example`;
    named.push({ name: long, hello: await realHello(long) });
    hellos.push(...named.map((n) => n.hello), await realHello(undefined));
  });

  test('real hellos for generated names carry those names', () => {
    for (const { name, hello } of named) {
      expect(parseClientHello(hello)).toEqual({ kind: 'client-hello', sni: name.toLowerCase() });
    }
  });

  /** A hello with bytes changed, cut, inserted or removed somewhere, as an attacker might send. */
  const mutated = (): fc.Arbitrary<Buffer> =>
    fc
      .tuple(
        fc.constantFrom(...hellos),
        fc.array(
          fc.tuple(
            fc.constantFrom('set', 'cut', 'insert', 'remove'),
            fc.nat(),
            fc.integer({ min: 0, max: 255 }),
          ),
          { minLength: 1, maxLength: 4 },
        ),
      )
      .map(([hello, edits]) => {
        let b = Buffer.from(hello);
        for (const [op, at, v] of edits) {
          const i = at % (b.length + 1);
          if (op === 'set' && i < b.length) b[i] = v;
          else if (op === 'cut') b = b.subarray(0, i);
          else if (op === 'insert') b = Buffer.concat([b.subarray(0, i), Buffer.from([v]), b.subarray(i)]);
          else if (op === 'remove') b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1)]);
        }
        return b;
      });

  const anyBytes = (): fc.Arbitrary<Buffer> =>
    fc.oneof(
      mutated(),
      fc
        .uint8Array({ maxLength: 300 })
        .map((b) => Buffer.concat([Buffer.from([0x16, 3, 1]), Buffer.from(b)])),
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    );

  test('never throws; every prefix of the bytes is incomplete or already the final answer', () => {
    fc.assert(
      fc.property(anyBytes(), (data) => {
        const whole = parseClientHello(data);
        expect(['incomplete', 'not-tls', 'malformed', 'client-hello']).toContain(whole.kind);
        if (whole.kind === 'client-hello' && whole.sni !== undefined) {
          expect(whole.sni).toMatch(/^[\x21-\x7e]+$/);
          expect(whole.sni).toBe(whole.sni.toLowerCase());
        }
        for (let n = 0; n < data.length; n++) {
          const part = parseClientHello(data.subarray(0, n));
          if (part.kind !== 'incomplete') expect(part).toEqual(whole);
        }
      }),
      { numRuns: 400 },
    );
  });

  test('the same hello cut into records of any sizes gives the same name', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...hellos),
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 12 }),
        (hello, sizes) => {
          const message = hello.subarray(5, 5 + hello.readUInt16BE(3));
          const records: Buffer[] = [];
          for (let at = 0, k = 0; at < message.length; k++) {
            const piece = message.subarray(at, at + (sizes[k % sizes.length] ?? 1));
            records.push(Buffer.from([0x16, 3, 1, piece.length >> 8, piece.length & 255]), piece);
            at += piece.length;
          }
          expect(parseClientHello(Buffer.concat(records))).toEqual(parseClientHello(hello));
        },
      ),
      { numRuns: 300 },
    );
  });
});
