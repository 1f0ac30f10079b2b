import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrg, startServer, type OrgFixture, type Person, type TestServer } from '../support/server.js';
import { CliUser } from './support.js';

describe('keyward api-key, the built CLI against a started server', () => {
  let server: TestServer;
  let org: OrgFixture;
  let owner: CliUser;
  let member: CliUser;
  let memberPerson: Person;
  /** Every secret a command printed, with the command that printed it. */
  const secrets: { token: string; args: readonly string[] }[] = [];
  const whoamiWith = (token: string) => call(server, 'GET', '/api/auth/whoami', { token });

  beforeAll(async () => {
    server = await startServer();
    org = await createOrg(server);
    memberPerson = await org.addMember('MEMBER');
    owner = new CliUser(server.url);
    member = new CliUser(server.url);
    await Promise.all([owner.login(org.owner.email, org.owner.password), member.login(memberPerson.email, memberPerson.password)]);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('create prints the secret once with a line that it will not be shown again; warnings go to standard error', async () => {
    const run = await owner.run(['api-key', 'create', '--name', 'Production automation', '--description', 'nightly jobs']);
    expect(run.code, run.stderr).toBe(0);
    const token = /^ {4}(kw_\S+)$/m.exec(run.stdout)?.[1];
    expect(token).toBeDefined();
    secrets.push({ token: token!, args: run.args });
    expect(run.stdout).toContain('Created personal key "Production automation"');
    expect(run.stdout).toContain('will not be shown again');
    expect(run.stderr).toBe('');
    expect((await whoamiWith(token!)).body.principal.type).toBe('api_key');
  });

  it('--quiet prints only the secret, for piping, and keeps the warnings on standard error', async () => {
    const run = await owner.run(['api-key', 'create', '--name', 'ci', '--type', 'service', '--allow-ip', '0.0.0.0/0', '--quiet']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^kw_[0-9A-Za-z]+_[0-9A-Za-z]+\n$/);
    const token = run.stdout.trim();
    secrets.push({ token, args: run.args });
    expect(run.stderr).toContain('allowed_cidrs_wildcard');
    expect(run.stderr).toContain('service_key_without_expiry');
    expect((await whoamiWith(token)).body).toMatchObject({ keyType: 'service' });
  });

  it('--json prints the API answer and nothing else; the flags become the key\'s access', async () => {
    const before = Date.now();
    const created = await owner.json(['api-key', 'create', '--name', 'reports', '--permission', 'traces:read', '--permission', 'analytics:read', '--scope', 'read:reports/*', '--allow-ip', '203.0.113.0/24', '--expires', '30d']);
    secrets.push({ token: created.token, args: ['api-key', 'create', '--json'] });
    expect(Object.keys(created).sort()).toEqual(['apiKey', 'token', 'warnings']);
    expect(created.apiKey).toMatchObject({
      name: 'reports',
      keyType: 'personal',
      permissionMode: 'restricted',
      permissions: ['traces:read', 'analytics:read'],
      scopes: [{ action: 'read', resource: 'reports/*' }],
      allowedCidrs: ['203.0.113.0/24'],
    });
    const expiresMs = new Date(created.apiKey.expiresAt).getTime() - before;
    expect(expiresMs).toBeGreaterThan(29.9 * 86_400_000);
    expect(expiresMs).toBeLessThan(30.1 * 86_400_000);
  });

  it('list pages through the API cursor in --json, and prints an aligned table that fits the width', async () => {
    const names = Array.from({ length: 105 }, (_, i) => `paged-${String(i).padStart(3, '0')}`);
    for (let i = 0; i < names.length; i += 35) {
      await Promise.all(names.slice(i, i + 35).map((name) => org.createKey(org.adminKey, { name, keyType: 'service', expiresAt: new Date(Date.now() + 86_400_000).toISOString() })));
    }
    const all = await owner.json<any[]>(['api-key', 'list', '--search', 'paged-', '--type', 'service']);
    expect(all).toHaveLength(105);
    expect(new Set(all.map((k) => k.id)).size).toBe(105);
    expect(all.map((k) => k.name).sort()).toEqual(names);

    const table = await owner.run(['api-key', 'list', '--search', 'Production']);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+ID\s+TYPE\s+PREVIEW\s+STATUS\s+SCOPE\s+CREATED\s+LAST USED\s+CREATED BY$/);
    expect(lines[1]).toMatch(/^Production automation\s+key_\w+\s+personal\s+kw_…\w{4}\s+active\s+ADMIN org\s+\d{4}-\d{2}-\d{2}\s+\S.*\s+you$/);
    expect(lines[0]!.indexOf('ID')).toBe(lines[1]!.indexOf('key_'));

    const narrow = await owner.run(['api-key', 'list', '--search', 'paged-00'], { env: { COLUMNS: '60' } });
    const rows = narrow.stdout.trimEnd().split('\n');
    expect(rows).toHaveLength(11);
    for (const row of rows) expect([...row].length).toBeLessThanOrEqual(60);
    expect(rows[0]).toMatch(/^NAME\s+ID\s+/);
  });

  it('get shows one key; an unknown id exits 4 with what to do next', async () => {
    const [key] = await owner.json<any[]>(['api-key', 'list', '--search', 'reports']);
    const got = await owner.json(['api-key', 'get', key.id]);
    expect(got).toEqual((await call(server, 'GET', `/api/api-keys/${key.id}`, { token: org.adminKey })).body);
    const text = await owner.run(['api-key', 'get', key.id]);
    expect(text.stdout).toMatch(/Permissions\s+traces:read, analytics:read/);
    expect(text.stdout).toMatch(/Allowed IPs\s+203\.0\.113\.0\/24/);
    const missing = await owner.run(['api-key', 'get', 'key_doesNotExist0']);
    expect(missing.code).toBe(4);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toContain('api_key_not_found');
    expect(missing.stderr).toContain('keyward api-key list --status all');
  });

  it('edit changes a key, and asks before narrowing a key in use: refused without --yes off a terminal', async () => {
    const created = await org.createKey(org.owner, { name: 'to edit' });
    const renamed = await owner.json(['api-key', 'edit', created.apiKey.id, '--name', 'edited', '--expires', '2099-01-01']);
    expect(renamed).toMatchObject({ id: created.apiKey.id, name: 'edited', expiresAt: '2099-01-01T00:00:00.000Z', warnings: [] });

    expect((await whoamiWith(created.token)).status).toBe(200);
    await server.composed.services.usage.flush();
    const refused = await owner.run(['api-key', 'edit', created.apiKey.id, '--permission', 'traces:read']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('restricts the key to traces:read');
    expect(refused.stderr).toContain('last used');
    expect(refused.stderr).toContain('--yes');
    expect((await call(server, 'GET', `/api/api-keys/${created.apiKey.id}`, { token: org.adminKey })).body.permissionMode).toBe('all');

    const narrowed = await owner.json(['api-key', 'edit', created.apiKey.id, '--permission', 'traces:read', '--yes']);
    expect(narrowed).toMatchObject({ permissionMode: 'restricted', permissions: ['traces:read'] });
    expect(narrowed.warnings.map((w: { code: string }) => w.code)).toContain('access_changed_while_in_use');
    const nothing = await owner.run(['api-key', 'edit', created.apiKey.id]);
    expect(nothing.code).toBe(2);
  });

  it('roll prints the new secret once; --overlap keeps the old one working, the default stops it', async () => {
    const created = await org.createKey(org.owner, { name: 'to roll' });
    const rolled = await owner.json(['api-key', 'roll', created.apiKey.id, '--overlap', '24h']);
    secrets.push({ token: rolled.token, args: ['api-key', 'roll', '--json'] });
    expect(Object.keys(rolled).sort()).toEqual(['apiKey', 'token', 'warnings']);
    expect(rolled.warnings).toEqual([]);
    expect(rolled.token).not.toBe(created.token);
    const overlapMs = new Date(rolled.apiKey.rollOverlapEndsAt).getTime() - Date.now();
    expect(overlapMs).toBeGreaterThan(23.9 * 3_600_000);
    expect((await whoamiWith(created.token)).status).toBe(200);
    expect((await whoamiWith(rolled.token)).status).toBe(200);

    const quiet = await owner.run(['api-key', 'roll', created.apiKey.id, '--quiet']);
    expect(quiet.code, quiet.stderr).toBe(0);
    const newest = quiet.stdout.trim();
    secrets.push({ token: newest, args: quiet.args });
    expect(quiet.stdout).toBe(`${newest}\n`);
    expect((await whoamiWith(rolled.token)).status).toBe(401);
    expect((await whoamiWith(newest)).status).toBe(200);
  });

  it('revoke refuses without --yes when standard input is not a terminal, then revokes with --yes', async () => {
    const created = await org.createKey(org.owner, { name: 'to revoke' });
    const refused = await owner.run(['api-key', 'revoke', created.apiKey.id]);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('Not revoking "to revoke"');
    expect(refused.stderr).toContain(`keyward api-key revoke ${created.apiKey.id} --yes`);
    expect((await whoamiWith(created.token)).status).toBe(200);

    const revoked = await owner.json(['api-key', 'revoke', created.apiKey.id, '--yes']);
    expect(revoked).toEqual({ success: true });
    expect((await whoamiWith(created.token)).status).toBe(401);
    const again = await owner.run(['api-key', 'revoke', created.apiKey.id, '--yes']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('api_key_already_revoked');
    const listed = await owner.json<any[]>(['api-key', 'list', '--status', 'revoked']);
    expect(listed.map((k) => k.id)).toContain(created.apiKey.id);
  });

  it('--assign-to takes a member by email (any case) or usr_ id; an unknown email exits 4', async () => {
    const byEmail = await owner.run(['api-key', 'create', '--name', 'for the member', '--assign-to', memberPerson.email.toUpperCase(), '--json']);
    expect(byEmail.code, byEmail.stderr).toBe(0);
    expect(JSON.parse(byEmail.stdout).apiKey.ownerUserId).toBe(memberPerson.userId);
    const byId = await owner.run(['api-key', 'create', '--name', 'by id', '--assign-to', memberPerson.userId, '--json']);
    expect(JSON.parse(byId.stdout).apiKey.ownerUserId).toBe(memberPerson.userId);
    const unknown = await owner.run(['api-key', 'create', '--name', 'nobody', '--assign-to', 'nobody@example.test']);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('nobody@example.test');
  });

  it('exits 5 when the person may not: a MEMBER creating a service key or revoking a key not theirs', async () => {
    const service = await org.createKey(org.adminKey, { name: 'shared service', keyType: 'service', expiresAt: new Date(Date.now() + 86_400_000).toISOString() });
    const create = await member.run(['api-key', 'create', '--name', 'nope', '--type', 'service']);
    expect(create.code).toBe(5);
    expect(create.stderr).toContain('insufficient_permissions');
    const revoke = await member.run(['api-key', 'revoke', service.apiKey.id, '--yes']);
    expect(revoke.code).toBe(5);
    expect(revoke.stderr).toContain('api_key_not_owned');
    const own = await member.run(['api-key', 'create', '--name', 'mine', '--permission', 'secrets:write']);
    expect(own.code).toBe(5);
    expect(own.stderr).toContain('api_key_scope_violation');
  });

  it('usage shows requests over time as a text chart, and the report in --json', async () => {
    const created = await org.createKey(org.owner, { name: 'busy' });
    for (let i = 0; i < 3; i++) expect((await whoamiWith(created.token)).status).toBe(200);
    const report = await owner.json(['api-key', 'usage', created.apiKey.id, '--since', '24h']);
    expect(report).toMatchObject({ keyId: created.apiKey.id, interval: 'hour', totals: { valid: 3, rejected: 0 } });
    expect(report.buckets.length).toBeGreaterThanOrEqual(24);
    const chart = await owner.run(['api-key', 'usage', created.apiKey.id, '--since', '24h']);
    expect(chart.stdout).toContain('█');
    expect(chart.stdout).toMatch(/Total: 3 valid, 0 rejected\./);
    const rows = chart.stdout.split('\n').filter((l) => /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}\s/.test(l));
    expect(rows.length).toBeGreaterThanOrEqual(24);
    expect(rows.filter((r) => r.includes('█'))).toHaveLength(1);
  });

  it('never prints a session token, and prints a secret only from create and roll', async () => {
    const sessions = [owner, member].map((u) => JSON.parse(readFileSync(join(u.configHome, 'keyward', 'session.json'), 'utf8')).sessionToken as string);
    const runs = [...owner.runs, ...member.runs];
    expect(runs.length).toBeGreaterThan(20);
    expect(secrets.length).toBeGreaterThanOrEqual(5);
    for (const run of runs) {
      const printed = run.stdout + run.stderr;
      for (const session of sessions) expect(printed).not.toContain(session);
      expect(printed).not.toContain(org.adminKey);
      for (const { token, args } of secrets) {
        if (printed.includes(token)) expect(['create', 'roll']).toContain(args[1]);
        // Not even the secret part of a token, as a preview or in an error.
        const secretPart = token.split('_').at(-1)!;
        if (!['create', 'roll'].includes(run.args[1]!)) expect(printed).not.toContain(secretPart.slice(0, 12));
      }
    }
  });
});
