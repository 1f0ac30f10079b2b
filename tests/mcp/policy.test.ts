import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrg, startServer, type OrgFixture, type TestServer } from '../support/server.js';
import { connectMcp, refusal, structured, type McpSession } from './support.js';

const day = 86_400_000;

/**
 * The organization's key policy through `keyward mcp` (issue 15): any key reads it with
 * get_key_policy; create, edit and roll relay a policy_violation with its reasons and a sentence
 * that says what to change; a default lifetime arrives as the expiry_set_by_policy warning.
 * @see issue 15
 */
describe('keyward mcp and the organization policy', () => {
  let server: TestServer;
  let org: OrgFixture;
  let owner: McpSession;
  let asMember: McpSession;
  let oldKeyId: string;
  const putPolicy = (policy: Record<string, unknown>) =>
    call(server, 'PUT', '/api/organization/policy', {
      token: org.owner.session,
      body: { maxKeyLifetimeDays: null, defaultKeyLifetimeDays: null, requireExpiry: false, requireAllowedCidrsForServiceKeys: false, personalKeysAllowed: true, ...policy },
    });

  beforeAll(async () => {
    server = await startServer();
    org = await createOrg(server);
    const member = await org.addMember('MEMBER');
    const ownerKey = await org.createKey(org.owner, { name: 'MCP (owner)', expiresAt: new Date(Date.now() + 20 * day).toISOString() });
    const memberKey = await org.createKey(member, { name: 'MCP (member)' });
    oldKeyId = (await org.createKey(org.owner, { name: 'made before the policy' })).apiKey.id;
    expect((await putPolicy({ maxKeyLifetimeDays: 30, defaultKeyLifetimeDays: 7, requireAllowedCidrsForServiceKeys: true })).status).toBe(200);
    [owner, asMember] = await Promise.all([connectMcp(server.url, ownerKey.token), connectMcp(server.url, memberKey.token)]);
  });
  afterAll(async () => {
    await owner?.close();
    await asMember?.close();
    await server?.close();
  });

  it('get_key_policy answers the policy to any key of the organization, a MEMBER\'s included', async () => {
    for (const session of [owner, asMember]) {
      expect(structured(await session.call('get_key_policy'))).toEqual({
        policy: { maxKeyLifetimeDays: 30, defaultKeyLifetimeDays: 7, requireExpiry: false, requireAllowedCidrsForServiceKeys: true, personalKeysAllowed: true },
      });
    }
  });

  it('relays a refused create with the reasons and what to change', async () => {
    const tooLong = refusal(await owner.call('create_api_key', { name: 'too long', expiresIn: '90d' }));
    expect(tooLong).toMatchObject({ status: 422, error: 'policy_violation', reasons: [{ path: 'expiresAt' }] });
    expect(tooLong.sentence).toMatch(/key policy/);
    expect(tooLong.sentence).toMatch(/get_key_policy/);
    const service = refusal(await owner.call('create_api_key', { name: 'ci', keyType: 'service', expiresIn: '10d' }));
    expect(service.reasons?.map((r) => r.path)).toEqual(['allowedCidrs']);
    expect(service.reasons?.[0]?.message).toMatch(/allowlist/);
  });

  it('gives a key created without an expiry the default lifetime, with the warning', async () => {
    const created = structured(await owner.call('create_api_key', { name: 'defaulted' }));
    expect(Math.abs(Date.parse(created.apiKey.expiresAt) - (Date.now() + 7 * day))).toBeLessThan(60_000);
    expect(created.warnings.map((w: { code: string }) => w.code)).toContain('expiry_set_by_policy');
    expect(created.apiKey.policyViolations).toEqual([]);
  });

  it('shows an older key\'s violations, refuses to roll it, and lets an edit bring it within the policy', async () => {
    expect(structured(await owner.call('get_api_key', { id: oldKeyId })).policyViolations).toEqual(['maxKeyLifetimeDays']);
    const rolled = refusal(await owner.call('roll_api_key', { id: oldKeyId }));
    expect(rolled).toMatchObject({ status: 422, error: 'policy_violation', reasons: [{ path: 'expiresAt' }] });
    expect(rolled.sentence).toMatch(/edited before it can be rolled/);
    expect(refusal(await owner.call('edit_api_key', { id: oldKeyId, expiresIn: '60d' })).error).toBe('policy_violation');
    expect(structured(await owner.call('edit_api_key', { id: oldKeyId, expiresIn: '20d' })).policyViolations).toEqual([]);
    expect(structured(await owner.call('roll_api_key', { id: oldKeyId })).apiKey.policyViolations).toEqual([]);
  });
});
