import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier } from '@keyward/core';
import { call, createOrg, startServer, type OrgFixture, type TestServer } from '../support/server.js';

/**
 * `POST /api/keys/verify` is answered twice over: by the fast lane on a listening server, before
 * Fastify routes it, and by the Fastify route (reached here through `inject`, which does not pass the
 * listening server). Both must give the same answer, byte for byte: status, headers and body (the
 * request id aside, which is new for every request).
 */

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Headers that belong to the connection or the moment, not to the answer. */
const TRANSPORT = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

function normalize(status: number, headers: Record<string, unknown>, body: string): Answer {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (TRANSPORT.has(name.toLowerCase()) || value === undefined) continue;
    kept[name.toLowerCase()] = name.toLowerCase() === 'x-request-id' ? '<id>' : String(value);
  }
  const id = typeof headers['x-request-id'] === 'string' ? headers['x-request-id'] : null;
  return { status, headers: kept, body: id ? body.split(id).join('<id>') : body };
}

/** The request sent raw over a socket, so headers and body arrive exactly as written. */
function overTheWire(url: string, headers: Record<string, string>, body: string | Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/api/keys/verify`, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve(normalize(res.statusCode!, res.headers, Buffer.concat(chunks).toString('utf8'))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('POST /api/keys/verify: the fast lane and the Fastify route give the same answers', () => {
  let server: TestServer;
  let org: OrgFixture;
  let verifier: string;
  const tokens = { valid: '', revoked: '', viewer: '', listed: '', metered: '', spent: '' };

  beforeAll(async () => {
    server = await startServer();
    org = await createOrg(server);
    verifier = (await createVerifier(server.composed.services.deps, { name: 'parity', orgId: null })).token;
    tokens.valid = (await org.createKey(org.owner)).token;
    const revoked = await org.createKey(org.owner);
    await call(server, 'DELETE', `/api/api-keys/${revoked.apiKey.id}`, { token: org.owner.session });
    tokens.revoked = revoked.token;
    tokens.listed = (await org.createKey(org.owner, { allowedCidrs: ['192.0.2.0/24'] })).token;
    tokens.viewer = (await org.createKey(org.owner, { permissionMode: 'restricted', permissions: ['traces:read'] })).token;
    const limits = [
      { name: 'per_second', limit: 10, windowSeconds: 1 },
      { name: 'monthly', limit: 1000, windowSeconds: 86_400 },
    ];
    tokens.metered = (await org.createKey(org.owner, { rateLimits: limits, credits: { remaining: 500, refill: { amount: 1000, interval: 'month' } } })).token;
    tokens.spent = (await org.createKey(org.owner, { credits: { remaining: 0 } })).token;
  });
  afterAll(async () => server?.close());

  const json = (body: unknown) => JSON.stringify(body);
  const cases: { name: string; headers?: (v: string) => Record<string, string>; body: () => string | Buffer }[] = [
    { name: 'a valid key, no permission asked', body: () => json({ key: tokens.valid }) },
    { name: 'a valid key, asked again (memoized)', body: () => json({ key: tokens.valid }) },
    { name: 'a valid key with a permission', body: () => json({ key: tokens.valid, permission: 'traces:write' }) },
    { name: 'a restricted key beyond its permissions', body: () => json({ key: tokens.viewer, permission: 'traces:write' }) },
    { name: 'a revoked key', body: () => json({ key: tokens.revoked }) },
    // Cost 0 spends nothing, so both ways in see the same counts (the lane splices metering into a memoized answer's JSON).
    { name: 'a key with rate limits and credits, cost 0', body: () => json({ key: tokens.metered, permission: 'traces:read', cost: 0 }) },
    { name: 'a key whose credits are used up', body: () => json({ key: tokens.spent }) },
    { name: 'a cost out of range', body: () => json({ key: tokens.metered, cost: 1_000_001 }) },
    { name: 'a well-formed unknown key', body: () => json({ key: `${tokens.valid.slice(0, 3)}AAAAAAAAAAAAAAAA${tokens.valid.slice(19)}` }) },
    { name: 'a key with a broken checksum', body: () => json({ key: `${tokens.valid.slice(0, -1)}${tokens.valid.endsWith('A') ? 'B' : 'A'}` }) },
    { name: 'an unknown permission', body: () => json({ key: tokens.valid, permission: 'traces:raed' }) },
    { name: 'a project that does not exist', body: () => json({ key: tokens.valid, projectId: 'proj_nothere' }) },
    { name: 'a key with an allowlist, from outside it', body: () => json({ key: tokens.listed, ip: '10.1.2.3' }) },
    { name: 'a body without the key', body: () => json({ permission: 'traces:read' }) },
    { name: 'a field that is not in the schema', body: () => json({ key: tokens.valid, extra: 1 }) },
    { name: 'a NUL in the project id', body: () => json({ key: tokens.valid, projectId: 'proj_\u0000' }) },
    { name: 'a body that is not JSON', body: () => '{"key":' },
    { name: 'an empty body', body: () => '' },
    { name: 'a body over 64 KiB', body: () => json({ key: 'x'.repeat(70_000) }) },
    { name: 'a text/plain body', headers: (v) => ({ authorization: `Bearer ${v}`, 'content-type': 'text/plain' }), body: () => json({ key: tokens.valid }) },
    { name: 'no credential', headers: () => ({ 'content-type': 'application/json' }), body: () => json({ key: tokens.valid }) },
    { name: 'a wrong verifier credential', headers: () => ({ authorization: 'Bearer kwv_nope', 'content-type': 'application/json' }), body: () => json({ key: tokens.valid }) },
    {
      name: 'two credentials',
      headers: (v) => ({ authorization: `Bearer ${v}`, 'x-api-key': v, 'content-type': 'application/json' }),
      body: () => json({ key: tokens.valid }),
    },
    { name: 'a session token instead of a verifier credential', headers: () => ({ authorization: `Bearer ${org.owner.session}`, 'content-type': 'application/json' }), body: () => json({ key: tokens.valid }) },
  ];

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    const headers = testCase.headers?.(verifier) ?? { authorization: `Bearer ${verifier}`, 'content-type': 'application/json' };
    const body = testCase.body();
    const fast = await overTheWire(server.url, headers, body);
    const injected = await server.composed.app.inject({ method: 'POST', url: '/api/keys/verify', headers, payload: body });
    const routed = normalize(injected.statusCode, injected.headers, injected.body);
    expect(fast).toEqual(routed);
  });
});
