/**
 * Property tests of the CONNECT head parser, the first code that reads a client's bytes. It must
 * never throw on any input, give the same answer however TCP splits the bytes, read back every
 * well-formed head it is given, and accept nothing that Node's own (strict) HTTP parser would
 * refuse or read differently, since a head two parsers read differently is a smuggling vector.
 */
import fc from 'fast-check';
import { createServer } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHeadReader } from './connect-head.js';
import type { HeadLimits, HeadParse } from './connect-head.js';

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

/** A header name: mostly tokens, sometimes with a byte a name may not hold. */
const fieldName = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 12 }) },
  {
    weight: 1,
    arbitrary: fc.string({
      unit: fc.constantFrom(...TCHARS, ' ', '\t', '"', '(', '@', '\x00', '\x7f', 'é'),
      maxLength: 8,
    }),
  },
);

/** A header value: mostly visible text, sometimes a control byte, obs-text or DEL. */
const fieldValue = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      maxLength: 20,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.string({
      unit: fc.integer({ min: 0, max: 0xff }).map((c) => String.fromCharCode(c)),
      maxLength: 8,
    }),
  },
);

const ows = fc.constantFrom('', ' ', '  ', '\t', ' \t');
/** Mostly CRLF; sometimes a bare LF, a bare CR or CR CR LF. */
const eol = fc.oneof(
  { weight: 12, arbitrary: fc.constant('\r\n') },
  { weight: 1, arbitrary: fc.constantFrom('\n', '\r', '\r\r\n') },
);

const target = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.tuple(fc.domain(), fc.integer({ min: 0, max: 70000 })).map(([h, p]) => `${h}:${p}`),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('[::1]:443', '127.1:80', 'a b:1', 'a:1\x00', 'é.example:443', '', ' x:1'),
  },
);

const requestLine = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.tuple(target, fc.constantFrom('HTTP/1.1', 'HTTP/1.0')).map(([t, v]) => `CONNECT ${t} ${v}`),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom('CONNECT', 'connect', 'CONNECT ', 'GET'),
        target,
        fc.constantFrom('HTTP/1.1', 'HTTP/2.0', 'HTTP/1.1 ', 'http/1.1', ''),
      )
      .map(([m, t, v]) => `${m} ${t} ${v}`),
  },
);

/** A head as a client might send it: well-formed most of the time, broken in one place sometimes. */
const headText = fc
  .tuple(
    requestLine,
    eol,
    fc.array(
      fc.tuple(
        fc.oneof({ weight: 20, arbitrary: fc.constant('') }, { weight: 1, arbitrary: ows }),
        fieldName,
        ows,
        fieldValue,
        ows,
        eol,
      ),
      { maxLength: 6 },
    ),
    fc.oneof(
      { weight: 8, arbitrary: fc.constant('\r\n') },
      { weight: 1, arbitrary: fc.constantFrom('', '\n', '\r') },
    ),
    fc.string({ maxLength: 8 }),
  )
  .map(([line, end, fields, blank, rest]) => {
    const head = fields.map(([fold, n, a, v, b, e]) => `${fold}${n}:${a}${v}${b}${e}`).join('');
    return `${line}${end}${head}${blank}${rest}`;
  });

/** Any input: grammar-shaped text, or raw bytes after a `CONNECT ` prefix, or raw bytes. */
const input = fc.oneof(
  { weight: 6, arbitrary: headText.map(bytes) },
  {
    weight: 2,
    arbitrary: fc
      .uint8Array({ maxLength: 120 })
      .map((b) => Buffer.concat([bytes('CONNECT '), Buffer.from(b)])),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 120 }).map((b) => Buffer.from(b)) },
);

/** Cut points splitting `data` into chunks (empty chunks included: a read can be empty). */
const split = (data: Buffer): fc.Arbitrary<Buffer[]> =>
  fc.uniqueArray(fc.integer({ min: 0, max: data.length }), { maxLength: 6 }).map((cuts) => {
    const at = [0, ...cuts.sort((a, b) => a - b), data.length];
    return at.slice(1).map((end, i) => data.subarray(at[i], end));
  });

/** Feeds chunks until the answer is final; returns it and how many bytes had been pushed. */
function feed(chunks: readonly Buffer[], limits: HeadLimits): { result: HeadParse; pushed: number } {
  const reader = createHeadReader(limits);
  let result: HeadParse = { kind: 'incomplete' };
  let pushed = 0;
  for (const c of chunks) {
    result = reader.push(c);
    pushed += c.length;
    if (result.kind !== 'incomplete') break;
  }
  return { result, pushed };
}

const LIMIT_SETS: HeadLimits[] = [
  { maxHeaderSize: 16 * 1024, maxHeadersCount: 100 },
  { maxHeaderSize: 60, maxHeadersCount: 2 },
];

describe('CONNECT head parser, properties', () => {
  test('never throws, and gives the same answer however the bytes are split', () => {
    const limitsArb = fc.constantFrom(...LIMIT_SETS);
    fc.assert(
      fc.property(
        input.chain((data) => fc.tuple(fc.constant(data), split(data), limitsArb)),
        ([data, chunks, limits]) => {
          const whole = feed([data], limits).result;
          const { result, pushed } = feed(chunks, limits);
          if (whole.kind !== 'head') {
            expect(result).toEqual(whole);
            return;
          }
          expect(result.kind).toBe('head');
          if (result.kind !== 'head') return;
          expect({ ...result, rest: undefined }).toEqual({ ...whole, rest: undefined });
          // The head ends at the same byte; what follows it is kept, up to what was pushed.
          const headLength = data.length - whole.rest.length;
          expect(pushed - result.rest.length).toBe(headLength);
          expect(result.rest.equals(data.subarray(headLength, pushed))).toBe(true);
        },
      ),
      { numRuns: 3000 },
    );
  });

  test('reads back every well-formed head: target, version, fields with their whitespace trimmed, the bytes after it', () => {
    const value = fc
      .string({
        unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
        maxLength: 10,
      })
      .chain((core) =>
        core === ''
          ? fc.constant('')
          : fc
              .string({ unit: fc.constantFrom('a', ' ', '\t', '\x80', '\xff'), maxLength: 4 })
              .map((mid) => `${core}${mid}${core}`),
      );
    fc.assert(
      fc.property(
        fc.domain(),
        fc.integer({ min: 1, max: 65535 }),
        fc.constantFrom('1.0', '1.1'),
        fc.array(
          fc.tuple(
            fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 10 }),
            ows,
            value,
            ows,
          ),
          { maxLength: 8 },
        ),
        fc.uint8Array({ maxLength: 40 }),
        (host, port, version, fields, rest) => {
          const text = `CONNECT ${host}:${port} HTTP/${version}\r\n${fields.map(([n, a, v, b]) => `${n}:${a}${v}${b}\r\n`).join('')}\r\n`;
          const data = Buffer.concat([bytes(text), Buffer.from(rest)]);
          expect(feed([data], LIMIT_SETS[0] as HeadLimits).result).toEqual({
            kind: 'head',
            target: `${host}:${port}`,
            version,
            rawHeaders: fields.flatMap(([n, , v]) => [n, v]),
            rest: Buffer.from(rest),
          });
        },
      ),
      { numRuns: 1000 },
    );
  });
});

/** What Node's HTTP server made of the same bytes. */
type NodeRead =
  | { kind: 'connect'; target: string; version: string; rawHeaders: string[] }
  | { kind: 'error'; code: string };

describe("CONNECT head parser against Node's HTTP parser (real sockets)", () => {
  const server = createServer();
  let port = 0;
  let waiting: ((r: NodeRead) => void) | undefined;
  beforeAll(async () => {
    server.on('connect', (req: IncomingMessage, socket: Socket) => {
      socket.destroy();
      waiting?.({
        kind: 'connect',
        target: req.url ?? '',
        version: req.httpVersion,
        rawHeaders: req.rawHeaders,
      });
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      socket.destroy();
      waiting?.({ kind: 'error', code: err.code ?? 'unknown' });
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((res) => server.close(() => res())));

  /** Sends a complete head to Node's server; resolves with what it read. */
  function nodeRead(data: Buffer): Promise<NodeRead> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`Node's parser gave no answer for ${JSON.stringify(data.toString('latin1'))}`)),
        5000,
      );
      waiting = (r) => {
        clearTimeout(timer);
        waiting = undefined;
        resolve(r);
      };
      const socket = connect(port, '127.0.0.1', () => socket.write(data));
      socket.on('error', () => undefined);
    });
  }

  test('every head the gateway accepts, Node accepts too, with the same target, version and fields', async () => {
    const accepted = headText
      .map(bytes)
      .filter((data) => feed([data], LIMIT_SETS[0] as HeadLimits).result.kind === 'head');
    await fc.assert(
      fc.asyncProperty(accepted, async (data) => {
        const ours = feed([data], LIMIT_SETS[0] as HeadLimits).result;
        if (ours.kind !== 'head') return;
        const node = await nodeRead(data);
        expect(node).toEqual({
          kind: 'connect',
          target: ours.target,
          version: ours.version,
          rawHeaders: ours.rawHeaders,
        });
      }),
      { numRuns: 300 },
    );
  }, 120_000);
});
