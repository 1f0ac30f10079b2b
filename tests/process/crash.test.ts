import { randomInt } from 'node:crypto';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { databaseForProcess, freePort, runCli, startServerProcess, type DatabaseForProcess } from '../support/process.js';
import { dialects } from '../support/dialects.js';

interface Ack {
  op: 'create' | 'revoke';
  id: string;
}

async function listAll(url: string, token: string, path: string): Promise<any[]> {
  const out: any[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res: Response = await fetch(`${url}${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as { data: any[]; nextCursor: string | null };
    out.push(...body.data);
    cursor = body.nextCursor;
  } while (cursor);
  return out;
}

/**
 * "Nothing acknowledged is ever lost" (SECURITY.md §3, F1): kill -9 the server while clients create
 * and revoke keys; after a restart every change that was answered 2xx is there with its audit entry,
 * and no change exists without its audit entry or the reverse.
 */
for (const dialect of await dialects()) {
  describe(`SIGKILL during writes on ${dialect}`, () => {
    let db: DatabaseForProcess;
    afterAll(async () => db?.drop());

    it('keeps every acknowledged create and revoke, each with its audit entry, and nothing half-made', async () => {
      db = await databaseForProcess(dialect);
      const org = JSON.parse((await runCli(['admin', 'create-org', '--name', 'Crash', '--owner-email', 'crash@example.test', '--json'], db.env)).stdout) as {
        adminKey: { token: string };
      };
      const token = org.adminKey.token;
      const acks: Ack[] = [];
      const port = await freePort();

      for (let round = 0; round < 3; round++) {
        const server = startServerProcess(db.env, port);
        await server.ready();
        let running = true;
        const worker = async (n: number) => {
          let i = 0;
          while (running) {
            try {
              const created = await fetch(`${server.url}/api/api-keys`, {
                method: 'POST',
                headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
                body: JSON.stringify({ name: `r${round}-w${n}-${i++}`, keyType: 'service', expiresAt: new Date(Date.now() + 86_400_000).toISOString() }),
              });
              if (created.status !== 201) continue;
              const { apiKey } = (await created.json()) as { apiKey: { id: string } };
              acks.push({ op: 'create', id: apiKey.id });
              if (i % 2 === 0) {
                const revoked = await fetch(`${server.url}/api/api-keys/${apiKey.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
                if (revoked.status === 200) acks.push({ op: 'revoke', id: apiKey.id });
              }
            } catch {
              return; // the server died mid-request: that change is unacknowledged
            }
          }
        };
        const workers = Array.from({ length: 6 }, (_, n) => worker(n));
        await new Promise((r) => setTimeout(r, 400 + randomInt(800)));
        await server.stop('SIGKILL');
        running = false;
        await Promise.all(workers);
      }
      expect(acks.filter((a) => a.op === 'create').length).toBeGreaterThan(10);

      const server = startServerProcess(db.env, port);
      await server.ready();
      try {
        const keys = await listAll(server.url, token, '/api/api-keys?status=all');
        const byId = new Map(keys.map((k) => [k.id, k]));
        for (const ack of acks) {
          expect(byId.has(ack.id), `${ack.op} ${ack.id} was acknowledged but is missing`).toBe(true);
          if (ack.op === 'revoke') expect(byId.get(ack.id).status).toBe('revoked');
        }
        const created = await listAll(server.url, token, '/api/audit-log?action=api_key.created');
        const revoked = await listAll(server.url, token, '/api/audit-log?action=api_key.revoked');
        const createdIds = new Set(created.map((e) => e.targetId));
        const revokedIds = new Set(revoked.map((e) => e.targetId));
        for (const key of keys) {
          expect(createdIds.has(key.id), `key ${key.id} has no creation audit entry`).toBe(true);
          expect(revokedIds.has(key.id), `key ${key.id}: revocation and audit entry disagree`).toBe(key.status === 'revoked');
        }
        for (const id of createdIds) expect(byId.has(id), `audit entry for a key that does not exist: ${id}`).toBe(true);
      } finally {
        await server.stop();
      }
      if (dialect === 'sqlite') {
        const file = db.env.KEYWARD_DATABASE_URL!.slice('sqlite:'.length);
        const check = new Database(file);
        expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
        check.close();
      }
    }, 120_000);
  });
}
