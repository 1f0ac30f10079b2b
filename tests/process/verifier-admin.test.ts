import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseForProcess, freePort, runCli, startServerProcess, type DatabaseForProcess, type ServerProcess } from '../support/process.js';

/**
 * CONTRACT.md "Verifier credentials can be managed": `keyward admin verifier list|create|revoke|roll`
 * on the store, and every running instance honours a revoke or roll within a second. Two server
 * processes share one SQLite file; the commands run as a third process.
 */
describe('keyward admin verifier, against two running instances on one SQLite file', () => {
  let db: DatabaseForProcess;
  let a: ServerProcess;
  let b: ServerProcess;

  beforeAll(async () => {
    db = await databaseForProcess('sqlite');
    a = startServerProcess(db.env, await freePort());
    await a.ready();
    // Started after A, so that both read the secrets A generated beside the database.
    b = startServerProcess(db.env, await freePort());
    await b.ready();
  }, 60_000);
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    await db?.drop();
  });

  const cli = (...args: string[]) => runCli(['admin', 'verifier', ...args], db.env);
  /** The status `POST /api/keys/verify` answers a verifier token with (200: accepted, 401: refused). */
  const statusOn = async (server: ServerProcess, token: string) =>
    (
      await fetch(`${server.url}/api/keys/verify`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ key: 'kw_nothing' }),
      })
    ).status;
  /** Waits at most a second for both instances to answer `status`; returns how long it took. */
  const onBothWithin = async (token: string, status: number) => {
    const start = Date.now();
    for (;;) {
      const [onA, onB] = await Promise.all([statusOn(a, token), statusOn(b, token)]);
      if (onA === status && onB === status) return Date.now() - start;
      if (Date.now() - start > 1000) return Number.POSITIVE_INFINITY;
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it('creates, lists, rolls with and without overlap, and revokes, each honoured by every instance within a second', async () => {
    const created = await cli('create', '--name', 'gateway', '--json');
    expect(created.code, created.stderr).toBe(0);
    const { id, token: first } = JSON.parse(created.stdout) as { id: string; token: string };
    expect(await statusOn(a, first)).toBe(200);
    expect(await statusOn(b, first)).toBe(200);

    const listed = await cli('list', '--json');
    expect(listed.code).toBe(0);
    const rows = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
    expect(rows).toContainEqual({ id, name: 'gateway', organizationId: null, createdAt: expect.any(String), lastUsedAt: expect.any(String), revokedAt: null });
    expect(listed.stdout).not.toContain(first);

    // Roll with an hour's overlap: both tokens work everywhere.
    const rolled = await cli('roll', id, '--overlap', '1h', '--json');
    expect(rolled.code, rolled.stderr).toBe(0);
    const second = (JSON.parse(rolled.stdout) as { id: string; token: string }).token;
    expect(JSON.parse(rolled.stdout).id).toBe(id);
    expect(await onBothWithin(second, 200)).toBeLessThan(1000);
    expect(await onBothWithin(first, 200)).toBeLessThan(1000);

    // Roll with no overlap: the second token stops at once, everywhere.
    const third = (JSON.parse((await cli('roll', id, '--overlap', '0', '--json')).stdout) as { token: string }).token;
    expect(await onBothWithin(second, 401)).toBeLessThan(1000);
    expect(await onBothWithin(first, 401)).toBeLessThan(1000);
    expect(await onBothWithin(third, 200)).toBeLessThan(1000);

    // Revoking asks for --yes without a terminal, then stops the credential on every instance.
    const unconfirmed = await cli('revoke', id);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain('--yes');
    expect(await statusOn(a, third)).toBe(200);
    const revoked = await cli('revoke', id, '--yes', '--json');
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(JSON.parse(revoked.stdout)).toEqual({ success: true });
    expect(await onBothWithin(third, 401)).toBeLessThan(1000);
    const after = JSON.parse((await cli('list', '--json')).stdout) as Array<{ id: string; revokedAt: string | null }>;
    expect(after.find((v) => v.id === id)?.revokedAt).toEqual(expect.any(String));
  }, 120_000);

  it('answers unknown, revoked and malformed ids and overlaps with the documented exit codes', async () => {
    const { id } = JSON.parse((await cli('create', '--name', 'short-lived', '--json')).stdout) as { id: string };
    expect((await cli('revoke', id, '--yes')).code).toBe(0);
    expect((await cli('revoke', id, '--yes')).code).toBe(1);
    expect((await cli('roll', id)).code).toBe(4);
    expect((await cli('revoke', 'ver_0000000000000000', '--yes')).code).toBe(4);
    expect((await cli('revoke', 'nonsense', '--yes')).code).toBe(2);
    expect((await cli('roll', id, '--overlap', '8d')).code).toBe(2);
  }, 120_000);
});
