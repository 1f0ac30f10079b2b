import { createRemoteVerifier, type RemoteVerifier } from '@keyward/sdk';
import { createEmbeddedVerifier, type EmbeddedVerifier } from '@keyward/sdk/embedded';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameworks, type ProtectedApp } from './apps.js';
import { call, createOrg, revoke, startSdkServer, verifierToken, type OrgFixture, type SdkServer } from './support.js';

interface Attempt {
  readonly startedAt: number;
  readonly valid: boolean;
}

/**
 * Verifies one key in `loops` tight concurrent loops; once successes are flowing, revokes it; keeps
 * verifying for a while after the revoke call returned. Every attempt that *started* after the
 * revoke call returned must fail.
 */
async function revokeUnderLoad(verifyOnce: () => Promise<boolean>, revokeIt: () => Promise<void>, loops = 16): Promise<{ before: number; after: number; lateSuccesses: number }> {
  const attempts: Attempt[] = [];
  let stop = false;
  const loop = async () => {
    while (!stop) {
      const startedAt = performance.now();
      const valid = await verifyOnce();
      attempts.push({ startedAt, valid });
    }
  };
  const running = Array.from({ length: loops }, loop);
  while (attempts.filter((a) => a.valid).length < 200) await new Promise((r) => setTimeout(r, 5));
  await revokeIt();
  const revokedAt = performance.now();
  while (attempts.filter((a) => a.startedAt > revokedAt).length < 200) await new Promise((r) => setTimeout(r, 5));
  stop = true;
  await Promise.all(running);
  const after = attempts.filter((a) => a.startedAt > revokedAt);
  return { before: attempts.filter((a) => a.valid && a.startedAt < revokedAt).length, after: after.length, lateSuccesses: after.filter((a) => a.valid).length };
}

describe('revocation under load: after the revoke call returns, not one more verification succeeds', () => {
  const ROUNDS = 4;
  let server: SdkServer;
  let org: OrgFixture;
  let token: string;
  let remote: RemoteVerifier;
  let embedded: EmbeddedVerifier;
  const apps: ProtectedApp[] = [];

  beforeAll(async () => {
    server = await startSdkServer();
    org = await createOrg(server);
    token = await verifierToken(server, org.orgId);
    remote = createRemoteVerifier({ url: server.url, verifierToken: token });
    expect(await remote.ready()).toBe(true);
    embedded = await createEmbeddedVerifier({ databaseUrl: server.store.url, pepper: server.pepper, invalidations: { url: server.url, verifierToken: token } });
    expect(await embedded.ready()).toBe(true);
    for (const [, start] of frameworks) apps.push(await start(remote));
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await remote?.close();
    await embedded?.close();
    await server?.close();
  });

  const check = async (verifyWith: (key: string) => Promise<boolean>, how: 'revoke' | 'remove-owner' = 'revoke') => {
    for (let round = 0; round < ROUNDS; round++) {
      const member = how === 'remove-owner' ? await org.addMember('MEMBER') : null;
      const key = await org.createKey(member ?? org.owner);
      expect(await verifyWith(key.token)).toBe(true);
      const outcome = await revokeUnderLoad(
        () => verifyWith(key.token),
        async () => {
          if (member) {
            const removed = await call(server, 'DELETE', `/api/members/${member.userId}`, { token: org.adminKey });
            expect(removed.status).toBe(200);
          } else await revoke(server, org, key.apiKey.id);
        },
      );
      expect(outcome.before, `round ${round}`).toBeGreaterThan(0);
      expect(outcome.after, `round ${round}`).toBeGreaterThan(0);
      expect(outcome.lateSuccesses, `round ${round}: successes after the revoke returned`).toBe(0);
    }
  };

  it('through POST /api/keys/verify', async () => {
    await check(async (key) => (await call(server, 'POST', '/api/keys/verify', { token, body: { key } })).body.valid === true);
  });

  it('through the remote verifier and its cache', async () => {
    await check(async (key) => (await remote.verify({ key })).valid);
    expect(remote.stats().hits).toBeGreaterThan(remote.stats().requests);
  });

  it('through the remote verifier when the owner of a personal key is removed', async () => {
    await check(async (key) => (await remote.verify({ key })).valid, 'remove-owner');
  });

  it('through the embedded verifier following the stream', async () => {
    await check(async (key) => (await embedded.verify({ key })).valid);
  });

  it.each(frameworks.map(([name], index) => [name, index] as const))('through the %s middleware', async (_name, index) => {
    const app = apps[index]!;
    await check(async (key) => (await fetch(`${app.url}/v1/whoami`, { headers: { 'x-api-key': key } })).status === 200);
  });
});
