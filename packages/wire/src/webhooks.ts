import { z } from 'zod';
import { idOf, instant, page, pageQuery, safeText } from './common.js';

/** Every event a webhook may subscribe to; `"*"` subscribes to all of them, future ones included. */
export const webhookEventTypes = [
  'api_key.created',
  'api_key.updated',
  'api_key.rolled',
  'api_key.revoked',
  'api_key.leaked',
  'api_key.expiring',
  'api_key.expired',
  'api_key.credits_exhausted',
  'member.added',
  'member.removed',
  'member.role_changed',
  'signing_key.rotated',
  'webhook.test',
] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

export const webhookId = idOf('wh');
export const webhookDeliveryId = idOf('whd');

/**
 * A webhook endpoint as owners and admins see it: never its secret. `disabledReason` says why
 * Keyward disabled it (every attempt failing for 5 days, or a 410 Gone); enabling it again clears it.
 *
 * @example
 * const { webhook } = webhookResponse.parse(await (await fetch(`${url}/api/webhooks/${id}`, { headers })).json());
 * if (!webhook.enabled) console.log(webhook.disabledReason);
 */
export const webhook = z
  .object({
    id: webhookId,
    url: z.string(),
    events: z.array(z.string()),
    description: z.string().nullable(),
    enabled: z.boolean(),
    createdAt: instant,
    disabledReason: z.string().nullable(),
  })
  .meta({ id: 'Webhook' });
export type Webhook = z.infer<typeof webhook>;

/** One attempt to deliver: the receiver's status code (null when none came), how long it took, and why it failed. */
export const webhookAttempt = z.object({
  at: instant,
  statusCode: z.number().int().nullable(),
  durationMs: z.number().int(),
  error: z.string().nullable(),
});

/**
 * One event sent to one endpoint, with every attempt. `pending` deliveries have a `nextAttemptAt`.
 *
 * @example
 * const { data } = webhookDeliveryList.parse(await (await fetch(`${url}/api/webhooks/${id}/deliveries`, { headers })).json());
 * const failed = data.filter((d) => d.status === 'failed');
 */
export const webhookDelivery = z
  .object({
    id: webhookDeliveryId,
    eventId: idOf('evt'),
    eventType: z.string(),
    status: z.enum(['pending', 'succeeded', 'failed']),
    attempts: z.array(webhookAttempt),
    nextAttemptAt: instant.nullable(),
    createdAt: instant,
  })
  .meta({ id: 'WebhookDelivery' });
export type WebhookDelivery = z.infer<typeof webhookDelivery>;

const webhookUrl = safeText({ trim: true }).min(1).max(2000).describe('Where events are POSTed: an http(s) URL');
const webhookEvents = z
  .array(z.string().max(100))
  .min(1)
  .max(50)
  .describe(`Event types (${webhookEventTypes.join(', ')}), or "*" for every event`);
const webhookDescription = safeText({ multiline: true }).max(500).nullable();

/**
 * `POST /api/webhooks`.
 *
 * @example
 * const body: CreateWebhookBody = { url: 'https://example.com/hooks/keyward', events: ['api_key.revoked', 'api_key.leaked'] };
 */
export const createWebhookBody = z.strictObject({
  url: webhookUrl,
  events: webhookEvents,
  description: webhookDescription.optional(),
});
export type CreateWebhookBody = z.infer<typeof createWebhookBody>;

/**
 * `PATCH /api/webhooks/{id}`: any of the fields; `enabled: true` re-enables a disabled endpoint.
 *
 * @example
 * const body: UpdateWebhookBody = { enabled: true };
 */
export const updateWebhookBody = z.strictObject({
  url: webhookUrl.optional(),
  events: webhookEvents.optional(),
  description: webhookDescription.optional(),
  enabled: z.boolean().optional(),
});
export type UpdateWebhookBody = z.infer<typeof updateWebhookBody>;

/**
 * `POST /api/webhooks` answers the endpoint and its signing secret (`whsec_…`), shown only here.
 *
 * @example
 * const { webhook, secret } = createWebhookResponse.parse(await response.json());
 */
export const createWebhookResponse = z.object({ webhook, secret: z.string() });
export type CreateWebhookResponse = z.infer<typeof createWebhookResponse>;

export const webhookResponse = z.object({ webhook });
export const webhookList = page(webhook);
export const webhookSecretResponse = z.object({ secret: z.string() });
export const webhookTestResponse = z.object({ deliveryId: webhookDeliveryId });
export const webhookDeliveryList = page(webhookDelivery);
export type WebhookDeliveryList = z.infer<typeof webhookDeliveryList>;
/** Ids in paths are plain text: a malformed one is a 404 like a missing one. */
export const webhookIdParams = z.object({ id: safeText().max(80) });
export const webhookDeliveryParams = z.object({ id: safeText().max(80), deliveryId: safeText().max(80) });
export const webhookListQuery = pageQuery;
