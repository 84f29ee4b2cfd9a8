/**
 * Red team: with the usual umask 022 the store (`weir.sqlite` and its `-wal`/`-shm`), the
 * `endpoint` file and the data dir itself came out world-readable (0644, 0755): any local user
 * could copy the store (every rule, attachment and revocation) or read it as it changed. The
 * data dir Weir creates is 0700 and every file Weir writes in it 0600, whatever the umask;
 * files an older Weir left readable are tightened at start; a data dir that already existed
 * keeps its mode (it may be shared: Weir never chmods a directory it did not create) and a
 * group- or world-accessible one is logged as a warning.
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  closeSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../src/server/index.js';

const root = mkdtempSync(join(tmpdir(), 'weir-modes-'));
const mode = (file: string): string => (statSync(file).mode & 0o777).toString(8);
let saved: number;

beforeAll(() => {
  saved = process.umask(0o022);
});
afterAll(() => {
  process.umask(saved);
  rmSync(root, { recursive: true, force: true });
});

/** Starts a server on `dataDir`, with its log lines collected. */
async function start(dataDir: string) {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) },
  );
  const server = await startServer({
    dataDir,
    apiListen: '127.0.0.1:0',
    proxyListen: 'off',
    logger,
    print: () => undefined,
  });
  return { server, lines };
}

describe('data dir and file modes under umask 022', () => {
  it('a new data dir is 0700 and the store, its WAL files, endpoint, credentials and key are 0600', async () => {
    const dataDir = join(root, 'new/data');
    const { server } = await start(dataDir);
    try {
      // Write something so that the WAL holds pages.
      await server.store.transaction(undefined, (tx) =>
        tx.revokeToken({ id: 'x', expires: new Date(Date.now() + 60_000), revokedAt: new Date() }),
      );
      expect(mode(dataDir)).toBe('700');
      for (const f of [
        'weir.sqlite',
        'weir.sqlite-wal',
        'weir.sqlite-shm',
        'endpoint',
        'credentials',
        'gateway-token.key',
      ]) {
        expect(existsSync(join(dataDir, f)), f).toBe(true);
        expect([f, mode(join(dataDir, f))]).toEqual([f, '600']);
      }
    } finally {
      await server.close();
    }
  });

  it('files an older version left 0644 are tightened; an existing 0755 dir is kept and warned about', async () => {
    const dataDir = join(root, 'old');
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    for (const f of ['weir.sqlite', 'endpoint']) {
      closeSync(openSync(join(dataDir, f), 'w', 0o644));
    }
    const { server, lines } = await start(dataDir);
    try {
      expect(mode(dataDir)).toBe('755');
      expect(mode(join(dataDir, 'weir.sqlite'))).toBe('600');
      expect(mode(join(dataDir, 'endpoint'))).toBe('600');
      expect(lines.find((l) => l.level === 40 && String(l.msg).includes('data dir'))).toMatchObject({
        dataDir,
        mode: '755',
      });
    } finally {
      await server.close();
    }
  });
});
