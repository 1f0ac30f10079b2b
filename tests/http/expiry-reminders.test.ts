import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openStore } from '@keyward/store';
import { openTestStore } from '@keyward/store/testing';
import type { Store } from '@keyward/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../support/dialects.js';
import { call, createOrg, startServer, type OrgFixture, type TestServer } from '../support/server.js';

/**
 * Expiry reminders (issue 15): `api_key.expiring` once 7 days and once 1 day before `expiresAt`,
 * `api_key.expired` once it passed, each sent once whatever the number of passes or instances, with
 * an injected clock; delivered to a real receiver on loopback.
 * @see issue 15
 */

const DAY = 86_400_000;
const T0 = Date.parse('2030-03-01T00:00:00.000Z');

function manualClock(start: number) {
  let now = start;
  return { now: () => new Date(now), set: (ms: number) => void (now = ms) };
}

interface Event {
  type: string;
  data: { apiKey: { id: string; expiresAt: string | null; [field: string]: unknown }; actor: { type: string; id: string }; reminder?: string };
}

/** Records the events it receives (every delivery answered 204). */
class Receiver {
  readonly events: Event[] = [];
  private server!: Server;
  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.events.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Event);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }
  of(keyId: string): string[] {
    return this.events
      .filter((e) => e.data.apiKey?.id === keyId && e.type.startsWith('api_key.expir'))
      .map((e) => (e.type === 'api_key.expiring' ? `expiring ${e.data.reminder}` : e.type));
  }
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function eventually(probe: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const settings = { KEYWARD_WEBHOOK_ALLOW_PRIVATE: '1', KEYWARD_WEBHOOK_RETRY_SCHEDULE: '0.1', KEYWARD_EXPIRY_CHECK_MS: '3600000' };

for (const dialect of await dialects()) {
  describe(`expiry reminders on ${dialect}`, () => {
    const clock = manualClock(T0);
    const receiver = new Receiver();
    let server: TestServer;
    let org: OrgFixture;

    beforeAll(async () => {
      await receiver.start();
      server = await startServer({ dialect, clock, env: settings });
      org = await createOrg(server);
      const hook = await call(server, 'POST', '/api/webhooks', { token: org.adminKey, body: { url: receiver.url, events: ['api_key.expiring', 'api_key.expired'] } });
      expect(hook.status).toBe(201);
    });
    afterAll(async () => {
      await server?.close();
      await receiver.close();
    });

    it('reminds 7 days and 1 day before expiresAt and once it passed, each once, whatever the number of passes', async () => {
      clock.set(T0);
      const { apiKey } = await org.createKey(org.adminKey, { keyType: 'service', expiresAt: new Date(T0 + 10 * DAY).toISOString() });
      const run = () => server.composed.expiryReminders.runOnce();

      expect(await run()).toBe(0); // ten days out: nothing yet
      clock.set(T0 + 3 * DAY - 1000); // one second more than 7 days before
      await run();
      expect(receiver.of(apiKey.id)).toEqual([]);

      clock.set(T0 + 3 * DAY); // exactly 7 days before
      expect(await run()).toBeGreaterThanOrEqual(1);
      await eventually(() => receiver.of(apiKey.id).length === 1, 'the 7-day reminder');
      expect(receiver.of(apiKey.id)).toEqual(['expiring 7d']);
      clock.set(T0 + 5 * DAY);
      await run();
      await run();

      clock.set(T0 + 9 * DAY + 3600_000); // 23 hours before
      await run();
      await eventually(() => receiver.of(apiKey.id).length === 2, 'the 1-day reminder');

      clock.set(T0 + 10 * DAY); // the instant it expires
      await run();
      await eventually(() => receiver.of(apiKey.id).length === 3, 'the expired event');
      clock.set(T0 + 11 * DAY);
      await run();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(receiver.of(apiKey.id)).toEqual(['expiring 7d', 'expiring 1d', 'api_key.expired']);
      const expired = receiver.events.find((e) => e.type === 'api_key.expired' && e.data.apiKey.id === apiKey.id)!;
      expect(expired.data.actor).toEqual({ type: 'system', id: 'expiry_reminders' });
      expect(expired.data.apiKey.expiresAt).toBe(new Date(T0 + 10 * DAY).toISOString());
      // The key as the API answers it.
      const answer = await call(server, 'GET', `/api/api-keys/${apiKey.id}`, { token: org.adminKey });
      expect(expired.data.apiKey).toEqual(answer.body);
      expect(JSON.stringify(expired)).not.toMatch(/secret|digest|pepper/i);
    });

    it('sends only the nearer reminder to a key already within a day, none to revoked keys, and new ones for a new expiresAt', async () => {
      const start = T0 + 20 * DAY;
      clock.set(start);
      const soon = await org.createKey(org.adminKey, { keyType: 'service', expiresAt: new Date(start + 12 * 3600_000).toISOString() });
      const revoked = await org.createKey(org.adminKey, { keyType: 'service', expiresAt: new Date(start + 2 * DAY).toISOString() });
      expect((await call(server, 'DELETE', `/api/api-keys/${revoked.apiKey.id}`, { token: org.adminKey })).status).toBe(200);
      await server.composed.expiryReminders.runOnce();
      await eventually(() => receiver.of(soon.apiKey.id).length === 1, 'the 1-day reminder');
      expect(receiver.of(soon.apiKey.id)).toEqual(['expiring 1d']);

      // Extended by a week: the new date gets its own reminders.
      const extended = new Date(start + 5 * DAY).toISOString();
      expect((await call(server, 'PATCH', `/api/api-keys/${soon.apiKey.id}`, { token: org.adminKey, body: { expiresAt: extended } })).status).toBe(200);
      await server.composed.expiryReminders.runOnce();
      await eventually(() => receiver.of(soon.apiKey.id).length === 2, 'the 7-day reminder of the new date');
      expect(receiver.of(soon.apiKey.id)).toEqual(['expiring 1d', 'expiring 7d']);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(receiver.of(revoked.apiKey.id)).toEqual([]);
    });
  });
}

describe.runIf((await dialects()).includes('postgres'))('expiry reminders with two instances over one PostgreSQL database', () => {
  const clock = manualClock(T0);
  const receiver = new Receiver();
  let a: TestServer;
  let b: TestServer;
  let second: Store;

  beforeAll(async () => {
    await receiver.start();
    const shared = await openTestStore('postgres');
    second = await openStore(shared.url, { schema: shared.schema });
    a = await startServer({ store: shared, clock, env: settings });
    b = await startServer({ store: second, clock, env: { ...settings, KEYWARD_PEPPER: a.config.peppers[0]!.key.toString('hex'), KEYWARD_ENCRYPTION_KEY: a.config.encryptionKey.toString('hex') } });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await second?.close();
    await receiver.close();
  });

  it('sends each reminder once when both instances look at the same moment, and only the lease holder looks', async () => {
    const org = await createOrg(a);
    expect((await call(a, 'POST', '/api/webhooks', { token: org.adminKey, body: { url: receiver.url, events: ['*'] } })).status).toBe(201);
    const keys: string[] = [];
    // Beyond 7 days at T0, so that a scheduled pass while the keys are made (the first comes a second
    // after start) finds nothing due yet.
    const expiry = T0 + 7 * DAY + 12 * 3600_000;
    for (let i = 0; i < 20; i++) keys.push((await org.createKey(org.adminKey, { keyType: 'service', expiresAt: new Date(expiry + i * 60_000).toISOString() })).apiKey.id);
    clock.set(T0 + DAY); // every key: within 7 days, not within 1
    const [sentA, sentB] = await Promise.all([a.composed.expiryReminders.runOnce(), b.composed.expiryReminders.runOnce()]);
    // One of them holds the lease and sends all 20; the other sends none.
    expect([sentA, sentB].sort((x, y) => x - y)).toEqual([0, 20]);
    await eventually(() => keys.every((id) => receiver.of(id).length === 1), 'one reminder per key');
    // The holder stops: the lease is released, and the other instance takes over at its next pass.
    const holder = sentA === 20 ? a : b;
    const other = holder === a ? b : a;
    await holder.close();
    clock.set(expiry - 3600_000); // every key now within a day
    expect(await other.composed.expiryReminders.runOnce()).toBe(20);
    await eventually(() => keys.every((id) => receiver.of(id).length === 2), 'the 1-day reminders');
    expect(keys.map((id) => receiver.of(id).join(','))).toEqual(keys.map(() => 'expiring 7d,expiring 1d'));
  });
});
