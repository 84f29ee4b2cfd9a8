/** @module store — the `Store` contract and its drivers. */
export * from './types.js';
export { openSqliteStore } from './sqlite/index.js';
export type { SqliteStoreOptions } from './sqlite/index.js';
