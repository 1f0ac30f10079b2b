import {
  changeKeyCredits,
  createKey,
  editKey,
  getKey,
  keyUsage,
  listKeys,
  loadPolicy,
  revokeKey,
  rollKey,
  type Actor,
  type ApiKeyRecord,
  type KeyId,
  type KeyListSort,
  type ProjectId,
  type UserId,
} from '@keyward/core';
import * as wire from '@keyward/wire';
import { ApiError } from '../http/api-error.js';
import { requireActor } from '../http/authenticate.js';
import { errors, pageOf, type App } from '../http/typed.js';
import type { Services } from '../services.js';
import { apiKeyView } from '../views.js';

const tags = ['API keys'];

/**
 * Whose key-creation quota a request spends (R46): a person's, whether they act through a session or
 * through one of their personal keys (or a token minted from one); a service key's own otherwise.
 */
function creatorOf(actor: Actor): string {
  if (actor.type === 'user') return `user:${actor.userId}`;
  return actor.key.ownerUserId ? `user:${actor.key.ownerUserId}` : `key:${actor.keyId}`;
}

/** `name` is ascending, `-name` descending. */
function sortOf(sort: wire.ApiKeySort): KeyListSort {
  return sort.startsWith('-') ? { field: sort.slice(1) as KeyListSort['field'], direction: 'desc' } : { field: sort as KeyListSort['field'], direction: 'asc' };
}

const date = (value: string | null | undefined) => (value === undefined ? undefined : value === null ? null : new Date(value));

export function registerApiKeyRoutes(app: App, services: Services): void {
  const { deps } = services;
  const now = () => deps.clock.now();
  const config = { auth: 'management' as const };
  /** Keys as answered: with their organization's policy and each limit's current window. */
  const viewsOf = async (actor: Actor, keys: readonly ApiKeyRecord[]) => {
    const at = now();
    const [policy, use] = await Promise.all([loadPolicy(deps.store, actor.orgId), services.verification.meter.use(keys, at.getTime())]);
    return keys.map((key) => apiKeyView(key, at, policy, use.get(key.id)));
  };
  const viewOf = async (actor: Actor, key: ApiKeyRecord) => (await viewsOf(actor, [key]))[0]!;

  app.get('/api/api-keys', {
    config,
    schema: {
      tags,
      summary: 'List the API keys the caller may see, newest first unless sorted; search by name, id, last four or a pasted token',
      querystring: wire.listApiKeysQuery,
      response: { 200: wire.page(wire.apiKey), ...errors(401, 403, 422) },
    },
    handler: async (request) => {
      const { status, q, keyType, projectId, ownerUserId, sort, ...page } = request.query;
      const query = { status, q, keyType, projectId: projectId as ProjectId | undefined, ownerUserId: ownerUserId as UserId | undefined, sort: sortOf(sort) };
      const actor = requireActor(request);
      const result = await listKeys(deps, actor, query, pageOf(page));
      return { data: await viewsOf(actor, result.items), nextCursor: result.nextCursor };
    },
  });

  app.post('/api/api-keys', {
    config,
    schema: {
      tags,
      summary: 'Create an API key; the token is shown only in this answer',
      body: wire.createApiKeyBody,
      response: { 201: wire.createApiKeyResponse, ...errors(400, 401, 403, 404, 409, 422, 429) },
    },
    handler: async (request, reply) => {
      const { expiresAt, ...body } = request.body;
      const actor = requireActor(request);
      const taken = services.keyCreations ? await services.keyCreations.take(creatorOf(actor)) : null;
      if (taken && !taken.granted) {
        throw new ApiError(429, 'rate_limited', 'Too many keys created in the last minute; try again later.', {}, {
          'retry-after': String(taken.retryAfterSeconds),
        });
      }
      let created: Awaited<ReturnType<typeof createKey>>;
      try {
        created = await createKey(deps, actor, { ...body, expiresAt: date(expiresAt) });
      } catch (err) {
        await taken?.giveBack();
        throw err;
      }
      reply.code(201).header('cache-control', 'no-store');
      return { token: created.token, apiKey: await viewOf(actor, created.key), warnings: created.warnings };
    },
  });

  app.get('/api/api-keys/:id', {
    config,
    schema: { tags, summary: 'One API key', params: wire.apiKeyIdParams, response: { 200: wire.apiKey, ...errors(401, 403, 404) } },
    handler: async (request) => {
      const actor = requireActor(request);
      return viewOf(actor, await getKey(deps, actor, request.params.id as KeyId));
    },
  });

  app.patch('/api/api-keys/:id', {
    config,
    schema: {
      tags,
      summary: "Edit a key's name, description, expiry and access",
      params: wire.apiKeyIdParams,
      body: wire.updateApiKeyBody,
      response: { 200: wire.updateApiKeyResponse, ...errors(400, 401, 403, 404, 409, 422) },
    },
    handler: async (request) => {
      const { expiresAt, ...body } = request.body;
      const actor = requireActor(request);
      const { key, warnings } = await editKey(deps, actor, request.params.id as KeyId, { ...body, expiresAt: date(expiresAt) });
      return { ...(await viewOf(actor, key)), warnings };
    },
  });

  app.post('/api/api-keys/:id/roll', {
    config,
    schema: {
      tags,
      summary: "Give the key a new secret; the old one works until oldKeyExpiresAt (default now); an earlier roll's overlap ends (warnings)",
      params: wire.apiKeyIdParams,
      body: wire.rollApiKeyBody,
      response: { 201: wire.rollApiKeyResponse, ...errors(400, 401, 403, 404, 409, 422) },
    },
    handler: async (request, reply) => {
      const oldKeyExpiresAt = request.body?.oldKeyExpiresAt;
      const actor = requireActor(request);
      const rolled = await rollKey(deps, actor, request.params.id as KeyId, {
        oldKeyExpiresAt: oldKeyExpiresAt ? new Date(oldKeyExpiresAt) : undefined,
      });
      reply.code(201).header('cache-control', 'no-store');
      const warnings = rolled.warnings.map((warning) => ({ ...warning, previousSecretExpiresAt: warning.previousSecretExpiresAt.toISOString() }));
      return { token: rolled.token, apiKey: await viewOf(actor, rolled.key), warnings };
    },
  });

  app.delete('/api/api-keys/:id', {
    config,
    schema: {
      tags,
      summary: 'Revoke a key: permanent and immediate; an optional reason is kept with it',
      params: wire.apiKeyIdParams,
      body: wire.revokeApiKeyBody,
      response: { 200: wire.successBody, ...errors(400, 401, 403, 404, 409, 422) },
    },
    handler: async (request) => {
      await revokeKey(deps, requireActor(request), request.params.id as KeyId, request.body?.reason || undefined);
      return { success: true as const };
    },
  });

  app.post('/api/api-keys/:id/credits', {
    config,
    schema: {
      tags,
      summary: "Set, add to or take from a key's remaining credits, atomically with the verifications spending them (owners and admins)",
      params: wire.apiKeyIdParams,
      body: wire.changeCreditsBody,
      response: { 200: wire.changeCreditsResponse, ...errors(400, 401, 403, 404, 409, 422) },
    },
    handler: async (request) => changeKeyCredits(deps, services.verification.meter, requireActor(request), request.params.id as KeyId, request.body),
  });

  app.get('/api/api-keys/:id/usage', {
    config,
    schema: {
      tags,
      summary: 'Valid and rejected verifications of one key over time',
      params: wire.apiKeyIdParams,
      querystring: wire.usageQuery,
      response: { 200: wire.keyUsageResponse, ...errors(401, 403, 404, 422) },
    },
    handler: async (request) => {
      const { from, to, interval } = request.query;
      await services.usage.flush();
      const report = await keyUsage(deps, requireActor(request), request.params.id as KeyId, {
        from: from ? new Date(from) : undefined,
        to: to ? new Date(to) : undefined,
        interval,
      });
      return {
        keyId: report.key.id,
        from: report.from.toISOString(),
        to: report.to.toISOString(),
        interval: report.interval,
        buckets: report.buckets.map((b) => ({ ...b, start: b.start.toISOString() })),
        totals: report.totals,
      };
    },
  });
}

