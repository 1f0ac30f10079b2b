import pg from 'pg';
import { sql } from 'kysely';
import { StoreUnavailable } from '@keyward/core';
import { expect, it } from 'vitest';
import { seedMember, seedOrg } from '../src/contracts/seed.js';
import { migrateToLatest, openStore } from '../src/index.js';
import { describeDialects } from '../src/testing/open-test-store.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

await describeDialects(
  'PostgreSQL store',
  (_dialect, open) => {
    it('locks the membership row in findForUpdate until the transaction ends (R19)', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const user = await seedMember(store, org.id, 'OWNER');
      const events: string[] = [];
      let locked!: () => void;
      const lockTaken = new Promise<void>((resolve) => (locked = resolve));
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const holder = store.transaction(async (tx) => {
        expect(await tx.members.findForUpdate(org.id, user.id)).toMatchObject({ role: 'OWNER' });
        locked();
        await released;
        await tx.members.update(org.id, user.id, { role: 'ADMIN' });
      });
      await lockTaken;
      const demotion = store.members.update(org.id, user.id, { role: 'VIEWER' }).then(() => events.push('demoted'));
      await sleep(150);
      events.push('committing');
      release();
      await Promise.all([holder, demotion]);
      expect(events).toEqual(['committing', 'demoted']);
      expect((await store.members.find(org.id, user.id))!.role).toBe('VIEWER');
    });

    it('works in its own schema, with bounded statements, and int8 read as numbers by this pool only', async () => {
      const store = await open();
      const { db } = store.connection;
      const { rows } = await sql<{ n: number }>`select count(*) as n from information_schema.tables where table_schema = ${store.schema!} and table_name = 'api_keys'`.execute(db);
      expect(rows[0]!.n).toBe(1);
      const big = await sql<{ n: unknown }>`select cast(9007199254740991 as bigint) as n`.execute(db);
      expect(big.rows[0]!.n).toBe(Number.MAX_SAFE_INTEGER);
      expect(pg.types.getTypeParser(20, 'text')('42')).toBe('42');
      const timeout = await sql<{ statement_timeout: string }>`show statement_timeout`.execute(db);
      expect(timeout.rows[0]!.statement_timeout).toBe('10s');
      expect(await migrateToLatest(store.url, { schema: store.schema })).toEqual([]);
    });

    it('reports a statement cancelled by its timeout as StoreUnavailable, and rolls its transaction back', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const error = await store.connection.db
        .transaction()
        .execute(async (trx) => {
          await trx.updateTable('organizations').set({ name: 'inside' }).where('id', '=', org.id).execute();
          await sql`set local statement_timeout = 50`.execute(trx);
          await sql`select pg_sleep(1)`.execute(trx);
        })
        .catch((err: unknown) => err);
      expect(error).toBeInstanceOf(StoreUnavailable);
      expect((error as Error).message).toBe('The database is not available.');
      expect((await store.orgs.findById(org.id))!.name).toBe(org.name);
      await store.ping();
    });

    it('opens a second store on the same schema that sees the first one’s writes', async () => {
      const store = await open();
      const second = await openStore(store.url, { schema: store.schema });
      try {
        const org = await seedOrg(store);
        expect(await second.orgs.findById(org.id)).toEqual(org);
      } finally {
        await second.close();
      }
    });
  },
  ['postgres'],
);
