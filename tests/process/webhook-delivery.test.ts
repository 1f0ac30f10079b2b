import { createServer, type Server } from 'node:http';
import { loadConfig } from '@keyward/server';
import { afterAll, describe, expect, it } from 'vitest';
import { dialects } from '../support/dialects.js';
import { databaseForProcess, freePort, runCli, startServerProcess, type DatabaseForProcess, type ServerProcess } from '../support/process.js';

/**
 * Webhook delivery across processes (issue 15): an event is written with its change, so a change a
 * server acknowledged is delivered even when that server is killed before sending it; and with two
 * instances on one database, each delivery's first attempt is made by one of them only.
 * @see issue 15
 */

interface Receiver {
  readonly ids: string[];
  readonly types: string[];
  readonly server: Server;
  close(): Promise<void>;
}

/** A receiver on `port` that answers 204 and records every webhook-id and event type. */
async function receiverOn(port: number): Promise<Receiver> {
  const ids: string[] = [];
  const types: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      ids.push(String(req.headers['webhook-id']));
      types.push((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { type: string }).type);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    ids,
    types,
    server,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function waitFor(what: string, probe: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const post = (server: ServerProcess, token: string, path: string, body?: unknown) =>
  fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

/** An organization made with `keyward admin create-org`: its admin key. */
async function adminKeyOfNewOrg(db: DatabaseForProcess, name: string): Promise<string> {
  const created = await runCli(['admin', 'create-org', '--name', name, '--owner-email', `${name.toLowerCase()}@example.test`, '--json'], db.env);
  return (JSON.parse(created.stdout) as { adminKey: { token: string } }).adminKey.token;
}

const webhookEnv = { KEYWARD_WEBHOOK_ALLOW_PRIVATE: '1', KEYWARD_WEBHOOK_RETRY_SCHEDULE: '0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3' };

for (const dialect of await dialects()) {
  describe(`webhook delivery across a SIGKILL on ${dialect}`, () => {
    let db: DatabaseForProcess;
    const cleanups: (() => Promise<unknown>)[] = [];
    afterAll(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
      await db?.drop();
    });

    it('delivers the event of every acknowledged change after the server was killed before sending it', async () => {
      db = await databaseForProcess(dialect);
      const token = await adminKeyOfNewOrg(db, 'Hooks');
      // Nothing listens on the receiver's port yet: every attempt before the kill fails.
      const receiverPort = await freePort();
      // A short deadline keeps short the lease of an attempt the kill interrupts (deadline + 30 s).
      const env = { ...db.env, ...webhookEnv, KEYWARD_WEBHOOK_TIMEOUT_MS: '2000' };
      const first = startServerProcess(env, await freePort());
      cleanups.push(() => first.stop('SIGKILL'));
      await first.ready();
      const hook = await post(first, token, '/api/webhooks', { url: `http://127.0.0.1:${receiverPort}/hook`, events: ['api_key.created'] });
      expect(hook.status).toBe(201);
      const keyIds: string[] = [];
      for (let i = 0; i < 20; i++) {
        const key = await post(first, token, '/api/api-keys', { name: `crash ${i}`, keyType: 'service' });
        expect(key.status).toBe(201);
        keyIds.push(((await key.json()) as { apiKey: { id: string } }).apiKey.id);
      }
      await first.stop('SIGKILL');

      const receiver = await receiverOn(receiverPort);
      cleanups.push(() => receiver.close());
      const second = startServerProcess(env, await freePort());
      cleanups.push(() => second.stop());
      await second.ready();
      await waitFor('20 events', () => new Set(receiver.ids).size >= 20);
      expect(new Set(receiver.ids).size).toBe(20);
      expect(receiver.types.every((type) => type === 'api_key.created')).toBe(true);
      const webhookId = ((await hook.json()) as { webhook: { id: string } }).webhook.id;
      let data: { status: string; attempts: { statusCode: number | null; error: string | null }[] }[] = [];
      const deadline = Date.now() + 30_000;
      do {
        const listed = await fetch(`${second.url}/api/webhooks/${webhookId}/deliveries?limit=100`, { headers: { authorization: `Bearer ${token}` } });
        data = ((await listed.json()) as { data: typeof data }).data;
        if (data.every((delivery) => delivery.status === 'succeeded')) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      } while (Date.now() < deadline);
      expect(data).toHaveLength(keyIds.length);
      for (const delivery of data) {
        expect(delivery.status).toBe('succeeded');
        expect(delivery.attempts.at(-1)?.statusCode).toBe(204);
        // The attempts made before the kill found nobody listening.
        for (const attempt of delivery.attempts.slice(0, -1)) expect(attempt).toMatchObject({ statusCode: null, error: expect.stringMatching(/refused/i) });
      }
    }, 120_000);
  });
}

// PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite (two processes on one file): one writer at a time, one statement per claim.
for (const dialect of await dialects()) {
  describe(`two instances delivering one outbox on ${dialect}`, () => {
    let db: DatabaseForProcess;
    const cleanups: (() => Promise<unknown>)[] = [];
    afterAll(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
      await db?.drop();
    });

    it('delivers a burst of 500 events, none lost and none sent twice', async () => {
      db = await databaseForProcess(dialect);
      const token = await adminKeyOfNewOrg(db, 'Burst');
      const receiver = await receiverOn(await freePort());
      cleanups.push(() => receiver.close());
      const port = (receiver.server.address() as { port: number }).port;
      const metricsToken = 'metrics-token-for-the-burst-test';
      const env = { ...db.env, ...webhookEnv, KEYWARD_METRICS_TOKEN: metricsToken };
      const instances = [startServerProcess(env, await freePort()), startServerProcess(env, await freePort())];
      for (const instance of instances) cleanups.push(() => instance.stop());
      await Promise.all(instances.map((instance) => instance.ready()));
      const hook = await post(instances[0]!, token, '/api/webhooks', { url: `http://127.0.0.1:${port}/hook`, events: ['webhook.test'] });
      const webhookId = ((await hook.json()) as { webhook: { id: string } }).webhook.id;
      const total = 500;
      let next = 0;
      const senders = Array.from({ length: 8 }, async (_, n) => {
        while (next < total) {
          next++;
          const answer = await post(instances[n % 2]!, token, `/api/webhooks/${webhookId}/test`);
          expect(answer.status).toBe(202);
        }
      });
      await Promise.all(senders);
      await waitFor(`${total} events`, () => receiver.ids.length >= total, 90_000);
      // A moment for any duplicate to arrive.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(new Set(receiver.ids).size).toBe(total);
      expect(receiver.ids).toHaveLength(total);
      // Each instance counts the attempts it made: together exactly one per event, and both took part.
      const sent = await Promise.all(
        instances.map(async (instance) => {
          const text = await (await fetch(`${instance.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).text();
          return Number(/^keyward_webhook_deliveries_total\{status="succeeded"\} (\d+)$/m.exec(text)?.[1] ?? 0);
        }),
      );
      expect(sent[0]! + sent[1]!).toBe(total);
      expect(Math.min(...sent)).toBeGreaterThan(0);
    }, 150_000);
  });
}

// KEYWARD_WEBHOOK_DELIVERY=off: an API-only instance writes events with its changes and sends none;
// an instance with delivery on, on the same database, sends them.
for (const dialect of await dialects()) {
  describe(`an API-only instance (KEYWARD_WEBHOOK_DELIVERY=off) on ${dialect}`, () => {
    let db: DatabaseForProcess;
    const cleanups: (() => Promise<unknown>)[] = [];
    afterAll(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
      await db?.drop();
    });

    it('writes the events and leaves their delivery to an instance that delivers', async () => {
      db = await databaseForProcess(dialect);
      const token = await adminKeyOfNewOrg(db, 'Split');
      const receiver = await receiverOn(await freePort());
      cleanups.push(() => receiver.close());
      const port = (receiver.server.address() as { port: number }).port;
      const apiOnly = startServerProcess({ ...db.env, ...webhookEnv, KEYWARD_WEBHOOK_DELIVERY: 'off' }, await freePort());
      cleanups.push(() => apiOnly.stop());
      await apiOnly.ready();
      const hook = await post(apiOnly, token, '/api/webhooks', { url: `http://127.0.0.1:${port}/hook`, events: ['api_key.created'] });
      expect(hook.status).toBe(201);
      for (let i = 0; i < 3; i++) expect((await post(apiOnly, token, '/api/api-keys', { name: `split ${i}`, keyType: 'service' })).status).toBe(201);
      // Longer than the first attempt of a delivering instance takes here (its poll and a loopback send).
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect(receiver.ids).toEqual([]);

      const delivering = startServerProcess({ ...db.env, ...webhookEnv }, await freePort());
      cleanups.push(() => delivering.stop());
      await delivering.ready();
      await waitFor('3 events', () => receiver.ids.length >= 3);
      expect(new Set(receiver.ids).size).toBe(3);
      expect(receiver.types).toEqual(['api_key.created', 'api_key.created', 'api_key.created']);
    }, 90_000);
  });
}

describe('KEYWARD_WEBHOOK_DELIVERY', () => {
  it('is on unless set to off, and refuses any other value', () => {
    const base = { KEYWARD_DATABASE_URL: 'sqlite::memory:', KEYWARD_PEPPER: 'a'.repeat(64), KEYWARD_ENCRYPTION_KEY: 'b'.repeat(64) };
    expect(loadConfig(base).webhooks.delivery).toBe(true);
    expect(loadConfig({ ...base, KEYWARD_WEBHOOK_DELIVERY: 'on' }).webhooks.delivery).toBe(true);
    expect(loadConfig({ ...base, KEYWARD_WEBHOOK_DELIVERY: 'OFF' }).webhooks.delivery).toBe(false);
    expect(() => loadConfig({ ...base, KEYWARD_WEBHOOK_DELIVERY: 'no' })).toThrow(/KEYWARD_WEBHOOK_DELIVERY must be on or off/);
  });
});
