import type {
  ClaimedWebhookDelivery,
  OrgId,
  WebhookAttempt,
  WebhookDeliveryId,
  WebhookDeliveryRecord,
  WebhookDeliveryStatus,
  WebhookEndpointRecord,
  WebhookEventId,
  WebhookEventRecord,
  WebhookEventType,
  WebhookId,
  WebhookRepository,
} from '@keyward/core';
import { sql, type Selectable } from 'kysely';
import { pageFrom } from '../cursor.js';
import type { WebhookAttemptsTable, WebhookDeliveriesTable, WebhookEndpointsTable } from '../schema.js';
import { afterPosition, json, parseJson, toDate, toDateOrNull, toMs, toMsOrNull, type RepositoryContext } from './db.js';

const endpointOf = (row: Selectable<WebhookEndpointsTable>): WebhookEndpointRecord => ({
  id: row.id as WebhookId,
  orgId: row.org_id as OrgId,
  url: row.url,
  events: parseJson<string[]>(row.events, []),
  description: row.description,
  enabled: Number(row.enabled) === 1,
  disabledReason: row.disabled_reason,
  secretEncrypted: row.secret_encrypted,
  previousSecretEncrypted: row.previous_secret_encrypted,
  previousSecretExpiresAt: toDateOrNull(row.previous_secret_expires_at),
  failingSince: toDateOrNull(row.failing_since),
  createdAt: toDate(row.created_at),
  updatedAt: toDate(row.updated_at),
});

const attemptOf = (row: Selectable<WebhookAttemptsTable>): WebhookAttempt => ({
  number: Number(row.number),
  at: toDate(row.at),
  statusCode: row.status_code === null ? null : Number(row.status_code),
  durationMs: Number(row.duration_ms),
  error: row.error,
  responseExcerpt: row.response_excerpt,
});

const deliveryOf = (row: Selectable<WebhookDeliveriesTable>, attempts: WebhookAttempt[]): WebhookDeliveryRecord => ({
  id: row.id as WebhookDeliveryId,
  orgId: row.org_id as OrgId,
  endpointId: row.endpoint_id as WebhookId,
  eventId: row.event_id as WebhookEventId,
  eventType: row.event_type,
  status: row.status as WebhookDeliveryStatus,
  nextAttemptAt: toDateOrNull(row.next_attempt_at),
  retriesLeft: row.retries_left === null ? null : Number(row.retries_left),
  attemptCount: Number(row.attempt_count),
  createdAt: toDate(row.created_at),
  attempts,
});

/**
 * Webhook endpoints, the outbox and deliveries. Tenant reads filter by organization; the worker's
 * claim is the one query across organizations (it serves them all) and leases what it returns.
 */
export function webhookRepository({ db, dialect }: RepositoryContext): WebhookRepository {
  async function withAttempts(rows: Selectable<WebhookDeliveriesTable>[]): Promise<Map<string, WebhookAttempt[]>> {
    const byDelivery = new Map<string, WebhookAttempt[]>();
    if (rows.length === 0) return byDelivery;
    const attempts = await db
      .selectFrom('webhook_attempts')
      .selectAll()
      .where(
        'delivery_id',
        'in',
        rows.map((r) => r.id),
      )
      .orderBy('delivery_id')
      .orderBy('number')
      .execute();
    for (const row of attempts) {
      const list = byDelivery.get(row.delivery_id) ?? [];
      list.push(attemptOf(row));
      byDelivery.set(row.delivery_id, list);
    }
    return byDelivery;
  }

  async function insertDeliveries(deliveries: readonly Omit<WebhookDeliveryRecord, 'attempts'>[]): Promise<void> {
    if (deliveries.length === 0) return;
    await db
      .insertInto('webhook_deliveries')
      .values(
        deliveries.map((d) => ({
          id: d.id,
          org_id: d.orgId,
          endpoint_id: d.endpointId,
          event_id: d.eventId,
          event_type: d.eventType,
          status: d.status,
          next_attempt_at: toMsOrNull(d.nextAttemptAt),
          retries_left: d.retriesLeft,
          attempt_count: d.attemptCount,
          lease_token: null,
          created_at: toMs(d.createdAt),
        })),
      )
      .execute();
  }

  return {
    async insertEndpoint(e) {
      await db
        .insertInto('webhook_endpoints')
        .values({
          id: e.id,
          org_id: e.orgId,
          url: e.url,
          events: json(e.events),
          description: e.description,
          enabled: e.enabled ? 1 : 0,
          disabled_reason: e.disabledReason,
          secret_encrypted: e.secretEncrypted,
          previous_secret_encrypted: e.previousSecretEncrypted,
          previous_secret_expires_at: toMsOrNull(e.previousSecretExpiresAt),
          failing_since: toMsOrNull(e.failingSince),
          created_at: toMs(e.createdAt),
          updated_at: toMs(e.updatedAt),
        })
        .execute();
    },
    async findEndpoint(orgId, webhookId) {
      const row = await db.selectFrom('webhook_endpoints').selectAll().where('org_id', '=', orgId).where('id', '=', webhookId).executeTakeFirst();
      return row ? endpointOf(row) : null;
    },
    async listEndpoints(orgId, page) {
      let query = db.selectFrom('webhook_endpoints').selectAll().where('org_id', '=', orgId);
      if (page.cursor) query = query.where(afterPosition(page.cursor, 'created_at', 'id', 'asc'));
      const rows = await query.orderBy('created_at').orderBy('id').limit(page.limit + 1).execute();
      return pageFrom(rows, page.limit, endpointOf, (row) => [Number(row.created_at), row.id]);
    },
    async countEndpoints(orgId) {
      const row = await db.selectFrom('webhook_endpoints').select((eb) => eb.fn.countAll<number>().as('n')).where('org_id', '=', orgId).executeTakeFirst();
      return Number(row?.n ?? 0);
    },
    async listSubscribed(orgId, eventType) {
      // An organization has a handful of endpoints: their event lists are matched here, not in SQL.
      // Only what writing deliveries needs: called in the transaction of every change that may have an event.
      const rows = await db
        .selectFrom('webhook_endpoints')
        .select(['id', 'events', 'created_at'])
        .where('org_id', '=', orgId)
        .where('enabled', '=', 1)
        .orderBy('created_at')
        .execute();
      return rows
        .filter((row) => {
          const events = parseJson<string[]>(row.events, []);
          return events.includes('*') || events.includes(eventType);
        })
        .map((row) => ({ id: row.id as WebhookId, createdAt: toDate(row.created_at) }));
    },
    async updateEndpoint(orgId, webhookId, patch) {
      await db
        .updateTable('webhook_endpoints')
        .set({
          ...(patch.url !== undefined ? { url: patch.url } : {}),
          ...(patch.events !== undefined ? { events: json(patch.events) } : {}),
          ...(patch.description !== undefined ? { description: patch.description } : {}),
          ...(patch.enabled !== undefined ? { enabled: patch.enabled ? 1 : 0 } : {}),
          ...(patch.disabledReason !== undefined ? { disabled_reason: patch.disabledReason } : {}),
          ...(patch.secretEncrypted !== undefined ? { secret_encrypted: patch.secretEncrypted } : {}),
          ...(patch.previousSecretEncrypted !== undefined ? { previous_secret_encrypted: patch.previousSecretEncrypted } : {}),
          ...(patch.previousSecretExpiresAt !== undefined ? { previous_secret_expires_at: toMsOrNull(patch.previousSecretExpiresAt) } : {}),
          ...(patch.failingSince !== undefined ? { failing_since: toMsOrNull(patch.failingSince) } : {}),
          updated_at: toMs(patch.updatedAt),
        })
        .where('org_id', '=', orgId)
        .where('id', '=', webhookId)
        .execute();
    },
    async deleteEndpoint(orgId, webhookId) {
      const result = await db.deleteFrom('webhook_endpoints').where('org_id', '=', orgId).where('id', '=', webhookId).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async insertEvent(event) {
      // An event waiting for its fan-out goes to the outbox (one page in the change's commit), in one
      // fixed statement: written in the transaction of every change that has subscribers.
      if (event.fanOutPending) {
        await sql`insert into webhook_outbox (id, org_id, type, payload, created_at)
          values (${event.id}, ${event.orgId}, ${event.type}, ${event.payload}, ${toMs(event.createdAt)})`.execute(db);
        return;
      }
      await db
        .insertInto('webhook_events')
        .values({ id: event.id, org_id: event.orgId, type: event.type, payload: event.payload, created_at: toMs(event.createdAt) })
        .execute();
    },
    async hasEventsToFanOut() {
      const row = await db.selectFrom('webhook_outbox').select('seq').limit(1).executeTakeFirst();
      return row !== undefined;
    },
    async takeEventsToFanOut(limit) {
      let query = db.selectFrom('webhook_outbox').select(['seq', 'id', 'org_id', 'type', 'payload', 'created_at']).orderBy('seq').limit(limit);
      if (dialect === 'postgres') query = query.forUpdate().skipLocked();
      const rows = await query.execute();
      if (rows.length === 0) return [];
      // Moved, in the caller's transaction: the worker writes their deliveries in the same one.
      await db
        .insertInto('webhook_events')
        .values(rows.map((r) => ({ id: r.id, org_id: r.org_id, type: r.type, payload: r.payload, created_at: r.created_at })))
        .execute();
      await db
        .deleteFrom('webhook_outbox')
        .where(
          'seq',
          'in',
          rows.map((r) => r.seq),
        )
        .execute();
      return rows.map(
        (r): WebhookEventRecord => ({
          id: r.id as WebhookEventId,
          orgId: r.org_id as OrgId,
          type: r.type as WebhookEventType,
          payload: r.payload,
          createdAt: toDate(r.created_at),
          fanOutPending: false,
        }),
      );
    },
    insertDelivery: (d) => insertDeliveries([d]),
    insertDeliveries,
    async listDeliveries(orgId, webhookId, page) {
      let query = db.selectFrom('webhook_deliveries').selectAll().where('org_id', '=', orgId).where('endpoint_id', '=', webhookId);
      if (page.cursor) query = query.where(afterPosition(page.cursor, 'created_at', 'id', 'desc'));
      const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit + 1).execute();
      const attempts = await withAttempts(rows.slice(0, page.limit));
      return pageFrom(
        rows,
        page.limit,
        (row) => deliveryOf(row, attempts.get(row.id) ?? []),
        (row) => [Number(row.created_at), row.id],
      );
    },
    async findDelivery(orgId, webhookId, deliveryId) {
      const row = await db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('org_id', '=', orgId)
        .where('endpoint_id', '=', webhookId)
        .where('id', '=', deliveryId)
        .executeTakeFirst();
      if (!row) return null;
      return deliveryOf(row, (await withAttempts([row])).get(row.id) ?? []);
    },
    async requeueDelivery(orgId, deliveryId, at) {
      await db
        .updateTable('webhook_deliveries')
        .set({ status: 'pending', next_attempt_at: toMs(at), retries_left: 0, lease_token: null })
        .where('org_id', '=', orgId)
        .where('id', '=', deliveryId)
        .execute();
    },
    async hasDue(now) {
      const row = await db
        .selectFrom('webhook_deliveries as d')
        .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
        .select('d.id')
        .where('d.status', '=', 'pending')
        .where('d.next_attempt_at', '<=', toMs(now))
        .where('e.enabled', '=', 1)
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    },
    async claimDue(now, limit, leaseUntil, leaseToken) {
      // One statement: pick due rows (skipping rows another claimer has locked, on PostgreSQL) and push
      // their next attempt past the lease, so no other worker takes them while this one sends.
      const lock = dialect === 'postgres' ? sql`for update of d skip locked` : sql``;
      const claimed = await sql<{ id: string }>`
        update webhook_deliveries set next_attempt_at = ${toMs(leaseUntil)}, lease_token = ${leaseToken}
        where id in (
          select d.id from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id
          where d.status = 'pending' and d.next_attempt_at <= ${toMs(now)} and e.enabled = 1
          order by d.next_attempt_at limit ${limit} ${lock}
        )
        returning id`.execute(db);
      const ids = claimed.rows.map((r) => r.id);
      if (ids.length === 0) return [];
      const rows = await db
        .selectFrom('webhook_deliveries as d')
        .innerJoin('webhook_events as ev', 'ev.id', 'd.event_id')
        .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
        .select([
          'd.id',
          'd.org_id',
          'd.endpoint_id',
          'd.event_id',
          'd.retries_left',
          'd.attempt_count',
          'ev.payload',
          'e.url',
          'e.secret_encrypted',
          'e.previous_secret_encrypted',
          'e.previous_secret_expires_at',
        ])
        .where('d.id', 'in', ids)
        .where('d.lease_token', '=', leaseToken)
        .execute();
      return rows.map(
        (r): ClaimedWebhookDelivery => ({
          id: r.id as WebhookDeliveryId,
          orgId: r.org_id as OrgId,
          endpointId: r.endpoint_id as WebhookId,
          eventId: r.event_id as WebhookEventId,
          payload: r.payload,
          url: r.url,
          secretEncrypted: r.secret_encrypted,
          previousSecretEncrypted: r.previous_secret_encrypted,
          previousSecretExpiresAt: toDateOrNull(r.previous_secret_expires_at),
          retriesLeft: r.retries_left === null ? null : Number(r.retries_left),
          attemptCount: Number(r.attempt_count),
          leaseToken,
        }),
      );
    },
    async finishAttempt(deliveryId, leaseToken, attempt, next) {
      const updated = await db
        .updateTable('webhook_deliveries')
        .set((eb) => ({
          status: next.status,
          next_attempt_at: toMsOrNull(next.nextAttemptAt),
          retries_left: next.retriesLeft,
          attempt_count: eb('attempt_count', '+', 1),
          lease_token: null,
        }))
        .where('id', '=', deliveryId)
        .where('lease_token', '=', leaseToken)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) return false;
      await db
        .insertInto('webhook_attempts')
        .values({
          delivery_id: deliveryId,
          number: attempt.number,
          at: toMs(attempt.at),
          status_code: attempt.statusCode,
          duration_ms: attempt.durationMs,
          error: attempt.error,
          response_excerpt: attempt.responseExcerpt,
        })
        .execute();
      return true;
    },
    async pruneFinished(before, limit) {
      const gone = await db
        .deleteFrom('webhook_deliveries')
        .where(
          'id',
          'in',
          db.selectFrom('webhook_deliveries').select('id').where('status', 'in', ['succeeded', 'failed']).where('created_at', '<', toMs(before)).limit(limit),
        )
        .executeTakeFirst();
      await db
        .deleteFrom('webhook_events')
        .where(
          'id',
          'in',
          db
            .selectFrom('webhook_events as ev')
            .select('ev.id')
            .where('ev.created_at', '<', toMs(before))
            .where((eb) => eb.not(eb.exists(eb.selectFrom('webhook_deliveries as d').select('d.id').whereRef('d.event_id', '=', 'ev.id'))))
            .limit(limit),
        )
        .execute();
      return Number(gone.numDeletedRows);
    },
  };
}
