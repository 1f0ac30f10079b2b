import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrg, startServer, type OrgFixture, type Person, type TestServer } from '../support/server.js';
import { answers, connectMcp, refusal, runMcpProcess, structured, type McpSession } from './support.js';

const hour = 3_600_000;
const day = 24 * hour;
const near = (iso: string, expectedMs: number) => expect(Math.abs(Date.parse(iso) - expectedMs)).toBeLessThan(60_000);

/**
 * The MCP server is a pure HTTP client of the API, so one dialect is enough here: what is under test
 * is the server process, its tools and how it relays the API's answers, not the store.
 */
describe('keyward mcp, driven over stdio by the SDK client', () => {
  let server: TestServer;
  let org: OrgFixture;
  let member: Person;
  let ownerKey: { token: string; apiKey: any };
  let memberKey: { token: string; apiKey: any };
  let owner: McpSession;
  let asMember: McpSession;
  let projectId: string;
  /** Every secret the test made, and the tool answer (if any) allowed to show it: the one that made it. */
  const secrets = new Map<string, { keyId: string; madeBy: 'api' | 'create_api_key' | 'roll_api_key' }>();
  const api = (method: string, path: string, body?: unknown) => call(server, method, path, { token: org.owner.session, body });

  beforeAll(async () => {
    server = await startServer();
    org = await createOrg(server);
    member = await org.addMember('MEMBER');
    ownerKey = await org.createKey(org.owner, { name: 'MCP (owner)', expiresAt: new Date(Date.now() + 30 * day).toISOString() });
    memberKey = await org.createKey(member, { name: 'MCP (member)' });
    secrets.set(ownerKey.token, { keyId: ownerKey.apiKey.id, madeBy: 'api' });
    secrets.set(memberKey.token, { keyId: memberKey.apiKey.id, madeBy: 'api' });
    projectId = (await api('POST', '/api/projects', { name: 'web' })).body.project.id;
    [owner, asMember] = await Promise.all([connectMcp(server.url, ownerKey.token), connectMcp(server.url, memberKey.token)]);
  });
  afterAll(async () => {
    await owner?.close();
    await asMember?.close();
    await server?.close();
  });

  it('lists its twelve tools, each with a description, an input schema and an output schema', async () => {
    const { tools } = await owner.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(
      ['change_key_credits', 'create_api_key', 'edit_api_key', 'get_api_key', 'get_key_policy', 'get_key_usage', 'get_org_usage', 'list_api_keys', 'list_audit_log', 'revoke_api_key', 'roll_api_key', 'whoami'].sort(),
    );
    for (const tool of tools) {
      expect(tool.description?.length, tool.name).toBeGreaterThan(40);
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.outputSchema?.type, tool.name).toBe('object');
    }
    const byName = new Map(tools.map((t) => [t.name, t]));
    expect(byName.get('revoke_api_key')?.annotations?.destructiveHint).toBe(true);
    expect(byName.get('list_api_keys')?.annotations?.readOnlyHint).toBe(true);
    expect(Object.keys(byName.get('list_api_keys')?.inputSchema.properties ?? {}).sort()).toEqual(['cursor', 'keyType', 'limit', 'ownerUserId', 'q', 'sort', 'status']);
    expect(byName.get('get_api_key')?.inputSchema.required).toEqual(['id']);
    expect(byName.get('create_api_key')?.description).toMatch(/never shown again/);
  });

  it('whoami names the API key, its organization and its rights, as the API does', async () => {
    const who = structured(await owner.call('whoami'));
    const fromApi = (await call(server, 'GET', '/api/auth/whoami', { token: ownerKey.token })).body;
    expect(who).toEqual(fromApi);
    expect(who).toMatchObject({ principal: { type: 'api_key', id: ownerKey.apiKey.id }, organizationId: org.orgId, keyType: 'personal' });
    expect(who.permissions).toContain('organization:manage');
    const atProject = structured(await owner.call('whoami', { projectId }));
    expect(atProject.projectId).toBe(projectId);
  });

  let created: { token: string; apiKey: any };

  it('creates a key and returns its secret once, with the notice that it will not be shown again', async () => {
    const result = await owner.call('create_api_key', { name: 'deploy bot', description: 'CI', expiresIn: '30d', permissionMode: 'restricted', permissions: ['traces:read'] });
    const answer = structured(result);
    created = { token: answer.token, apiKey: answer.apiKey };
    secrets.set(created.token, { keyId: created.apiKey.id, madeBy: 'create_api_key' });
    expect(answer.notice).toMatch(/never be shown again/);
    expect(result.content[0]).toMatchObject({ type: 'text', text: expect.stringMatching(/^Created deploy bot \(key_[0-9A-Za-z]+\)\. .*never be shown again/) });
    expect(answer.apiKey).toMatchObject({ name: 'deploy bot', description: 'CI', keyType: 'personal', ownerUserId: org.owner.userId, permissionMode: 'restricted', permissions: ['traces:read'] });
    near(answer.apiKey.expiresAt, Date.now() + 30 * day);
    const stored = await api('GET', `/api/api-keys/${created.apiKey.id}`);
    expect(stored.body).toMatchObject({ id: created.apiKey.id, name: 'deploy bot', createdByKeyId: ownerKey.apiKey.id, expiresAt: answer.apiKey.expiresAt });
    const usable = await call(server, 'GET', '/api/auth/whoami', { token: created.token });
    expect(usable.status).toBe(200);
    expect(usable.body.principal.id).toBe(created.apiKey.id);
  });

  it('lists and gets keys as the API answers them, never with a secret', async () => {
    const listed = structured(await owner.call('list_api_keys', { q: 'deploy', status: 'all' }));
    const fromApi = (await api('GET', '/api/api-keys?q=deploy&status=all')).body;
    expect(listed.data.map((k: any) => k.id)).toEqual(fromApi.data.map((k: any) => k.id));
    expect(listed.data.map((k: any) => k.id)).toContain(created.apiKey.id);
    const firstPage = structured(await owner.call('list_api_keys', { limit: 1 }));
    expect(firstPage.data).toHaveLength(1);
    expect(firstPage.nextCursor).toEqual(expect.any(String));
    const secondPage = structured(await owner.call('list_api_keys', { limit: 1, cursor: firstPage.nextCursor }));
    expect(secondPage.data[0].id).not.toBe(firstPage.data[0].id);
    // Issue 12: the list's owner filter and sort, as the API answers them.
    const ofMember = structured(await owner.call('list_api_keys', { ownerUserId: member.userId, sort: 'name' }));
    expect(ofMember.data.map((k: any) => k.id)).toEqual((await api('GET', `/api/api-keys?ownerUserId=${member.userId}&sort=name`)).body.data.map((k: any) => k.id));
    expect(ofMember.data.map((k: any) => k.id)).toContain(memberKey.apiKey.id);
    const got = structured(await owner.call('get_api_key', { id: created.apiKey.id }));
    const gotFromApi = (await api('GET', `/api/api-keys/${created.apiKey.id}`)).body;
    expect({ ...got, lastUsedAt: null }).toEqual({ ...gotFromApi, lastUsedAt: null });
  });

  it('edits a key, by a duration or an instant, and refuses both at once', async () => {
    const edited = structured(await owner.call('edit_api_key', { id: created.apiKey.id, name: 'deploy bot (prod)', expiresIn: '7d' }));
    expect(edited).toMatchObject({ id: created.apiKey.id, name: 'deploy bot (prod)', warnings: expect.any(Array) });
    near(edited.expiresAt, Date.now() + 7 * day);
    expect((await api('GET', `/api/api-keys/${created.apiKey.id}`)).body.name).toBe('deploy bot (prod)');
    const both = await owner.call('edit_api_key', { id: created.apiKey.id, expiresIn: '7d', expiresAt: new Date(Date.now() + day).toISOString() });
    expect(both.isError).toBe(true);
    expect(JSON.stringify(both.content)).toMatch(/either expiresAt or expiresIn/);
  });

  it("relays the API's validation failures with their reasons", async () => {
    const past = refusal(await owner.call('create_api_key', { name: 'late', expiresAt: new Date(Date.now() - day).toISOString() }));
    expect(past).toMatchObject({ status: 422, error: 'validation_failed' });
    expect(past.reasons?.map((r) => r.path)).toContain('expiresAt');
    expect(past.sentence).toMatch(/^Keyward refused the request: .*\(validation_failed, HTTP 422\)/);
  });

  it('rolls a key with an overlap: a new secret once, the old one working until the overlap ends', async () => {
    const result = await owner.call('roll_api_key', { id: created.apiKey.id, overlap: '1h' });
    const rolled = structured(result);
    expect(rolled.token).not.toBe(created.token);
    expect(rolled.notice).toMatch(/never be shown again/);
    expect(rolled.apiKey.id).toBe(created.apiKey.id);
    near(rolled.apiKey.rollOverlapEndsAt, Date.now() + hour);
    expect(JSON.stringify(result.content[0])).toMatch(/old secret works until/);
    secrets.set(rolled.token, { keyId: created.apiKey.id, madeBy: 'roll_api_key' });
    expect((await call(server, 'GET', '/api/auth/whoami', { token: rolled.token })).status).toBe(200);
    expect((await call(server, 'GET', '/api/auth/whoami', { token: created.token })).status).toBe(200);
    created = { token: rolled.token, apiKey: rolled.apiKey };
  });

  it("reads a key's usage and the organization's, matching the API's counts", async () => {
    for (let i = 0; i < 3; i++) await call(server, 'GET', '/api/auth/whoami', { token: created.token });
    const usage = structured(await owner.call('get_key_usage', { id: created.apiKey.id, since: '1h', interval: 'minute' }));
    expect(usage.keyId).toBe(created.apiKey.id);
    expect(usage.interval).toBe('minute');
    near(usage.from, Date.now() - hour);
    const fromApi = (await api('GET', `/api/api-keys/${created.apiKey.id}/usage?from=${encodeURIComponent(usage.from)}&interval=minute`)).body;
    expect(usage.totals).toEqual(fromApi.totals);
    expect(usage.totals.valid).toBeGreaterThanOrEqual(5);
    const orgUsage = structured(await owner.call('get_org_usage', { since: '1d', interval: 'hour' }));
    expect(orgUsage.totals.valid).toBeGreaterThanOrEqual(usage.totals.valid);
    expect(orgUsage.topKeys.map((k: any) => k.keyId)).toContain(created.apiKey.id);
    const both = await owner.call('get_org_usage', { since: '1d', from: new Date().toISOString() });
    expect(both.isError).toBe(true);
  });

  it('revokes a key at once, and surfaces a second revocation as a 409', async () => {
    const revoked = structured(await owner.call('revoke_api_key', { id: created.apiKey.id, reason: 'rotated out by the assistant' }));
    expect(revoked).toMatchObject({ success: true, apiKey: { id: created.apiKey.id, status: 'revoked', revokedReason: 'rotated out by the assistant' } });
    expect((await call(server, 'GET', '/api/auth/whoami', { token: created.token })).status).toBe(401);
    const again = refusal(await owner.call('revoke_api_key', { id: created.apiKey.id }));
    expect(again).toMatchObject({ status: 409, error: 'api_key_already_revoked' });
    expect(again.sentence).toMatch(/create a new key instead/);
    const missing = refusal(await owner.call('get_api_key', { id: 'key_doesnotexist' }));
    expect(missing).toMatchObject({ status: 404, error: 'api_key_not_found' });
  });

  it("reads the audit log, which names the MCP server's key as the actor of each change", async () => {
    const log = structured(await owner.call('list_audit_log', { targetId: created.apiKey.id, limit: 100 }));
    const fromApi = (await api('GET', `/api/audit-log?targetId=${created.apiKey.id}&limit=100`)).body;
    expect(log.data.map((e: any) => e.id)).toEqual(fromApi.data.map((e: any) => e.id));
    expect(log.data.map((e: any) => e.action)).toEqual(expect.arrayContaining(['api_key.created', 'api_key.updated', 'api_key.rolled', 'api_key.revoked']));
    // The changes are the MCP key's; a use of the key after its revocation is the key's own (auth.key_rejected).
    const changes = log.data.filter((e: any) => e.action.startsWith('api_key.'));
    expect(changes.length).toBeGreaterThanOrEqual(4);
    for (const entry of changes) expect(entry.actor).toMatchObject({ type: 'api_key', id: ownerKey.apiKey.id });
    const page = structured(await owner.call('list_audit_log', { action: 'api_key.revoked', limit: 1 }));
    expect(page.data).toHaveLength(1);
    expect(page.data[0].action).toBe('api_key.revoked');
  });

  describe("a MEMBER's personal key", () => {
    it('is who it says, without the right to manage the organization', async () => {
      const who = structured(await asMember.call('whoami'));
      expect(who).toMatchObject({ principal: { type: 'api_key', id: memberKey.apiKey.id }, keyType: 'personal' });
      expect(who.permissions).not.toContain('organization:manage');
    });

    it('is refused key management, org usage and the audit log with the API\'s 403', async () => {
      const attempts: [string, Record<string, unknown>][] = [
        ['create_api_key', { name: 'sneaky service', keyType: 'service' }],
        ['create_api_key', { name: 'my own' }],
        ['list_api_keys', {}],
        ['get_api_key', { id: ownerKey.apiKey.id }],
        ['edit_api_key', { id: memberKey.apiKey.id, name: 'renamed' }],
        ['roll_api_key', { id: memberKey.apiKey.id }],
        ['revoke_api_key', { id: ownerKey.apiKey.id }],
        ['get_org_usage', {}],
        ['list_audit_log', {}],
      ];
      for (const [tool, args] of attempts) {
        const refused = refusal(await asMember.call(tool, args));
        expect(refused, tool).toMatchObject({ status: 403, error: 'insufficient_permissions' });
        expect(refused.sentence, tool).toMatch(/OWNER or ADMIN/);
      }
      // Nothing happened: the owner's key still works, no key was made in the member's name.
      expect((await call(server, 'GET', '/api/auth/whoami', { token: ownerKey.token })).status).toBe(200);
      const theirs = (await api('GET', '/api/api-keys?status=all&limit=100')).body.data.filter((k: any) => k.createdByKeyId === memberKey.apiKey.id);
      expect(theirs).toEqual([]);
      expect((await api('GET', `/api/api-keys/${memberKey.apiKey.id}`)).body.name).toBe('MCP (member)');
    });

    it("is refused key usage, its own key's included: usage is on the management API (CONTRACT.md, API keys)", async () => {
      for (const id of [memberKey.apiKey.id, ownerKey.apiKey.id]) {
        const refused = refusal(await asMember.call('get_key_usage', { id, since: '1h' }));
        expect(refused).toMatchObject({ status: 403, error: 'insufficient_permissions' });
      }
    });
  });

  it('says when the key itself is refused (401), and which variable to fix', async () => {
    const revoked = await org.createKey(org.owner, { name: 'soon revoked' });
    await api('DELETE', `/api/api-keys/${revoked.apiKey.id}`);
    const session = await connectMcp(server.url, revoked.token);
    try {
      const refused = refusal(await session.call('whoami'));
      expect(refused).toMatchObject({ status: 401, error: 'unauthorized' });
      expect(refused.sentence).toMatch(/KEYWARD_API_KEY was refused/);
    } finally {
      await session.close();
    }
  });

  it('sends X-Project-Id on every call when started with --project', async () => {
    const session = await connectMcp(server.url, ownerKey.token, ['--project', projectId]);
    try {
      expect(structured(await session.call('whoami')).projectId).toBe(projectId);
    } finally {
      await session.close();
    }
  });

  it('never shows a secret but in the one create or roll answer that made it', () => {
    expect(answers.length).toBeGreaterThan(30);
    for (const [secret, { keyId, madeBy }] of secrets) {
      const showing = answers.filter((a) => a.text.includes(secret));
      if (madeBy === 'api') expect(showing.map((a) => a.tool), keyId).toEqual([]);
      else expect(showing.map((a) => [a.tool, a.keyId]), keyId).toEqual([[madeBy, keyId]]);
    }
    expect([...secrets.values()].map((s) => s.madeBy).sort()).toEqual(['api', 'api', 'create_api_key', 'roll_api_key']);
  });
});

describe('keyward mcp without a key', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => server?.close());

  for (const [label, env] of [
    ['unset', {}],
    ['blank', { KEYWARD_API_KEY: '  ' }],
  ] as const) {
    it(`exits with code 3 and a hint when KEYWARD_API_KEY is ${label}, writing nothing on standard output`, async () => {
      const result = await runMcpProcess(server.url, env);
      expect(result.code).toBe(3);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/KEYWARD_API_KEY is not set/);
      expect(result.stderr).toMatch(/Create a personal key/);
    });
  }
});
