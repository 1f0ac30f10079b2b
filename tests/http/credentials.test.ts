import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrg, startServer, type OrgFixture, type TestServer } from '../support/server.js';

/** Sends raw bytes, so duplicate headers reach the server exactly as written (R9). */
function rawRequest(url: string, lines: string[]): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(`${lines.join('\r\n')}\r\nconnection: close\r\n\r\n`));
    let data = '';
    socket.on('data', (d) => (data += d.toString()));
    socket.on('end', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1]);
      resolve({ status, body: data.slice(data.indexOf('\r\n\r\n') + 4) });
    });
    socket.on('error', reject);
  });
}

describe('credential carriers, limits and secrecy (R8–R12, R44, R45)', () => {
  let server: TestServer;
  let org: OrgFixture;
  let token: string;

  beforeAll(async () => {
    server = await startServer({ env: { KEYWARD_AUTH_FAILURES_PER_MINUTE: '20' } });
    org = await createOrg(server);
    token = (await org.createKey(org.owner)).token;
  });
  afterAll(async () => server?.close());

  it.each([
    ['two Authorization headers', (t: string) => [`authorization: Bearer ${t}`, `authorization: Bearer ${t}`]],
    ['two x-api-key headers', (t: string) => [`x-api-key: ${t}`, `x-api-key: ${t}`]],
    ['Authorization and x-api-key', (t: string) => [`authorization: Bearer ${t}`, `x-api-key: ${t}`]],
    ['x-api-key and X-Auth-Token', (t: string) => [`x-api-key: ${t}`, `X-Auth-Token: ${t}`]],
  ])('refuses %s with 400 invalid_request', async (_name, headers) => {
    const res = await rawRequest(server.url, ['GET /api/auth/whoami HTTP/1.1', `host: 127.0.0.1`, ...headers(token)]);
    expect(res.status).toBe(400);
    expect(res.body).toContain('invalid_request');
  });

  it('refuses a credential in the query string, alone or next to a header, and never uses it', async () => {
    expect((await call(server, 'GET', `/api/auth/whoami?api_key=${token}`)).status).toBe(401);
    expect((await call(server, 'GET', `/api/auth/whoami?token=${token}`, { token })).status).toBe(400);
    expect((await call(server, 'GET', `/api/auth/whoami?api_key[]=${token}`)).status).toBe(401);
    expect((await call(server, 'GET', `/api/auth/whoami?token=${token}&token=${token}`)).status).toBe(400);
  });

  it('accepts the Bearer scheme in any case and refuses other schemes', async () => {
    expect((await call(server, 'GET', '/api/auth/whoami', { headers: { authorization: `BEARER ${token}` } })).status).toBe(200);
    expect((await call(server, 'GET', '/api/auth/whoami', { headers: { authorization: `Basic ${token}` } })).status).toBe(401);
    expect((await call(server, 'GET', '/api/auth/whoami', { headers: { authorization: 'Bearer' } })).status).toBe(401);
    expect((await call(server, 'GET', '/api/auth/whoami', { headers: { authorization: `Bearer ${'k'.repeat(10_000)}` } })).status).toBe(401);
  });

  it('rate-limits failed authentication per client IP with 429 and Retry-After; successes are not counted', async () => {
    const limited = await startServer({ env: { KEYWARD_AUTH_FAILURES_PER_MINUTE: '5' } });
    try {
      const limitedOrg = await createOrg(limited);
      const good = (await limitedOrg.createKey(limitedOrg.owner)).token;
      for (let i = 0; i < 20; i++) expect((await call(limited, 'GET', '/api/auth/whoami', { token: good })).status).toBe(200);
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push((await call(limited, 'GET', '/api/auth/whoami', { token: 'kw_wrong' })).status);
      expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
      const refused = await call(limited, 'GET', '/api/auth/whoami', { token: good });
      expect(refused.status).toBe(429);
      expect(refused.body.error).toBe('rate_limited');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      const login = await call(limited, 'POST', '/api/auth/login', { body: { email: limitedOrg.owner.email, password: limitedOrg.owner.password } });
      expect(login.status).toBe(429);
    } finally {
      await limited.close();
    }
  });

  it('answers unknown routes 404 and wrong methods 405 with Allow, never 5xx', async () => {
    const missing = await call(server, 'GET', '/api/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toBe('not_found');
    const wrong = await call(server, 'PUT', '/api/api-keys', { token });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toContain('GET');
    const trace = await rawRequest(server.url, ['TRACE /api/api-keys HTTP/1.1', 'host: 127.0.0.1']);
    expect([404, 405]).toContain(trace.status);
  });

  it('sets nosniff, no-referrer and no-store on API answers, and never a version banner', async () => {
    const res = await call(server, 'GET', '/api/auth/whoami', { token });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(res.headers.get('server')).toBeNull();
  });

  it('never puts a secret in a response other than create and roll, nor in the logs (canary)', async () => {
    const canary = await org.createKey(org.owner, { name: 'canary' });
    const secretPart = canary.token.slice(20, 60);
    const answers: string[] = [];
    const collect = async (method: string, path: string, opts: Parameters<typeof call>[3] = {}) => answers.push((await call(server, method, path, opts)).text);
    await collect('GET', '/api/auth/whoami', { token: canary.token });
    await collect('GET', `/api/auth/whoami?token=${canary.token}`);
    await collect('GET', '/api/auth/whoami', { token: canary.token, headers: { 'x-api-key': canary.token } });
    await collect('GET', '/api/api-keys?status=all', { token: org.owner.session });
    await collect('GET', `/api/api-keys/${canary.apiKey.id}`, { token: org.owner.session });
    await collect('PATCH', `/api/api-keys/${canary.apiKey.id}`, { token: org.owner.session, body: { name: 'renamed' } });
    await collect('GET', '/api/audit-log', { token: org.owner.session });
    await collect('POST', '/api/api-keys', { token: org.owner.session, body: { name: 'x', description: 1, allowedCidrs: [canary.token] } });
    await collect('DELETE', `/api/api-keys/${canary.apiKey.id}`, { token: org.owner.session });
    await collect('GET', '/api/auth/whoami', { token: canary.token });
    for (const answer of answers) expect(answer).not.toContain(secretPart);
    const logs = server.logs.join('\n');
    expect(logs).not.toContain(secretPart);
    expect(logs).not.toContain(org.owner.session.slice(4, 30));
    expect(logs).not.toContain(org.owner.password);
  });

  it('stores no secret and no hash that a dump would reveal as a key', async () => {
    const { token: secretToken, apiKey } = await org.createKey(org.owner, { name: 'dump' });
    const stored = await server.composed.services.deps.store.keys.findById(org.orgId as never, apiKey.id);
    const dump = JSON.stringify(stored);
    expect(dump).not.toContain(secretToken.slice(20, 63));
    expect(stored!.secret.digest).toMatch(/^[0-9a-f]{64}$/);
  });
});
