import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseForProcess, freePort, runCli, startServerProcess, type DatabaseForProcess, type ServerProcess } from '../support/process.js';
import { dialects } from '../support/dialects.js';

for (const dialect of await dialects()) {
  describe(`operator commands and first run, as processes, on ${dialect}`, () => {
    let db: DatabaseForProcess;
    let server: ServerProcess;

    beforeAll(async () => {
      db = await databaseForProcess(dialect);
      server = startServerProcess(db.env, await freePort());
      await server.ready();
    });
    afterAll(async () => {
      await server?.stop();
      await db?.drop();
    });

    it('prints a one-time setup link on first start; POST /api/setup spends it once', async () => {
      const token = /setup#token=(kwsetup_[0-9A-Za-z]+)/.exec(server.output())?.[1];
      expect(token, server.output()).toBeDefined();
      const body = { token, organizationName: 'Acme', email: 'ada@acme.test', password: 'a-long-password' };
      const setup = await fetch(`${server.url}/api/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(setup.status).toBe(201);
      const created = (await setup.json()) as { organizationId: string; sessionToken: string };
      expect(created.organizationId).toMatch(/^org_/);
      const again = await fetch(`${server.url}/api/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(again.status).toBe(403);
      expect(((await again.json()) as { error: string }).error).toBe('setup_token_invalid');
      const key = await fetch(`${server.url}/api/api-keys`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${created.sessionToken}` },
        body: JSON.stringify({ name: 'first' }),
      });
      expect(key.status).toBe(201);
    });

    it('creates an organization with its owner and admin key while the server runs', async () => {
      const result = await runCli(['admin', 'create-org', '--name', 'Globex', '--owner-email', 'hank@globex.test', '--owner-password-stdin', '--json'], db.env, 'hank-password-1\n');
      expect(result.code, result.stderr).toBe(0);
      const out = JSON.parse(result.stdout) as { organizationId: string; ownerUserId: string; ownerPassword?: string; adminKey: { id: string; token: string } };
      expect(out).toMatchObject({ organizationId: expect.stringMatching(/^org_/), ownerUserId: expect.stringMatching(/^usr_/), adminKey: { id: expect.stringMatching(/^key_/) } });
      expect(out.ownerPassword).toBeUndefined();
      const keys = await fetch(`${server.url}/api/api-keys`, { headers: { authorization: `Bearer ${out.adminKey.token}` } });
      expect(keys.status).toBe(200);
      const login = await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'hank@globex.test', password: 'hank-password-1' }) });
      expect(login.status).toBe(200);
    });

    it('generates the owner password when none is given, and leaves an organization un-bootstrapped on request', async () => {
      const result = await runCli(['admin', 'create-org', '--name', 'Initech', '--owner-email', 'peter@initech.test', '--no-bootstrap', '--json'], db.env);
      expect(result.code, result.stderr).toBe(0);
      const out = JSON.parse(result.stdout) as { ownerPassword: string; adminKey?: unknown };
      expect(out.ownerPassword).toEqual(expect.any(String));
      expect(out.adminKey).toBeUndefined();
      const login = await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'peter@initech.test', password: out.ownerPassword }) });
      const session = ((await login.json()) as { sessionToken: string }).sessionToken;
      const create = await fetch(`${server.url}/api/api-keys`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${session}` }, body: JSON.stringify({ name: 'x' }) });
      expect(create.status).toBe(409);
      expect(((await create.json()) as { error: string }).error).toBe('organization_not_bootstrapped');
    });

    it('creates verifier credentials that POST /api/keys/verify accepts', async () => {
      const org = JSON.parse((await runCli(['admin', 'create-org', '--name', 'Umbrella', '--owner-email', 'alice@umbrella.test', '--json'], db.env)).stdout) as { organizationId: string; adminKey: { token: string } };
      const verifier = await runCli(['admin', 'create-verifier', '--name', 'gateway', '--json'], db.env);
      expect(verifier.code, verifier.stderr).toBe(0);
      const { id, token } = JSON.parse(verifier.stdout) as { id: string; token: string };
      expect(id).toMatch(/^ver_/);
      const verdict = await fetch(`${server.url}/api/keys/verify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ key: org.adminKey.token }),
      });
      expect(verdict.status).toBe(200);
      expect(await verdict.json()).toMatchObject({ valid: true, code: 'VALID', organizationId: org.organizationId });
      const scoped = await runCli(['admin', 'create-verifier', '--name', 'other', '--organization', 'org_doesnotexist', '--json'], db.env);
      expect(scoped.code).toBe(4);
    });

    it('migrates idempotently', async () => {
      const result = await runCli(['migrate'], db.env);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain('up to date');
    });

    it('answers usage errors with exit code 2', async () => {
      const result = await runCli(['admin', 'create-org', '--name', 'x'], db.env);
      expect(result.code).toBe(2);
    });
  });
}
