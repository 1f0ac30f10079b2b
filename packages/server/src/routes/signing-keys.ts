import { listSigningKeys, rotateSigningKey, updateTokenSettings, type SigningKeyView } from '@keyward/core';
import * as wire from '@keyward/wire';
import { requireActor } from '../http/authenticate.js';
import { errors, type App } from '../http/typed.js';
import type { Services } from '../services.js';
import { organizationView } from '../views.js';

const iso = (date: Date | null) => (date ? date.toISOString() : null);

export function signingKeyView(key: SigningKeyView): wire.SigningKey {
  return {
    id: key.id,
    algorithm: key.algorithm,
    state: key.state,
    createdAt: key.createdAt.toISOString(),
    publishedAt: key.publishedAt.toISOString(),
    activatedAt: iso(key.activatedAt),
    deactivatedAt: iso(key.deactivatedAt),
    retiredAt: iso(key.retiredAt),
    compromisedAt: iso(key.compromisedAt),
  };
}

/**
 * Signing keys for owners and admins: the list (never any key material), planned and emergency
 * rotation, and the organization's token settings (algorithm and lifetime).
 */
export function registerSigningKeyRoutes(app: App, services: Services): void {
  const { deps } = services;
  const tags = ['Signing keys'];
  const management = { auth: 'management' as const };

  app.get('/api/signing-keys', {
    config: management,
    schema: { tags, summary: "The organization's signing keys, newest first", response: { 200: wire.signingKeyList, ...errors(401, 403) } },
    handler: async (request) => ({ data: (await listSigningKeys(deps, requireActor(request))).map(signingKeyView) }),
  });

  app.post('/api/signing-keys/rotate', {
    config: management,
    schema: {
      tags,
      summary: 'Rotate: the next key signs from now on (planned, once published ten minutes; or emergency, at once)',
      body: wire.rotateSigningKeysBody.nullish(),
      response: { 200: wire.signingKeyList, ...errors(401, 403, 409, 422) },
    },
    handler: async (request) => {
      const keys = await rotateSigningKey(deps, requireActor(request), { emergency: request.body?.emergency === true });
      return { data: keys.map(signingKeyView) };
    },
  });

  app.patch('/api/organization', {
    config: management,
    schema: {
      tags: ['Organization'],
      summary: "Change the organization's access-token settings: signing algorithm (from the next generated key) and lifetime",
      body: wire.tokenSettingsBody,
      response: { 200: wire.organizationResponse, ...errors(401, 403, 422) },
    },
    handler: async (request) => ({ organization: organizationView(await updateTokenSettings(deps, requireActor(request), request.body)) }),
  });
}
