import { afterAll, describe, it } from 'vitest';
import type { Dialect } from '../connect.js';
import { openTestStore, postgresAvailable, testPostgresUrl, type TestStore } from './open-test-store.js';

const withoutPassword = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');

/**
 * Declares the suite `fn` once per dialect (both unless `dialects` says otherwise), as `<name> on sqlite` and `<name> on postgres`. Each gets
 * `open()`, which opens one migrated test store for the suite on first use (closed after it), so tests
 * share it and keep apart by fresh ids. When PostgreSQL is unreachable, the postgres suite is skipped
 * under a title that says so; under `CI=true` it fails instead, since CI must provide PostgreSQL.
 * Await it at the top level of a test file.
 *
 * @example
 * await describeDialects('key store', (dialect, open) => {
 *   it('finds a key by id', async () => { const store = await open(); … });
 * });
 */
export async function describeDialects(
  name: string,
  fn: (dialect: Dialect, open: () => Promise<TestStore>) => void,
  dialects: readonly Dialect[] = ['sqlite', 'postgres'],
): Promise<void> {
  const reachable = !dialects.includes('postgres') || (await postgresAvailable());
  for (const dialect of dialects) {
    const title = `${name} on ${dialect}`;
    if (dialect === 'postgres' && !reachable) {
      const reason = `PostgreSQL is not reachable at ${withoutPassword(testPostgresUrl)} (set KEYWARD_TEST_POSTGRES_URL)`;
      if (process.env.CI === 'true') {
        describe(title, () => {
          it('has PostgreSQL to run against (required under CI=true)', () => {
            throw new Error(`${reason}; under CI=true the postgres suites fail rather than skip.`);
          });
        });
      } else {
        console.warn(`SKIPPED "${title}": ${reason}.`);
        describe.skip(`${title} [SKIPPED: ${reason}]`, () => fn(dialect, () => Promise.reject(new Error(reason))));
      }
      continue;
    }
    describe(title, () => {
      let opened: Promise<TestStore> | null = null;
      afterAll(async () => (await opened?.catch(() => null))?.close());
      fn(dialect, () => (opened ??= openTestStore(dialect)));
    });
  }
}
