import { createServer, type Server, type Socket } from 'node:net';
import { StoreBusy, StoreConflict, StoreUnavailable } from '@keyward/core';
import { afterAll, describe, expect, it } from 'vitest';
import { keyRecord, seedKey, seedOrg } from '../src/contracts/seed.js';
import { openStore, translateDriverError } from '../src/index.js';
import { describeDialects } from '../src/testing/open-test-store.js';

describe('translateDriverError', () => {
  it.each([
    [{ code: '23505' }, StoreConflict],
    [{ code: 'SQLITE_CONSTRAINT_UNIQUE' }, StoreConflict],
    [{ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' }, StoreConflict],
    [{ code: 'ECONNREFUSED' }, StoreUnavailable],
    [{ code: '08006' }, StoreUnavailable],
    [{ code: '57014' }, StoreUnavailable],
    [{ code: '40P01' }, StoreUnavailable],
    [{ code: 'SQLITE_BUSY' }, StoreBusy],
    [{ code: 'SQLITE_BUSY_SNAPSHOT' }, StoreBusy],
    [{ code: 'SQLITE_IOERR_WRITE' }, StoreUnavailable],
    [new Error('timeout exceeded when trying to connect'), StoreUnavailable],
    [new Error('Connection terminated unexpectedly'), StoreUnavailable],
  ])('translates %o', (err, type) => {
    const translated = translateDriverError(err) as Error;
    expect(translated).toBeInstanceOf(type);
    expect(translated.cause).toBe(err);
  });

  it('passes through what is a bug, not a database state', () => {
    for (const err of [{ code: '23503' }, { code: 'SQLITE_CONSTRAINT_FOREIGNKEY' }, new Error('syntax error at or near "selec"'), 'text', null]) {
      expect(translateDriverError(err)).toBe(err);
    }
  });
});

await describeDialects('driver errors', (_dialect, open) => {
  it('reports a unique violation as a StoreConflict whose message carries no SQL and no value', async () => {
    const store = await open();
    const org = await seedOrg(store);
    const key = await seedKey(store, org.id);
    const error = await store.keys.insert({ ...keyRecord(org.id), secret: key.secret }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(StoreConflict);
    const message = (error as Error).message;
    expect(message).toBe('A record with the same unique value exists.');
    expect(message).not.toContain(key.secret.digest);
    expect((error as Error).cause).toBeDefined();
  });
});

describe('an unreachable PostgreSQL', () => {
  const sockets = new Set<Socket>();
  // Accepts connections, reads what comes, and never answers.
  const silent: Server = createServer((socket) => {
    sockets.add(socket);
    socket.resume();
    socket.on('close', () => sockets.delete(socket));
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('is StoreUnavailable at once when the connection is refused', async () => {
    const store = await openStore('postgres://postgres@127.0.0.1:1/test', { connectTimeoutMs: 1000 });
    try {
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailable);
      await expect(store.keys.findForVerificationByLookupId('x')).rejects.toBeInstanceOf(StoreUnavailable);
      await expect(store.transaction(async (tx) => tx.orgs.count())).rejects.toBeInstanceOf(StoreUnavailable);
    } finally {
      await store.close();
    }
  });

  it('is StoreUnavailable within the connect timeout when the server never answers (R50)', async () => {
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const store = await openStore(`postgres://postgres@127.0.0.1:${port}/test`, { connectTimeoutMs: 300 });
    const started = Date.now();
    try {
      const error = await store.ping().catch((err: unknown) => err);
      expect(error).toBeInstanceOf(StoreUnavailable);
      expect((error as Error).message).toBe('The database is not available.');
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await store.close();
    }
    // The client gave up on its connection rather than leaving it open.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const open = sockets.size;
    for (const socket of sockets) socket.destroy();
    expect(open).toBe(0);
  });
});
