import { createRemoteVerifier, type RemoteVerifier, type Verifier } from '@keyward/sdk';
import { keywardFastify } from '@keyward/sdk/fastify';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createOrg, startSdkServer, until, verifierToken, type OrgFixture, type SdkServer } from './support.js';

/**
 * CONTRACT.md "Unknown permissions are loud": a route guarded by a permission outside the
 * deployment's catalogue is reported when it is registered, and every 500 it answers is logged.
 */
describe('the middleware checks route permissions against the catalogue', () => {
  let server: SdkServer;
  let org: OrgFixture;
  let verifier: RemoteVerifier;
  let key: string;

  beforeAll(async () => {
    server = await startSdkServer();
    org = await createOrg(server);
    verifier = createRemoteVerifier({ url: server.url, verifierToken: await verifierToken(server, org.orgId) });
    key = (await org.createKey(org.owner)).token;
  });
  afterAll(async () => {
    await verifier?.close();
    await server?.close();
  });

  async function appWith(options: { logger?: { error(message: string, err?: unknown): void }; onError?: (err: unknown) => void; permissions?: string[]; verifier?: Verifier }) {
    const app = Fastify();
    const auth = keywardFastify({ verifier: options.verifier ?? verifier, ...options });
    await app.register(auth.plugin);
    app.get('/widgets', { preHandler: auth.require({ permission: 'widgets:read' }) }, async () => ({ ok: true }));
    app.get('/traces', { preHandler: auth.require({ permission: 'traces:read' }) }, async () => ({ ok: true }));
    await app.ready();
    return app;
  }

  it('reports an unknown permission as soon as the route is registered, and answers (and logs) 500 on it', async () => {
    const logged: string[] = [];
    const app = await appWith({ logger: { error: (message) => logged.push(message) } });
    try {
      await until(() => logged.length > 0);
      expect(logged[0]).toMatch(/"widgets:read", which is not a permission of this deployment's catalogue/);
      const refused = await app.inject({ method: 'GET', url: '/widgets', headers: { 'x-api-key': key } });
      expect(refused.statusCode).toBe(500);
      expect(refused.json()).toEqual({ error: 'internal_error', message: 'The request could not be authorized.' });
      expect(logged.length).toBe(2);
      // Routes with known permissions are not affected.
      expect((await app.inject({ method: 'GET', url: '/traces', headers: { 'x-api-key': key } })).statusCode).toBe(200);
      expect(logged.length).toBe(2);
    } finally {
      await app.close();
    }
  });

  it('logs to console.error when neither onError nor a logger is given: never a silent 500', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    const app = await appWith({});
    try {
      await until(() => spy.mock.calls.length > 0);
      expect(String(spy.mock.calls[0]![0])).toMatch(/widgets:read/);
      expect((await app.inject({ method: 'GET', url: '/widgets', headers: { 'x-api-key': key } })).statusCode).toBe(500);
      expect(spy.mock.calls.length).toBe(2);
    } finally {
      spy.mockRestore();
      await app.close();
    }
  });

  it('hands the error to onError when given, with a catalogue given by hand', async () => {
    const errors: unknown[] = [];
    const app = await appWith({ onError: (err) => errors.push(err), permissions: ['traces:read', 'widgets:read'] });
    try {
      // The given catalogue knows widgets:read: the route is asked of Keyward, which does not, and
      // refuses the request (422 unknown_permission): a 500 here, handed to onError.
      const answer = await app.inject({ method: 'GET', url: '/widgets', headers: { 'x-api-key': key } });
      expect(answer.statusCode).toBe(500);
      expect(errors).toHaveLength(1);
      expect(String((errors[0] as Error).message)).toMatch(/widgets:read/);
    } finally {
      await app.close();
    }
  });

  it('checks again on the next request when the catalogue could not be read at registration', async () => {
    const logged: string[] = [];
    let calls = 0;
    const flaky: Verifier = {
      verify: (request) => verifier.verify(request),
      async permissions() {
        calls++;
        if (calls === 1) throw new Error('Keyward could not be reached.');
        return verifier.permissions();
      },
    };
    const app = await appWith({ verifier: flaky, logger: { error: (message) => logged.push(message) } });
    try {
      expect((await app.inject({ method: 'GET', url: '/widgets', headers: { 'x-api-key': key } })).statusCode).toBe(500);
      expect(logged.some((m) => m.includes('widgets:read'))).toBe(true);
    } finally {
      await app.close();
    }
  });
});
