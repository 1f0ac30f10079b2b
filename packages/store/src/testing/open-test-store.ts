import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Dialect } from '../connect.js';
import { openStore, type KyselyStore } from '../open-store.js';

export { describeDialects } from './describe-dialects.js';

/** The PostgreSQL database tests use: `KEYWARD_TEST_POSTGRES_URL`, by default `test` on 127.0.0.1. */
export const testPostgresUrl = process.env.KEYWARD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let available: Promise<boolean> | null = null;

/** Whether the test PostgreSQL answers within 2 s (asked once per process). */
export function postgresAvailable(): Promise<boolean> {
  available ??= (async () => {
    const client = new pg.Client({ connectionString: testPostgresUrl, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return available;
}

/** A store for tests, with where it lives, so that a second store can open the same database. */
export type TestStore = KyselyStore & { readonly url: string; readonly schema?: string };

async function onAdminConnection(work: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: testPostgresUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}

/**
 * A migrated, empty store: SQLite in a fresh file under `os.tmpdir()`, or PostgreSQL in a fresh
 * schema `t_<random>` of the test database. `close()` closes it and removes the file or drops the
 * schema, so test files run in parallel and nothing truncates shared tables.
 */
export async function openTestStore(dialect: Dialect): Promise<TestStore> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-store-'));
    const url = `sqlite:${join(dir, 'test.db')}`;
    const store = await openStore(url, { migrate: true });
    return {
      ...store,
      url,
      async close() {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  await onAdminConnection((client) => client.query(`create schema ${schema}`));
  const store = await openStore(testPostgresUrl, { migrate: true, schema, poolSize: 5 });
  let dropped: Promise<void> | null = null;
  return {
    ...store,
    url: testPostgresUrl,
    schema,
    close() {
      dropped ??= store.close().then(() => onAdminConnection((client) => client.query(`drop schema if exists ${schema} cascade`)));
      return dropped;
    },
  };
}
