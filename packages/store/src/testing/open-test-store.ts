import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '@keyward/core';
import pg from 'pg';
import type { Connection } from '../connect.js';
import type { Dialect } from '../migrations.js';
import { openStore } from '../open-store.js';

export const testPostgresUrl = process.env.KEYWARD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let available: Promise<boolean> | null = null;

/** Whether the test PostgreSQL answers (asked once per process). */
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

export type TestStore = Store & { readonly connection: Connection; readonly url: string; readonly schema?: string };

/**
 * A migrated, empty store: SQLite in a fresh temporary file, or PostgreSQL in a fresh schema of the
 * `test` database (dropped on close), so that test files run in parallel without sharing tables.
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
  const admin = new pg.Client({ connectionString: testPostgresUrl, connectionTimeoutMillis: 5000 });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const store = await openStore(testPostgresUrl, { migrate: true, schema, poolSize: 5 });
  return {
    ...store,
    url: testPostgresUrl,
    schema,
    async close() {
      await store.close();
      const cleanup = new pg.Client({ connectionString: testPostgresUrl, connectionTimeoutMillis: 5000 });
      await cleanup.connect();
      await cleanup.query(`drop schema if exists ${schema} cascade`);
      await cleanup.end();
    },
  };
}

/** The dialects store suites run against: SQLite always; PostgreSQL when it answers, and always under CI. */
export async function testDialects(): Promise<Dialect[]> {
  if (process.env.CI === 'true' || (await postgresAvailable())) return ['sqlite', 'postgres'];
  console.warn('SKIPPED: PostgreSQL is not reachable; the postgres store suites do not run (under CI=true they would fail).');
  return ['sqlite'];
}
