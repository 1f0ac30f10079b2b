export { openStore, storeOver, type KyselyStore, type OpenStoreOptions } from './open-store.js';
export { migrateToLatest, migrateConnection } from './migrate-to-latest.js';
export { connect, isPostgresUrl, type Connection, type ConnectOptions, type Dialect } from './connect.js';
export { translateDriverError } from './translate-driver-error.js';
export type { Database } from './schema.js';
export { describeDatabase, storeProblem } from './store-check.js';
export { usageWriterFor, sqliteUsageWriter } from './sqlite-usage-writer.js';
