import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { postgresAvailable } from '@keyward/store/testing';
import { databaseForProcess, freePort, runCli, startServerProcess } from '../support/process.js';

/**
 * CONTRACT.md "Operator commands never make a new store by mistake": every command that uses the
 * store but `serve` and `migrate` refuses a database that does not exist or holds no Keyward store
 * (exit 2, naming it), and `serve` says which database and catalogue it runs on.
 */
const withPostgres = process.env.CI === 'true' || (await postgresAvailable());

describe('operator commands and the store they act on', () => {
  const dirs: string[] = [];
  const freshDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-op-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  // No database variable from the test's own environment: what a user in a new shell has.
  const bare = { KEYWARD_DATABASE_URL: '', KEYWARD_PEPPER: '', KEYWARD_ENCRYPTION_KEY: '' };

  it('refuses to create a verifier in a folder with no store, names the database it looked for, and writes nothing', async () => {
    const dir = freshDir();
    const run = await runCli(['admin', 'create-verifier', '--name', 'gateway', '--json'], bare, undefined, dir);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(join(dir, '.keyward', 'keyward.db'));
    expect(run.stderr).toContain('KEYWARD_DATABASE_URL');
    expect(existsSync(join(dir, '.keyward'))).toBe(false);
  });

  it('refuses create-org and rotate-signing-key on a named SQLite file that does not exist', async () => {
    const dir = freshDir();
    const url = `sqlite:${join(dir, 'elsewhere.db')}`;
    const createOrg = await runCli(['admin', 'create-org', '--name', 'Acme', '--owner-email', 'ada@acme.test', '--json'], { ...bare, KEYWARD_DATABASE_URL: url }, undefined, dir);
    expect(createOrg.code).toBe(2);
    expect(createOrg.stderr).toContain(join(dir, 'elsewhere.db'));
    const rotate = await runCli(['admin', 'rotate-signing-key', '--organization', 'org_abc', '--json'], { ...bare, KEYWARD_DATABASE_URL: url }, undefined, dir);
    expect(rotate.code).toBe(2);
    expect(existsSync(join(dir, 'elsewhere.db'))).toBe(false);
    expect(existsSync(join(dir, 'secrets.json'))).toBe(false);
  });

  it('works once the store exists: migrate creates it, then the command runs', async () => {
    const dir = freshDir();
    expect((await runCli(['migrate'], bare, undefined, dir)).code).toBe(0);
    const run = await runCli(['admin', 'create-verifier', '--name', 'gateway', '--json'], bare, undefined, dir);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ id: expect.stringMatching(/^ver_/), token: expect.stringMatching(/^kwv_/) });
  });

  it('serve prints the database and the permission catalogue it runs on', async () => {
    const dir = freshDir();
    const server = startServerProcess({ ...bare, KEYWARD_DATABASE_URL: `sqlite:${join(dir, 'keyward.db')}` }, await freePort());
    try {
      await server.ready();
      await new Promise((r) => setTimeout(r, 200));
      expect(server.output()).toContain(`database: SQLite file ${join(dir, 'keyward.db')}`);
      expect(server.output()).toContain('permissions: the default catalogue, 14 categories');
    } finally {
      await server.stop();
    }
  });

  it.runIf(withPostgres)('refuses a PostgreSQL database without a Keyward store, naming it without its password', async () => {
    const db = await databaseForProcess('postgres', { migrated: false });
    try {
      const url = new URL(db.env.KEYWARD_DATABASE_URL!);
      url.username ||= 'postgres';
      url.password = 'secret-password';
      const run = await runCli(['admin', 'create-verifier', '--name', 'gateway'], { ...db.env, KEYWARD_DATABASE_URL: url.toString() });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('no Keyward store');
      expect(run.stderr).not.toContain('secret-password');
    } finally {
      await db.drop();
    }
  });
});
