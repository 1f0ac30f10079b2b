import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { createRemoteVerifier, type RemoteVerifier, type Verdict, type Verifier } from '@keyward/sdk';
import { createEmbeddedVerifier } from '@keyward/sdk/embedded';
import { keywardExpress } from '@keyward/sdk/express';
import { keywardFastify } from '@keyward/sdk/fastify';
import { keywardHono } from '@keyward/sdk/hono';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, closeServer, createOrg, listen, startSdkServer, verifierToken, type OrgFixture, type SdkServer } from './support.js';

/**
 * Per-key rate limits and credits through the SDK (issue 14), against a running Keyward: the
 * middleware's RateLimit headers and 429s, the cost of a request, and the remote verifier's cache,
 * which must let every request of a metered key reach Keyward (a cached or shared verdict would not
 * be counted).
 */

const DAY_SECONDS = 86_400;
const HOUR_SECONDS = 3_600;

/** A protected app: `GET /v1/whoami` (the middleware's cost: the `x-units` header, else 1), `POST /v1/export` (cost 5), `GET /v1/raw` (an answer the route makes itself). */
interface MeteredApp {
  readonly url: string;
  close(): Promise<void>;
}

interface AppOptions {
  readonly verifier: Verifier;
  readonly onVerdict: (verdict: Verdict) => void;
}

const units = (value: string | undefined) => (value === undefined ? 1 : Number(value));

async function startFastify({ verifier, onVerdict }: AppOptions): Promise<MeteredApp> {
  const app = Fastify();
  const auth = keywardFastify({ verifier, onVerdict: (verdict) => onVerdict(verdict), cost: (request) => units(request.headers['x-units'] as string | undefined) });
  await app.register(auth.plugin);
  app.get('/v1/whoami', { preHandler: auth.require() }, async (request) => request.keyward);
  app.post('/v1/export', { preHandler: auth.require({ cost: 5 }) }, async (request) => request.keyward);
  app.get('/v1/raw', { preHandler: auth.require() }, (_request, reply) => reply.type('text/plain').send('raw'));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, close: () => app.close() };
}

async function startExpress({ verifier, onVerdict }: AppOptions): Promise<MeteredApp> {
  const app = express();
  const auth = keywardExpress({ verifier, onVerdict: (verdict) => onVerdict(verdict), cost: (req) => units(req.get('x-units')) });
  app.get('/v1/whoami', auth.require(), (req, res) => void res.json(req.keyward));
  app.post('/v1/export', auth.require({ cost: 5 }), (req, res) => void res.json(req.keyward));
  app.get('/v1/raw', auth.require(), (_req, res) => void res.type('text/plain').send('raw'));
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const address = server.address();
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, close: () => closeServer(server) };
}

async function startHono({ verifier, onVerdict }: AppOptions): Promise<MeteredApp> {
  const auth = keywardHono({ verifier, onVerdict: (verdict) => onVerdict(verdict), cost: (c) => units(c.req.header('x-units')) });
  const app = new Hono();
  app.get('/v1/whoami', auth.require(), (c) => c.json(c.get('keyward')));
  app.post('/v1/export', auth.require({ cost: 5 }), (c) => c.json(c.get('keyward')));
  // A Response the route builds itself, not through the context: the headers must reach it too.
  app.get('/v1/raw', auth.require(), () => new Response('raw', { headers: { 'content-type': 'text/plain' } }));
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  return { url: await listen(server), close: () => closeServer(server) };
}

const frameworks = [
  ['fastify', startFastify],
  ['express', startExpress],
  ['hono', startHono],
] as const;

/** Seconds from now to the end of the current fixed window of this length (windows are aligned on the Unix epoch). */
const secondsToWindowEnd = (windowSeconds: number) => windowSeconds - ((Date.now() / 1000) % windowSeconds);

/** Waits out the last seconds of a window, so that a test's requests all fall in one window. */
async function awayFromWindowEnd(windowSeconds: number, marginSeconds = 20): Promise<void> {
  const left = secondsToWindowEnd(windowSeconds);
  if (left < marginSeconds) await new Promise((resolve) => setTimeout(resolve, left * 1000 + 100));
}

/** The `RateLimit` header's parts: `"name";r=<remaining>;t=<seconds>`. */
function parseRateLimit(value: string | null): { name: string; remaining: number; resetSeconds: number } {
  const match = /^"([^"]+)";r=(\d+);t=(\d+)$/.exec(value ?? '');
  if (!match) throw new Error(`not a RateLimit field: ${value}`);
  return { name: match[1]!, remaining: Number(match[2]), resetSeconds: Number(match[3]) };
}

const rateLimitHeaderNames = ['ratelimit-policy', 'ratelimit', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'];

describe.each(frameworks)('rate limits and credits through the %s middleware, against a running Keyward', (_name, start) => {
  let server: SdkServer;
  let org: OrgFixture;
  let verifier: RemoteVerifier;
  let app: MeteredApp;
  const verdicts: Verdict[] = [];

  beforeAll(async () => {
    server = await startSdkServer();
    org = await createOrg(server);
    // The cache on and trusted (the stream up), as in production: metered verdicts must bypass it.
    verifier = createRemoteVerifier({ url: server.url, verifierToken: await verifierToken(server, org.orgId) });
    expect(await verifier.ready()).toBe(true);
    app = await start({ verifier, onVerdict: (verdict) => void verdicts.push(verdict) });
  });
  afterAll(async () => {
    await app?.close();
    await verifier?.close();
    await server?.close();
  });

  const send = (path: string, key: string, headers: Record<string, string> = {}, method = 'GET') =>
    call({ url: app.url }, method, path, { headers: { 'x-api-key': key, ...headers } });

  it('sends RateLimit-Policy, RateLimit and the older fields for the tightest window, accepts exactly the limit, then answers 429 rate_limited with Retry-After', async () => {
    await awayFromWindowEnd(DAY_SECONDS);
    const { token } = await org.createKey(org.owner, {
      rateLimits: [
        { name: 'hourly', limit: 1000, windowSeconds: HOUR_SECONDS },
        { name: 'daily', limit: 3, windowSeconds: DAY_SECONDS },
      ],
    });
    for (let used = 1; used <= 3; used++) {
      const answer = await send('/v1/whoami', token);
      expect(answer.status, answer.text).toBe(200);
      expect(answer.headers.get('ratelimit-policy')).toBe('"hourly";q=1000;w=3600, "daily";q=3;w=86400');
      const tightest = parseRateLimit(answer.headers.get('ratelimit'));
      expect(tightest.name).toBe('daily');
      expect(tightest.remaining).toBe(3 - used);
      expect(Math.abs(tightest.resetSeconds - secondsToWindowEnd(DAY_SECONDS))).toBeLessThanOrEqual(2);
      expect(answer.headers.get('ratelimit-limit')).toBe('3');
      expect(answer.headers.get('ratelimit-remaining')).toBe(String(3 - used));
      expect(answer.headers.get('ratelimit-reset')).toBe(String(tightest.resetSeconds));
    }
    const refused = await send('/v1/whoami', token);
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: 'rate_limited', message: 'Too many requests with this key; try again later.' });
    const verdict = verdicts.at(-1)!;
    expect(verdict.code).toBe('RATE_LIMITED');
    expect(refused.headers.get('retry-after')).toBe(String(verdict.retryAfterSeconds));
    expect(Math.abs(Number(refused.headers.get('retry-after')) - secondsToWindowEnd(DAY_SECONDS))).toBeLessThanOrEqual(2);
    expect(refused.headers.get('ratelimit-policy')).toBe('"hourly";q=1000;w=3600, "daily";q=3;w=86400');
    expect(parseRateLimit(refused.headers.get('ratelimit'))).toMatchObject({ name: 'daily', remaining: 0 });
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
    expect(refused.headers.get('cache-control')).toBe('no-store');
  });

  it('accepts exactly the limit of concurrent requests with one key, though the cache would share one verification among them', async () => {
    await awayFromWindowEnd(DAY_SECONDS);
    const { token } = await org.createKey(org.owner, { rateLimits: [{ name: 'daily', limit: 4, windowSeconds: DAY_SECONDS }] });
    const requestsBefore = verifier.stats().requests;
    const answers = await Promise.all(Array.from({ length: 12 }, () => send('/v1/whoami', token)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(4);
    expect(answers.filter((a) => a.status === 429).map((a) => a.body.error)).toEqual(Array(8).fill('rate_limited'));
    expect(verifier.stats().requests - requestsBefore).toBe(12);
    const remainders = answers.filter((a) => a.status === 200).map((a) => parseRateLimit(a.headers.get('ratelimit')).remaining);
    expect(remainders.sort()).toEqual([0, 1, 2, 3]);
  });

  it("answers 429 usage_exceeded, without Retry-After, once the key's credits are used up", async () => {
    const { token, apiKey } = await org.createKey(org.owner, { credits: { remaining: 2, refill: null } });
    for (const left of [1, 0]) {
      const answer = await send('/v1/whoami', token);
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body.verdict.credits).toEqual({ remaining: left });
      // Credits are not a rate limit: no RateLimit headers for a key with credits only.
      for (const name of rateLimitHeaderNames) expect(answer.headers.get(name), name).toBeNull();
    }
    const refused = await send('/v1/whoami', token);
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: 'usage_exceeded', message: "This key's credits are used up." });
    expect(refused.headers.get('retry-after')).toBeNull();
    expect(verdicts.at(-1)).toMatchObject({ code: 'USAGE_EXCEEDED', keyId: apiKey.id, credits: { remaining: 0 } });

    // A top-up through the API lets the key through again at once (nothing refused was cached).
    const topUp = await call(server, 'POST', `/api/api-keys/${apiKey.id}/credits`, { token: org.owner.session, headers: { 'x-organization-id': org.orgId }, body: { op: 'increment', amount: 1 } });
    expect(topUp.status, topUp.text).toBe(200);
    expect((await send('/v1/whoami', token)).status).toBe(200);
  });

  it("spends a route's cost and the middleware's cost function, and spends nothing on a refused request", async () => {
    await awayFromWindowEnd(DAY_SECONDS);
    const credited = await org.createKey(org.owner, { credits: { remaining: 12, refill: null } });
    expect((await send('/v1/export', credited.token, {}, 'POST')).body.verdict.credits).toEqual({ remaining: 7 });
    expect((await send('/v1/export', credited.token, {}, 'POST')).body.verdict.credits).toEqual({ remaining: 2 });
    const tooDear = await send('/v1/export', credited.token, {}, 'POST');
    expect(tooDear.status).toBe(429);
    expect(tooDear.body.error).toBe('usage_exceeded');
    expect((await send('/v1/whoami', credited.token, { 'x-units': '2' })).body.verdict.credits).toEqual({ remaining: 0 });

    const limited = await org.createKey(org.owner, { rateLimits: [{ name: 'daily', limit: 10, windowSeconds: DAY_SECONDS }] });
    expect(parseRateLimit((await send('/v1/whoami', limited.token, { 'x-units': '4' })).headers.get('ratelimit')).remaining).toBe(6);
    const over = await send('/v1/whoami', limited.token, { 'x-units': '7' });
    expect(over.status).toBe(429);
    expect(over.body.error).toBe('rate_limited');
    expect(parseRateLimit(over.headers.get('ratelimit')).remaining).toBe(6);
    // A cost of 0 checks the key without spending.
    expect(parseRateLimit((await send('/v1/whoami', limited.token, { 'x-units': '0' })).headers.get('ratelimit')).remaining).toBe(6);
    expect(parseRateLimit((await send('/v1/whoami', limited.token, { 'x-units': '6' })).headers.get('ratelimit')).remaining).toBe(0);
  });

  it('sets the headers on an answer the route makes itself', async () => {
    await awayFromWindowEnd(DAY_SECONDS);
    const { token } = await org.createKey(org.owner, { rateLimits: [{ name: 'daily', limit: 5, windowSeconds: DAY_SECONDS }] });
    const answer = await send('/v1/raw', token);
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('raw');
    expect(answer.headers.get('ratelimit-policy')).toBe('"daily";q=5;w=86400');
    expect(parseRateLimit(answer.headers.get('ratelimit')).remaining).toBe(4);
  });

  it('sends no RateLimit header for a key without limits, and caches its verdict as before', async () => {
    const { token } = await org.createKey(org.owner);
    const first = await send('/v1/whoami', token);
    const requestsBefore = verifier.stats().requests;
    const second = await send('/v1/raw', token);
    for (const answer of [first, second]) {
      expect(answer.status).toBe(200);
      for (const name of rateLimitHeaderNames) expect(answer.headers.get(name), name).toBeNull();
    }
    expect(first.body.verdict.rateLimits).toBeUndefined();
    expect(verifier.stats().requests).toBe(requestsBefore); // the same ask: answered from the cache
  });

  it('refuses to define a route whose cost Keyward would refuse', () => {
    const auth = keywardExpress({ verifier });
    expect(() => auth.require({ cost: 1.5 })).toThrow(TypeError);
    expect(() => auth.require({ cost: 1_000_001 })).toThrow(/0 to 1,000,000/);
  });
});

describe('the verifiers with a cost, against a running Keyward', () => {
  let server: SdkServer;
  let org: OrgFixture;

  beforeAll(async () => {
    server = await startSdkServer();
    org = await createOrg(server);
  });
  afterAll(async () => server?.close());

  it("the remote verifier sends the cost, and refuses one Keyward would refuse whether or not the key's verdict is cached", async () => {
    const verifier = createRemoteVerifier({ url: server.url, verifierToken: await verifierToken(server, org.orgId) });
    try {
      expect(await verifier.ready()).toBe(true);
      const credited = await org.createKey(org.owner, { credits: { remaining: 10, refill: null } });
      expect(await verifier.verify({ key: credited.token, cost: 3 })).toMatchObject({ valid: true, credits: { remaining: 7 } });
      expect(await verifier.verify({ key: credited.token, cost: 8 })).toMatchObject({ valid: false, code: 'USAGE_EXCEEDED', credits: { remaining: 7 } });
      expect(await verifier.verify({ key: credited.token })).toMatchObject({ valid: true, credits: { remaining: 6 } });

      const plain = await org.createKey(org.owner);
      expect((await verifier.verify({ key: plain.token })).valid).toBe(true); // now cached
      for (const cost of [-1, 2.5, 1_000_001]) {
        await expect(verifier.verify({ key: plain.token, cost })).rejects.toMatchObject({ name: 'VerificationError', code: 'invalid_request' });
      }
    } finally {
      await verifier.close();
    }
  });

  it('the embedded verifier spends the cost from the rate limits and credits, and refuses a cost the credits cannot pay', async () => {
    await awayFromWindowEnd(DAY_SECONDS);
    const { token, apiKey } = await org.createKey(org.owner, {
      rateLimits: [{ name: 'daily', limit: 100, windowSeconds: DAY_SECONDS }],
      credits: { remaining: 10, refill: null },
    });
    const verifier = await createEmbeddedVerifier({ databaseUrl: server.store.url, pepper: server.pepper, usage: false });
    try {
      const spent = await verifier.verify({ key: token, cost: 4 });
      expect(spent).toMatchObject({ valid: true, code: 'VALID', keyId: apiKey.id, credits: { remaining: 6 } });
      expect(spent.rateLimits).toEqual([{ name: 'daily', limit: 100, windowSeconds: DAY_SECONDS, remaining: 96, resetAt: expect.any(String) }]);
      expect(Math.abs(Date.parse(spent.rateLimits![0]!.resetAt) - (Date.now() + secondsToWindowEnd(DAY_SECONDS) * 1000))).toBeLessThan(2_000);

      const refused = await verifier.verify({ key: token, cost: 7 });
      expect(refused).toMatchObject({ valid: false, code: 'USAGE_EXCEEDED', credits: { remaining: 6 } });
      expect(await verifier.verify({ key: token })).toMatchObject({ valid: true, credits: { remaining: 5 } });
      await expect(verifier.verify({ key: token, cost: -1 })).rejects.toMatchObject({ name: 'VerificationError', code: 'invalid_request' });
    } finally {
      await verifier.close();
    }
  });

  it("the embedded verifier writes the credits it spent to Keyward's database with its usage counts", async () => {
    const { token, apiKey } = await org.createKey(org.owner, { credits: { remaining: 10, refill: null } });
    const verifier = await createEmbeddedVerifier({ databaseUrl: server.store.url, pepper: server.pepper, usage: { flushIntervalMs: 60_000 } });
    try {
      expect(await verifier.verify({ key: token, cost: 3 })).toMatchObject({ valid: true, credits: { remaining: 7 } });
      await verifier.flushUsage();
      const seen = await call(server, 'GET', `/api/api-keys/${apiKey.id}`, { token: org.adminKey });
      expect(seen.status, seen.text).toBe(200);
      expect(seen.body.credits).toEqual({ remaining: 7, refill: null });
    } finally {
      await verifier.close();
    }
  });
});
