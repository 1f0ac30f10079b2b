import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listWebhookDeliveries,
  listWebhooks,
  retryWebhookDelivery,
  rollWebhookSecret,
  sendTestWebhook,
  updateWebhook,
  type WebhookDeliveryId,
  type WebhookDeliveryRecord,
  type WebhookEndpointRecord,
  type WebhookId,
} from '@keyward/core';
import * as wire from '@keyward/wire';
import { requireActor } from '../http/authenticate.js';
import { errors, pageOf, type App } from '../http/typed.js';
import type { Services } from '../services.js';

const iso = (date: Date | null) => (date ? date.toISOString() : null);

export function webhookView(endpoint: WebhookEndpointRecord): wire.Webhook {
  return {
    id: endpoint.id,
    url: endpoint.url,
    events: [...endpoint.events],
    description: endpoint.description,
    enabled: endpoint.enabled,
    createdAt: endpoint.createdAt.toISOString(),
    disabledReason: endpoint.disabledReason,
  };
}

/** A delivery and its attempts; the response excerpt a receiver sent back is kept but never shown (SSRF). */
export function webhookDeliveryView(delivery: WebhookDeliveryRecord): wire.WebhookDelivery {
  return {
    id: delivery.id,
    eventId: delivery.eventId,
    eventType: delivery.eventType,
    status: delivery.status,
    attempts: delivery.attempts.map((a) => ({ at: a.at.toISOString(), statusCode: a.statusCode, durationMs: a.durationMs, error: a.error })),
    nextAttemptAt: delivery.status === 'pending' ? iso(delivery.nextAttemptAt) : null,
    createdAt: delivery.createdAt.toISOString(),
  };
}

/** Webhook endpoints for owners and admins (CONTRACT.md "Webhooks"); deliveries are sent by webhooks/delivery-worker.ts. */
export function registerWebhookRoutes(app: App, services: Services): void {
  const deps = { ...services.deps, allowPrivateTargets: services.config.webhooks.allowPrivateTargets };
  const tags = ['Webhooks'];
  const config = { auth: 'management' as const };
  const idOf = (request: { params: { id: string } }) => request.params.id as WebhookId;

  app.post('/api/webhooks', {
    config,
    schema: {
      tags,
      summary: 'Create a webhook endpoint; its signing secret is answered only here',
      body: wire.createWebhookBody,
      response: { 201: wire.createWebhookResponse, ...errors(400, 401, 403, 422) },
    },
    handler: async (request, reply) => {
      const { webhook, secret } = await createWebhook(deps, requireActor(request), request.body);
      reply.code(201).header('cache-control', 'no-store');
      return { webhook: webhookView(webhook), secret };
    },
  });

  app.get('/api/webhooks', {
    config,
    schema: { tags, summary: "The organization's webhook endpoints, oldest first", querystring: wire.webhookListQuery, response: { 200: wire.webhookList, ...errors(401, 403, 422) } },
    handler: async (request) => {
      const result = await listWebhooks(deps, requireActor(request), pageOf(request.query));
      return { data: result.items.map(webhookView), nextCursor: result.nextCursor };
    },
  });

  app.get('/api/webhooks/:id', {
    config,
    schema: { tags, summary: 'One webhook endpoint', params: wire.webhookIdParams, response: { 200: wire.webhookResponse, ...errors(401, 403, 404) } },
    handler: async (request) => ({ webhook: webhookView(await getWebhook(deps, requireActor(request), idOf(request))) }),
  });

  app.patch('/api/webhooks/:id', {
    config,
    schema: {
      tags,
      summary: 'Change the URL, events, description, or enable and disable the endpoint',
      params: wire.webhookIdParams,
      body: wire.updateWebhookBody,
      response: { 200: wire.webhookResponse, ...errors(400, 401, 403, 404, 422) },
    },
    handler: async (request) => ({ webhook: webhookView(await updateWebhook(deps, requireActor(request), idOf(request), request.body)) }),
  });

  app.delete('/api/webhooks/:id', {
    config,
    schema: { tags, summary: 'Delete the endpoint and its delivery log', params: wire.webhookIdParams, response: { 200: wire.successBody, ...errors(401, 403, 404) } },
    handler: async (request) => {
      await deleteWebhook(deps, requireActor(request), idOf(request));
      return { success: true as const };
    },
  });

  app.post('/api/webhooks/:id/roll-secret', {
    config,
    schema: {
      tags,
      summary: 'A new signing secret; deliveries carry signatures with both secrets for 24 hours',
      params: wire.webhookIdParams,
      response: { 200: wire.webhookSecretResponse, ...errors(401, 403, 404) },
    },
    handler: async (request, reply) => {
      const rolled = await rollWebhookSecret(deps, requireActor(request), idOf(request));
      reply.header('cache-control', 'no-store');
      return rolled;
    },
  });

  app.post('/api/webhooks/:id/test', {
    config,
    schema: {
      tags,
      summary: 'Send a webhook.test event to this endpoint',
      params: wire.webhookIdParams,
      response: { 202: wire.webhookTestResponse, ...errors(401, 403, 404) },
    },
    handler: async (request, reply) => {
      const queued = await sendTestWebhook(deps, requireActor(request), idOf(request));
      reply.code(202);
      return queued;
    },
  });

  app.get('/api/webhooks/:id/deliveries', {
    config,
    schema: {
      tags,
      summary: "The endpoint's deliveries, newest first, with every attempt",
      params: wire.webhookIdParams,
      querystring: wire.webhookListQuery,
      response: { 200: wire.webhookDeliveryList, ...errors(401, 403, 404, 422) },
    },
    handler: async (request) => {
      const result = await listWebhookDeliveries(deps, requireActor(request), idOf(request), pageOf(request.query));
      return { data: result.items.map(webhookDeliveryView), nextCursor: result.nextCursor };
    },
  });

  app.post('/api/webhooks/:id/deliveries/:deliveryId/retry', {
    config,
    schema: {
      tags,
      summary: 'Attempt the delivery once more, now (the same webhook-id)',
      params: wire.webhookDeliveryParams,
      response: { 202: wire.successBody, ...errors(401, 403, 404) },
    },
    handler: async (request, reply) => {
      await retryWebhookDelivery(deps, requireActor(request), idOf(request), request.params.deliveryId as WebhookDeliveryId);
      reply.code(202);
      return { success: true as const };
    },
  });
}
