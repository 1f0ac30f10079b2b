import { chmodSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrg, startServer, type OrgFixture, type TestServer } from '../support/server.js';
import { CliUser } from './support.js';

describe('keyward auth and orgs, the built CLI against a started server', () => {
  let server: TestServer;
  let acme: OrgFixture;
  let globex: OrgFixture;
  const users: CliUser[] = [];
  const user = () => {
    const created = new CliUser(server.url);
    users.push(created);
    return created;
  };

  beforeAll(async () => {
    server = await startServer();
    acme = await createOrg(server, `Acme ${Date.now()}`);
    globex = await createOrg(server, `Globex ${Date.now()}`);
    // Acme's owner is also an ADMIN of Globex: one person, two organizations.
    const invited = await call(server, 'POST', '/api/members', {
      token: globex.owner.session,
      headers: { 'x-organization-id': globex.orgId },
      body: { email: acme.owner.email, role: 'ADMIN' },
    });
    const accepted = await call(server, 'POST', '/api/invitations/accept', { body: { token: invited.body.invitation.token, password: acme.owner.password } });
    expect(accepted.status).toBe(200);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('logs in with --password-stdin, keeps the session in a 0600 file, and never prints the session token', async () => {
    const ada = user();
    const login = await ada.run(['auth', 'login', '--email', acme.owner.email, '--password-stdin'], { stdin: `${acme.owner.password}\n` });
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain(`Logged in to ${server.url} as ${acme.owner.email}`);
    expect(login.stdout).toContain('You belong to 2 organizations');
    const file = join(ada.configHome, 'keyward', 'session.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(ada.configHome, 'keyward')).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    expect(stored.sessionToken).toMatch(/^kws_/);
    expect(stored.url).toBe(server.url);

    const whoami = await ada.json(['auth', 'whoami']);
    expect(whoami).toMatchObject({ principal: { type: 'user', id: acme.owner.userId }, organizationId: acme.orgId, role: 'OWNER' });
    const text = await ada.run(['auth', 'whoami']);
    expect(text.stdout).toMatch(new RegExp(`Organization:\\s+Acme.*\\(${acme.orgId}\\)`));
    expect(text.stdout).toMatch(/Role:\s+OWNER/);

    // A session file left readable by others (copied, restored from a backup) is rewritten 0600.
    chmodSync(file, 0o644);
    const loginJson = await ada.json(['auth', 'login', '--email', acme.owner.email, '--password-stdin'], { stdin: acme.owner.password });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loginJson).toMatchObject({ url: server.url, user: { id: acme.owner.userId }, organizationId: acme.orgId });
    expect(loginJson.organizations.map((o: { id: string }) => o.id).sort()).toEqual([acme.orgId, globex.orgId].sort());
    // Logging in again ended the previous session on the server.
    expect((await call(server, 'GET', '/api/auth/whoami', { token: stored.sessionToken })).status).toBe(401);

    const token = JSON.parse(readFileSync(file, 'utf8')).sessionToken as string;
    for (const run of ada.runs) expect(run.stdout + run.stderr).not.toContain(token);
    for (const run of ada.runs) expect(run.stdout + run.stderr).not.toContain(stored.sessionToken);
  });

  it('lists both organizations, switches by name and by id, and --org picks one for a single command', async () => {
    const ada = user();
    await ada.login(acme.owner.email, acme.owner.password);
    const orgs = await ada.json<{ id: string; name: string; role: string; current: boolean }[]>(['orgs', 'list']);
    expect(orgs).toHaveLength(2);
    expect(orgs.find((o) => o.id === acme.orgId)).toMatchObject({ role: 'OWNER', current: true });
    expect(orgs.find((o) => o.id === globex.orgId)).toMatchObject({ role: 'ADMIN', current: false });
    const table = await ada.run(['orgs', 'list']);
    expect(table.stdout).toMatch(new RegExp(`^\\*\\s+Acme.*${acme.orgId}\\s+OWNER`, 'm'));

    const globexName = orgs.find((o) => o.id === globex.orgId)!.name;
    const switched = await ada.run(['orgs', 'switch', globexName.toLowerCase()]);
    expect(switched.code, switched.stderr).toBe(0);
    expect(switched.stdout).toContain(`Now acting on ${globexName} (${globex.orgId}) as ADMIN`);
    expect((await ada.json(['auth', 'whoami'])).organizationId).toBe(globex.orgId);
    // A key created now belongs to Globex.
    const created = await ada.json(['api-key', 'create', '--name', 'in globex']);
    const inGlobex = await call(server, 'GET', `/api/api-keys/${created.apiKey.id}`, { token: globex.adminKey });
    expect(inGlobex.status).toBe(200);

    const once = await ada.json(['auth', 'whoami', '--org', acme.orgId]);
    expect(once.organizationId).toBe(acme.orgId);
    expect((await ada.json(['auth', 'whoami'])).organizationId).toBe(globex.orgId);

    await ada.json(['orgs', 'switch', acme.orgId]);
    expect((await ada.json(['auth', 'whoami'])).organizationId).toBe(acme.orgId);
    const unknown = await ada.run(['orgs', 'switch', 'No Such Org']);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('keyward orgs list');
    const notMine = await ada.run(['auth', 'whoami', '--org', 'org_doesNotExist1']);
    expect(notMine.code).toBe(4);
    expect(notMine.stderr).toContain('organization_not_found');
  });

  it('exits 3 when not logged in, on a wrong password, after logout, and for a session of another server', async () => {
    const nobody = user();
    const notLoggedIn = await nobody.run(['api-key', 'list']);
    expect(notLoggedIn.code).toBe(3);
    expect(notLoggedIn.stdout).toBe('');
    expect(notLoggedIn.stderr).toContain('You are not logged in.');
    expect(notLoggedIn.stderr).toContain('keyward auth login');

    const wrong = await nobody.run(['auth', 'login', '--email', acme.owner.email, '--password-stdin'], { stdin: 'not-the-password\n' });
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toContain('invalid_credentials');

    const ada = user();
    await ada.login(acme.owner.email, acme.owner.password);
    const elsewhere = await ada.run(['api-key', 'list', '--url', 'http://127.0.0.1:9']);
    expect(elsewhere.code).toBe(3);
    expect(elsewhere.stderr).toContain(`Your session is for ${server.url}`);

    // A session ended elsewhere (the console's Log out, an expiry) is a 401: exit 3 and log in again.
    const ended = JSON.parse(readFileSync(join(ada.configHome, 'keyward', 'session.json'), 'utf8')).sessionToken as string;
    expect((await call(server, 'POST', '/api/auth/logout', { token: ended })).status).toBe(200);
    const expired = await ada.run(['api-key', 'list']);
    expect(expired.code).toBe(3);
    expect(expired.stderr).toContain(`Your session has expired or was ended. Run: keyward auth login --url ${server.url}`);

    await ada.login(acme.owner.email, acme.owner.password);
    const token = JSON.parse(readFileSync(join(ada.configHome, 'keyward', 'session.json'), 'utf8')).sessionToken as string;
    const logout = await ada.run(['auth', 'logout']);
    expect(logout.code).toBe(0);
    expect(logout.stdout).toContain(`Logged out of ${server.url}`);
    expect(() => statSync(join(ada.configHome, 'keyward', 'session.json'))).toThrow();
    expect((await call(server, 'GET', '/api/auth/whoami', { token })).status).toBe(401);
    expect((await ada.run(['auth', 'whoami'])).code).toBe(3);
  });

  it('takes KEYWARD_TOKEN for scripts, and says which credential was refused', async () => {
    const script = user();
    const key = await acme.createKey(acme.owner, { name: 'script key' });
    const whoami = await script.json(['auth', 'whoami'], { env: { KEYWARD_TOKEN: key.token } });
    expect(whoami).toMatchObject({ principal: { type: 'api_key', id: key.apiKey.id }, organizationId: acme.orgId, keyType: 'personal' });
    const list = await script.json<unknown[]>(['api-key', 'list'], { env: { KEYWARD_TOKEN: key.token } });
    expect(list.length).toBeGreaterThan(0);
    const refused = await script.run(['api-key', 'list'], { env: { KEYWARD_TOKEN: `${key.token.slice(0, -4)}AAAA` } });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('KEYWARD_TOKEN was refused');
    for (const run of script.runs) expect(run.stdout + run.stderr).not.toContain(key.token);
  });

  it('exits 2 on usage errors: unknown flags, missing arguments, bad values, no command', async () => {
    const ada = user();
    for (const args of [['api-key', 'list', '--bogus'], ['api-key', 'get'], ['api-key', 'create'], ['api-key', 'list', '--status', 'sleeping'], ['nonsense'], ['auth', 'login', '--url', 'not a url']]) {
      const run = await ada.run(args);
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(2);
      expect(run.stdout).toBe('');
    }
    const stdinNotTerminal = await ada.run(['auth', 'login', '--email', acme.owner.email]);
    expect(stdinNotTerminal.code).toBe(2);
    expect(stdinNotTerminal.stderr).toContain('--password-stdin');
    const help = await ada.run(['api-key', 'create', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Examples:');
    expect(help.stdout).toContain('--json');
  });
});
