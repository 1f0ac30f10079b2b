import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { apiErrorCodes } from '@keyward/wire';
import { createOrg, startServer, type OrgFixture, type TestServer } from '../support/server.js';

/**
 * Bad input on the key routes (T5): random JSON bodies, random headers and random ids must never make
 * a 5xx, a hang or an undocumented answer. Requests go through the whole Fastify pipeline (inject).
 */
describe('bad input on the key routes', () => {
  let server: TestServer;
  let org: OrgFixture;
  let keyId: string;
  const codes = new Set<string>(apiErrorCodes);

  beforeAll(async () => {
    server = await startServer({ env: { KEYWARD_AUTH_FAILURES_PER_MINUTE: '0', KEYWARD_LOG_LEVEL: 'silent' } });
    org = await createOrg(server);
    keyId = (await org.createKey(org.owner)).apiKey.id;
  });
  afterAll(async () => server?.close());

  const inject = (options: InjectOptions) => server.composed.app.inject(options);

  function expectDocumented(response: { statusCode: number; body: string }, context: string): void {
    expect(response.statusCode, context).toBeLessThan(500);
    if (response.statusCode >= 400) {
      const body = JSON.parse(response.body) as { error: string; message: string };
      expect(codes.has(body.error), `${context}: ${response.body}`).toBe(true);
      expect(typeof body.message).toBe('string');
    }
  }

  const fieldValue = fc.oneof(
    fc.string(),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.oneof(fc.string(), fc.integer(), fc.constant(null)), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
    fc.constantFrom('0.0.0.0/0', '010.0.0.0/8', '::/129', 'projects/../x', 'traces:write', 'ADMIN', 'ORGANIZATION', '2020-01-01T00:00:00Z', '__proto__'),
  );
  const keyFields = ['name', 'description', 'keyType', 'bindings', 'projectIds', 'projectId', 'assignedToUserId', 'permissionMode', 'permissions', 'scopes', 'allowedCidrs', 'expiresAt', 'oldKeyExpiresAt', 'org_id', 'revokedAt'];
  const body = fc.oneof(
    fc.dictionary(fc.constantFrom(...keyFields), fieldValue, { maxKeys: 6 }),
    fc.jsonValue({ maxDepth: 4 }),
    fc.record({ name: fc.string({ minLength: 1, maxLength: 10 }), bindings: fc.array(fc.record({ role: fieldValue, scopeType: fieldValue, scopeId: fieldValue }), { maxLength: 3 }) }),
  );
  const route = fc.constantFrom(
    { method: 'POST' as const, url: () => '/api/api-keys' },
    { method: 'PATCH' as const, url: () => `/api/api-keys/${keyId}` },
    { method: 'POST' as const, url: () => `/api/api-keys/${keyId}/roll` },
  );

  it('never answers 5xx to 4,000 random JSON bodies on create, edit and roll', async () => {
    await fc.assert(
      fc.asyncProperty(route, body, async (r, payload) => {
        const response = await inject({ method: r.method, url: r.url(), headers: { authorization: `Bearer ${org.owner.session}`, 'content-type': 'application/json' }, payload: JSON.stringify(payload) });
        expectDocumented(response, `${r.method} ${r.url()} ${JSON.stringify(payload)}`);
      }),
      { numRuns: 4000 },
    );
  });

  it('never answers 5xx to 3,000 random headers, credentials and raw bodies', async () => {
    const headerValue = fc.oneof(fc.string({ maxLength: 80 }), fc.constantFrom('Bearer', 'Bearer ', 'bearer  kw_x', 'Basic abc', `Bearer ${'k'.repeat(5000)}`, 'kw_', '\u00e9'));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET /api/api-keys', 'POST /api/api-keys', `GET /api/api-keys/${'key_x'}`, 'DELETE /api/api-keys/key_AAAAAAAAAAAAAAAA', 'GET /api/auth/whoami'),
        fc.dictionary(fc.constantFrom('authorization', 'x-api-key', 'x-auth-token', 'x-project-id', 'x-organization-id', 'content-type', 'cookie'), headerValue, { maxKeys: 4 }),
        fc.oneof(fc.string({ maxLength: 200 }), fc.constant('{"name":'), fc.constant('[]'), fc.constant('{"__proto__":{"x":1}}'), fc.constant('{"constructor":{"prototype":{}}}')),
        async (line, headers, payload) => {
          const [method, url] = line.split(' ') as ['GET' | 'POST' | 'DELETE', string];
          const clean = Object.fromEntries(Object.entries(headers).filter(([, v]) => /^[\t\x20-\x7e]*$/.test(v)));
          const response = await inject({ method, url, headers: clean, ...(method === 'POST' ? { payload } : {}) });
          expectDocumented(response, `${line} ${JSON.stringify(clean)} ${payload}`);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('never answers 5xx to 3,000 random paths and query strings under /api/api-keys', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 60 }),
        fc.dictionary(fc.constantFrom('status', 'q', 'keyType', 'limit', 'cursor', 'from', 'to', 'interval', 'token', 'api_key[]'), fc.string({ maxLength: 30 }), { maxKeys: 4 }),
        fc.constantFrom('', '/usage'),
        async (id, query, suffix) => {
          const qs = new URLSearchParams(query).toString();
          const url = `/api/api-keys/${encodeURIComponent(id)}${suffix}${qs ? `?${qs}` : ''}`;
          const response = await inject({ method: 'GET', url, headers: { authorization: `Bearer ${org.owner.session}` } });
          expectDocumented(response, url);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('answers the documented codes to malformed JSON, wrong content types and oversized bodies', async () => {
    const auth = { authorization: `Bearer ${org.owner.session}` };
    const malformed = await inject({ method: 'POST', url: '/api/api-keys', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"name":' });
    expect(malformed.statusCode).toBe(400);
    expect(JSON.parse(malformed.body).error).toBe('invalid_request');
    const wrongType = await inject({ method: 'POST', url: '/api/api-keys', headers: { ...auth, 'content-type': 'text/plain' }, payload: 'name=x' });
    expect(wrongType.statusCode).toBe(415);
    const big = await inject({ method: 'POST', url: '/api/api-keys', headers: { ...auth, 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'x', description: 'y'.repeat(70_000) }) });
    expect(big.statusCode).toBe(413);
    expect(JSON.parse(big.body).error).toBe('payload_too_large');
    const proto = await inject({ method: 'POST', url: '/api/api-keys', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"name":"x","__proto__":{"isAdmin":true}}' });
    expect(proto.statusCode).toBe(400);
    const deep = await inject({ method: 'POST', url: '/api/api-keys', headers: { ...auth, 'content-type': 'application/json' }, payload: `${'['.repeat(20000)}${']'.repeat(20000)}` });
    expect(deep.statusCode).toBeLessThan(500);
    const massAssign = await inject({ method: 'POST', url: '/api/api-keys', headers: { ...auth, 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'x', revokedAt: null, orgId: 'org_x' }) });
    expect(massAssign.statusCode).toBe(422);
  });
});
