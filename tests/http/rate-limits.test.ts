import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier } from '@keyward/core';
import { call, createOrg, startServer, type OrgFixture, type TestServer } from '../support/server.js';
import { dialects } from '../support/dialects.js';

/**
 * Per-key rate limits and credits (issue 14; CONTRACT.md "Per-key rate limits and credits"), black
 * box on one instance: the shapes, bad input, the order of checks, exact counts under concurrency,
 * windows and refills at their boundaries (an injected clock), the credits endpoint and who may use it.
 * @see issue 14
 */

/** A clock the test moves; starts just inside a minute, so a 60 s window has room. */
function manualClock(start: number) {
  let now = start;
  return { now: () => new Date(now), set: (ms: number) => void (now = ms), get: () => now };
}

const T0 = Date.parse('2031-01-31T23:59:00.000Z');

for (const dialect of await dialects()) {
  describe(`rate limits and credits on ${dialect}`, () => {
    const clock = manualClock(T0);
    let server: TestServer;
    let org: OrgFixture;
    let verifier: string;

    const verify = (body: Record<string, unknown>) => call(server, 'POST', '/api/keys/verify', { token: verifier, body });
    const flush = () => server.composed.services.usage.flush();
    const getKey = async (id: string, token = org.owner.session) => (await call(server, 'GET', `/api/api-keys/${id}`, { token })).body;
    const credits = (id: string, body: unknown, token = org.owner.session) => call(server, 'POST', `/api/api-keys/${id}/credits`, { token, body });

    beforeAll(async () => {
      server = await startServer({ dialect, clock });
      org = await createOrg(server);
      verifier = (await createVerifier(server.composed.services.deps, { name: 'gateway', orgId: null })).token;
    });
    afterAll(async () => server?.close());

    it('keeps rate limits and credits on the key, and a key without them shows [] and null', async () => {
      const plain = await org.createKey(org.owner);
      expect(plain.apiKey).toMatchObject({ rateLimits: [], rateLimitUse: [], credits: null });
      const rateLimits = [
        { name: 'burst', limit: 10, windowSeconds: 1 },
        { name: 'requests', limit: 1000, windowSeconds: 3600 },
      ];
      const created = await org.createKey(org.owner, { rateLimits, credits: { remaining: 500, refill: { amount: 1000, interval: 'month' } } });
      expect(created.apiKey.rateLimits).toEqual(rateLimits);
      expect(created.apiKey.credits).toEqual({ remaining: 500, refill: { amount: 1000, interval: 'month' } });
      expect(created.apiKey.rateLimitUse).toEqual([
        { name: 'burst', limit: 10, used: 0, resetAt: expect.any(String) },
        { name: 'requests', limit: 1000, used: 0, resetAt: expect.any(String) },
      ]);
      const noRefill = await org.createKey(org.owner, { credits: { remaining: 5 } });
      expect(noRefill.apiKey.credits).toEqual({ remaining: 5, refill: null });
    });

    it('refuses bad limits, credits and costs with 422 and reasons, never a 5xx', async () => {
      const bad: Record<string, unknown>[] = [
        { rateLimits: [{ name: 'a', limit: 0, windowSeconds: 60 }] },
        { rateLimits: [{ name: 'a', limit: 10, windowSeconds: 0 }] },
        { rateLimits: [{ name: 'a', limit: 10, windowSeconds: 86_401 }] },
        { rateLimits: [{ name: 'a', limit: 1.5, windowSeconds: 60 }] },
        { rateLimits: [{ name: 'Has Space', limit: 10, windowSeconds: 60 }] },
        { rateLimits: [{ name: 'x'.repeat(33), limit: 10, windowSeconds: 60 }] },
        { rateLimits: ['a', 'b', 'c', 'd', 'e', 'f'].map((name) => ({ name, limit: 1, windowSeconds: 1 })) },
        { rateLimits: [{ name: 'same', limit: 1, windowSeconds: 1 }, { name: 'same', limit: 2, windowSeconds: 60 }] },
        { credits: { remaining: -1 } },
        { credits: { remaining: 2.5 } },
        { credits: { remaining: 1_000_000_001 } },
        { credits: { remaining: 10, refill: { amount: 0, interval: 'month' } } },
        { credits: { remaining: 10, refill: { amount: 10, interval: 'week' } } },
      ];
      for (const body of bad) {
        const res = await call(server, 'POST', '/api/api-keys', { token: org.owner.session, body: { name: 'bad', ...body } });
        expect(res.status, JSON.stringify(body)).toBe(422);
        expect(res.body.error).toBe('validation_failed');
        expect(res.body.reasons.length).toBeGreaterThan(0);
      }
      const { apiKey, token } = await org.createKey(org.owner, { rateLimits: [{ name: 'a', limit: 5, windowSeconds: 60 }] });
      const patched = await call(server, 'PATCH', `/api/api-keys/${apiKey.id}`, { token: org.owner.session, body: { rateLimits: [{ name: 'a', limit: -3, windowSeconds: 60 }] } });
      expect(patched.status).toBe(422);
      for (const cost of [-1, 1.5, 1_000_001, '1', null]) {
        const res = await verify({ key: token, cost });
        expect(res.status, String(cost)).toBe(422);
        expect(res.body.error).toBe('validation_failed');
      }
      for (const body of [{ op: 'set', amount: -1 }, { op: 'set', amount: 0.5 }, { op: 'double', amount: 1 }, { op: 'set' }, { op: 'set', amount: 1_000_000_001 }]) {
        expect((await credits(apiKey.id, body)).status, JSON.stringify(body)).toBe(422);
      }
      // A key without credits has none to change.
      expect((await credits(apiKey.id, { op: 'increment', amount: 5 })).status).toBe(422);
    });

    it('accepts exactly the limit of 120 concurrent verifications against a limit of 50, and says when to retry', async () => {
      clock.set(T0 + 1_000);
      const { token, apiKey } = await org.createKey(org.owner, { rateLimits: [{ name: 'requests', limit: 50, windowSeconds: 60 }] });
      const answers = await Promise.all(Array.from({ length: 120 }, () => verify({ key: token })));
      const valid = answers.filter((a) => a.body.code === 'VALID');
      const limited = answers.filter((a) => a.body.code === 'RATE_LIMITED');
      expect(valid).toHaveLength(50);
      expect(limited).toHaveLength(70);
      const resetAt = new Date(T0 + 60_000).toISOString();
      const remainders = valid.map((a) => a.body.rateLimits[0].remaining).sort((x: number, y: number) => x - y);
      expect(remainders).toEqual(Array.from({ length: 50 }, (_, i) => i));
      expect(valid[0]!.body.rateLimits[0]).toMatchObject({ name: 'requests', limit: 50, windowSeconds: 60, resetAt });
      expect(limited[0]!.body).toMatchObject({ valid: false, code: 'RATE_LIMITED', keyId: apiKey.id, retryAfterSeconds: 59, rateLimits: [{ name: 'requests', limit: 50, remaining: 0, resetAt }] });
      expect(limited[0]!.body.explanation).toMatch(/"requests" \(50 per minute\)/);
      expect((await getKey(apiKey.id)).rateLimitUse).toEqual([{ name: 'requests', limit: 50, used: 50, resetAt }]);

      // The window ends on the minute: the next one starts empty.
      clock.set(T0 + 59_999);
      expect((await verify({ key: token })).body.code).toBe('RATE_LIMITED');
      clock.set(T0 + 60_000);
      const next = await verify({ key: token });
      expect(next.body.code).toBe('VALID');
      expect(next.body.rateLimits[0]).toMatchObject({ remaining: 49, resetAt: new Date(T0 + 120_000).toISOString() });

      await flush();
      const usage = await call(server, 'GET', `/api/api-keys/${apiKey.id}/usage?interval=day&from=${new Date(T0 - 86_400_000).toISOString()}&to=${new Date(T0 + 86_400_000).toISOString()}`, { token: org.owner.session });
      expect(usage.body.totals.rejectedByCode.RATE_LIMITED).toBe(71);
      expect(usage.body.totals.valid).toBe(51);
    });

    it('spends cost from every window and the credits, all or nothing, after the key checks', async () => {
      clock.set(T0 + 120_000);
      const { token, apiKey } = await org.createKey(org.owner, {
        rateLimits: [
          { name: 'second', limit: 5, windowSeconds: 1 },
          { name: 'minute', limit: 8, windowSeconds: 60 },
        ],
        credits: { remaining: 20 },
      });
      expect((await verify({ key: token, cost: 4 })).body).toMatchObject({ code: 'VALID', credits: { remaining: 16 }, rateLimits: [{ remaining: 1 }, { remaining: 4 }] });
      // 2 more would overflow "second" (4 + 2 > 5): nothing is spent from "minute" or the credits.
      const refused = await verify({ key: token, cost: 2 });
      expect(refused.body).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 1, credits: { remaining: 16 } });
      expect(refused.body.explanation).toMatch(/"second"/);
      expect((await verify({ key: token, cost: 0 })).body).toMatchObject({ code: 'VALID', credits: { remaining: 16 }, rateLimits: [{ remaining: 1 }, { remaining: 4 }] });
      // A key check fails first and spends nothing: an unknown permission is 422, a missing one INSUFFICIENT_PERMISSIONS.
      const restricted = await org.createKey(org.owner, { permissionMode: 'restricted', permissions: ['traces:read'], credits: { remaining: 1 }, rateLimits: [{ name: 'm', limit: 1, windowSeconds: 60 }] });
      expect((await verify({ key: restricted.token, permission: 'traces:write' })).body.code).toBe('INSUFFICIENT_PERMISSIONS');
      expect((await verify({ key: restricted.token, permission: 'traces:read' })).body).toMatchObject({ code: 'VALID', credits: { remaining: 0 } });
      expect((await verify({ key: restricted.token, permission: 'traces:read' })).body.code).toBe('RATE_LIMITED');
      clock.set(T0 + 180_000);
      const exceeded = await verify({ key: restricted.token, permission: 'traces:read' });
      expect(exceeded.body).toMatchObject({ valid: false, code: 'USAGE_EXCEEDED', credits: { remaining: 0 } });
      expect(exceeded.body.retryAfterSeconds).toBeUndefined();
      await flush();
      expect((await getKey(apiKey.id)).credits.remaining).toBe(16);
      expect((await getKey(restricted.apiKey.id)).credits.remaining).toBe(0);
    });

    it('accepts exactly the credits of concurrent verifications, and GET shows them spent after a flush', async () => {
      const { token, apiKey } = await org.createKey(org.owner, { credits: { remaining: 30 } });
      const answers = await Promise.all(Array.from({ length: 45 }, () => verify({ key: token })));
      expect(answers.filter((a) => a.body.code === 'VALID')).toHaveLength(30);
      expect(answers.filter((a) => a.body.code === 'USAGE_EXCEEDED')).toHaveLength(15);
      expect(answers.find((a) => a.body.code === 'VALID')!.body.rateLimits).toBeUndefined();
      await flush();
      expect((await getKey(apiKey.id)).credits).toEqual({ remaining: 0, refill: null });
      const usage = await call(server, 'GET', `/api/api-keys/${apiKey.id}/usage?interval=day&from=${new Date(T0 - 86_400_000).toISOString()}&to=${new Date(T0 + 86_400_000).toISOString()}`, { token: org.owner.session });
      expect(usage.body.totals.rejectedByCode.USAGE_EXCEEDED).toBe(15);
    });

    it('changes credits atomically: set, increment, decrement (never below zero), audited, owners and admins only', async () => {
      const { token, apiKey } = await org.createKey(org.owner, { credits: { remaining: 10 } });
      for (let i = 0; i < 4; i++) expect((await verify({ key: token })).body.code).toBe('VALID');
      // Unflushed spending counts: 10 - 4 = 6 left, then +5.
      expect((await credits(apiKey.id, { op: 'increment', amount: 5 })).body).toEqual({ remaining: 11 });
      expect((await credits(apiKey.id, { op: 'decrement', amount: 3 })).body).toEqual({ remaining: 8 });
      const below = await credits(apiKey.id, { op: 'decrement', amount: 9 });
      expect(below.status).toBe(422);
      expect(below.body.error).toBe('validation_failed');
      expect((await verify({ key: token })).body.credits).toEqual({ remaining: 7 });
      expect((await credits(apiKey.id, { op: 'set', amount: 2 })).body).toEqual({ remaining: 2 });
      expect((await verify({ key: token, cost: 3 })).body.code).toBe('USAGE_EXCEEDED');
      expect((await verify({ key: token, cost: 2 })).body).toMatchObject({ code: 'VALID', credits: { remaining: 0 } });
      await flush();
      // The spending before the set is in the amount set: it is not subtracted again.
      expect((await getKey(apiKey.id)).credits.remaining).toBe(0);

      const audit = await call(server, 'GET', `/api/audit-log?action=api_key.credits_changed&targetId=${apiKey.id}`, { token: org.owner.session });
      expect(audit.body.data.map((e: { details: { op: string; amount: number; remaining: number } }) => [e.details.op, e.details.amount, e.details.remaining])).toEqual([
        ['set', 2, 2],
        ['decrement', 3, 8],
        ['increment', 5, 11],
      ]);

      const member = await org.addMember('MEMBER');
      const own = await org.createKey(member, { rateLimits: [{ name: 'mine', limit: 3, windowSeconds: 60 }] });
      expect(own.apiKey.rateLimits).toHaveLength(1);
      const withCredits = await call(server, 'POST', '/api/api-keys', { token: member.session, body: { name: 'metered', credits: { remaining: 5 } } });
      expect(withCredits.status).toBe(403);
      expect((await call(server, 'PATCH', `/api/api-keys/${own.apiKey.id}`, { token: member.session, body: { credits: { remaining: 5 } } })).status).toBe(403);
      expect((await call(server, 'PATCH', `/api/api-keys/${own.apiKey.id}`, { token: member.session, body: { rateLimits: [] } })).body.rateLimits).toEqual([]);
      const admin = await call(server, 'PATCH', `/api/api-keys/${own.apiKey.id}`, { token: org.owner.session, body: { credits: { remaining: 5 } } });
      expect(admin.body.credits).toEqual({ remaining: 5, refill: null });
      expect((await credits(own.apiKey.id, { op: 'increment', amount: 1 }, member.session)).status).toBe(403);
    });

    it('refills at the start of each UTC day and month, and PATCH replaces or removes limits and credits', async () => {
      // 2031-01-31T23:59 UTC: a monthly refill comes on 1 February, a daily one at midnight.
      clock.set(T0 + 30_000);
      const monthly = await org.createKey(org.owner, { credits: { remaining: 2, refill: { amount: 100, interval: 'month' } } });
      const daily = await org.createKey(org.owner, { credits: { remaining: 1, refill: { amount: 3, interval: 'day' } } });
      expect((await verify({ key: monthly.token, cost: 2 })).body.credits).toEqual({ remaining: 0 });
      expect((await verify({ key: monthly.token })).body.code).toBe('USAGE_EXCEEDED');
      expect((await verify({ key: daily.token })).body.credits).toEqual({ remaining: 0 });
      await flush();
      clock.set(Date.parse('2031-02-01T00:00:00.000Z'));
      // GET shows the refill even before a verification uses it.
      expect((await getKey(monthly.apiKey.id)).credits.remaining).toBe(100);
      expect((await verify({ key: monthly.token })).body.credits).toEqual({ remaining: 99 });
      expect((await verify({ key: daily.token, cost: 3 })).body.credits).toEqual({ remaining: 0 });
      await flush();
      expect((await getKey(monthly.apiKey.id)).credits.remaining).toBe(99);
      expect((await getKey(daily.apiKey.id)).credits.remaining).toBe(0);
      clock.set(Date.parse('2031-02-02T00:00:00.000Z'));
      expect((await verify({ key: daily.token })).body.credits).toEqual({ remaining: 2 });
      // 28 February: still February's credits; 1 March refills.
      clock.set(Date.parse('2031-02-28T23:59:59.999Z'));
      expect((await verify({ key: monthly.token })).body.credits).toEqual({ remaining: 98 });
      clock.set(Date.parse('2031-03-01T00:00:00.000Z'));
      expect((await verify({ key: monthly.token })).body.credits).toEqual({ remaining: 99 });

      // A month later the owner's session has expired: the organization's admin key acts.
      const removed = await call(server, 'PATCH', `/api/api-keys/${monthly.apiKey.id}`, { token: org.adminKey, body: { credits: null } });
      expect(removed.status, removed.text).toBe(200);
      expect(removed.body.credits).toBeNull();
      const after = await verify({ key: monthly.token, cost: 1000 });
      expect(after.body.code).toBe('VALID');
      expect(after.body.credits).toBeUndefined();
      await flush();
      expect((await getKey(monthly.apiKey.id, org.adminKey)).credits).toBeNull();
      const again = await call(server, 'PATCH', `/api/api-keys/${monthly.apiKey.id}`, { token: org.adminKey, body: { credits: { remaining: 1 } } });
      expect(again.body.credits).toEqual({ remaining: 1, refill: null });
      expect((await verify({ key: monthly.token })).body.credits).toEqual({ remaining: 0 });
      expect((await verify({ key: monthly.token })).body.code).toBe('USAGE_EXCEEDED');
    });

    it('makes access tokens spend the limits and credits of the key behind them', async () => {
      clock.set(Date.now());
      const { token, apiKey } = await org.createKey(org.owner, { credits: { remaining: 2 }, rateLimits: [{ name: 'm', limit: 100, windowSeconds: 60 }] });
      const minted = await call(server, 'POST', '/oauth/token', {
        rawBody: new URLSearchParams({ grant_type: 'client_credentials', client_id: apiKey.id, client_secret: token }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(minted.status).toBe(200);
      const accessToken = minted.body.access_token as string;
      expect((await verify({ key: accessToken })).body).toMatchObject({ code: 'VALID', credits: { remaining: 1 } });
      expect((await verify({ key: token })).body).toMatchObject({ code: 'VALID', credits: { remaining: 0 } });
      expect((await verify({ key: accessToken })).body.code).toBe('USAGE_EXCEEDED');
    });
  });
}

describe('api_key.credits_exhausted', () => {
  let server: TestServer;
  let org: OrgFixture;
  let verifier: string;
  let receiver: Server;
  const events: { type: string; data: { apiKey: { id: string; credits: unknown }; actor: unknown } }[] = [];

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        events.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    server = await startServer({ env: { KEYWARD_WEBHOOK_ALLOW_PRIVATE: '1', KEYWARD_WEBHOOK_RETRY_SCHEDULE: '0.1' } });
    org = await createOrg(server);
    verifier = (await createVerifier(server.composed.services.deps, { name: 'gateway', orgId: null })).token;
  });
  afterAll(async () => {
    await server?.close();
    receiver?.closeAllConnections();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it('is sent once when a verification spends the last credit, with the key showing none left', async () => {
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    expect((await call(server, 'POST', '/api/webhooks', { token: org.owner.session, body: { url, events: ['api_key.credits_exhausted'] } })).status).toBe(201);
    const { token, apiKey } = await org.createKey(org.owner, { credits: { remaining: 3 } });
    const answers = await Promise.all(Array.from({ length: 6 }, () => call(server, 'POST', '/api/keys/verify', { token: verifier, body: { key: token } })));
    expect(answers.filter((a) => a.body.code === 'VALID')).toHaveLength(3);
    const deadline = Date.now() + 10_000;
    while (events.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
    // Refusals after the last credit send nothing more.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'api_key.credits_exhausted',
      data: { apiKey: { id: apiKey.id, credits: { remaining: 0, refill: null } }, actor: { type: 'verification', id: apiKey.id } },
    });
  });
});
