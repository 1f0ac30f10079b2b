import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '@keyward/store';
import { openTestStore, postgresAvailable, testPostgresUrl, type TestStore } from '@keyward/store/testing';
import type { Store } from '@keyward/core';
import { call, createOrg, startServer, type TestServer } from '../support/server.js';

/** A TCP proxy to PostgreSQL that the test can cut and restore (F2: the database goes away). */
function pgProxy(target: URL) {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(Number(target.port || 5432), target.hostname);
        sockets.add(client).add(upstream);
        client.pipe(upstream).pipe(client);
        const drop = () => {
          client.destroy();
          upstream.destroy();
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
      });
      server.listen(port, '127.0.0.1', () => {
        const address = server!.address();
        port = typeof address === 'object' && address ? address.port : port;
        resolve();
      });
    });
  return {
    listen,
    get port() {
      return port;
    },
    async cut() {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
    },
  };
}

const ready = process.env.CI === 'true' || (await postgresAvailable());

describe.runIf(ready)('when PostgreSQL goes away (R49, F2)', () => {
  let direct: TestStore;
  let proxied: Store;
  let server: TestServer;
  const proxy = pgProxy(new URL(testPostgresUrl));

  beforeAll(async () => {
    direct = await openTestStore('postgres');
    await proxy.listen();
    const url = new URL(testPostgresUrl);
    url.host = `127.0.0.1:${proxy.port}`;
    proxied = await openStore(url.toString(), { schema: direct.schema });
    server = await startServer({ store: proxied });
  });
  afterAll(async () => {
    await server?.close();
    await proxied?.close().catch(() => {});
    await direct?.close();
  });

  it('answers 503 with Retry-After (never 500, never a hang), and recovers by itself', async () => {
    const org = await createOrg(server);
    const { token } = await org.createKey(org.owner);
    await proxy.cut();
    const started = Date.now();
    const create = await call(server, 'POST', '/api/api-keys', { token: org.owner.session, body: { name: 'during outage' } });
    expect(create.status).toBe(503);
    expect(create.body.error).toBe('service_unavailable');
    expect(create.headers.get('retry-after')).toEqual(expect.any(String));
    const list = await call(server, 'GET', '/api/api-keys', { token: org.owner.session });
    expect(list.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(15_000);
    const health = await call(server, 'GET', '/healthz');
    expect(health.status).toBe(503);
    await proxy.listen();
    let recovered = 0;
    for (let i = 0; i < 50 && recovered !== 201; i++) {
      recovered = (await call(server, 'POST', '/api/api-keys', { token: org.owner.session, body: { name: 'after outage' } })).status;
      if (recovered !== 201) await new Promise((r) => setTimeout(r, 200));
    }
    expect(recovered).toBe(201);
    expect((await call(server, 'GET', '/api/auth/whoami', { token })).status).toBe(200);
  }, 60_000);
});
