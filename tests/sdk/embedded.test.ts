import { VerificationError } from '@keyward/sdk';
import { createEmbeddedVerifier, type EmbeddedVerifier, type EmbeddedVerifierOptions } from '@keyward/sdk/embedded';
import { openStore } from '@keyward/store';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../support/dialects.js';
import { databaseForProcess } from '../support/process.js';
import { startServer, type Dialect, type TestServer } from '../support/server.js';
import { call, createOrg, createProject, revoke, startSdkServer, startStreamProxy, until, verifierToken, type OrgFixture } from './support.js';

/** A Keyward server and the database an embedded verifier opens: its SQLite file, or its PostgreSQL database. */
interface Deployment {
  readonly server: TestServer;
  readonly databaseUrl: string;
  readonly pepper: string;
  close(): Promise<void>;
}

const pepperOf = (server: TestServer) => server.config.peppers.map((p) => `v${p.version}:${p.key.toString('hex')}`).join(',');

async function deploy(dialect: Dialect): Promise<Deployment> {
  if (dialect === 'sqlite') {
    const server = await startSdkServer();
    return { server, databaseUrl: server.store.url, pepper: server.pepper, close: () => server.close() };
  }
  // A database of its own, as an operator's Keyward would have: the verifier gets only its URL.
  const database = await databaseForProcess('postgres');
  const databaseUrl = database.env.KEYWARD_DATABASE_URL!;
  const store = await openStore(databaseUrl, { migrate: true });
  const server = await startServer({ store, env: { KEYWARD_AUTH_FAILURES_PER_MINUTE: '0', KEYWARD_PEPPER: database.env.KEYWARD_PEPPER! } });
  return {
    server,
    databaseUrl,
    pepper: pepperOf(server),
    async close() {
      await server.close();
      await store.close();
      await database.drop();
    },
  };
}

async function usageTotals(server: TestServer, org: OrgFixture, keyId: string) {
  const answer = await call(server, 'GET', `/api/api-keys/${keyId}/usage?interval=minute`, { token: org.adminKey });
  expect(answer.status, answer.text).toBe(200);
  return answer.body.totals as { valid: number; rejected: number; rejectedByCode: Record<string, number> };
}

for (const dialect of await dialects()) {
  describe(`the embedded verifier on ${dialect}, reading a running server's database`, () => {
    let deployment: Deployment;
    let server: TestServer;
    let org: OrgFixture;
    let token: string;
    let projectId: string;
    const opened: EmbeddedVerifier[] = [];
    const open = async (options: Partial<EmbeddedVerifierOptions> = {}) => {
      const verifier = await createEmbeddedVerifier({ databaseUrl: deployment.databaseUrl, pepper: deployment.pepper, ...options });
      opened.push(verifier);
      return verifier;
    };
    const withStream = () => ({ invalidations: { url: server.url, verifierToken: token } });

    beforeAll(async () => {
      deployment = await deploy(dialect);
      server = deployment.server;
      org = await createOrg(server);
      token = await verifierToken(server, org.orgId);
      projectId = await createProject(server, org);
    });
    afterEach(async () => {
      for (const verifier of opened.splice(0)) await verifier.close();
    });
    afterAll(async () => deployment?.close());

    it('answers exactly what POST /api/keys/verify answers', async () => {
      const member = await org.addMember('MEMBER');
      const full = await org.createKey(member);
      const restricted = await org.createKey(member, { permissionMode: 'restricted', permissions: ['traces:read'] });
      const verifier = await open({ usage: false });
      const asks = [
        { key: full.token },
        { key: full.token, permission: 'traces:write', projectId },
        { key: full.token, permission: 'traces:write' },
        { key: restricted.token, permission: 'traces:write', projectId },
        { key: restricted.token, action: 'read' as const, resource: `projects/${projectId}/traces/tr_1` },
        { key: full.token.slice(0, -1) + (full.token.endsWith('A') ? 'B' : 'A') },
        { key: full.token, permission: 'traces:read', projectId, ip: '203.0.113.7' },
      ];
      const codes: string[] = [];
      for (const ask of asks) {
        const direct = await call(server, 'POST', '/api/keys/verify', { token, body: ask });
        expect(direct.status).toBe(200);
        const verdict = await verifier.verify(ask);
        expect(verdict, JSON.stringify(ask)).toEqual(direct.body);
        codes.push(verdict.code);
      }
      // Without a project, an organization-wide key is checked at organization scope (issue 12).
      expect(codes).toEqual(['VALID', 'VALID', 'VALID', 'INSUFFICIENT_PERMISSIONS', 'VALID', 'NOT_FOUND', 'VALID']);
    });

    it('refuses a project, resource or ip holding NUL or an unpaired surrogate as the server does (422 there, invalid_request here), and a NUL key is NOT_FOUND', async () => {
      const { token: key } = await org.createKey(org.owner);
      const verifier = await open({ usage: false });
      for (const ask of [
        { key, projectId: 'proj_a\u0000b' },
        { key, action: 'read' as const, resource: 'projects/x\ud800' },
        { key, ip: '10.0.0.1\u0000' },
      ]) {
        const direct = await call(server, 'POST', '/api/keys/verify', { token, body: ask });
        expect(direct.status, JSON.stringify(ask)).toBe(422);
        const refused = await verifier.verify(ask).then(() => null, (err: unknown) => err);
        expect(refused, JSON.stringify(ask)).toBeInstanceOf(VerificationError);
        expect(refused).toMatchObject({ code: 'invalid_request' });
      }
      const nul = { key: `${key.slice(0, 8)}\u0000${key.slice(9)}` };
      expect(await verifier.verify(nul)).toEqual((await call(server, 'POST', '/api/keys/verify', { token, body: nul })).body);
      expect((await verifier.verify(nul)).code).toBe('NOT_FOUND');
    });

    it('sees only its organization when given one', async () => {
      const other = await createOrg(server);
      const foreign = await other.createKey(other.owner);
      const own = await org.createKey(org.owner);
      const verifier = await open({ organizationId: org.orgId, usage: false });
      expect((await verifier.verify({ key: own.token })).code).toBe('VALID');
      expect(await verifier.verify({ key: foreign.token })).toEqual({ valid: false, code: 'NOT_FOUND', explanation: expect.any(String) });
    });

    it('does not verify access tokens: they are NOT_FOUND to it (createAccessTokenVerifier does)', async () => {
      const key = await org.createKey(org.owner);
      const issued = await call(server, 'POST', '/oauth/token', {
        headers: { authorization: `Basic ${Buffer.from(`${key.apiKey.id}:${key.token}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        rawBody: 'grant_type=client_credentials',
      });
      expect(issued.status, issued.text).toBe(200);
      const verifier = await open({ usage: false });
      expect((await verifier.verify({ key: issued.body.access_token })).code).toBe('NOT_FOUND');
    });

    it('following the invalidation stream, refuses a key revoked through the API at the next verification', async () => {
      const key = await org.createKey(org.owner);
      const verifier = await open({ ...withStream(), usage: false });
      expect(await verifier.ready()).toBe(true);
      expect(verifier.streamConnected).toBe(true);
      // Cached now, trusted for ten minutes (cache.maxAgeMs): only the event can refuse it.
      expect((await verifier.verify({ key: key.token })).code).toBe('VALID');
      expect((await verifier.verify({ key: key.token })).code).toBe('VALID');
      await revoke(server, org, key.apiKey.id);
      expect(await verifier.verify({ key: key.token })).toMatchObject({ valid: false, code: 'REVOKED', keyId: key.apiKey.id });
    });

    it("without the stream, follows Keyward's invalidation log: a revocation is honoured within a second, and never forgotten", async () => {
      const key = await org.createKey(org.owner);
      const verifier = await open({ usage: false });
      expect((await verifier.verify({ key: key.token })).code).toBe('VALID');
      expect((await verifier.verify({ key: key.token })).code).toBe('VALID');
      await revoke(server, org, key.apiKey.id);
      const revokedAt = performance.now();
      let code = 'VALID';
      while (code === 'VALID' && performance.now() - revokedAt < 1000) code = (await verifier.verify({ key: key.token })).code;
      expect(code).toBe('REVOKED');
      for (let i = 0; i < 20; i++) expect((await verifier.verify({ key: key.token })).code).toBe('REVOKED');
    });

    it('after its process was held up past the cache\'s trust window (a long GC pause), catches up with the log before verifying: a cached key stays cached, and a revocation made meanwhile is honoured', async () => {
      const key = await org.createKey(org.owner);
      const revoked = await org.createKey(org.owner);
      const verifier = await open({ usage: false });
      for (const k of [key, revoked]) expect((await verifier.verify({ key: k.token })).code).toBe('VALID');
      expect((await verifier.verify({ key: key.token })).code).toBe('VALID');
      const { misses } = verifier.stats();
      await revoke(server, org, revoked.apiKey.id);
      // Nothing runs meanwhile, the log's reader neither: its last read is now over a second old.
      const until = Date.now() + 1_100;
      while (Date.now() < until);
      expect((await verifier.verify({ key: key.token })).code).toBe('VALID');
      expect((await verifier.verify({ key: revoked.token })).code).toBe('REVOKED');
      // The valid key was answered from the cache (a verifier that stopped trusting its cache would
      // have read it again); the revoked one was read again once the log dropped it.
      expect(verifier.stats().misses).toBe(misses + 1);
    });

    it('with cache.maxAgeMs 0, reads every verification from the database', async () => {
      const key = await org.createKey(org.owner);
      const verifier = await open({ cache: { maxAgeMs: 0 }, usage: false });
      expect((await verifier.verify({ key: key.token })).code).toBe('VALID');
      await revoke(server, org, key.apiKey.id);
      expect((await verifier.verify({ key: key.token })).code).toBe('REVOKED');
    });

    it('honours a revocation within a second while the stream is down (through the log), and caches again once it is back', async () => {
      const proxy = await startStreamProxy(server.url);
      try {
        const verifier = await open({ invalidations: { url: proxy.url, verifierToken: token }, usage: false });
        expect(await verifier.ready()).toBe(true);
        const key = await org.createKey(org.owner);
        expect((await verifier.verify({ key: key.token })).code).toBe('VALID');
        proxy.streamDown();
        await until(() => !verifier.streamConnected);
        // No event can reach this verifier now: the invalidation log in the database still does.
        await revoke(server, org, key.apiKey.id);
        const revokedAt = performance.now();
        let code = 'VALID';
        while (code === 'VALID' && performance.now() - revokedAt < 1000) code = (await verifier.verify({ key: key.token })).code;
        expect(code).toBe('REVOKED');
        proxy.streamUp();
        expect(await verifier.ready(15_000)).toBe(true);
        const next = await org.createKey(org.owner);
        expect((await verifier.verify({ key: next.token })).code).toBe('VALID');
      } finally {
        await proxy.close();
      }
    });

    it('counts verifications into the usage the API reports, and lastUsedAt', async () => {
      const key = await org.createKey(org.owner, { permissionMode: 'restricted', permissions: ['traces:read'] });
      const verifier = await open({ usage: { flushIntervalMs: 600_000 } });
      for (let i = 0; i < 7; i++) expect((await verifier.verify({ key: key.token, permission: 'traces:read', projectId })).code).toBe('VALID');
      for (let i = 0; i < 3; i++) expect((await verifier.verify({ key: key.token, permission: 'traces:write', projectId })).code).toBe('INSUFFICIENT_PERMISSIONS');
      // Unknown keys are never written.
      expect((await verifier.verify({ key: `kw_${'A'.repeat(16)}_${'b'.repeat(49)}` })).code).toBe('NOT_FOUND');
      expect(await usageTotals(server, org, key.apiKey.id)).toEqual({ valid: 0, rejected: 0, rejectedByCode: {} });
      await verifier.flushUsage();
      expect(await usageTotals(server, org, key.apiKey.id)).toEqual({ valid: 7, rejected: 3, rejectedByCode: { INSUFFICIENT_PERMISSIONS: 3 } });
      const record = await call(server, 'GET', `/api/api-keys/${key.apiKey.id}`, { token: org.adminKey });
      expect(record.body.lastUsedAt).toEqual(expect.any(String));
      // A second flush adds nothing: counts are written once.
      await verifier.flushUsage();
      expect((await usageTotals(server, org, key.apiKey.id)).valid).toBe(7);
    });

    it('close() writes the counts still buffered, closes the stream, and stops verifying', async () => {
      const key = await org.createKey(org.owner);
      const verifier = await open({ ...withStream(), usage: { flushIntervalMs: 600_000 } });
      expect(await verifier.ready()).toBe(true);
      for (let i = 0; i < 4; i++) await verifier.verify({ key: key.token });
      await verifier.close();
      expect(verifier.streamConnected).toBe(false);
      expect(await usageTotals(server, org, key.apiKey.id)).toEqual({ valid: 4, rejected: 0, rejectedByCode: {} });
      const after = await verifier.verify({ key: key.token }).then(
        () => null,
        (err: unknown) => err,
      );
      expect(after).toBeInstanceOf(VerificationError);
      expect((after as VerificationError).code).toBe('unavailable');
      // Closing again is harmless.
      await verifier.close();
    });
  });
}
