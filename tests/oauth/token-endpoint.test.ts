import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, call, clientIdOf, createOrg, postForm, startOAuthServer, type OrgFixture, type TestServer } from './support.js';

const grant = { grant_type: 'client_credentials' };
const b64 = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;

function expectOAuthError(answer: { status: number; body: any; headers: Headers }, status: number, error: string) {
  expect({ status: answer.status, error: answer.body?.error }).toEqual({ status, error });
  expect(typeof answer.body.error_description).toBe('string');
  expect(answer.headers.get('cache-control')).toBe('no-store');
  expect(answer.headers.get('pragma')).toBe('no-cache');
  expect(answer.headers.get('content-type')).toBe('application/json;charset=UTF-8');
}

/** A raw request over a socket, for what fetch will not send (a repeated Authorization header). */
function rawPost(url: string, path: string, headers: [string, string][], body: string): Promise<{ status: number; body: any }> {
  const { hostname, port } = new URL(url);
  const lines = [`POST ${path} HTTP/1.1`, `host: ${hostname}:${port}`, ...headers.map(([name, value]) => `${name}: ${value}`), `content-length: ${Buffer.byteLength(body)}`, 'connection: close'];
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`));
    let data = '';
    socket.on('data', (d: Buffer) => (data += d.toString()));
    socket.on('end', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1]), body: JSON.parse(data.slice(data.indexOf('\r\n\r\n') + 4)) }));
    socket.on('error', reject);
  });
}

/** The RFC 6749 negative cases of the token endpoint (R28–R32, R45), node-oidc-provider's list among them. */
describe('POST /oauth/token refuses what RFC 6749 says it must', () => {
  let server: TestServer;
  let org: OrgFixture;
  let key: string;
  let id: string;

  beforeAll(async () => {
    server = await startOAuthServer({ env: { KEYWARD_AUTH_FAILURES_PER_MINUTE: '1000' } });
    org = await createOrg(server);
    key = org.adminKey;
    id = clientIdOf(key);
  });
  afterAll(async () => server?.close());

  it('accepts HTTP Basic with Appendix-B decoding, including over-encoded characters', async () => {
    expect((await postForm(server, '/oauth/token', grant, { authorization: basic(id, key) })).status).toBe(200);
    // Every character percent-encoded, as a strict Appendix-B encoder may do: still the same id and secret.
    const encodeAll = (text: string) => [...text].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('');
    const answer = await postForm(server, '/oauth/token', grant, { authorization: b64(`${encodeAll(id)}:${encodeAll(key)}`) });
    expect(answer.status).toBe(200);
  });

  it('refuses malformed Basic credentials with invalid_request: no colon, non-base64, bad padding, bad encoding, no secret', async () => {
    const cases = [
      b64(`${id}${key}`),
      `Basic ${Buffer.from(`${id}:${key}`).toString('base64').slice(0, -2)}!!`,
      `Basic ${Buffer.from(`${id}:${key}`).toString('base64')}===`,
      b64(`${id}:%zz${key}`),
      b64(`${id}:`),
      `Basic`,
      `Basic a b`,
    ];
    for (const authorization of cases) expectOAuthError(await postForm(server, '/oauth/token', grant, { authorization }), 400, 'invalid_request');
    // Decoding works for identifiers RFC 6749 Appendix B uses as its example; no such client exists.
    expectOAuthError(await postForm(server, '/oauth/token', grant, { authorization: basic('an:identifier', ' %&+') }), 401, 'invalid_client');
  });

  it('refuses two authentication methods at once, a Basic id that differs from the body, and a repeated Authorization header', async () => {
    expectOAuthError(await postForm(server, '/oauth/token', { ...grant, client_secret: key }, { authorization: basic(id, key) }), 400, 'invalid_request');
    expectOAuthError(await postForm(server, '/oauth/token', { ...grant, client_id: 'key_0000000000000000' }, { authorization: basic(id, key) }), 400, 'invalid_request');
    expect((await postForm(server, '/oauth/token', { ...grant, client_id: id }, { authorization: basic(id, key) })).status).toBe(200);
    const twice = await rawPost(server.url, '/oauth/token', [['content-type', 'application/x-www-form-urlencoded'], ['authorization', basic(id, key)], ['authorization', basic(id, key)]], 'grant_type=client_credentials');
    expect(twice).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  });

  it('answers invalid_client with 401 and a Basic challenge for unknown, mismatched, wrong and revoked keys', async () => {
    const member = await org.addMember('MEMBER');
    const other = await org.createKey(member);
    const revoked = await org.createKey(member);
    expect((await call(server, 'DELETE', `/api/api-keys/${revoked.apiKey.id}`, { token: member.session })).status).toBe(200);
    const cases: [string, string][] = [
      ['key_0000000000000000', key.replace(/[0-9A-Za-z]{16}_/, '0000000000000000_')],
      [clientIdOf(other.token), key],
      [id, other.token],
      [id, `${key.slice(0, -1)}${key.endsWith('a') ? 'b' : 'a'}`],
      [clientIdOf(revoked.token), revoked.token],
      [id, 'not-a-key'],
    ];
    for (const [clientId, secret] of cases) {
      for (const answer of [
        await postForm(server, '/oauth/token', grant, { authorization: basic(clientId, secret) }),
        await postForm(server, '/oauth/token', { ...grant, client_id: clientId, client_secret: secret }),
      ]) {
        expectOAuthError(answer, 401, 'invalid_client');
        expect(answer.headers.get('www-authenticate')).toBe('Basic realm="keyward"');
      }
    }
    expectOAuthError(await postForm(server, '/oauth/token', grant), 401, 'invalid_client');
    expectOAuthError(await postForm(server, '/oauth/token', { ...grant, client_id: id }), 401, 'invalid_client');
  });

  it('reads a chunked form body like any other', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('grant_type=client_'));
        controller.enqueue(new TextEncoder().encode('credentials&scope=traces:read'));
        controller.close();
      },
    });
    const response = await fetch(`${server.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(id, key) },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(200);
    expect((await response.json()).scope).toBe('traces:read');
  });

  it('answers alike through the fast lane and through the Fastify route (a query string takes the route)', async () => {
    const cases: [Record<string, string>, Record<string, string>][] = [
      [grant, { authorization: basic(id, key) }],
      [{ ...grant, scope: 'traces:read' }, { authorization: basic(id, key) }],
      [{ ...grant, scope: 'nonsense:read' }, { authorization: basic(id, key) }],
      [grant, { authorization: basic(id, `${key}x`) }],
      [{ grant_type: 'password' }, { authorization: basic(id, key) }],
      [grant, { authorization: 'Basic !!' }],
    ];
    for (const [params, headers] of cases) {
      const lane = await postForm(server, '/oauth/token', params, headers);
      const route = await postForm(server, '/oauth/token?via=route', params, headers);
      expect(route.status).toBe(lane.status);
      expect(Object.keys(route.body).sort()).toEqual(Object.keys(lane.body).sort());
      if (lane.status !== 200) expect(route.body).toEqual(lane.body);
      for (const name of ['cache-control', 'pragma', 'content-type', 'www-authenticate', 'x-content-type-options']) {
        expect(route.headers.get(name)).toBe(lane.headers.get(name));
      }
    }
    const malformed = 'grant_type=client_credentials&scope=%zz';
    const lane = await postForm(server, '/oauth/token', malformed, { authorization: basic(id, key) });
    const route = await postForm(server, '/oauth/token?via=route', malformed, { authorization: basic(id, key) });
    expect([lane.status, lane.body.error]).toEqual([400, 'invalid_request']);
    expect(route.body).toEqual(lane.body);
  });

  it('supports only the client_credentials grant', async () => {
    for (const grantType of ['authorization_code', 'password', 'refresh_token', 'implicit', 'urn:ietf:params:oauth:grant-type:device_code']) {
      expectOAuthError(await postForm(server, '/oauth/token', { grant_type: grantType }, { authorization: basic(id, key) }), 400, 'unsupported_grant_type');
    }
    expectOAuthError(await postForm(server, '/oauth/token', {}, { authorization: basic(id, key) }), 400, 'invalid_request');
    expectOAuthError(await postForm(server, '/oauth/token', { grant_type: '' }, { authorization: basic(id, key) }), 400, 'invalid_request');
  });

  it('refuses a body over 64 KiB with 413 invalid_request, on the fast lane and on the route', async () => {
    const huge = `grant_type=client_credentials&scope=${'a'.repeat(70 * 1024)}`;
    for (const path of ['/oauth/token', '/oauth/token?via=route']) expectOAuthError(await postForm(server, path, huge, { authorization: basic(id, key) }), 413, 'invalid_request');
  });

  it('takes only forms: a JSON body, a missing content type or another one is invalid_request, and GET is refused', async () => {
    const json = await call(server, 'POST', '/oauth/token', { body: { ...grant, client_id: id, client_secret: key } });
    expectOAuthError(json, 400, 'invalid_request');
    const text = await call(server, 'POST', '/oauth/token', { rawBody: 'grant_type=client_credentials', headers: { 'content-type': 'text/plain', authorization: basic(id, key) } });
    expectOAuthError(text, 400, 'invalid_request');
    const none = await call(server, 'POST', '/oauth/token', { headers: { authorization: basic(id, key) } });
    expectOAuthError(none, 400, 'invalid_request');
    expect((await call(server, 'GET', '/oauth/token')).status).toBe(405);
  });

  it('refuses repeated parameters, and credentials in the query string; empty values count as absent', async () => {
    expectOAuthError(await postForm(server, '/oauth/token', 'grant_type=client_credentials&grant_type=client_credentials', { authorization: basic(id, key) }), 400, 'invalid_request');
    expectOAuthError(await postForm(server, '/oauth/token', 'grant_type=client_credentials&scope=traces:read&scope=traces:write', { authorization: basic(id, key) }), 400, 'invalid_request');
    const query = await call(server, 'POST', `/oauth/token?client_id=${id}&client_secret=${key}`, { rawBody: 'grant_type=client_credentials', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expectOAuthError(query, 400, 'invalid_request');
    const empty = await postForm(server, '/oauth/token', 'grant_type=client_credentials&scope=&resource=&unknown=1', { authorization: basic(id, key) });
    expect(empty.status).toBe(200);
    expect(empty.body.scope).toContain('organization:manage');
  });

  it('narrows a token with scope to a subset of the key; wider or malformed is invalid_scope', async () => {
    const member = await org.addMember('MEMBER');
    const { token: memberKey } = await org.createKey(member);
    const form = (scope: string) => postForm(server, '/oauth/token', { ...grant, scope }, { authorization: basic(clientIdOf(memberKey), memberKey) });
    const narrowed = await form('traces:write');
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.scope).toBe('traces:read traces:write');
    const whoami = await call(server, 'GET', '/api/auth/whoami', { token: narrowed.body.access_token });
    expect(whoami.body.permissions).toEqual(['traces:read', 'traces:write']);
    expectOAuthError(await form('secrets:write'), 400, 'invalid_scope');
    expectOAuthError(await form('organization:manage'), 400, 'invalid_scope');
    expectOAuthError(await form('traces:read nonsense:read'), 400, 'invalid_scope');
    expectOAuthError(await form('traces:read  traces:write'), 400, 'invalid_scope');
    expectOAuthError(await form('traces:"read'), 400, 'invalid_scope');
    const full = await postForm(server, '/oauth/token', grant, { authorization: basic(clientIdOf(memberKey), memberKey) });
    expect(full.body.scope.split(' ')).not.toContain('secrets:write');
  });

  it('addresses a token to the resource named (RFC 8707), and refuses one that is not an absolute URI', async () => {
    const token = await postForm(server, '/oauth/token', { ...grant, resource: 'https://api.example.test/v1' }, { authorization: basic(id, key) });
    expect(token.status).toBe(200);
    expect(JSON.parse(Buffer.from(token.body.access_token.split('.')[1], 'base64url').toString()).aud).toBe('https://api.example.test/v1');
    // A token for another API is not a credential for this one.
    expect((await call(server, 'GET', '/api/auth/whoami', { token: token.body.access_token })).status).toBe(401);
    for (const resource of ['not a uri', '/relative', 'https://api.example.test/#fragment']) {
      expectOAuthError(await postForm(server, '/oauth/token', { ...grant, resource }, { authorization: basic(id, key) }), 400, 'invalid_target');
    }
  });

  it('refuses a legacy project key: it has no client id', async () => {
    const project = await call(server, 'POST', '/api/projects', { token: org.owner.session, body: { name: 'Legacy' } });
    const legacy = await org.createKey(org.owner, { keyType: 'project', projectId: project.body.project.id });
    expect(legacy.apiKey.keyType).toBe('project');
    expectOAuthError(await postForm(server, '/oauth/token', { ...grant, client_id: legacy.apiKey.id, client_secret: legacy.token }), 401, 'invalid_client');
  });

  it('limits failed client authentication per client id and address with 429 and Retry-After, without locking out the client elsewhere (R45)', async () => {
    const member = await org.addMember('MEMBER');
    const { token: victim } = await org.createKey(member);
    const victimId = clientIdOf(victim);
    let limited: Awaited<ReturnType<typeof postForm>> | null = null;
    for (let i = 0; i < 40 && !limited; i++) {
      const answer = await postForm(server, '/oauth/token', { ...grant, client_id: victimId, client_secret: `${victim.slice(0, -3)}xyz` });
      if (answer.status === 429) limited = answer;
      else expect(answer.status).toBe(401);
    }
    expect(limited).not.toBeNull();
    expect(limited!.body.error).toBe('rate_limited');
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
    // The right secret from the same address is refused too while limited: no guessing past the limit.
    expect((await postForm(server, '/oauth/token', grant, { authorization: basic(victimId, victim) })).status).toBe(429);
    // Other clients from this address are not limited by it.
    expect((await postForm(server, '/oauth/token', grant, { authorization: basic(id, key) })).status).toBe(200);
  });
});

describe('POST /oauth/token limits failures per address', () => {
  let server: TestServer;
  afterAll(async () => server?.close());

  it('answers 429 with Retry-After once an address exceeds its failures; successes are not counted', async () => {
    server = await startOAuthServer({ env: { KEYWARD_AUTH_FAILURES_PER_MINUTE: '5' } });
    const org = await createOrg(server);
    const id = clientIdOf(org.adminKey);
    for (let i = 0; i < 3; i++) expect((await postForm(server, '/oauth/token', grant, { authorization: basic(id, org.adminKey) })).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      statuses.push((await postForm(server, '/oauth/token', grant, { authorization: basic(`key_${String(i).padStart(16, '0')}`, org.adminKey) })).status);
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    const limited = await postForm(server, '/oauth/token', grant, { authorization: basic(id, org.adminKey) });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
  });
});
