export { openStore, migrateToLatest, migrateConnection, storeOver, type OpenStoreOptions } from './open-store.js';
export { connect, isPostgresUrl, type Connection, type ConnectOptions } from './connect.js';
export { translateDriverError } from './store-errors.js';
export type { Dialect } from './migrations.js';
