import { auditActorOf, type Actor, type SystemActor } from '../auth/actor.js';
import type { ApiKeyRecord } from '../keys/api-key.js';
import { apiKeyPayload } from '../keys/public-api-key.js';
import type { IdGenerator, OrgId } from '../ids.js';
import { loadPolicy } from '../policy/manage-policy.js';
import type { Repositories } from '../ports.js';
import type { WebhookEventId, WebhookEventType } from './webhook.js';

/** An event's `data`, or a function that reads it through the transaction only when some endpoint wants the event. */
export type EventData = Record<string, unknown> | ((tx: Pick<Repositories, 'policies'>) => Promise<Record<string, unknown>>);

/**
 * Writes an event to the outbox, and one pending delivery per enabled endpoint of the organization
 * subscribed to it, through `tx`: called inside the transaction of the change it describes, so that
 * every committed change has its event (across a crash) and a rolled-back one has none. Nothing is
 * written when no endpoint wants it. Returns the event id, or null when nothing was written.
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
  await tx.webhooks.insertEvent({ id, orgId, type, payload, createdAt: at });
  await tx.webhooks.insertDeliveries(
    endpoints.map((endpoint) => ({
      id: ids.next('whd'),
      orgId,
      endpointId: endpoint.id,
      eventId: id,
      eventType: type,
      status: 'pending' as const,
      nextAttemptAt: at,
      retriesLeft: null,
      attemptCount: 0,
      createdAt: at,
    })),
  );
  return id;
}

/** Who caused an event, as its payload names them: `{"type","id"}`, nothing more. */
export function eventActor(actor: Actor | SystemActor | { type: string; id: string }): { type: string; id: string } {
  const { type, id } = 'orgId' in actor ? auditActorOf(actor) : actor;
  return { type, id };
}

/** The data of a key event: the key (with its organization's policy violations) and who acted. */
export function keyEventData(key: ApiKeyRecord, actor: Actor | SystemActor | { type: string; id: string }, now: Date): EventData {
  return async (tx) => ({ apiKey: apiKeyPayload(key, now, await loadPolicy(tx, key.orgId)), actor: eventActor(actor) });
}
