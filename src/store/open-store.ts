/**
 * @module store/open-store — the store `weir serve` runs on, chosen by one string: a
 * `postgres://` (or `postgresql://`) URL opens the PostgreSQL driver, anything else is a data
 * directory whose `weir.sqlite` the SQLite driver opens, as before there was a choice.
 */
import { join } from 'node:path';
import { openPostgresStore, redactUrl } from './postgres/index.js';
import { openSqliteStore } from './sqlite/index.js';
import type { Store } from './types.js';

/** Whether `target` names a PostgreSQL database rather than a data directory. */
export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

/** An opened store and how to name it in logs (a URL without its password). */
export interface OpenedStore {
  readonly store: Store;
  readonly driver: 'sqlite' | 'postgres';
  readonly description: string;
}

/** Opens the store named by a PostgreSQL URL or a data directory (see the module comment). */
export async function openStore(target: string): Promise<OpenedStore> {
  if (isPostgresUrl(target)) {
    return {
      store: await openPostgresStore({ url: target }),
      driver: 'postgres',
      description: redactUrl(target),
    };
  }
  const file = join(target, 'weir.sqlite');
  return { store: openSqliteStore({ file }), driver: 'sqlite', description: file };
}
