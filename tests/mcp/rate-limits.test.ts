import { createVerifier } from '@keyward/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrg, startServer, type OrgFixture, type TestServer } from '../support/server.js';
import { connectMcp, refusal, structured, type McpSession } from './support.js';

const day = 86_400_000;

/**
 * Rate limits and credits through `keyward mcp` (issue 14): create_api_key and edit_api_key take
 * them in the API's shapes, get_api_key and list_api_keys show them with the current windows, and
 * change_key_credits changes the credits atomically, relaying the API's refusals.
 */
describe('keyward mcp, rate limits and credits', () => {
  let server: TestServer;
  let org: OrgFixture;
  let owner: McpSession;
  let asMember: McpSession;
  let verifier: string;
  const verify = async (key: string) => (await call(server, 'POST', '/api/keys/verify', { token: verifier, body: { key } })).body;
  const apiKey = async (id: string) => (await call(server, 'GET', `/api/api-keys/${id}`, { token: org.adminKey })).body;

  beforeAll(async () => {
    server = await startServer();
    org = await createOrg(server);
    const member = await org.addMember('MEMBER');
    verifier = (await createVerifier(server.composed.services.deps, { name: 'mcp rate limits', orgId: null })).token;
    const ownerKey = await org.createKey(org.owner, { name: 'MCP (owner)', expiresAt: new Date(Date.now() + 30 * day).toISOString() });
    const memberKey = await org.createKey(member, { name: 'MCP (member)' });
    [owner, asMember] = await Promise.all([connectMcp(server.url, ownerKey.token), connectMcp(server.url, memberKey.token)]);
  });
  afterAll(async () => {
    await owner?.close();
    await asMember?.close();
    await server?.close();
  });

  it('offers change_key_credits, and rateLimits and credits on create_api_key and edit_api_key', async () => {
    const { tools } = await owner.client.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    const change = byName.get('change_key_credits');
    expect(change?.inputSchema.required?.slice().sort()).toEqual(['amount', 'keyId', 'op']);
    expect(change?.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    expect(change?.outputSchema?.type).toBe('object');
    for (const name of ['create_api_key', 'edit_api_key']) {
      const properties = byName.get(name)?.inputSchema.properties ?? {};
      expect(Object.keys(properties), name).toEqual(expect.arrayContaining(['rateLimits', 'credits']));
    }
    expect(byName.get('get_api_key')?.description).toMatch(/rate limits/);
  });

  let keyId: string;
  let token: string;

  it('creates a key with rate limits and credits, and get_api_key shows them with the current windows', async () => {
    const rateLimits = [
      { name: 'requests', limit: 100, windowSeconds: 60 },
      { name: 'daily', limit: 5000, windowSeconds: 86_400 },
    ];
    const credits = { remaining: 1000, refill: { amount: 1000, interval: 'month' } };
    const created = structured(await owner.call('create_api_key', { name: 'metered', expiresIn: '7d', rateLimits, credits }));
    expect(created.apiKey).toMatchObject({ rateLimits, credits });
    keyId = created.apiKey.id;
    token = created.token;

    for (let i = 0; i < 2; i++) expect((await verify(token)).code).toBe('VALID');
    await server.composed.services.usage.flush();
    const got = structured(await owner.call('get_api_key', { id: keyId }));
    expect(got).toEqual(await apiKey(keyId));
    expect(got.credits).toEqual({ remaining: 998, refill: { amount: 1000, interval: 'month' } });
    expect(got.rateLimitUse).toEqual([
      { name: 'requests', limit: 100, used: 2, resetAt: expect.any(String) },
      { name: 'daily', limit: 5000, used: 2, resetAt: expect.stringMatching(/T00:00:00(\.000)?Z$/) },
    ]);

    const listed = structured(await owner.call('list_api_keys', { q: 'metered' }));
    expect(listed.data.map((k: { id: string; credits: unknown }) => [k.id, k.credits])).toEqual([[keyId, got.credits]]);
  });

  it('credits without a refill default to none; a duplicate limit name is refused with the reason', async () => {
    const created = structured(await owner.call('create_api_key', { name: 'once', expiresIn: '1d', credits: { remaining: 3 } }));
    expect(created.apiKey.credits).toEqual({ remaining: 3, refill: null });
    expect(created.apiKey.rateLimits).toEqual([]);
    const twice = await owner.call('create_api_key', {
      name: 'twice',
      expiresIn: '1d',
      rateLimits: [
        { name: 'a', limit: 1, windowSeconds: 1 },
        { name: 'a', limit: 2, windowSeconds: 60 },
      ],
    });
    expect(twice.isError).toBe(true);
    expect(JSON.stringify(twice.content)).toContain('named twice');
  });

  it('change_key_credits sets, increments and decrements, and relays a decrement below zero as a 422', async () => {
    expect(structured(await owner.call('change_key_credits', { keyId, op: 'set', amount: 40 }))).toEqual({ remaining: 40 });
    const added = await owner.call('change_key_credits', { keyId, op: 'increment', amount: 10 });
    expect(structured(added)).toEqual({ remaining: 50 });
    expect(added.content[0]).toEqual({ type: 'text', text: `${keyId} has 50 credits left.` });
    expect(structured(await owner.call('change_key_credits', { keyId, op: 'decrement', amount: 50 }))).toEqual({ remaining: 0 });
    const below = refusal(await owner.call('change_key_credits', { keyId, op: 'decrement', amount: 1 }));
    expect(below.status).toBe(422);
    expect(below.sentence).toMatch(/^Keyward refused the request: .+ \(\w+, HTTP 422\)/);
    expect((await apiKey(keyId)).credits.remaining).toBe(0);
    expect((await verify(token)).code).toBe('USAGE_EXCEEDED');
  });

  it('edit_api_key replaces the limits and the credits, and removes them with [] and null', async () => {
    const edited = structured(await owner.call('edit_api_key', { id: keyId, rateLimits: [{ name: 'burst', limit: 2, windowSeconds: 1 }], credits: { remaining: 9, refill: null } }));
    expect(edited).toMatchObject({ rateLimits: [{ name: 'burst', limit: 2, windowSeconds: 1 }], credits: { remaining: 9, refill: null } });
    const cleared = structured(await owner.call('edit_api_key', { id: keyId, rateLimits: [], credits: null }));
    expect(cleared).toMatchObject({ rateLimits: [], rateLimitUse: [], credits: null });
    expect(await apiKey(keyId)).toMatchObject({ rateLimits: [], credits: null });
  });

  it("relays the API's 403 to a member's key, and changes nothing", async () => {
    const created = structured(await owner.call('create_api_key', { name: 'counted', expiresIn: '1d', credits: { remaining: 5 } }));
    const refused = refusal(await asMember.call('change_key_credits', { keyId: created.apiKey.id, op: 'increment', amount: 100 }));
    expect(refused.status).toBe(403);
    expect((await apiKey(created.apiKey.id)).credits.remaining).toBe(5);
  });
});
