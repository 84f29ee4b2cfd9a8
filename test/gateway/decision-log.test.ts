/**
 * @module test/gateway-decision-log — the decision log file: rotation at the size keeps N files
 * and loses or splits no line, reopen after an external rename (logrotate + SIGHUP), sizes, and
 * `weir serve --decision-log` sending decision lines to the file while the API's own lines stay
 * on the main log.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startServer } from '../../src/server/index.js';
import { runTokenIssue } from '../../src/cli/token.js';
import { openDecisionLog, parseSize } from '../../src/gateway/index.js';
import { connectVia, echo, loopbackEchoPolicy, startEchoServer } from '../helpers/gateway-client.js';

const ID = 'spiffe://test/ns/app/sa/logged';

/** A line of about 100 bytes carrying its number. */
const line = (n: number): string => `${JSON.stringify({ n, msg: 'decision', pad: 'x'.repeat(70) })}\n`;

/** The numbers of the lines in `file`, checking every line is whole JSON. */
function numbers(file: string): number[] {
  const text = readFileSync(file, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { n: number }).n);
}

describe('decision log file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-dlog-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('rotates at the size: every line whole, in order, in exactly one file', async () => {
    const file = join(dir, 'all', 'decisions.log');
    const log = openDecisionLog({ file, maxSize: 1000, keep: 50 });
    for (let n = 0; n < 100; n++) log.write(line(n));
    await log.end();
    const files = [
      ...Array.from({ length: 50 }, (_, i) => `${file}.${50 - i}`).filter((f) => existsSync(f)),
      file,
    ];
    const size = Buffer.byteLength(line(0));
    const perFile = Math.floor(1000 / size);
    expect(files).toHaveLength(Math.ceil(100 / perFile));
    for (const f of files) expect(readFileSync(f).length).toBeLessThanOrEqual(1000);
    expect(files.flatMap(numbers)).toEqual(Array.from({ length: 100 }, (_, n) => n));
  });

  test('keeps N rotated files: FILE.1 … FILE.N, the oldest dropped', async () => {
    const file = join(dir, 'keep', 'decisions.log');
    const log = openDecisionLog({ file, maxSize: 1000, keep: 3 });
    for (let n = 0; n < 100; n++) log.write(line(n));
    await log.end();
    expect(existsSync(`${file}.3`)).toBe(true);
    expect(existsSync(`${file}.4`)).toBe(false);
    const kept = [`${file}.3`, `${file}.2`, `${file}.1`, file].flatMap(numbers);
    // The newest lines, contiguous up to the last one written.
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => 100 - kept.length + i));
    expect(kept.length).toBeGreaterThan(3 * 9);
  });

  test('reopen after an external rename: older lines stay in the moved file, newer go to FILE', async () => {
    const file = join(dir, 'hup', 'decisions.log');
    const log = openDecisionLog({ file });
    for (let n = 0; n < 10; n++) log.write(line(n));
    renameSync(file, `${file}.1`); // what logrotate does before its postrotate SIGHUP
    log.reopen();
    for (let n = 10; n < 20; n++) log.write(line(n));
    await log.end();
    expect(numbers(`${file}.1`)).toEqual(Array.from({ length: 10 }, (_, n) => n));
    expect(numbers(file)).toEqual(Array.from({ length: 10 }, (_, n) => n + 10));
  });

  test('appends to an existing file and counts its size toward the first rotation', async () => {
    const file = join(dir, 'append', 'decisions.log');
    mkdirSync(join(dir, 'append'));
    writeFileSync(file, line(-1).repeat(8));
    const log = openDecisionLog({ file, maxSize: 1000, keep: 2 });
    log.write(line(0));
    log.write(line(1));
    await log.end();
    expect(numbers(`${file}.1`)).toEqual([...Array<number>(8).fill(-1), 0]);
    expect(numbers(file)).toEqual([1]);
  });

  test('a late line after end() is dropped, not thrown', async () => {
    const log = openDecisionLog({ file: join(dir, 'late.log') });
    await log.end();
    expect(() => log.write(line(1))).not.toThrow();
  });

  test.each([
    ['1048576', 1048576],
    ['100MB', 100 * 1024 ** 2],
    ['512KiB', 512 * 1024],
    ['1G', 1024 ** 3],
    ['10 kb', 10 * 1024],
    ['300B', 300],
  ])('parseSize(%s) = %d', (text, bytes) => {
    expect(parseSize(text)).toEqual({ ok: true, bytes });
  });

  test.each(['', '0', '-5MB', '1.5GB', '10TB', 'big'])('parseSize(%s) is refused with examples', (text) => {
    const r = parseSize(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem).toContain('100MB');
  });
});

describe('weir serve --decision-log', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-dlog-serve-'));
  let echoServer: Server;
  let echoPort = 0;

  beforeAll(async () => {
    ({ server: echoServer, port: echoPort } = await startEchoServer());
    mkdirSync(join(dir, 'policies'));
    writeFileSync(join(dir, 'policies', 'p.yaml'), loopbackEchoPolicy('logged', ID, echoPort));
  });

  afterAll(async () => {
    await new Promise((r) => echoServer.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  test('decision lines go to the rotated file; the API log keeps its own lines', async () => {
    const main: Record<string, unknown>[] = [];
    const file = join(dir, 'logs', 'decisions.log');
    const common = {
      dataDir: join(dir, 'data'),
      apiListen: '127.0.0.1:0',
      proxyListen: '127.0.0.1:0',
      policyDir: join(dir, 'policies'),
      print: () => undefined,
    };
    await expect(
      startServer({ ...common, logger: pino({ level: 'silent' }), decisionLogMaxSize: 1000 }),
    ).rejects.toThrow(/need --decision-log FILE/);
    const server = await startServer({
      ...common,
      logger: pino(
        { level: 'info' },
        { write: (s: string) => void main.push(JSON.parse(s) as Record<string, unknown>) },
      ),
      decisionLogFile: file,
      decisionLogMaxSize: 600,
      decisionLogKeep: 2,
    });
    const token = runTokenIssue({ identity: ID, ttl: '1h', dataDir: join(dir, 'data') });
    for (let i = 0; i < 4; i++) {
      const r = await connectVia(server.proxyAddress ?? '', `127.0.0.1:${echoPort}`, { token });
      expect(r.status).toBe(200);
      expect(await echo(r.socket, `round ${i}`)).toBe(`round ${i}`);
      const gone = new Promise((res) => r.socket.once('close', res));
      r.socket.destroy();
      await gone;
    }
    const denied = await connectVia(server.proxyAddress ?? '', '192.0.2.1:80', { token });
    denied.socket.destroy();
    expect(denied.status).toBe(403);
    server.reopenLogs();
    await server.close();

    const files = [`${file}.2`, `${file}.1`, file].filter((f) => existsSync(f));
    expect(existsSync(`${file}.3`)).toBe(false);
    const lines = files.flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    );
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => l.component === 'gateway')).toBe(true);
    const last = lines.filter((l) => l.msg === 'decision').at(-1);
    expect(last).toMatchObject({ decision: 'deny', identity: ID, ip: '192.0.2.1' });
    expect(main.some((l) => l.msg === 'weir API listening')).toBe(true);
    expect(main.some((l) => l.msg === 'decision' || l.msg === 'tunnel closed')).toBe(false);
  });
});
