import type { KeyActor } from '@keyward/core';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../http/api-error.js';
import type { Services } from '../services.js';
import { keyActorOf } from './client-authentication.js';

/**
 * The actor of an access token presented as a Bearer credential on this server's own API: the token
 * must be for this server (`aud` is the public URL), and its key must pass every check an API key
 * passes, narrowed to the token's scope. Usage counts under the key. Null for a refused token (the
 * caller answers 401 and counts the failure); 403 `ip_not_allowed` as for keys.
 */
export async function accessTokenActor(services: Services, request: FastifyRequest, token: string): Promise<KeyActor | null> {
  const { verdict } = await services.oauth.tokens.verify(token, { ip: request.ip, audience: services.config.publicUrl });
  services.verification.count(verdict);
  if (!verdict.valid) {
    if (verdict.code === 'IP_NOT_ALLOWED') throw new ApiError(403, 'ip_not_allowed', 'This key may not be used from this address.');
    return null;
  }
  const actor = keyActorOf(verdict, request, 'access_token');
  const header = request.headers['x-project-id'];
  return typeof header === 'string' && header ? { ...actor, projectId: header } : actor;
}

/** Whether a presented credential has the shape of an access token. */
export function isAccessTokenShaped(services: Services, token: string): boolean {
  return services.oauth.tokens.looksLikeToken(token);
}
