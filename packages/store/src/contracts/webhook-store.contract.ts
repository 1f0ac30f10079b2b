import { fanOutEvents, prefixedIds, recordEvent, type OrgId, type Store, type WebhookDeliveryId, type WebhookEndpointRecord, type WebhookEventId } from '@keyward/core';
import { describe, expect, it } from 'vitest';
import { at, nextId, seedOrg } from './seed.js';

const endpointRecord = (orgId: OrgId, overrides: Partial<WebhookEndpointRecord> = {}): WebhookEndpointRecord => ({
  id: nextId('wh'),
  orgId,
  url: 'https://hooks.example.com/keyward',
  events: ['api_key.revoked'],
  description: null,
  enabled: true,
  disabledReason: null,
  secretEncrypted: 'v1.a.b.c',
  previousSecretEncrypted: null,
  previousSecretExpiresAt: null,
  failingSince: null,
  createdAt: at(),
  updatedAt: at(),
  ...overrides,
});

/** Claims stay leased far beyond every instant these tests use, so a claimed row never comes back to another test. */
const leaseUntil = at(10_000_000);

/** Writes an event and one pending delivery, due at `dueAt`, to the endpoint. */
async function seedDelivery(store: Store, endpoint: WebhookEndpointRecord, dueAt: Date): Promise<{ id: WebhookDeliveryId; eventId: WebhookEventId }> {
  const eventId = nextId('evt');
  const id = nextId('whd');
  await store.transaction(async (tx) => {
    await tx.webhooks.insertEvent({ id: eventId, orgId: endpoint.orgId, type: 'webhook.test', payload: `{"id":"${eventId}"}`, createdAt: dueAt, fanOutPending: false });
    await tx.webhooks.insertDelivery({
      id,
      orgId: endpoint.orgId,
      endpointId: endpoint.id,
      eventId,
      eventType: 'webhook.test',
      status: 'pending',
      nextAttemptAt: dueAt,
      retriesLeft: null,
      attemptCount: 0,
      createdAt: dueAt,
    });
  });
  return { id, eventId };
}

/** Webhook endpoints, the outbox and the leases that make each attempt one worker's. */
export function webhookStoreContract(open: () => Promise<Store>) {
  describe('WebhookRepository', () => {
    it("never returns, updates or deletes another organization's endpoint or delivery", async () => {
      const store = await open();
      const a = await seedOrg(store);
      const b = await seedOrg(store);
      const endpoint = endpointRecord(a.id, { events: ['*'] });
      await store.webhooks.insertEndpoint(endpoint);
      const delivery = await seedDelivery(store, endpoint, at(1));
      expect(await store.webhooks.findEndpoint(a.id, endpoint.id)).toEqual(endpoint);
      expect(await store.webhooks.findEndpoint(b.id, endpoint.id)).toBeNull();
      expect((await store.webhooks.listEndpoints(b.id, { limit: 10 })).items).toEqual([]);
      expect(await store.webhooks.listSubscribed(b.id, 'api_key.created')).toEqual([]);
      expect(await store.webhooks.findDelivery(b.id, endpoint.id, delivery.id)).toBeNull();
      expect((await store.webhooks.listDeliveries(b.id, endpoint.id, { limit: 10 })).items).toEqual([]);
      await store.webhooks.updateEndpoint(b.id, endpoint.id, { url: 'https://evil.example.com', updatedAt: at(2) });
      expect(await store.webhooks.deleteEndpoint(b.id, endpoint.id)).toBe(false);
      expect(await store.webhooks.findEndpoint(a.id, endpoint.id)).toEqual(endpoint);
      expect(await store.webhooks.findDelivery(a.id, endpoint.id, delivery.id)).toMatchObject({ id: delivery.id, status: 'pending', attempts: [] });
    });

    it('lists the enabled endpoints subscribed to an event type or to "*"', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const revoked = endpointRecord(org.id, { events: ['api_key.revoked'], createdAt: at(1) });
      const all = endpointRecord(org.id, { events: ['*'], createdAt: at(2) });
      const paused = endpointRecord(org.id, { events: ['*'], enabled: false, createdAt: at(3) });
      for (const endpoint of [revoked, all, paused]) await store.webhooks.insertEndpoint(endpoint);
      expect((await store.webhooks.listSubscribed(org.id, 'api_key.revoked')).map((e) => e.id)).toEqual([revoked.id, all.id]);
      expect((await store.webhooks.listSubscribed(org.id, 'member.added')).map((e) => e.id)).toEqual([all.id]);
      expect(await store.webhooks.countEndpoints(org.id)).toBe(3);
    });

    it('claims a due delivery once, with what sending it needs, and leaves it alone until the lease ends', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const endpoint = endpointRecord(org.id);
      await store.webhooks.insertEndpoint(endpoint);
      const later = await seedDelivery(store, endpoint, at(5_000_000));
      const due = await seedDelivery(store, endpoint, at(4_000_000));
      const now = at(4_500_000);
      const claimed = (await store.webhooks.claimDue(now, 1000, leaseUntil, 'lease-1')).filter((c) => c.endpointId === endpoint.id);
      expect(claimed).toEqual([
        expect.objectContaining({ id: due.id, eventId: due.eventId, payload: `{"id":"${due.eventId}"}`, url: endpoint.url, secretEncrypted: 'v1.a.b.c', attemptCount: 0, leaseToken: 'lease-1' }),
      ]);
      expect((await store.webhooks.claimDue(now, 1000, leaseUntil, 'lease-2')).map((c) => c.id)).not.toContain(due.id);
      expect((await store.webhooks.claimDue(now, 1000, leaseUntil, 'lease-2')).map((c) => c.id)).not.toContain(later.id);
    });

    it('records an attempt only under the lease that claimed it', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const endpoint = endpointRecord(org.id);
      await store.webhooks.insertEndpoint(endpoint);
      const due = await seedDelivery(store, endpoint, at(6_000_000));
      const now = at(6_000_001);
      expect((await store.webhooks.claimDue(now, 1000, leaseUntil, 'first')).map((c) => c.id)).toContain(due.id);
      const attempt = { number: 1, at: now, statusCode: 500, durationMs: 12, error: 'The endpoint answered 500.', responseExcerpt: 'oops' };
      const next = { status: 'pending' as const, nextAttemptAt: at(6_000_010), retriesLeft: null };
      expect(await store.transaction((tx) => tx.webhooks.finishAttempt(due.id, 'stolen', attempt, next))).toBe(false);
      expect(await store.transaction((tx) => tx.webhooks.finishAttempt(due.id, 'first', attempt, next))).toBe(true);
      expect(await store.transaction((tx) => tx.webhooks.finishAttempt(due.id, 'first', attempt, next))).toBe(false);
      expect(await store.webhooks.findDelivery(org.id, endpoint.id, due.id)).toMatchObject({
        status: 'pending',
        attemptCount: 1,
        nextAttemptAt: at(6_000_010),
        attempts: [{ number: 1, at: now, statusCode: 500, durationMs: 12, error: 'The endpoint answered 500.', responseExcerpt: 'oops' }],
      });
      await store.webhooks.requeueDelivery(org.id, due.id, at(6_000_020));
      expect(await store.webhooks.findDelivery(org.id, endpoint.id, due.id)).toMatchObject({ status: 'pending', retriesLeft: 0, nextAttemptAt: at(6_000_020) });
    });

    it('claims nothing of a disabled endpoint, and hands each due delivery to one of two concurrent claimers', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const endpoint = endpointRecord(org.id);
      const paused = endpointRecord(org.id, { enabled: false });
      await store.webhooks.insertEndpoint(endpoint);
      await store.webhooks.insertEndpoint(paused);
      const waiting = await seedDelivery(store, paused, at(7_000_000));
      const mine = new Set<string>();
      for (let i = 0; i < 60; i++) mine.add((await seedDelivery(store, endpoint, at(7_000_000 + i))).id);
      const now = at(7_100_000);
      const [first, second] = await Promise.all([store.webhooks.claimDue(now, 40, leaseUntil, 'a'), store.webhooks.claimDue(now, 40, leaseUntil, 'b')]);
      const ids = [...first, ...second].map((c) => c.id);
      expect(new Set(ids).size).toBe(ids.length);
      const third = await store.webhooks.claimDue(now, 100, leaseUntil, 'c');
      const claimedOfMine = [...ids, ...third.map((c) => c.id)].filter((id) => mine.has(id));
      expect(claimedOfMine.sort()).toEqual([...mine].sort());
      expect([...ids, ...third.map((c) => c.id)]).not.toContain(waiting.id);
      expect(await store.webhooks.hasDue(now)).toBe(false);
    });

    it('writes an event alone in its transaction, then fans it out once to the endpoints subscribed when it happened', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const all = endpointRecord(org.id, { events: ['*'], createdAt: at(1) });
      const created = endpointRecord(org.id, { events: ['api_key.created'], createdAt: at(2) });
      const revoked = endpointRecord(org.id, { events: ['api_key.revoked'], createdAt: at(3) });
      const paused = endpointRecord(org.id, { events: ['*'], enabled: false, createdAt: at(4) });
      for (const endpoint of [all, created, revoked, paused]) await store.webhooks.insertEndpoint(endpoint);
      const eventId = await store.transaction((tx) => recordEvent(tx, prefixedIds, at(10), org.id, 'api_key.created', { n: 1 }));
      expect(eventId).toMatch(/^evt_/);
      // Nothing but the event yet: no delivery is written in the change's transaction.
      for (const endpoint of [all, created]) expect((await store.webhooks.listDeliveries(org.id, endpoint.id, { limit: 10 })).items).toEqual([]);
      expect(await store.webhooks.hasEventsToFanOut()).toBe(true);
      // An endpoint added after the event happened does not get it, even before it is fanned out.
      const later = endpointRecord(org.id, { events: ['*'], createdAt: at(11) });
      await store.webhooks.insertEndpoint(later);

      expect(await store.transaction((tx) => fanOutEvents(tx, prefixedIds, 10))).toBe(1);
      expect(await store.webhooks.hasEventsToFanOut()).toBe(false);
      expect(await store.transaction((tx) => fanOutEvents(tx, prefixedIds, 10))).toBe(0);
      for (const endpoint of [all, created]) {
        const listed = (await store.webhooks.listDeliveries(org.id, endpoint.id, { limit: 10 })).items;
        expect(listed).toMatchObject([{ eventId, eventType: 'api_key.created', status: 'pending', nextAttemptAt: at(10), createdAt: at(10), attempts: [] }]);
      }
      for (const endpoint of [revoked, paused, later]) expect((await store.webhooks.listDeliveries(org.id, endpoint.id, { limit: 10 })).items).toEqual([]);
      // Nothing is written, nor its data read, when no enabled endpoint subscribes to the event.
      await store.webhooks.updateEndpoint(org.id, all.id, { enabled: false, updatedAt: at(13) });
      await store.webhooks.updateEndpoint(org.id, later.id, { enabled: false, updatedAt: at(13) });
      const unread = () => Promise.reject(new Error('the data of an event nobody wants is never read'));
      expect(await store.transaction((tx) => recordEvent(tx, prefixedIds, at(14), org.id, 'member.added', unread))).toBeNull();
      expect(await store.webhooks.hasEventsToFanOut()).toBe(false);
    });

    it('fans out each waiting event in exactly one of two concurrent transactions (PostgreSQL, FOR UPDATE SKIP LOCKED)', async () => {
      const store = await open();
      // SQLite has one writer at a time: a second transaction waits for the first by design.
      if (store.dialect !== 'postgres') return;
      const org = await seedOrg(store);
      await store.webhooks.insertEndpoint(endpointRecord(org.id, { events: ['*'], createdAt: at(1) }));
      const events = new Set<string>();
      for (let i = 0; i < 6; i++) events.add((await store.transaction((tx) => recordEvent(tx, prefixedIds, at(20 + i), org.id, 'api_key.created', { i })))!);
      let outside: string[] = [];
      const inside = await store.transaction(async (tx) => {
        const held = await tx.webhooks.takeEventsToFanOut(2);
        // The events taken above stay locked until this transaction ends: another transaction takes the rest, now.
        outside = await store.transaction(async (other) => (await other.webhooks.takeEventsToFanOut(100)).map((e) => e.id));
        return held.map((e) => e.id);
      });
      expect(inside).toHaveLength(2);
      expect(inside.filter((id) => outside.includes(id))).toEqual([]);
      expect([...inside, ...outside].filter((id) => events.has(id)).sort()).toEqual([...events].sort());
      expect(await store.webhooks.hasEventsToFanOut()).toBe(false);
    });

    it('skips, rather than waits for, deliveries another claimer holds locked (PostgreSQL, FOR UPDATE SKIP LOCKED)', async () => {
      const store = await open();
      // SQLite has one writer at a time: a second claim waits for the first transaction by design.
      if (store.dialect !== 'postgres') return;
      const org = await seedOrg(store);
      const endpoint = endpointRecord(org.id);
      await store.webhooks.insertEndpoint(endpoint);
      const mine = new Set<string>();
      for (let i = 0; i < 20; i++) mine.add((await seedDelivery(store, endpoint, at(8_000_000 + i))).id);
      const now = at(8_100_000);
      let outside: string[] = [];
      const inside = await store.transaction(async (tx) => {
        const held = await tx.webhooks.claimDue(now, 10, leaseUntil, 'held');
        // The rows claimed above stay locked until this transaction ends: a claim from another
        // connection must take the other rows now, not wait (which would never end here) nor take these.
        outside = (await store.webhooks.claimDue(now, 100, leaseUntil, 'outside')).map((c) => c.id);
        return held.map((c) => c.id);
      });
      expect(inside.filter((id) => outside.includes(id))).toEqual([]);
      expect([...inside, ...outside].filter((id) => mine.has(id)).sort()).toEqual([...mine].sort());
    });

    it('prunes finished deliveries older than the cutoff with their attempts and events, and nothing pending or newer', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const endpoint = endpointRecord(org.id);
      await store.webhooks.insertEndpoint(endpoint);
      const old = await seedDelivery(store, endpoint, at(-9_000_000));
      const oldPending = await seedDelivery(store, endpoint, at(-8_999_000));
      const recent = await seedDelivery(store, endpoint, at(-1_000));
      const claimed = await store.webhooks.claimDue(at(-8_999_500), 1000, leaseUntil, 'prune');
      expect(claimed.map((c) => c.id)).toContain(old.id);
      const attempt = { number: 1, at: at(-8_999_500), statusCode: 200, durationMs: 3, error: null, responseExcerpt: null };
      await store.transaction((tx) => tx.webhooks.finishAttempt(old.id, 'prune', attempt, { status: 'succeeded', nextAttemptAt: null, retriesLeft: null }));
      await store.webhooks.pruneFinished(at(-5_000_000), 1000);
      expect(await store.webhooks.findDelivery(org.id, endpoint.id, old.id)).toBeNull();
      expect(await store.webhooks.findDelivery(org.id, endpoint.id, oldPending.id)).not.toBeNull();
      expect(await store.webhooks.findDelivery(org.id, endpoint.id, recent.id)).not.toBeNull();
      // The event of the pruned delivery is gone with it: a new delivery of it cannot be written.
      await expect(
        store.webhooks.insertDelivery({ id: nextId('whd'), orgId: org.id, endpointId: endpoint.id, eventId: old.eventId, eventType: 'webhook.test', status: 'pending', nextAttemptAt: at(), retriesLeft: null, attemptCount: 0, createdAt: at() }),
      ).rejects.toThrow();
    });
  });
}
