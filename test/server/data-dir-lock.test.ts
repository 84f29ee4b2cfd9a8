/**
 * Item 18: a second `weir serve` on the same data dir overwrote the first's endpoint file and
 * deleted it when it exited, so every client command lost the running server. A data dir is
 * locked by its server (`DATA/weir.lock`, created exclusively, holding the pid); a second server
 * is refused with a message naming that pid and the endpoint; a lock whose pid is gone is stale
 * and taken over; the lock goes when the server stops.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer } from '../../src/server/index.js';

const root = mkdtempSync(join(tmpdir(), 'weir-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const start = (dataDir: string) =>
  startServer({
    dataDir,
    apiListen: '127.0.0.1:0',
    proxyListen: 'off',
    logger: pino({ level: 'silent' }),
    print: () => undefined,
  });

/** A process that runs until killed, and a pid that no longer runs. */
async function pids(): Promise<{ alive: number; dead: number; stop: () => Promise<void> }> {
  const sleeper = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  const gone = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((r) => gone.once('exit', r));
  return {
    alive: sleeper.pid!,
    dead: gone.pid!,
    stop: async () => {
      const exited = new Promise((r) => sleeper.once('exit', r));
      sleeper.kill();
      await exited;
    },
  };
}

describe('one server per data dir', () => {
  it('a second server on the same data dir is refused, naming the pid and endpoint; the first keeps its endpoint file', async () => {
    const dataDir = join(root, 'a');
    const first = await start(dataDir);
    try {
      const endpoint = join(dataDir, 'endpoint');
      expect(readFileSync(join(dataDir, 'weir.lock'), 'utf8')).toBe(`${process.pid}\n`);
      const err = await start(dataDir).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Error);
      const message = (err as Error).message;
      expect(message).toContain(`data dir ${dataDir} is in use by weir serve (pid ${process.pid}`);
      expect(message).toContain(first.url);
      expect(message).toContain('--data-dir');
      expect(readFileSync(endpoint, 'utf8')).toBe(`${first.url}\n`);
      expect(readFileSync(join(dataDir, 'weir.lock'), 'utf8')).toBe(`${process.pid}\n`);
      expect((await fetch(`${first.url}/healthz`)).ok).toBe(true);
    } finally {
      await first.close();
    }
    expect(existsSync(join(dataDir, 'weir.lock'))).toBe(false);
    expect(existsSync(join(dataDir, 'endpoint'))).toBe(false);
  });

  it('a lock held by another live process refuses; one whose pid is gone is stale and taken over', async () => {
    const { alive, dead, stop } = await pids();
    try {
      const busy = join(root, 'busy');
      const stale = join(root, 'stale');
      for (const d of [busy, stale]) await start(d).then((s) => s.close());
      writeFileSync(join(busy, 'weir.lock'), `${alive}\n`);
      writeFileSync(join(busy, 'endpoint'), 'http://127.0.0.1:1\n');
      await expect(start(busy)).rejects.toThrow(
        `data dir ${busy} is in use by weir serve (pid ${alive}, endpoint http://127.0.0.1:1)`,
      );
      expect(readFileSync(join(busy, 'endpoint'), 'utf8')).toBe('http://127.0.0.1:1\n');

      writeFileSync(join(stale, 'weir.lock'), `${dead}\n`);
      const s = await start(stale);
      expect(readFileSync(join(stale, 'weir.lock'), 'utf8')).toBe(`${process.pid}\n`);
      await s.close();
      expect(existsSync(join(stale, 'weir.lock'))).toBe(false);
    } finally {
      await stop();
    }
  });

  it("a lock with this process's own pid that no server here holds is stale (a container's pid 1 restarting)", async () => {
    const dataDir = join(root, 'own');
    await start(dataDir).then((s) => s.close());
    writeFileSync(join(dataDir, 'weir.lock'), `${process.pid}\n`);
    const s = await start(dataDir);
    await s.close();
  });

  it('a lock file that is not a pid is refused with a message naming the file', async () => {
    const dataDir = join(root, 'junk');
    await start(dataDir).then((s) => s.close());
    writeFileSync(join(dataDir, 'weir.lock'), 'hello\n');
    await expect(start(dataDir)).rejects.toThrow(`${join(dataDir, 'weir.lock')}`);
  });
});
