import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../support/dialects.js';
import { databaseForProcess, freePort, runCli, startServerProcess, type DatabaseForProcess } from '../support/process.js';

/**
 * Credits survive restarts (issue 14): spending is written with the usage flush, so after SIGTERM the
 * stored credits are exact, and after SIGKILL at most one flush interval of spending is given back,
 * never spent twice. Real server processes, SQLite file and PostgreSQL.
 * @see issue 14
 */
for (const dialect of await dialects()) {
  describe(`credits across stops on ${dialect}`, () => {
    let db: DatabaseForProcess;
    let adminKey: string;
    let verifier: string;
    let port: number;

    beforeAll(async () => {
      db = await databaseForProcess(dialect);
      adminKey = JSON.parse((await runCli(['admin', 'create-org', '--name', 'Credits', '--owner-email', 'credits@example.test', '--json'], db.env)).stdout).adminKey.token;
      verifier = JSON.parse((await runCli(['admin', 'create-verifier', '--name', 'v', '--json'], db.env)).stdout).token;
      port = await freePort();
    });
    afterAll(async () => db?.drop());

    async function meteredKey(url: string, remaining: number) {
      const created = await fetch(`${url}/api/api-keys`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
        body: JSON.stringify({ name: 'metered', keyType: 'service', credits: { remaining } }),
      });
      expect(created.status).toBe(201);
      return (await created.json()) as { token: string; apiKey: { id: string } };
    }

    /** Verifies `n` times, one after another; the codes in order. */
    async function verifyTimes(url: string, key: string, n: number): Promise<string[]> {
      const codes: string[] = [];
      for (let i = 0; i < n; i++) {
        const res = await fetch(`${url}/api/keys/verify`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${verifier}` },
          body: JSON.stringify({ key }),
        });
        expect(res.status).toBe(200);
        codes.push(((await res.json()) as { code: string }).code);
      }
      return codes;
    }

    async function remaining(url: string, keyId: string): Promise<number> {
      const res = await fetch(`${url}/api/api-keys/${keyId}`, { headers: { authorization: `Bearer ${adminKey}` } });
      return ((await res.json()) as { credits: { remaining: number } }).credits.remaining;
    }

    it('keeps exactly what is left after SIGTERM, even before the flush interval came', async () => {
      const server = startServerProcess({ ...db.env, KEYWARD_USAGE_FLUSH_MS: '600000' }, port);
      await server.ready();
      const { token, apiKey } = await meteredKey(server.url, 50);
      expect(new Set(await verifyTimes(server.url, token, 37))).toEqual(new Set(['VALID']));
      expect(await server.stop('SIGTERM')).toBe(0);
      const again = startServerProcess(db.env, port);
      await again.ready();
      try {
        expect(await remaining(again.url, apiKey.id)).toBe(13);
        const codes = await verifyTimes(again.url, token, 14);
        expect(codes.filter((c) => c === 'VALID')).toHaveLength(13);
        expect(codes[13]).toBe('USAGE_EXCEEDED');
      } finally {
        await again.stop();
      }
    });

    it('gives back at most one flush interval of spending on kill -9, and never spends twice', async () => {
      const server = startServerProcess({ ...db.env, KEYWARD_USAGE_FLUSH_MS: '200' }, port);
      await server.ready();
      const { token, apiKey } = await meteredKey(server.url, 100);
      await verifyTimes(server.url, token, 40);
      // Flushed by now.
      await new Promise((resolve) => setTimeout(resolve, 700));
      await verifyTimes(server.url, token, 15);
      await server.stop('SIGKILL');
      const again = startServerProcess(db.env, port);
      await again.ready();
      try {
        const left = await remaining(again.url, apiKey.id);
        // 55 were spent: at least 40 of them were written; none was written twice.
        expect(left).toBeGreaterThanOrEqual(45);
        expect(left).toBeLessThanOrEqual(60);
        const codes = await verifyTimes(again.url, token, left + 1);
        expect(codes.filter((c) => c === 'VALID')).toHaveLength(left);
        expect(codes[left]).toBe('USAGE_EXCEEDED');
      } finally {
        await again.stop();
      }
    });
  });
}
