import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteVerifier, VerificationError, type RemoteVerifier } from '@keyward/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrg, createProject, revoke, startSdkServer, startStreamProxy, until, verifierToken, type OrgFixture, type SdkServer } from './support.js';

describe('the remote verifier', () => {
  let server: SdkServer;
  let org: OrgFixture;
  let token: string;
  let projectId: string;
  const opened: RemoteVerifier[] = [];
  const open = (options: Partial<Parameters<typeof createRemoteVerifier>[0]> = {}) => {
    const verifier = createRemoteVerifier({ url: server.url, verifierToken: token, ...options });
    opened.push(verifier);
    return verifier;
  };

  beforeAll(async () => {
    server = await startSdkServer();
    org = await createOrg(server);
    token = await verifierToken(server, org.orgId);
    projectId = await createProject(server, org);
  });
  afterEach(async () => {
    for (const verifier of opened.splice(0)) await verifier.close();
  });
  afterAll(async () => server?.close());

  it('answers the same verdict as the endpoint, then from its cache', async () => {
    const key = await org.createKey(org.owner);
    const verifier = open();
    expect(await verifier.ready()).toBe(true);
    const ask = { key: key.token, permission: 'traces:write', projectId };
    const direct = await call(server, 'POST', '/api/keys/verify', { token, body: ask });
    const first = await verifier.verify(ask);
    expect(first).toEqual(direct.body);
    expect(first).toMatchObject({ valid: true, code: 'VALID', keyId: key.apiKey.id, organizationId: org.orgId, projectId });
    const second = await verifier.verify(ask);
    expect(second).toEqual(first);
    expect(verifier.stats()).toMatchObject({ hits: 1, misses: 1, requests: 1, cached: 1, streamConnected: true });
    // A different ask is a different entry.
    expect((await verifier.verify({ ...ask, permission: 'secrets:write' })).code).toBe('VALID');
    expect(verifier.stats().requests).toBe(2);
  });

  it('asks once for concurrent verifications of the same key', async () => {
    const key = await org.createKey(org.owner);
    const verifier = open();
    await verifier.ready();
    const verdicts = await Promise.all(Array.from({ length: 20 }, () => verifier.verify({ key: key.token })));
    expect(new Set(verdicts.map((v) => v.code))).toEqual(new Set(['VALID']));
    expect(verifier.stats().requests).toBe(1);
  });

  it('drops a cached verdict as soon as the key is revoked, edited or its owner demoted', async () => {
    const member = await org.addMember('MEMBER');
    const key = await org.createKey(member);
    const verifier = open();
    await verifier.ready();
    const ask = { key: key.token, permission: 'traces:write', projectId };
    expect((await verifier.verify(ask)).code).toBe('VALID');
    expect((await verifier.verify(ask)).code).toBe('VALID');
    expect(verifier.stats().requests).toBe(1);

    // The owner is demoted to VIEWER: the personal key is capped at once (the ceiling model).
    const demoted = await call(server, 'PATCH', `/api/members/${member.userId}`, { token: org.adminKey, body: { role: 'VIEWER' } });
    expect(demoted.status).toBe(200);
    expect((await verifier.verify(ask)).code).toBe('INSUFFICIENT_PERMISSIONS');
    const promoted = await call(server, 'PATCH', `/api/members/${member.userId}`, { token: org.adminKey, body: { role: 'MEMBER' } });
    expect(promoted.status).toBe(200);
    expect((await verifier.verify(ask)).code).toBe('VALID');

    // The key is edited down to read-only.
    const edited = await call(server, 'PATCH', `/api/api-keys/${key.apiKey.id}`, { token: member.session, headers: { 'x-organization-id': org.orgId }, body: { permissionMode: 'restricted', permissions: ['traces:read'] } });
    expect(edited.status).toBe(200);
    expect((await verifier.verify(ask)).code).toBe('INSUFFICIENT_PERMISSIONS');

    await revoke(server, org, key.apiKey.id);
    expect((await verifier.verify({ ...ask, permission: 'traces:read' })).code).toBe('REVOKED');
    expect((await verifier.verify(ask)).code).toBe('REVOKED');
  });

  it('keeps the plaintext key out of its cache', async () => {
    const key = await org.createKey(org.owner);
    const verifier = open();
    await verifier.ready();
    await verifier.verify({ key: key.token });
    const seen = new Set<unknown>();
    const search = (value: unknown): boolean => {
      if (typeof value === 'string') return value.includes(key.token.slice(-20));
      if (!value || typeof value !== 'object' || seen.has(value)) return false;
      seen.add(value);
      if (value instanceof Map) return [...value.entries()].some(([k, v]) => search(k) || search(v));
      if (value instanceof Set) return [...value].some(search);
      return Object.values(value).some(search);
    };
    expect(search(verifier)).toBe(false);
  });

  it('asks the server every time while the stream is down, so a revocation still counts at once', async () => {
    const proxy = await startStreamProxy(server.url);
    try {
      const key = await org.createKey(org.owner);
      const verifier = open({ url: proxy.url });
      expect(await verifier.ready()).toBe(true);
      await verifier.verify({ key: key.token });
      await verifier.verify({ key: key.token });
      expect(verifier.stats().requests).toBe(1);

      proxy.streamDown();
      await until(() => !verifier.streamConnected);
      expect(verifier.stats().cached).toBe(0);
      for (let i = 0; i < 5; i++) expect((await verifier.verify({ key: key.token })).valid).toBe(true);
      expect(verifier.stats().requests).toBe(6);
      await revoke(server, org, key.apiKey.id);
      expect((await verifier.verify({ key: key.token })).code).toBe('REVOKED');

      // Back up: the cache starts empty and is used again.
      const other = await org.createKey(org.owner);
      proxy.streamUp();
      expect(await verifier.ready(5_000)).toBe(true);
      await verifier.verify({ key: other.token });
      const before = verifier.stats().requests;
      await verifier.verify({ key: other.token });
      expect(verifier.stats().requests).toBe(before);
    } finally {
      await proxy.close();
    }
  });

  it('honours a revocation within a second when the stream silently stalls (no more fresh events)', async () => {
    const proxy = await startStreamProxy(server.url);
    try {
      const key = await org.createKey(org.owner);
      const verifier = open({ url: proxy.url });
      expect(await verifier.ready()).toBe(true);
      expect((await verifier.verify({ key: key.token })).valid).toBe(true);
      expect((await verifier.verify({ key: key.token })).valid).toBe(true);
      expect(verifier.stats().requests).toBe(1);
      proxy.stallStreams();
      // The stream now carries nothing, not even the revocation's event.
      await revoke(server, org, key.apiKey.id);
      const revokedAt = performance.now();
      let code = 'VALID';
      while (code === 'VALID' && performance.now() - revokedAt < 1_000) code = (await verifier.verify({ key: key.token })).code;
      expect(code).toBe('REVOKED');
    } finally {
      await proxy.close();
    }
  });

  it('with fallbackTtlMs, trusts a verdict that long while the stream is down, and no longer', async () => {
    const proxy = await startStreamProxy(server.url);
    try {
      const key = await org.createKey(org.owner);
      const verifier = open({ url: proxy.url, cache: { fallbackTtlMs: 300 } });
      await verifier.ready();
      proxy.streamDown();
      await until(() => !verifier.streamConnected);
      expect((await verifier.verify({ key: key.token })).valid).toBe(true);
      await revoke(server, org, key.apiKey.id);
      // Documented trade-off: within fallbackTtlMs the cached verdict may still answer.
      const within = await verifier.verify({ key: key.token });
      expect(within.valid).toBe(true);
      await new Promise((r) => setTimeout(r, 350));
      expect((await verifier.verify({ key: key.token })).code).toBe('REVOKED');
    } finally {
      await proxy.close();
    }
  });

  it('without a cache, asks every time', async () => {
    const key = await org.createKey(org.owner);
    const verifier = open({ cache: false });
    expect(await verifier.ready(100)).toBe(false);
    for (let i = 0; i < 3; i++) await verifier.verify({ key: key.token });
    expect(verifier.stats()).toMatchObject({ requests: 3, hits: 0, cached: 0 });
  });

  it('remembers a NOT_FOUND only briefly, and never a key beyond its expiry', async () => {
    const verifier = open({ cache: { negativeTtlMs: 100 } });
    await verifier.ready();
    const unknown = 'kw_AAAAAAAAAAAAAAAA_' + 'b'.repeat(49);
    expect((await verifier.verify({ key: unknown })).code).toBe('NOT_FOUND');
    await verifier.verify({ key: unknown });
    expect(verifier.stats().requests).toBe(1);
    await new Promise((r) => setTimeout(r, 150));
    await verifier.verify({ key: unknown });
    expect(verifier.stats().requests).toBe(2);

    const expiresAt = new Date(Date.now() + 1_500).toISOString();
    const key = await org.createKey(org.owner, { expiresAt });
    expect((await verifier.verify({ key: key.token })).valid).toBe(true);
    await new Promise((r) => setTimeout(r, Date.parse(expiresAt) - Date.now() + 20));
    expect((await verifier.verify({ key: key.token })).code).toBe('EXPIRED');
  });

  it('fails closed with a VerificationError: bad verifier credential, malformed ask, unreachable server', async () => {
    const key = await org.createKey(org.owner);
    const wrong = open({ verifierToken: org.adminKey, cache: false });
    await expect(wrong.verify({ key: key.token })).rejects.toMatchObject({ name: 'VerificationError', code: 'verifier_unauthorized', status: 401 });
    const verifier = open({ cache: false });
    await expect(verifier.verify({ key: key.token, permission: 'nonsense:read', projectId })).rejects.toMatchObject({ code: 'invalid_request', status: 422 });
    const nowhere = open({ url: 'http://127.0.0.1:1', cache: false, timeoutMs: 500 });
    const err = await nowhere.verify({ key: key.token }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VerificationError);
    expect((err as VerificationError).code).toBe('unavailable');
  });

  it('fails closed when something that is not Keyward answers 200 with a page', async () => {
    const impostor = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<html>captive portal</html>');
    });
    await new Promise<void>((ready) => impostor.listen(0, '127.0.0.1', ready));
    try {
      const { port } = impostor.address() as AddressInfo;
      const verifier = open({ url: `http://127.0.0.1:${port}`, cache: false, timeoutMs: 2_000 });
      const err = await verifier.verify({ key: org.adminKey }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VerificationError);
      expect((err as VerificationError).code).toBe('unavailable');
    } finally {
      impostor.close();
    }
  });
});
