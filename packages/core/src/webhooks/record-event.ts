import { auditActorOf, type Actor, type SystemActor } from '../auth/actor.js';
import type { ApiKeyRecord } from '../keys/api-key.js';
import { apiKeyPayload } from '../keys/public-api-key.js';
import type { IdGenerator, OrgId } from '../ids.js';
import { loadPolicy } from '../policy/manage-policy.js';
import { defaultOrganizationPolicy, type OrganizationPolicy } from '../policy/organization-policy.js';
import type { Repositories } from '../ports.js';
import type { SubscribedWebhookEndpoint, WebhookDeliveryRecord, WebhookEventId, WebhookEventType } from './webhook.js';

/** An event's `data`, or a function that reads it through the transaction only when some endpoint wants the event. */
export type EventData = Record<string, unknown> | ((tx: Pick<Repositories, 'policies'>) => Promise<Record<string, unknown>>);

/**
 * Writes an event to the outbox through `tx`: called inside the transaction of the change it
 * describes, so that every committed change has its event (across a crash) and a rolled-back one has
 * none. Nothing is written when no enabled endpoint of the organization subscribes to it. Its
 * deliveries, one per subscribed endpoint, are written later by the delivery worker (`fanOutEvents`),
 * off the request path: the change's transaction writes one row, however many endpoints listen.
 * Returns the event id, or null when nothing was written.
 */
export async function recordEvent(
  tx: Pick<Repositories, 'webhooks' | 'policies'>,
  ids: IdGenerator,
  at: Date,
  orgId: OrgId,
  type: WebhookEventType,
  data: EventData,
): Promise<WebhookEventId | null> {
  const endpoints = await tx.webhooks.listSubscribed(orgId, type);
  if (endpoints.length === 0) return null;
  const id = ids.next('evt');
  const body = typeof data === 'function' ? await data(tx) : data;
  const payload = JSON.stringify({ id, type, timestamp: at.toISOString(), organizationId: orgId, data: body });
  await tx.webhooks.insertEvent({ id, orgId, type, payload, createdAt: at, fanOutPending: true });
  return id;
}

/** Deliveries written per statement: 11 parameters each, well under SQLite's 32,766. */
const DELIVERIES_PER_STATEMENT = 200;

/**
 * Writes the deliveries of up to `limit` events that `recordEvent` left waiting, through `tx` (one
 * transaction: the events are marked fanned out with their deliveries written, or neither is): one
 * pending delivery, due at once, per endpoint that is enabled and subscribed to the event now and
 * already existed when the event happened (an endpoint added since does not get older events).
 * Returns how many events were fanned out; fewer than `limit` means none is left waiting.
 */
export async function fanOutEvents(tx: Pick<Repositories, 'webhooks'>, ids: IdGenerator, limit: number): Promise<number> {
  const events = await tx.webhooks.takeEventsToFanOut(limit);
  const subscribed = new Map<string, Promise<SubscribedWebhookEndpoint[]>>();
  const deliveries: Omit<WebhookDeliveryRecord, 'attempts'>[] = [];
  for (const event of events) {
    const name = `${event.orgId}\u0000${event.type}`;
    let endpoints = subscribed.get(name);
    if (!endpoints) subscribed.set(name, (endpoints = tx.webhooks.listSubscribed(event.orgId, event.type)));
    for (const endpoint of await endpoints) {
      if (endpoint.createdAt.getTime() > event.createdAt.getTime()) continue;
      deliveries.push({
        id: ids.next('whd'),
        orgId: event.orgId,
        endpointId: endpoint.id,
        eventId: event.id,
        eventType: event.type,
        status: 'pending',
        nextAttemptAt: event.createdAt,
        retriesLeft: null,
        attemptCount: 0,
        createdAt: event.createdAt,
      });
    }
  }
  // Several statements of bounded size rather than one per delivery or one of unbounded length.
  for (let i = 0; i < deliveries.length; i += DELIVERIES_PER_STATEMENT) await tx.webhooks.insertDeliveries(deliveries.slice(i, i + DELIVERIES_PER_STATEMENT));
  return events.length;
}

/** Who caused an event, as its payload names them: `{"type","id"}`, nothing more. */
export function eventActor(actor: Actor | SystemActor | { type: string; id: string }): { type: string; id: string } {
  const { type, id } = 'orgId' in actor ? auditActorOf(actor) : actor;
  return { type, id };
}

/**
 * The data of a key event: the key (with its organization's policy violations) and who acted. The
 * policy is read through the transaction only when needed: not when the change read it already
 * (`policy`), nor for a revoked key, which violates nothing (`policyViolationsOf`).
 */
export function keyEventData(key: ApiKeyRecord, actor: Actor | SystemActor | { type: string; id: string }, now: Date, policy?: OrganizationPolicy): EventData {
  const known = policy ?? (key.revokedAt ? defaultOrganizationPolicy : null);
  return async (tx) => ({ apiKey: apiKeyPayload(key, now, known ?? (await loadPolicy(tx, key.orgId))), actor: eventActor(actor) });
}
