import { createHmac, generateKeyPairSync } from 'node:crypto';
import { createVerifier, signCompact, type OrgId, type SigningAlgorithm } from '@keyward/core';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrg, movableClock, startOAuthServer, tokenFor, type OrgFixture, type TestServer } from './support.js';

const b64url = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const decode = (token: string) => ({
  header: JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()),
  claims: JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()),
});

/**
 * Where this server accepts its own tokens (R35): the management API, whoami and the verify endpoint
 * refuse forged, confused and stale tokens, and honour `exp` exactly, with a controlled clock.
 */
describe('access tokens are refused when they should be', () => {
  const clock = movableClock();
  let server: TestServer;
  let org: OrgFixture;
  let other: OrgFixture;
  let verifierToken: string;
  let orgVerifierToken: string;
  let otherVerifierToken: string;

  /** Signs a token with the organization's real current key, with whatever header and claims. */
  async function forge(header: Record<string, unknown>, claims: Record<string, unknown>, orgId = org.orgId): Promise<string> {
    const keySet = await server.composed.services.oauth.ring.keySet(orgId as OrgId);
    const signer = keySet.signer!;
    return signCompact(b64url({ alg: signer.algorithm, typ: 'at+jwt', kid: signer.kid, ...header }), signer.algorithm as SigningAlgorithm, signer.privateKey, claims);
  }

  const whoami = (token: string) => call(server, 'GET', '/api/auth/whoami', { token });
  const verify = (key: string, credential = verifierToken, extra: Record<string, unknown> = {}) =>
    call(server, 'POST', '/api/keys/verify', { token: credential, body: { key, ...extra } });

  beforeAll(async () => {
    server = await startOAuthServer({ clock });
    org = await createOrg(server);
    other = await createOrg(server);
    const { deps } = server.composed.services;
    verifierToken = (await createVerifier(deps, { name: 'gateway', orgId: null })).token;
    orgVerifierToken = (await createVerifier(deps, { name: 'org gateway', orgId: org.orgId as OrgId })).token;
    otherVerifierToken = (await createVerifier(deps, { name: 'other gateway', orgId: other.orgId as OrgId })).token;
  });
  afterAll(async () => server?.close());

  it('accepts a genuine token on whoami, the management API, x-api-key and the verify endpoint', async () => {
    const token = await tokenFor(server, org.adminKey);
    expect((await whoami(token)).body.principal).toEqual({ type: 'access_token', id: decode(token).claims.client_id });
    expect((await call(server, 'GET', '/api/api-keys', { token })).status).toBe(200);
    expect((await call(server, 'GET', '/api/auth/whoami', { headers: { 'x-api-key': token } })).status).toBe(200);
    const verdict = await verify(token, verifierToken, { permission: 'organization:manage' });
    expect(verdict.body).toMatchObject({ valid: true, code: 'VALID', keyId: decode(token).claims.client_id, organizationId: org.orgId });
    // A genuine token re-signed by the same key still passes: the forging helper itself is sound.
    const { claims } = decode(token);
    expect((await whoami(await forge({}, claims))).status).toBe(200);
  });

  it('refuses alg none, HS256 signed with the public key, and an unknown or mismatched kid', async () => {
    const token = await tokenFor(server, org.adminKey);
    const { header, claims } = decode(token);
    const none = `${b64url({ alg: 'none', typ: 'at+jwt', kid: header.kid })}.${b64url(claims)}.`;
    const jwks = (await call(server, 'GET', '/.well-known/jwks.json')).body.keys as any[];
    const publicJwk = jwks.find((k) => k.kid === header.kid);
    const hsInput = `${b64url({ alg: 'HS256', typ: 'at+jwt', kid: header.kid })}.${b64url(claims)}`;
    const hsTokens = [JSON.stringify(publicJwk), publicJwk.x, Buffer.from(publicJwk.x, 'base64url')].map(
      (secret) => `${hsInput}.${createHmac('sha256', secret).update(hsInput).digest('base64url')}`,
    );
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const unknownKid = signCompact(b64url({ alg: 'ES256', typ: 'at+jwt', kid: 'sk_UnknownKid12345' }), 'ES256', stranger, claims);
    const wrongKey = signCompact(b64url({ alg: 'ES256', typ: 'at+jwt', kid: header.kid }), 'ES256', stranger, claims);
    const otherOrgKid = (await call(server, 'GET', '/.well-known/jwks.json')).body.keys.map((k: any) => k.kid).find((kid: string) => kid !== header.kid);
    const foreignKid = await forge({ kid: otherOrgKid }, claims);
    for (const forged of [none, ...hsTokens, unknownKid, wrongKey, foreignKid]) {
      expect((await whoami(forged)).status).toBe(401);
      expect((await verify(forged)).body).toMatchObject({ valid: false, code: 'NOT_FOUND' });
    }
  });

  it('refuses a wrong or missing typ, key-naming headers, a foreign issuer, and a tampered payload', async () => {
    const { claims } = decode(await tokenFor(server, org.adminKey));
    const cases = [
      await forge({ typ: 'JWT' }, claims),
      await forge({ typ: undefined }, claims),
      await forge({ jku: 'https://evil.example/jwks.json' }, claims),
      await forge({ jwk: { kty: 'EC' } }, claims),
      await forge({ x5u: 'https://evil.example/cert' }, claims),
      await forge({}, { ...claims, iss: `${server.url}/` }),
      await forge({}, { ...claims, iss: 'https://evil.example' }),
      await forge({}, { ...claims, sub: 'usr_0000000000000000' }),
      await forge({}, { ...claims, jti: undefined }),
      await forge({}, { ...claims, org_id: other.orgId }),
    ];
    const genuine = await tokenFor(server, org.adminKey, { scope: 'traces:read' });
    const [h, p, s] = genuine.split('.');
    const widened = JSON.parse(Buffer.from(p!, 'base64url').toString());
    cases.push(`${h}.${b64url({ ...widened, scope: 'traces:read organization:manage' })}.${s}`);
    for (const forged of cases) {
      expect((await whoami(forged)).status).toBe(401);
      expect((await verify(forged)).body.valid).toBe(false);
    }
  });

  it('refuses a token for another audience on this API, and another organization\'s token for a verifier scoped elsewhere', async () => {
    const { claims } = decode(await tokenFor(server, org.adminKey));
    expect((await whoami(await forge({}, { ...claims, aud: 'https://api.example.test' }))).status).toBe(401);
    const token = await tokenFor(server, org.adminKey);
    expect((await verify(token, orgVerifierToken)).body).toMatchObject({ valid: true, organizationId: org.orgId });
    expect((await verify(token, otherVerifierToken)).body).toEqual({ valid: false, code: 'NOT_FOUND', explanation: expect.any(String) });
    const otherToken = await tokenFor(server, other.adminKey);
    expect((await whoami(otherToken)).body.organizationId).toBe(other.orgId);
    expect((await call(server, 'GET', `/api/api-keys/${decode(token).claims.client_id}`, { token: otherToken })).status).toBe(404);
  });

  it('narrows the verify endpoint to the token scope', async () => {
    const token = await tokenFor(server, org.adminKey, { scope: 'traces:read' });
    const project = await call(server, 'POST', '/api/projects', { token: org.owner.session, body: { name: `p ${Date.now()}` } });
    const projectId = project.body.project.id;
    expect((await verify(token, verifierToken, { permission: 'traces:read', projectId })).body).toMatchObject({ valid: true, permissions: ['traces:read'] });
    expect((await verify(token, verifierToken, { permission: 'traces:write', projectId })).body).toMatchObject({ valid: false, code: 'INSUFFICIENT_PERMISSIONS' });
    expect((await call(server, 'GET', '/api/api-keys', { token })).status).toBe(403);
  });

  it('honours exp to the second on every online path, with the server clock moved rather than waited for', async () => {
    const token = await tokenFor(server, org.adminKey);
    const { claims } = decode(token);
    expect(claims.exp - claims.iat).toBe(600);
    const start = clock.now().getTime();
    clock.set(claims.exp * 1000 - 1000);
    expect((await whoami(token)).status).toBe(200);
    expect((await verify(token)).body.valid).toBe(true);
    clock.set(claims.exp * 1000);
    expect((await whoami(token)).status).toBe(401);
    expect((await verify(token)).body).toMatchObject({ valid: false, code: 'EXPIRED' });
    const introspection = await call(server, 'POST', '/oauth/introspect', {
      token: verifierToken,
      rawBody: new URLSearchParams({ token }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(introspection.body).toEqual({ active: false });
    const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
    const options = { issuer: server.url, audience: server.url, typ: 'at+jwt', algorithms: ['ES256'] };
    await expect(jwtVerify(token, jwks, { ...options, currentDate: new Date(claims.exp * 1000 - 1000) })).resolves.toBeTruthy();
    await expect(jwtVerify(token, jwks, { ...options, currentDate: new Date(claims.exp * 1000) })).rejects.toBeInstanceOf(joseErrors.JWTExpired);
    // Issued in the future beyond the skew, or not yet valid: refused too.
    clock.set(start);
    expect((await whoami(await forge({}, { ...claims, iat: Math.floor(start / 1000) + 120, exp: Math.floor(start / 1000) + 700 }))).status).toBe(401);
    expect((await whoami(await forge({}, { ...claims, nbf: Math.floor(start / 1000) + 120 }))).status).toBe(401);
    expect((await whoami(await forge({}, { ...claims, iat: Math.floor(start / 1000) + 30 }))).status).toBe(200);
  });
});
