import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { seedOrg } from '../src/contracts/seed.js';
import { migratorFor } from '../src/migrate-to-latest.js';
import { migrateToLatest, openStore } from '../src/index.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('migration 0014 (the webhook outbox)', () => {
  it('moves the events still waiting for their fan-out into the outbox, and leaves the others', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-outbox-'));
    dirs.push(dir);
    const store = await openStore(`sqlite:${join(dir, 'keyward.db')}`);
    try {
      const { error } = await migratorFor(store.connection).migrateTo('0013_webhook_fan_out');
      expect(error).toBeUndefined();
      const org = await seedOrg(store);
      // As 0013 left them: one event fanned out already, two waiting.
      for (const [id, pending, at] of [['evt_done', 0, 1], ['evt_waiting2', 1, 3], ['evt_waiting1', 1, 2]] as const) {
        await sql`insert into webhook_events (id, org_id, type, payload, created_at, fan_out_pending)
          values (${id}, ${org.id}, 'api_key.created', ${`{"id":"${id}"}`}, ${at}, ${pending})`.execute(store.connection.db);
      }
      expect(await migrateToLatest(store)).toEqual(['0014_webhook_outbox']);

      expect(await store.webhooks.hasEventsToFanOut()).toBe(true);
      const taken = await store.transaction((tx) => tx.webhooks.takeEventsToFanOut(10));
      // In the order they happened, with what they were written with.
      expect(taken.map((event) => [event.id, event.payload, event.createdAt.getTime()])).toEqual([
        ['evt_waiting1', '{"id":"evt_waiting1"}', 2],
        ['evt_waiting2', '{"id":"evt_waiting2"}', 3],
      ]);
      expect(await store.webhooks.hasEventsToFanOut()).toBe(false);
      const events = await sql<{ id: string }>`select id from webhook_events order by id`.execute(store.connection.db);
      expect(events.rows.map((row) => row.id)).toEqual(['evt_done', 'evt_waiting1', 'evt_waiting2']);
    } finally {
      await store.close();
    }
  });
});
