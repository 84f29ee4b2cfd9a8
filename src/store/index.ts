/** @module store — the `Store` contract and its drivers. */
export * from './types.js';
export { openSqliteStore } from './sqlite/index.js';
export type { SqliteStoreOptions } from './sqlite/index.js';
export { openPostgresStore, redactUrl } from './postgres/index.js';
export type { PostgresStore, PostgresStoreOptions } from './postgres/index.js';
export { isPostgresUrl, openStore } from './open-store.js';
export type { OpenedStore } from './open-store.js';
