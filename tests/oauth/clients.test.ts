import { readFileSync } from 'node:fs';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { ClientCredentials } from 'simple-oauth2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, clientIdOf, createOrg, postForm, startOAuthServer, tokenFor, type OrgFixture, type TestServer } from './support.js';

/**
 * Off-the-shelf OAuth clients and JWT libraries as oracles: they work against the server unchanged,
 * and every token they get passes jose's and oauth4webapi's RFC 9068 checks.
 */
describe('OAuth with stock clients', () => {
  let server: TestServer;
  let org: OrgFixture;
  let issuer: string;
  let jwks: ReturnType<typeof createRemoteJWKSet>;
  const issued: string[] = [];

  beforeAll(async () => {
    server = await startOAuthServer();
    org = await createOrg(server);
    issuer = server.url;
    jwks = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
  });
  afterAll(async () => server?.close());

  it('serves RFC 8414 metadata with client credentials only, both auth methods and every endpoint (R39)', async () => {
    const answer = await call(server, 'GET', '/.well-known/oauth-authorization-server');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.body).toMatchObject({
      issuer,
      token_endpoint: `${issuer}/oauth/token`,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      grant_types_supported: ['client_credentials'],
      response_types_supported: [],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      revocation_endpoint: `${issuer}/oauth/revoke`,
      introspection_endpoint: `${issuer}/oauth/introspect`,
    });
    expect(answer.body.scopes_supported).toEqual(expect.arrayContaining(['traces:read', 'traces:write', 'organization:manage']));
  });

  it('serves a JWKS of public keys with unique kids, use sig, an alg, and public caching of at most 300 s (R36)', async () => {
    const answer = await call(server, 'GET', '/.well-known/jwks.json');
    expect(answer.status).toBe(200);
    const cache = answer.headers.get('cache-control')!;
    expect(cache).toMatch(/^public, max-age=(\d+)$/);
    expect(Number(/max-age=(\d+)/.exec(cache)![1])).toBeLessThanOrEqual(300);
    const keys: any[] = answer.body.keys;
    expect(keys.length).toBeGreaterThanOrEqual(2);
    expect(new Set(keys.map((k) => k.kid)).size).toBe(keys.length);
    for (const key of keys) {
      expect(key).toMatchObject({ use: 'sig', alg: 'ES256', kty: 'EC', crv: 'P-256' });
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(key).not.toHaveProperty(member);
    }
  });

  it('keeps no private key in clear in the database: the private JWKs are AES-GCM envelopes (R7)', async () => {
    const url: string = (server.composed.services.deps.store as any).url;
    const file = readFileSync(url.slice('sqlite:'.length));
    expect(file.includes(Buffer.from('"d":'))).toBe(false);
    const keys = await server.composed.services.deps.store.signingKeys.listForOrg(org.orgId as never);
    expect(keys.length).toBeGreaterThanOrEqual(2);
    for (const key of keys) {
      expect(key.privateKeyCiphertext).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(JSON.stringify(key.publicJwk)).not.toContain('"d"');
    }
    const listed = await call(server, 'GET', '/api/signing-keys', { token: org.owner.session });
    expect(listed.status).toBe(200);
    expect(listed.text).not.toMatch(/"d"|ciphertext|"x"|"n"/);
  });

  it('gets, introspects and revokes a token with openid-client after discovery (algorithm oauth2)', async () => {
    const config = await client.discovery(new URL(issuer), clientIdOf(org.adminKey), org.adminKey, undefined, {
      algorithm: 'oauth2',
      execute: [client.allowInsecureRequests],
    });
    expect(config.serverMetadata().issuer).toBe(issuer);
    const tokens = await client.clientCredentialsGrant(config, { scope: 'traces:read' });
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.expires_in).toBe(600);
    expect(tokens.scope).toBe('traces:read');
    expect(tokens).not.toHaveProperty('refresh_token');
    issued.push(tokens.access_token);

    const introspection = await client.tokenIntrospection(config, tokens.access_token);
    expect(introspection).toMatchObject({ active: true, client_id: clientIdOf(org.adminKey), sub: clientIdOf(org.adminKey), scope: 'traces:read', iss: issuer });
    expect(introspection.org_id).toBe(org.orgId);

    await client.tokenRevocation(config, tokens.access_token);
    expect(await client.tokenIntrospection(config, tokens.access_token)).toEqual({ active: false });
    expect((await call(server, 'GET', '/api/auth/whoami', { token: tokens.access_token })).status).toBe(401);
  });

  it('authenticates with openid-client ClientSecretBasic as well (form-encoded, then base64)', async () => {
    const config = await client.discovery(new URL(issuer), clientIdOf(org.adminKey), undefined, client.ClientSecretBasic(org.adminKey), {
      algorithm: 'oauth2',
      execute: [client.allowInsecureRequests],
    });
    const tokens = await client.clientCredentialsGrant(config);
    issued.push(tokens.access_token);
    expect(tokens.scope).toContain('organization:manage');
  });

  it('gets and revokes a token with simple-oauth2 on its default paths', async () => {
    const member = await org.addMember('MEMBER');
    const { token: key } = await org.createKey(member);
    const oauth2 = new ClientCredentials({ client: { id: clientIdOf(key), secret: key }, auth: { tokenHost: issuer } });
    const accessToken = await oauth2.getToken({ scope: ['traces:read', 'datasets:write'] });
    const value = accessToken.token.access_token as string;
    expect(accessToken.token).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'traces:read datasets:read datasets:write' });
    issued.push(value);
    const whoami = await call(server, 'GET', '/api/auth/whoami', { token: value });
    expect(whoami.body).toMatchObject({ principal: { type: 'access_token', id: clientIdOf(key) }, permissions: ['traces:read', 'datasets:read', 'datasets:write'] });
    await accessToken.revoke('access_token');
    expect((await call(server, 'GET', '/api/auth/whoami', { token: value })).status).toBe(401);

    const json = new ClientCredentials({ client: { id: clientIdOf(key), secret: key }, auth: { tokenHost: issuer }, options: { bodyFormat: 'json' } });
    await expect(json.getToken({})).rejects.toMatchObject({ output: { statusCode: 400 }, data: { payload: { error: 'invalid_request' } } });
  });

  it('verifies every issued token with jose through the remote JWKS and with oauth4webapi (RFC 9068)', async () => {
    for (let i = 0; i < 3; i++) issued.push(await tokenFor(server, org.adminKey));
    issued.push(await tokenFor(server, org.adminKey, { resource: 'https://api.example.test/v1' }));
    const as = (await oauth.processDiscoveryResponse(
      new URL(issuer),
      await oauth.discoveryRequest(new URL(issuer), { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true }),
    )) as oauth.AuthorizationServer;
    expect(issued.length).toBeGreaterThanOrEqual(7);
    for (const token of issued) {
      const header = decodeProtectedHeader(token);
      expect(header).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
      expect(header.kid).toMatch(/^sk_/);
      const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
      const audience = payload.aud as string;
      const { payload: claims } = await jwtVerify(token, jwks, {
        typ: 'at+jwt',
        issuer,
        audience,
        algorithms: ['ES256'],
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id', 'scope'],
      });
      expect(claims.sub).toBe(claims.client_id);
      expect(claims.sub).toMatch(/^key_/);
      expect(claims.org_id).toBe(org.orgId);
      expect(claims.exp! - claims.iat!).toBe(600);
      expect(Buffer.from(claims.jti!, 'base64url').length).toBeGreaterThanOrEqual(16);
      const request = new Request('https://rs.example.test/', { headers: { authorization: `Bearer ${token}` } });
      const validated = await oauth.validateJwtAccessToken(as, request, audience, { [oauth.allowInsecureRequests]: true });
      expect(validated.client_id).toBe(claims.client_id);
    }
    expect(new Set(issued.map((t) => JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()).jti)).size).toBe(issued.length);
  });

  it('answers the token endpoint with no-store, no-cache and JSON in UTF-8, success and error alike (R32)', async () => {
    const ok = await postForm(server, '/oauth/token', { grant_type: 'client_credentials', client_id: clientIdOf(org.adminKey), client_secret: org.adminKey });
    const bad = await postForm(server, '/oauth/token', { grant_type: 'client_credentials', client_id: clientIdOf(org.adminKey), client_secret: `${org.adminKey}x` });
    for (const answer of [ok, bad]) {
      expect(answer.headers.get('cache-control')).toBe('no-store');
      expect(answer.headers.get('pragma')).toBe('no-cache');
      expect(answer.headers.get('content-type')).toBe('application/json;charset=UTF-8');
    }
    expect(ok.status).toBe(200);
    expect(Object.keys(ok.body).sort()).toEqual(['access_token', 'expires_in', 'scope', 'token_type']);
    expect(bad.status).toBe(401);
  });

  it('writes no API key, client secret or access token to the log', async () => {
    await postForm(server, '/oauth/token?unused=1', { grant_type: 'client_credentials', client_id: clientIdOf(org.adminKey), client_secret: org.adminKey });
    await postForm(server, '/oauth/token', { grant_type: 'client_credentials', client_id: clientIdOf(org.adminKey), client_secret: `${org.adminKey}x` });
    const log = server.logs.join('');
    expect(log.length).toBeGreaterThan(0);
    expect(log).not.toContain(org.adminKey.slice(-20));
    for (const token of issued) expect(log).not.toContain(token.split('.')[2]!);
  });
});
