import { recordAudit } from '../audit/record-audit.js';
import type { Actor } from '../auth/actor.js';
import { assertCanManageOrganization } from '../auth/policy.js';
import type { CoreDeps } from '../deps.js';
import { DomainError, FieldError } from '../errors.js';
import type { Page, PageRequest } from '../ports.js';
import { eventActor } from './record-event.js';
import {
  WEBHOOK_DESCRIPTION_MAX,
  WEBHOOK_SECRET_OVERLAP_MS,
  WEBHOOKS_PER_ORGANIZATION_MAX,
  webhookEventTypes,
  type WebhookDeliveryId,
  type WebhookDeliveryRecord,
  type WebhookEndpointRecord,
  type WebhookId,
} from './webhook.js';
import { encryptWebhookSecret, generateWebhookSecret } from './webhook-secret.js';
import { webhookTargetProblem } from './webhook-target.js';

export type ManageWebhooksDeps = Pick<CoreDeps, 'store' | 'clock' | 'ids' | 'catalogue' | 'encryptionKey'> & {
  /** `KEYWARD_WEBHOOK_ALLOW_PRIVATE=1`: loopback, private and link-local targets are accepted. */
  readonly allowPrivateTargets: boolean;
};

export interface WebhookInput {
  readonly url?: string | undefined;
  readonly events?: readonly string[] | undefined;
  readonly description?: string | null | undefined;
  readonly enabled?: boolean | undefined;
}

export const webhookNotFound = () => new DomainError('webhook_not_found', 'No webhook with this id.');
const deliveryNotFound = () => new DomainError('webhook_delivery_not_found', 'No delivery with this id for this webhook.');

function validate(deps: ManageWebhooksDeps, input: WebhookInput): void {
  if (input.url !== undefined) {
    const problem = webhookTargetProblem(input.url, { allowPrivateTargets: deps.allowPrivateTargets });
    if (problem) throw new FieldError('url', `The URL ${problem}.`);
  }
  if (input.events !== undefined) {
    if (input.events.length === 0) throw new FieldError('events', 'Name at least one event, or "*" for every event.');
    const known = new Set<string>([...webhookEventTypes, '*']);
    const unknown = input.events.find((event) => !known.has(event));
    if (unknown !== undefined) throw new FieldError('events', `Unknown event "${unknown}"; known events: ${webhookEventTypes.join(', ')} (or "*").`);
  }
  if (input.description && input.description.length > WEBHOOK_DESCRIPTION_MAX) {
    throw new FieldError('description', `The description must be at most ${WEBHOOK_DESCRIPTION_MAX} characters.`);
  }
}

async function findOrThrow(deps: Pick<CoreDeps, 'store'>, actor: Actor, webhookId: WebhookId): Promise<WebhookEndpointRecord> {
  const endpoint = await deps.store.webhooks.findEndpoint(actor.orgId, webhookId);
  if (!endpoint) throw webhookNotFound();
  return endpoint;
}

/** Creates an endpoint with a new secret, which is returned here only. Owners and admins. Audited. */
export async function createWebhook(
  deps: ManageWebhooksDeps,
  actor: Actor,
  input: WebhookInput & { url: string; events: readonly string[] },
): Promise<{ webhook: WebhookEndpointRecord; secret: string }> {
  assertCanManageOrganization(deps.catalogue, actor);
  validate(deps, input);
  const id = deps.ids.next('wh');
  const secret = generateWebhookSecret();
  const webhook = await deps.store.transaction(async (tx) => {
    if ((await tx.webhooks.countEndpoints(actor.orgId)) >= WEBHOOKS_PER_ORGANIZATION_MAX) {
      throw new FieldError('url', `An organization may have at most ${WEBHOOKS_PER_ORGANIZATION_MAX} webhooks.`);
    }
    const now = deps.clock.now();
    const record: WebhookEndpointRecord = {
      id,
      orgId: actor.orgId,
      url: input.url,
      events: [...new Set(input.events)],
      description: input.description ?? null,
      enabled: input.enabled ?? true,
      disabledReason: null,
      secretEncrypted: encryptWebhookSecret(deps.encryptionKey, actor.orgId, id, secret),
      previousSecretEncrypted: null,
      previousSecretExpiresAt: null,
      failingSince: null,
      createdAt: now,
      updatedAt: now,
    };
    await tx.webhooks.insertEndpoint(record);
    await recordAudit(tx, deps.ids, actor, now, {
      action: 'webhook.created',
      targetType: 'webhook',
      targetId: id,
      details: { url: record.url, events: record.events },
    });
    return record;
  });
  return { webhook, secret };
}

export async function listWebhooks(deps: Pick<CoreDeps, 'store' | 'catalogue'>, actor: Actor, page: PageRequest): Promise<Page<WebhookEndpointRecord>> {
  assertCanManageOrganization(deps.catalogue, actor);
  return deps.store.webhooks.listEndpoints(actor.orgId, page);
}

export async function getWebhook(deps: Pick<CoreDeps, 'store' | 'catalogue'>, actor: Actor, webhookId: WebhookId): Promise<WebhookEndpointRecord> {
  assertCanManageOrganization(deps.catalogue, actor);
  return findOrThrow(deps, actor, webhookId);
}

/** Edits an endpoint. Enabling it again clears `disabledReason` and its failure streak. Audited. */
export async function updateWebhook(deps: ManageWebhooksDeps, actor: Actor, webhookId: WebhookId, input: WebhookInput): Promise<WebhookEndpointRecord> {
  assertCanManageOrganization(deps.catalogue, actor);
  validate(deps, input);
  return deps.store.transaction(async (tx) => {
    const endpoint = await tx.webhooks.findEndpoint(actor.orgId, webhookId);
    if (!endpoint) throw webhookNotFound();
    const now = deps.clock.now();
    const reenabled = input.enabled === true && !endpoint.enabled;
    await tx.webhooks.updateEndpoint(actor.orgId, webhookId, {
      ...(input.url !== undefined ? { url: input.url } : {}),
      ...(input.events !== undefined ? { events: [...new Set(input.events)] } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
      ...(input.enabled === false ? { disabledReason: null } : {}),
      ...(reenabled ? { disabledReason: null, failingSince: null } : {}),
      updatedAt: now,
    });
    await recordAudit(tx, deps.ids, actor, now, {
      action: 'webhook.updated',
      targetType: 'webhook',
      targetId: webhookId,
      details: { changed: Object.keys(input).filter((k) => input[k as keyof WebhookInput] !== undefined) },
    });
    return (await tx.webhooks.findEndpoint(actor.orgId, webhookId))!;
  });
}

/** Deletes an endpoint and its delivery log. Audited. */
export async function deleteWebhook(deps: Pick<CoreDeps, 'store' | 'clock' | 'ids' | 'catalogue'>, actor: Actor, webhookId: WebhookId): Promise<void> {
  assertCanManageOrganization(deps.catalogue, actor);
  await deps.store.transaction(async (tx) => {
    const endpoint = await tx.webhooks.findEndpoint(actor.orgId, webhookId);
    if (!endpoint || !(await tx.webhooks.deleteEndpoint(actor.orgId, webhookId))) throw webhookNotFound();
    await recordAudit(tx, deps.ids, actor, deps.clock.now(), {
      action: 'webhook.deleted',
      targetType: 'webhook',
      targetId: webhookId,
      details: { url: endpoint.url },
    });
  });
}

/**
 * A new secret for the endpoint, returned here only. The replaced secret keeps signing deliveries
 * beside the new one for 24 hours, so receivers can switch without losing a delivery. Audited.
 */
export async function rollWebhookSecret(deps: ManageWebhooksDeps, actor: Actor, webhookId: WebhookId): Promise<{ secret: string }> {
  assertCanManageOrganization(deps.catalogue, actor);
  const secret = generateWebhookSecret();
  await deps.store.transaction(async (tx) => {
    const endpoint = await tx.webhooks.findEndpoint(actor.orgId, webhookId);
    if (!endpoint) throw webhookNotFound();
    const now = deps.clock.now();
    await tx.webhooks.updateEndpoint(actor.orgId, webhookId, {
      secretEncrypted: encryptWebhookSecret(deps.encryptionKey, actor.orgId, webhookId, secret),
      previousSecretEncrypted: endpoint.secretEncrypted,
      previousSecretExpiresAt: new Date(now.getTime() + WEBHOOK_SECRET_OVERLAP_MS),
      updatedAt: now,
    });
    await recordAudit(tx, deps.ids, actor, now, { action: 'webhook.secret_rolled', targetType: 'webhook', targetId: webhookId });
  });
  return { secret };
}

/** Queues a `webhook.test` event to this endpoint alone, whatever it subscribes to. */
export async function sendTestWebhook(deps: Pick<CoreDeps, 'store' | 'clock' | 'ids' | 'catalogue'>, actor: Actor, webhookId: WebhookId): Promise<{ deliveryId: WebhookDeliveryId }> {
  assertCanManageOrganization(deps.catalogue, actor);
  return deps.store.transaction(async (tx) => {
    const endpoint = await tx.webhooks.findEndpoint(actor.orgId, webhookId);
    if (!endpoint) throw webhookNotFound();
    const now = deps.clock.now();
    const eventId = deps.ids.next('evt');
    const data = { webhookId, message: 'A test event sent from Keyward.', actor: eventActor(actor) };
    const payload = JSON.stringify({ id: eventId, type: 'webhook.test', timestamp: now.toISOString(), organizationId: actor.orgId, data });
    await tx.webhooks.insertEvent({ id: eventId, orgId: actor.orgId, type: 'webhook.test', payload, createdAt: now, fanOutPending: false });
    const deliveryId = deps.ids.next('whd');
    await tx.webhooks.insertDelivery({
      id: deliveryId,
      orgId: actor.orgId,
      endpointId: webhookId,
      eventId,
      eventType: 'webhook.test',
      status: 'pending',
      nextAttemptAt: now,
      retriesLeft: null,
      attemptCount: 0,
      createdAt: now,
    });
    return { deliveryId };
  });
}

/** The endpoint's deliveries, newest first, each with every attempt. */
export async function listWebhookDeliveries(
  deps: Pick<CoreDeps, 'store' | 'catalogue'>,
  actor: Actor,
  webhookId: WebhookId,
  page: PageRequest,
): Promise<Page<WebhookDeliveryRecord>> {
  assertCanManageOrganization(deps.catalogue, actor);
  await findOrThrow(deps, actor, webhookId);
  return deps.store.webhooks.listDeliveries(actor.orgId, webhookId, page);
}

/** Queues one more attempt of a delivery now (the same event id, so receivers can deduplicate). */
export async function retryWebhookDelivery(
  deps: Pick<CoreDeps, 'store' | 'clock' | 'catalogue'>,
  actor: Actor,
  webhookId: WebhookId,
  deliveryId: WebhookDeliveryId,
): Promise<void> {
  assertCanManageOrganization(deps.catalogue, actor);
  await deps.store.transaction(async (tx) => {
    const delivery = await tx.webhooks.findDelivery(actor.orgId, webhookId, deliveryId);
    if (!delivery) throw deliveryNotFound();
    await tx.webhooks.requeueDelivery(actor.orgId, deliveryId, deps.clock.now());
  });
}
