import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { createKeyGuard, type KeyRequirement, type KeywardIdentity, type KeywardMiddlewareOptions } from './middleware/key-guard.js';
import { presentedKeyFromRawHeaders } from './middleware/presented-key.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified key, set by a Keyward preHandler (null on routes without one). */
    keyward: KeywardIdentity | null;
  }
}

/** Keyward for one Fastify app; see `keywardFastify`. */
export interface KeywardFastify {
  /** Declares `request.keyward` (register it once, so every request has the same shape). */
  readonly plugin: FastifyPluginCallback;
  /** A preHandler that lets the request through only with a key that meets the requirement. */
  require(requirement?: KeyRequirement<FastifyRequest>): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;
}

/**
 * Fastify middleware: a preHandler per route that reads the key (`Authorization: Bearer`,
 * `x-api-key`, or the legacy `X-Auth-Token`), verifies it for the route's permission with the
 * client's address (`request.ip`, which honours Fastify's `trustProxy`), and puts the verified
 * identity on `request.keyward`. Otherwise it answers 400 (two credentials), 401 (missing or invalid:
 * one uniform body), 403 (`insufficient_permissions`, `ip_not_allowed`), 429 (`rate_limited`,
 * `usage_exceeded`) or 503 (Keyward unreachable). For a key with rate limits, every answer carries
 * the `RateLimit` headers.
 *
 * @example
 * import Fastify from 'fastify';
 * import { createRemoteVerifier } from '@keyward/sdk';
 * import { keywardFastify } from '@keyward/sdk/fastify';
 *
 * const app = Fastify();
 * const auth = keywardFastify({ verifier: createRemoteVerifier({ url: 'http://127.0.0.1:4000', verifierToken: process.env.KEYWARD_VERIFIER_TOKEN! }) });
 * await app.register(auth.plugin);
 * app.post('/v1/traces', { preHandler: auth.require({ permission: 'traces:write' }) }, async (request) => ({ by: request.keyward!.keyId }));
 */
export function keywardFastify(options: KeywardMiddlewareOptions<FastifyRequest>): KeywardFastify {
  const guard = createKeyGuard<FastifyRequest>(options, {
    presentedKey: (request) => presentedKeyFromRawHeaders(request.raw.rawHeaders),
    header: (request, name) => {
      const value = request.headers[name];
      return Array.isArray(value) ? value[0] : value;
    },
    clientIp: (request) => request.ip,
  });
  const plugin: FastifyPluginCallback = (app, _options, done) => {
    if (!app.hasRequestDecorator('keyward')) app.decorateRequest('keyward', null);
    done();
  };
  // Like fastify-plugin: the decoration belongs to the app that registers it, not to a child context.
  Object.assign(plugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'keyward' });
  return {
    plugin,
    require(requirement) {
      const check = guard(requirement);
      return async (request, reply) => {
        const outcome = await check(request);
        if (outcome.ok) {
          request.keyward = outcome.identity;
          reply.headers(outcome.headers);
          return undefined;
        }
        const { status, body, headers } = outcome.refusal;
        return reply.code(status).headers(headers).send(body);
      };
    },
  };
}
