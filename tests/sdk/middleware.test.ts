import { connect } from 'node:net';
import { createRemoteVerifier, type RemoteVerifier } from '@keyward/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameworks, type ProtectedApp } from './apps.js';
import { call, createOrg, createProject, revoke, startSdkServer, verifierToken, type OrgFixture, type SdkServer } from './support.js';

/** A request with a raw socket: duplicate headers exactly as sent. */
function rawRequest(url: string, lines: string[]): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end([...lines, 'Connection: close', '', ''].join('\r\n')));
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.on('end', () => resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1]), text }));
    socket.on('error', reject);
  });
}

describe.each(frameworks)('the SDK middleware in %s, against a running Keyward', (_name, start) => {
  let server: SdkServer;
  let org: OrgFixture;
  let verifier: RemoteVerifier;
  let app: ProtectedApp;
  let down: ProtectedApp;
  let downVerifier: RemoteVerifier;
  let projectId: string;
  let ownerKey: string;
  let memberKey: string;
  let memberKeyId: string;

  beforeAll(async () => {
    server = await startSdkServer();
    org = await createOrg(server);
    projectId = await createProject(server, org);
    verifier = createRemoteVerifier({ url: server.url, verifierToken: await verifierToken(server, org.orgId) });
    await verifier.ready();
    app = await start(verifier);
    downVerifier = createRemoteVerifier({ url: 'http://127.0.0.1:1', verifierToken: 'kwv_x', cache: false, timeoutMs: 300 });
    down = await start(downVerifier);
    ownerKey = (await org.createKey(org.owner)).token;
    const member = await org.addMember('MEMBER');
    const created = await org.createKey(member);
    memberKey = created.token;
    memberKeyId = created.apiKey.id;
  });
  afterAll(async () => {
    await app?.close();
    await down?.close();
    await verifier?.close();
    await downVerifier?.close();
    await server?.close();
  });

  const send = (path: string, headers: Record<string, string>, method = 'GET') => call({ url: app.url }, method, path, { headers });

  it('lets a valid key through and puts its identity on the request', async () => {
    const answer = await send('/v1/traces', { authorization: `Bearer ${ownerKey}`, 'x-project-id': projectId }, 'POST');
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ organizationId: org.orgId, keyType: 'personal', ownerUserId: org.owner.userId, projectId });
    expect(answer.body.keyId).toMatch(/^key_/);
    expect(answer.body.permissions).toContain('traces:write');
    for (const carrier of ['x-api-key', 'X-Auth-Token']) {
      const other = await send('/v1/whoami', { [carrier]: ownerKey });
      expect(other.status, carrier).toBe(200);
      expect(other.body.keyId).toBe(answer.body.keyId);
    }
  });

  it('answers 401 with one uniform body for a missing, unknown, mistyped, malformed or revoked key', async () => {
    const missing = await send('/v1/whoami', {});
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="test-api"');
    expect(missing.body).toEqual({ error: 'unauthorized', message: 'A valid API key is required.' });

    const revoked = await org.createKey(org.owner);
    await send('/v1/whoami', { 'x-api-key': revoked.token }); // cached as valid first
    await revoke(server, org, revoked.apiKey.id);
    const presented: Record<string, string>[] = [
      { authorization: `Bearer ${revoked.token}` },
      { authorization: 'Bearer kw_AAAAAAAAAAAAAAAA_' + 'b'.repeat(49) },
      { 'x-api-key': ownerKey.slice(0, -1) + (ownerKey.endsWith('a') ? 'b' : 'a') },
      { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
      { 'x-api-key': 'not a key' },
    ];
    for (const headers of presented) {
      const answer = await send('/v1/whoami', headers);
      expect(answer.status, JSON.stringify(headers)).toBe(401);
      expect(answer.text).toBe(missing.text);
      expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="test-api", error="invalid_token"');
    }
  });

  it('answers 403 insufficient_permissions for a key that may not, and names the missing project', async () => {
    const denied = await send('/v1/secrets', { 'x-api-key': memberKey, 'x-project-id': projectId }, 'POST');
    expect(denied.status).toBe(403);
    expect(denied.body.error).toBe('insufficient_permissions');
    expect(denied.headers.get('www-authenticate')).toBe('Bearer realm="test-api", error="insufficient_scope"');
    expect(denied.text).not.toContain(memberKeyId);

    // Without a project header an organization-wide key is checked at organization scope (issue 12)...
    expect((await send('/v1/traces', { 'x-api-key': memberKey }, 'POST')).status).toBe(200);
    // ...and a key whose rights reach only some projects is asked to name one.
    const other = await createProject(server, org);
    const twoProjects = await org.createKey(org.owner, { keyType: 'service', projectIds: [projectId, other] });
    const noProject = await send('/v1/traces', { 'x-api-key': twoProjects.token }, 'POST');
    expect(noProject.status).toBe(403);
    expect(noProject.body.error).toBe('insufficient_permissions');
    expect(noProject.body.message).toContain('X-Project-Id');

    // Resource scopes: a key scoped to one project reads its traces only.
    const scoped = await org.createKey(org.owner, { scopes: [{ action: 'read', resource: `projects/${projectId}/*` }] });
    const allowed = await send(`/v1/projects/${projectId}/traces/tr_1`, { 'x-api-key': scoped.token });
    expect(allowed.status).toBe(200);
    expect(allowed.body.projectId).toBe(projectId);
    const elsewhere = await createProject(server, org);
    const outside = await send(`/v1/projects/${elsewhere}/traces/tr_1`, { 'x-api-key': scoped.token });
    expect(outside.status).toBe(403);
  });

  it('answers 403 ip_not_allowed for a key used from outside its ranges', async () => {
    const fenced = await org.createKey(org.owner, { allowedCidrs: ['10.0.0.0/8'] });
    const answer = await send('/v1/whoami', { 'x-api-key': fenced.token });
    expect(answer.status).toBe(403);
    expect(answer.body).toEqual({ error: 'ip_not_allowed', message: 'This key may not be used from this address.' });
    const local = await org.createKey(org.owner, { allowedCidrs: ['127.0.0.0/8', '::1/128'] });
    expect((await send('/v1/whoami', { 'x-api-key': local.token })).status).toBe(200);
  });

  it('answers 400 invalid_request, not 500, for a project or resource holding control characters (issue 10)', async () => {
    const tabbed = await send('/v1/traces', { 'x-api-key': ownerKey, 'x-project-id': `${projectId}\tx` }, 'POST');
    expect(tabbed.status).toBe(400);
    expect(tabbed.body.error).toBe('invalid_request');
    const nul = await send(`/v1/projects/${projectId}/traces/tr%001`, { 'x-api-key': ownerKey });
    expect(nul.status).toBe(400);
    expect(nul.body.error).toBe('invalid_request');
  });

  it('answers 400 invalid_request for two credentials, as headers of two kinds or one header twice', async () => {
    const both = await send('/v1/whoami', { authorization: `Bearer ${ownerKey}`, 'x-api-key': ownerKey });
    expect(both.status).toBe(400);
    expect(both.body.error).toBe('invalid_request');
    const host = new URL(app.url).host;
    for (const header of ['Authorization: Bearer ', 'x-api-key: ', 'X-Auth-Token: ']) {
      const twice = await rawRequest(app.url, ['GET /v1/whoami HTTP/1.1', `Host: ${host}`, `${header}${ownerKey}`, `${header}${memberKey}`]);
      expect(twice.status, header).toBe(400);
      expect(twice.text).toContain('invalid_request');
    }
  });

  it('fails closed with 503 when Keyward cannot be reached', async () => {
    const answer = await call({ url: down.url }, 'GET', '/v1/whoami', { headers: { 'x-api-key': ownerKey } });
    expect(answer.status).toBe(503);
    expect(answer.body.error).toBe('service_unavailable');
    expect(answer.headers.get('retry-after')).toBe('1');
  });
});
