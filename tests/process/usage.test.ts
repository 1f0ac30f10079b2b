import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseForProcess, freePort, runCli, startServerProcess, type DatabaseForProcess } from '../support/process.js';

/**
 * Usage is counted in memory and written in batches (R47): exact after a graceful stop, at most one
 * flush interval lost after kill -9, never counted twice.
 */
describe('usage counts across stops', () => {
  let db: DatabaseForProcess;
  let adminKey: string;
  let verifier: string;
  let port: number;

  beforeAll(async () => {
    db = await databaseForProcess('sqlite');
    adminKey = JSON.parse((await runCli(['admin', 'create-org', '--name', 'Usage', '--owner-email', 'usage@example.test', '--json'], db.env)).stdout).adminKey.token;
    verifier = JSON.parse((await runCli(['admin', 'create-verifier', '--name', 'v', '--json'], db.env)).stdout).token;
    port = await freePort();
  });
  afterAll(async () => db?.drop());

  async function keyAndUsage(url: string) {
    const created = await fetch(`${url}/api/api-keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
      body: JSON.stringify({ name: 'counted', keyType: 'service' }),
    });
    return (await created.json()) as { token: string; apiKey: { id: string } };
  }

  async function verifyTimes(url: string, key: string, n: number, body: Record<string, unknown> = {}) {
    for (let i = 0; i < n; i++) {
      const res = await fetch(`${url}/api/keys/verify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${verifier}` },
        body: JSON.stringify({ key, ...body }),
      });
      expect(res.status).toBe(200);
    }
  }

  async function totals(url: string, keyId: string) {
    const res = await fetch(`${url}/api/api-keys/${keyId}/usage?interval=minute`, { headers: { authorization: `Bearer ${adminKey}` } });
    return ((await res.json()) as { totals: { valid: number; rejected: number } }).totals;
  }

  it('counts exactly N after SIGTERM, even when the flush interval has not come', async () => {
    const server = startServerProcess({ ...db.env, KEYWARD_USAGE_FLUSH_MS: '600000' }, port);
    await server.ready();
    const { token, apiKey } = await keyAndUsage(server.url);
    await verifyTimes(server.url, token, 37);
    await verifyTimes(server.url, token, 5, { ip: '10.0.0.1', projectId: 'proj_nope', permission: 'traces:read' });
    expect(await server.stop('SIGTERM')).toBe(0);
    const again = startServerProcess(db.env, port);
    await again.ready();
    try {
      expect(await totals(again.url, apiKey.id)).toMatchObject({ valid: 37, rejected: 5 });
      const key = await fetch(`${again.url}/api/api-keys/${apiKey.id}`, { headers: { authorization: `Bearer ${adminKey}` } });
      expect(((await key.json()) as { lastUsedAt: string | null }).lastUsedAt).not.toBeNull();
    } finally {
      await again.stop();
    }
  });

  it('loses at most one flush interval on kill -9, and never counts twice', async () => {
    const server = startServerProcess({ ...db.env, KEYWARD_USAGE_FLUSH_MS: '200' }, port);
    await server.ready();
    const { token, apiKey } = await keyAndUsage(server.url);
    await verifyTimes(server.url, token, 40);
    await new Promise((r) => setTimeout(r, 700));
    await verifyTimes(server.url, token, 15);
    await server.stop('SIGKILL');
    const again = startServerProcess(db.env, port);
    await again.ready();
    try {
      const { valid } = await totals(again.url, apiKey.id);
      expect(valid).toBeGreaterThanOrEqual(40);
      expect(valid).toBeLessThanOrEqual(55);
    } finally {
      await again.stop();
    }
  });
});
