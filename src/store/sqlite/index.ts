/**
 * @module store/sqlite — the embedded `Store` driver on better-sqlite3. One connection,
 * WAL journal; transactions are serialized through an in-process queue because a
 * better-sqlite3 connection cannot interleave two transactions.
 *
 * open.ts opens and migrates the file; store.ts runs transactions; change-feed.ts tells
 * subscribers what committed; the table files (tx-core, vpcs, prefix-lists, rules, groups,
 * weir-tables) hold the SQL of each part of `StoreTx`.
 */
export { openSqliteStore } from './open.js';
export type { SqliteStoreOptions } from './open.js';
