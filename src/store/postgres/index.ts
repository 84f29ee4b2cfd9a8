/**
 * @module store/postgres — the `Store` driver on PostgreSQL (`pg`), for several Weir nodes on one
 * database. open.ts connects and migrates (under an advisory lock); store.ts runs transactions
 * (writes under one advisory lock, reads on snapshots); change-feed.ts tells subscribers what
 * other nodes committed (LISTEN/NOTIFY, caught up from `change_log`); the table files (tx-core,
 * ec2-tables, rules-groups, weir-tables, onramp-tables) hold the SQL of each part of `StoreTx`.
 */
export { openPostgresStore } from './open.js';
export type { PostgresStoreOptions } from './open.js';
export type { PostgresStore } from './store.js';
export { redactUrl } from './connection.js';
