import { randomBytes } from 'node:crypto';
import type { Store } from '@keyward/core';
import { openStore } from '@keyward/store';
import { openTestStore, postgresAvailable, type TestStore } from '@keyward/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../support/server.js';
import { basic, call, clientIdOf, createOrg, postForm, tokenFor, type TestServer } from './support.js';
import { redisAvailable, sharedRedisUrl } from '../support/redis-server.js';

const redisUrl = sharedRedisUrl;

const ready = process.env.CI === 'true' || ((await postgresAvailable()) && (await redisAvailable()));
if (!ready) console.warn('SKIPPED: two-instance OAuth tests need PostgreSQL and Redis on 127.0.0.1 (under CI=true they run and fail instead).');

const kidOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid as string;

/** Revocations and rotations on one instance reach the other before the change's answer (R24, R25, R37). */
describe.runIf(ready)('OAuth across two instances over PostgreSQL and Redis', () => {
  let shared: TestStore;
  let second: Store;
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    shared = await openTestStore('postgres');
    second = await openStore(shared.url, { schema: shared.schema });
    // One issuer for both (the public URL), one pepper and one encryption key, as in a deployment.
    const settings = { KEYWARD_REDIS_URL: redisUrl, KEYWARD_REDIS_PREFIX: `test-${randomBytes(4).toString('hex')}`, KEYWARD_PUBLIC_URL: 'https://keys.example.test' };
    a = await startServer({ store: shared, env: settings });
    b = await startServer({ store: second, env: { ...settings, KEYWARD_PEPPER: a.config.peppers[0]!.key.toString('hex'), KEYWARD_ENCRYPTION_KEY: a.config.encryptionKey.toString('hex') } });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await second?.close();
    await shared?.close();
  });

  it('refuses on B, in the very next request, a token revoked on A and a key revoked on A', async () => {
    const org = await createOrg(a);
    const token = await tokenFor(a, org.adminKey);
    expect((await call(b, 'GET', '/api/auth/whoami', { token })).status).toBe(200);
    const revoked = await postForm(a, '/oauth/revoke', { token }, { authorization: basic(clientIdOf(org.adminKey), org.adminKey) });
    expect(revoked.status).toBe(200);
    expect((await call(b, 'GET', '/api/auth/whoami', { token })).status).toBe(401);

    const { token: key, apiKey } = await org.createKey(org.owner);
    const live = await tokenFor(b, key);
    expect((await call(b, 'GET', '/api/auth/whoami', { token: live })).status).toBe(200);
    expect((await call(a, 'DELETE', `/api/api-keys/${apiKey.id}`, { token: org.owner.session })).status).toBe(200);
    expect((await call(b, 'GET', '/api/auth/whoami', { token: live })).status).toBe(401);
  });

  it('applies an emergency rotation made on A to B at once: old tokens refused, new ones signed by the promoted key', async () => {
    const org = await createOrg(a);
    const before = await tokenFor(b, org.adminKey);
    expect((await call(b, 'GET', '/api/auth/whoami', { token: before })).status).toBe(200);
    const rotated = await call(a, 'POST', '/api/signing-keys/rotate', { token: org.owner.session, body: { emergency: true } });
    expect(rotated.status).toBe(200);
    const current = rotated.body.data.find((k: any) => k.state === 'current').id;
    expect((await call(b, 'GET', '/api/auth/whoami', { token: before })).status).toBe(401);
    expect((await call(b, 'GET', '/.well-known/jwks.json')).body.keys.map((k: any) => k.kid)).not.toContain(kidOf(before));
    const after = await tokenFor(b, org.adminKey);
    expect(kidOf(after)).toBe(current);
    expect((await call(a, 'GET', '/api/auth/whoami', { token: after })).status).toBe(200);
  });
});
