import { createVerifier, type OrgId } from '@keyward/core';
import { AccessTokenRejectedError, TokenRequestError, clientIdOf, createAccessTokenVerifier, createTokenClient } from '@keyward/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrg, startOAuthServer, type OrgFixture, type TestServer } from './support.js';

/** The SDK against a running server: tokens for clients, offline verification for resource servers. */
describe('SDK: getAccessToken and offline verification', () => {
  let server: TestServer;
  let org: OrgFixture;
  let verifierToken: string;

  beforeAll(async () => {
    server = await startOAuthServer();
    org = await createOrg(server);
    verifierToken = (await createVerifier(server.composed.services.deps, { name: 'rs', orgId: org.orgId as OrgId })).token;
  });
  afterAll(async () => server?.close());

  function countingFetch() {
    const calls: string[] = [];
    const wrapped: typeof fetch = async (input, init) => {
      calls.push(String(input));
      return fetch(input, init);
    };
    return { calls, fetch: wrapped };
  }

  it('reads the client id off a key', () => {
    expect(clientIdOf(org.adminKey)).toMatch(/^key_[0-9A-Za-z]{16}$/);
    expect(clientIdOf('sk-lw-AAAAAAAAAAAAAAAA_' + 'b'.repeat(49))).toBe('key_AAAAAAAAAAAAAAAA');
    expect(clientIdOf('kw_' + 'c'.repeat(49))).toBeNull();
  });

  it('caches a token, renews it in the background before expiry, and asks once for concurrent callers', async () => {
    let now = Date.now();
    const { calls, fetch } = countingFetch();
    const tokens = createTokenClient({ issuer: server.url, apiKey: org.adminKey, fetch, now: () => now, renewBeforeSeconds: 60 });
    const [a, b, c] = await Promise.all([tokens.getAccessToken(), tokens.getAccessToken(), tokens.getAccessToken()]);
    expect(calls).toHaveLength(1);
    expect(new Set([a, b, c]).size).toBe(1);
    now += 500_000;
    expect(await tokens.getAccessToken()).toBe(a);
    expect(calls).toHaveLength(1);
    now += 50_000; // inside the last minute: the cached token still answers, a new one is fetched meanwhile
    expect(await tokens.getAccessToken()).toBe(a);
    await new Promise((r) => setTimeout(r, 200));
    expect(calls).toHaveLength(2);
    const renewed = await tokens.getAccessToken();
    expect(renewed).not.toBe(a);
    now += 700_000; // past the renewed token's expiry: the caller waits for a new one
    const third = await tokens.getToken();
    expect(third.accessToken).not.toBe(renewed);
    expect(third.expiresAt.getTime()).toBe(now + 600_000);
    expect(calls).toHaveLength(3);
    expect((await call(server, 'GET', '/api/auth/whoami', { token: third.accessToken })).status).toBe(200);
  });

  it('narrows tokens to a scope, and reports refusals with the OAuth error', async () => {
    const narrowed = await createTokenClient({ issuer: server.url, apiKey: org.adminKey, scope: ['traces:read'] }).getToken();
    expect(narrowed.scope).toEqual(['traces:read']);
    const wrongKey = createTokenClient({ issuer: server.url, apiKey: org.adminKey, clientId: 'key_0000000000000000' });
    await expect(wrongKey.getAccessToken()).rejects.toMatchObject({ error: 'invalid_client', status: 401 });
    const tooWide = createTokenClient({ issuer: server.url, apiKey: org.adminKey, scope: 'nonsense:read' });
    await expect(tooWide.getAccessToken()).rejects.toBeInstanceOf(TokenRequestError);
  });

  it('verifies tokens offline against the JWKS, and refuses other audiences, expired and forged tokens', async () => {
    const verifier = createAccessTokenVerifier({ issuer: server.url });
    const client = createTokenClient({ issuer: server.url, apiKey: org.adminKey, scope: 'traces:write' });
    const token = await client.getAccessToken();
    const verified = await verifier.verify(token);
    expect(verified).toMatchObject({ keyId: clientIdOf(org.adminKey), organizationId: org.orgId, scope: ['traces:read', 'traces:write'] });
    expect(verified.expiresAt.getTime()).toBeGreaterThan(Date.now());

    const forApi = await createTokenClient({ issuer: server.url, apiKey: org.adminKey, resource: 'https://api.example.test' }).getAccessToken();
    await expect(verifier.verify(forApi)).rejects.toMatchObject({ code: 'invalid_token' });
    const apiVerifier = createAccessTokenVerifier({ issuer: server.url, audience: 'https://api.example.test' });
    expect((await apiVerifier.verify(forApi)).keyId).toBe(clientIdOf(org.adminKey));

    const late = createAccessTokenVerifier({ issuer: server.url, currentDate: () => new Date(verified.expiresAt.getTime() + 31_000) });
    await expect(late.verify(token)).rejects.toBeInstanceOf(AccessTokenRejectedError);
    const [h, p, s] = token.split('.');
    const widened = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), scope: 'organization:manage' })).toString('base64url');
    await expect(verifier.verify(`${h}.${widened}.${s}`)).rejects.toMatchObject({ code: 'invalid_token' });
    await expect(verifier.verify(org.adminKey)).rejects.toMatchObject({ code: 'invalid_token' });
  });

  it('accepts a token of a revoked key offline until exp, and refuses it at once with the online check', async () => {
    const member = await org.addMember('ADMIN');
    const { token: key, apiKey } = await org.createKey(member);
    const token = await createTokenClient({ issuer: server.url, apiKey: key }).getAccessToken();
    const offline = createAccessTokenVerifier({ issuer: server.url });
    const online = createAccessTokenVerifier({ issuer: server.url, online: { verifierToken } });
    expect((await online.verify(token)).keyId).toBe(apiKey.id);
    expect((await call(server, 'DELETE', `/api/api-keys/${apiKey.id}`, { token: member.session })).status).toBe(200);
    // Offline verification cannot know: documented in docs/oauth.md.
    expect((await offline.verify(token)).keyId).toBe(apiKey.id);
    await expect(online.verify(token)).rejects.toMatchObject({ code: 'revoked' });
    const unreachable = createAccessTokenVerifier({
      issuer: server.url,
      online: { verifierToken },
      jwks: async (header, input) => (await import('jose')).createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`))(header, input),
      fetch: async (input, init) => (String(input).includes('introspect') ? Promise.reject(new Error('down')) : fetch(input, init)),
    });
    const live = await createTokenClient({ issuer: server.url, apiKey: org.adminKey }).getAccessToken();
    await expect(unreachable.verify(live)).rejects.toMatchObject({ code: 'invalid_token' });
  });
});
