/**
 * @module server/data-dir — the data dir as `weir serve` holds it: created 0700, the files Weir
 * keeps in it 0600 (its secrets: credentials, the token key; the endpoint), locked by one server
 * at a time (`DATA/weir.lock`, holding its pid) and released at shutdown; and the `endpoint`
 * file client commands find the server by. The store's own files are made 0600 where they are
 * opened (store/sqlite/open.ts). Choices and the attacks they stop: docs/security.md.
 */
import { chmodSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { WeirError } from '../model/index.js';
import type { CleanupStack } from './cleanup.js';

/** The lock file inside the data dir. */
export const LOCK_FILE = 'weir.lock';
/** The file holding the API's URL while the server runs. */
export const ENDPOINT_FILE = 'endpoint';
/** Files Weir writes in the data dir besides the store; tightened to 0600 when found looser. */
const OWN_FILES = ['credentials', 'gateway-token.key', ENDPOINT_FILE, 'audit-signing.key'];

/**
 * Lock files held by servers of this process. A lock naming this process's pid is ours only if
 * listed here: otherwise it was left by an earlier process that had the same pid (a container's
 * pid 1 after a restart), and is stale.
 */
const heldHere = new Set<string>();

const codeOf = (err: unknown): unknown =>
  err instanceof Error && 'code' in err ? (err as { code: unknown }).code : undefined;

/**
 * Creates the data dir (0700) or, when it exists, leaves its mode alone and warns if group or
 * others can enter it; tightens Weir's own files to 0600; and locks it for this server until
 * `cleanup` runs. A data dir locked by a live server is refused.
 * @throws WeirError naming the pid and endpoint of the server that holds the data dir.
 */
export function holdDataDir(dataDir: string, logger: Logger, cleanup: CleanupStack): void {
  let existed = true;
  try {
    existed = statSync(dataDir).isDirectory();
  } catch {
    existed = false;
  }
  // 0700: the dir holds the admin key and the token key; other local users have no business
  // listing or reading it. Applied to every directory created here, parents included.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const mode = statSync(dataDir).mode & 0o777;
  if (existed && (mode & 0o077) !== 0) {
    // Never chmod a directory Weir did not create: `--data-dir /srv/shared` may be shared on
    // purpose. The files inside are 0600 either way.
    logger.warn(
      { dataDir, mode: mode.toString(8) },
      'the data dir is open to group or others; Weir keeps its files 0600, consider chmod 700',
    );
  }
  lockDataDir(dataDir, logger, cleanup);
  for (const name of OWN_FILES) tightenFile(join(dataDir, name), logger);
}

/** Makes `file` 0600 when it exists with more; a file we may not chmod is warned about. */
function tightenFile(file: string, logger: Logger): void {
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch {
    return;
  }
  if ((mode & 0o077) === 0) return;
  try {
    chmodSync(file, 0o600);
  } catch (err) {
    logger.warn({ file, mode: mode.toString(8), err }, 'cannot make the file 0600');
  }
}

/** Whether a process with this pid runs (one we may not signal runs too). */
function running(pid: number, lockFile: string): boolean {
  if (pid === process.pid) return heldHere.has(lockFile);
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return codeOf(err) !== 'ESRCH';
  }
}

function endpointOf(dataDir: string): string {
  try {
    return readFileSync(join(dataDir, ENDPOINT_FILE), 'utf8').trim() || 'none written';
  } catch {
    return 'none written yet';
  }
}

/**
 * Takes `DATA/weir.lock`: created exclusively (`wx`), so of two servers starting at once one
 * wins; a lock whose pid no longer runs is stale (the server was killed) and replaced. Without
 * the lock a second server on the same data dir replaced the first's endpoint file and deleted
 * it at exit, and both wrote the same store.
 */
function lockDataDir(dataDir: string, logger: Logger, cleanup: CleanupStack): void {
  const lockFile = join(dataDir, LOCK_FILE);
  const mine = `${process.pid}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(lockFile, mine, { flag: 'wx', mode: 0o600 });
      heldHere.add(lockFile);
      cleanup.defer('the data dir lock', () => {
        heldHere.delete(lockFile);
        try {
          if (readFileSync(lockFile, 'utf8') === mine) unlinkSync(lockFile);
        } catch {
          // Already gone: nothing to release.
        }
      });
      return;
    } catch (err) {
      if (codeOf(err) !== 'EEXIST') throw err;
    }
    let text: string;
    try {
      text = readFileSync(lockFile, 'utf8');
    } catch (err) {
      if (codeOf(err) === 'ENOENT') continue;
      throw err;
    }
    const m = /^([1-9][0-9]{0,9})\n?$/.exec(text);
    if (m === null) {
      throw new WeirError(
        'BAD_OPTION',
        `${lockFile} is not a weir serve lock (it holds no pid); remove it if no weir serve uses ${dataDir}`,
      );
    }
    const pid = Number(m[1]);
    if (running(pid, lockFile)) {
      throw new WeirError(
        'DATA_DIR_LOCKED',
        `data dir ${dataDir} is in use by weir serve (pid ${pid}, endpoint ${endpointOf(dataDir)}); ` +
          `stop that server first, or give this one another --data-dir`,
      );
    }
    logger.warn({ lockFile, pid }, 'removing a stale data dir lock: its server no longer runs');
    try {
      unlinkSync(lockFile);
    } catch (err) {
      if (codeOf(err) !== 'ENOENT') throw err;
    }
  }
  throw new WeirError('DATA_DIR_LOCKED', `data dir ${dataDir}: another weir serve keeps taking ${lockFile}`);
}

/**
 * Writes the API's URL to `DATA/endpoint` (0600) for client commands, and removes it at
 * shutdown if it still holds this URL. Only the lock holder writes it.
 */
export function writeEndpointFile(dataDir: string, url: string, cleanup: CleanupStack): void {
  const endpointFile = join(dataDir, ENDPOINT_FILE);
  writeFileSync(endpointFile, `${url}\n`, { mode: 0o600 });
  // The mode above applies only to a new file; one an older server left keeps its own.
  chmodSync(endpointFile, 0o600);
  cleanup.defer('the endpoint file', () => {
    try {
      if (readFileSync(endpointFile, 'utf8') === `${url}\n`) unlinkSync(endpointFile);
    } catch {
      // Already gone: nothing to clean up.
    }
  });
}
