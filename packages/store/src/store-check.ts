import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { connect, isPostgresUrl } from './connect.js';
import { migratorFor } from './migrate-to-latest.js';

/**
 * The database a URL names, for people: the SQLite file's absolute path, or the PostgreSQL URL
 * without its password.
 *
 * @example
 * describeDatabase('sqlite:./.keyward/keyward.db'); // 'SQLite file /srv/app/.keyward/keyward.db'
 */
export function describeDatabase(url: string): string {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    return path === ':memory:' || path === '' ? 'SQLite in memory' : `SQLite file ${resolve(path)}`;
  }
  if (isPostgresUrl(url)) {
    try {
      const parsed = new URL(url);
      if (parsed.password) parsed.password = '***';
      return `PostgreSQL ${parsed.toString()}`;
    } catch {
      return 'PostgreSQL (an unparsable URL)';
    }
  }
  return 'an unknown database';
}

/**
 * Why an operator command must not use the database the URL names, or null when it holds a Keyward
 * store (it exists and migrations have run on it). Opening a missing SQLite file would create an
 * empty one: commands other than `serve` and `migrate` refuse instead, so that a command run from the
 * wrong folder never makes a second, empty store.
 */
export async function storeProblem(url: string, options: { schema?: string } = {}): Promise<string | null> {
  const where = describeDatabase(url);
  const fix =
    'Run the command where the server runs, with the same KEYWARD_DATABASE_URL, or point KEYWARD_DATABASE_URL at the server\'s database ' +
    '(start the server once, `npm start` or `keyward serve`, to create a new one).';
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path !== ':memory:' && path !== '' && !existsSync(resolve(path))) return `No Keyward database here: ${where} does not exist. ${fix}`;
  }
  let connection;
  try {
    connection = connect(url, options);
  } catch (err) {
    return `${where} cannot be opened: ${(err as Error).message}`;
  }
  try {
    const migrations = await migratorFor(connection).getMigrations();
    if (!migrations.some((m) => m.executedAt !== undefined)) return `${where} holds no Keyward store (no migrations were ever applied). ${fix}`;
    return null;
  } catch (err) {
    return `${where} cannot be read: ${(err as Error).message}`;
  } finally {
    await connection.db.destroy();
  }
}
