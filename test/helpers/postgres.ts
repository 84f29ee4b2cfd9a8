/**
 * @module test/helpers/postgres — a throwaway PostgreSQL server per test file, started with
 * scripts/postgres.sh (Debian's binaries), and a fresh database per test. Without the binaries the
 * tests skip locally and fail under CI=true (requireTool), as the other outside tools do.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { requireTool } from './tools.js';

const run = promisify(execFile);
const SCRIPT = resolve(import.meta.dirname, '../../scripts/postgres.sh');

/** Whether Debian's PostgreSQL binaries are installed (what scripts/postgres.sh uses). */
export function hasPostgres(): boolean {
  if (process.env.PG_BINDIR !== undefined) return existsSync(join(process.env.PG_BINDIR, 'initdb'));
  try {
    return readdirSync('/usr/lib/postgresql').some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`));
  } catch {
    return false;
  }
}

/** Whether this file's PostgreSQL tests run (skip locally without the binaries, fail under CI). */
export function postgresAvailable(): boolean {
  return requireTool('postgresql', hasPostgres(), 'no /usr/lib/postgresql/*/bin/initdb');
}

/** A free TCP port on 127.0.0.1 (released just before PostgreSQL binds it). */
async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr !== null ? res(addr.port) : rej(new Error('no port'))));
    });
  });
}

/** One running server: its admin URL, and fresh databases on it. */
export interface PostgresServer {
  /** The URL of the `weir` database (superuser `weir`). */
  readonly url: string;
  /** Creates an empty database and returns its URL. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

let dbCount = 0;

/** Starts a throwaway server in a new temporary directory (call in beforeAll; stop in afterAll). */
export async function startPostgres(): Promise<PostgresServer> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-pg-'));
  // As root the server runs as `postgres`, which must get through the directory.
  await chmod(dir, 0o755);
  const pgDir = join(dir, 'pg');
  const { stdout } = await run(SCRIPT, ['start', pgDir, String(await freePort())], { timeout: 120_000 });
  const url = stdout.trim();
  return {
    url,
    async createDatabase() {
      const name = `weir_test_${process.pid}_${++dbCount}`;
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      const u = new URL(url);
      u.pathname = `/${name}`;
      return u.toString();
    },
    async stop() {
      await run(SCRIPT, ['stop', pgDir], { timeout: 120_000 }).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
