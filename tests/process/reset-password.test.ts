import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresAvailable } from '@keyward/store/testing';
import { databaseForProcess, freePort, runCli, startServerProcess, type DatabaseForProcess, type ServerProcess } from '../support/process.js';

/**
 * CONTRACT.md "Console accounts": `npx keyward admin reset-password --email <email> --json` prints
 * `{"resetUrl","token","expiresAt"}`, a one-time link valid for an hour that a running server honours
 * (`POST /api/auth/reset-password`), on the store the server uses, without the server's help.
 */
/** Each command is a new Node process: several seconds apiece on a busy 2-core machine. */
const COMMANDS_TIMEOUT_MS = 120_000;
const dialects = ['sqlite', ...(process.env.CI === 'true' || (await postgresAvailable()) ? ['postgres' as const] : [])] as const;

for (const dialect of dialects) {
  describe(`keyward admin reset-password against a running server on ${dialect}`, () => {
    let db: DatabaseForProcess;
    let server: ServerProcess;
    let env: Record<string, string>;
    const email = `ada-${Date.now().toString(36)}@acme.test`;
    const password = 'the-first-password';

    beforeAll(async () => {
      db = await databaseForProcess(dialect);
      const port = await freePort();
      server = startServerProcess(db.env, port);
      await server.ready();
      // The same environment as the server's, as an operator would have it: the link's origin comes
      // from it (KEYWARD_PUBLIC_URL, else host and port), as the setup link's does.
      env = { ...db.env, KEYWARD_HOST: '127.0.0.1', KEYWARD_PORT: String(port), KEYWARD_PUBLIC_URL: '' };
      const created = await runCli(['admin', 'create-org', '--name', 'Acme', '--owner-email', email, '--owner-password-stdin', '--json'], env, `${password}\n`);
      expect(created.code, created.stderr).toBe(0);
    }, 60_000);
    afterAll(async () => {
      await server?.stop();
      await db?.drop();
    });

    const post = (path: string, body: unknown, token?: string) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
    const login = async (pw: string) => {
      const res = await post('/api/auth/login', { email, password: pw });
      return { status: res.status, session: res.status === 200 ? ((await res.json()) as { sessionToken: string }).sessionToken : null };
    };

    it('prints {resetUrl, token, expiresAt}: a link to the console on the server, good for an hour and once, that ends every session of the person', async () => {
      const before = await login(password);
      expect(before.status).toBe(200);

      const started = Date.now();
      const run = await runCli(['admin', 'reset-password', '--email', email.toUpperCase(), '--json'], env);
      const finished = Date.now();
      expect(run.code, run.stderr).toBe(0);
      const printed = JSON.parse(run.stdout) as { resetUrl: string; token: string; expiresAt: string };
      expect(Object.keys(printed).sort()).toEqual(['expiresAt', 'resetUrl', 'token']);
      expect(printed.token).toMatch(/^kwr_[0-9A-Za-z]{43}$/);
      expect(printed.resetUrl).toBe(`${server.url}/reset-password?token=${printed.token}`);
      // Issued while the command ran, for an hour.
      expect(Date.parse(printed.expiresAt)).toBeGreaterThanOrEqual(started + 3600_000);
      expect(Date.parse(printed.expiresAt)).toBeLessThanOrEqual(finished + 3600_000);

      const token = new URL(printed.resetUrl).searchParams.get('token');
      const reset = await post('/api/auth/reset-password', { token, password: 'the-second-password' });
      expect(reset.status).toBe(204);
      expect((await fetch(`${server.url}/api/auth/whoami`, { headers: { authorization: `Bearer ${before.session}` } })).status).toBe(401);
      expect((await login(password)).status).toBe(401);
      expect((await login('the-second-password')).status).toBe(200);

      const again = await post('/api/auth/reset-password', { token, password: 'the-third-password' });
      expect(again.status).toBe(404);
      expect(((await again.json()) as { error: string }).error).toBe('reset_token_invalid');
    }, COMMANDS_TIMEOUT_MS);

    it('prints a line with the link without --json, and the newer link voids the older', async () => {
      const first = JSON.parse((await runCli(['admin', 'reset-password', '--email', email, '--json'], env)).stdout) as { token: string };
      const run = await runCli(['admin', 'reset-password', '--email', email], env);
      expect(run.code, run.stderr).toBe(0);
      const link = /(http:\/\/\S+\/reset-password\?token=(kwr_\w+))/.exec(run.stdout);
      expect(link, run.stdout).not.toBeNull();
      expect(run.stdout).toContain(email);
      expect(run.stdout).toMatch(/works once, until \d{4}-\d\d-\d\dT/);
      expect((await post('/api/auth/reset-password', { token: first.token, password: 'yet-another-password' })).status).toBe(404);
      expect((await post('/api/auth/reset-password', { token: link![2], password: 'yet-another-password' })).status).toBe(204);
      expect((await login('yet-another-password')).status).toBe(200);
    }, COMMANDS_TIMEOUT_MS);

    it('refuses an email no account has: exit 4 with a message, and {"error":{"code","message"}} on standard output under --json', async () => {
      const human = await runCli(['admin', 'reset-password', '--email', 'nobody@acme.test'], env);
      expect(human.code).toBe(4);
      expect(human.stdout).toBe('');
      expect(human.stderr).toContain('No account has the email nobody@acme.test');
      const json = await runCli(['admin', 'reset-password', '--email', 'nobody@acme.test', '--json'], env);
      expect(json.code).toBe(4);
      expect(JSON.parse(json.stdout)).toEqual({ error: { code: 'user_not_found', message: expect.stringContaining('nobody@acme.test') } });
      expect(json.stderr).toContain('No account has the email');
      const usage = await runCli(['admin', 'reset-password', '--json'], env);
      expect(usage.code).toBe(2);
      expect(usage.stderr).toContain('--email');
    }, COMMANDS_TIMEOUT_MS);
  });
}

describe('keyward admin reset-password without a store', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a folder with no store, naming the database it looked for, and writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-reset-'));
    dirs.push(dir);
    const run = await runCli(['admin', 'reset-password', '--email', 'ada@acme.test', '--json'], { KEYWARD_DATABASE_URL: '', KEYWARD_PEPPER: '', KEYWARD_ENCRYPTION_KEY: '' }, undefined, dir);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(join(dir, '.keyward', 'keyward.db'));
    expect(run.stderr).toContain('KEYWARD_DATABASE_URL');
    expect(existsSync(join(dir, '.keyward'))).toBe(false);
  }, COMMANDS_TIMEOUT_MS);
});
