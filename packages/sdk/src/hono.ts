import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { createKeyGuard, type KeyRequirement, type KeywardIdentity, type KeywardMiddlewareOptions } from './middleware/key-guard.js';
import { presentedKeyFromHeaders, presentedKeyFromRawHeaders } from './middleware/presented-key.js';

/** The context variables the middleware sets: `c.get('keyward')`. */
export interface KeywardVariables {
  keyward: KeywardIdentity;
}

/** Keyward for Hono; see `keywardHono`. */
export interface KeywardHono {
  /** A middleware that lets the request through only with a key that meets the requirement. */
  require(requirement?: KeyRequirement<Context>): MiddlewareHandler<{ Variables: KeywardVariables }>;
}

/** On `@hono/node-server` the Node request is `c.env.incoming`. */
const incomingOf = (c: Context): IncomingMessage | undefined => (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;

/**
 * Hono middleware: reads the key (`Authorization: Bearer`, `x-api-key`, or the legacy
 * `X-Auth-Token`), verifies it for the route's permission, and sets `c.get('keyward')`. Otherwise it
 * answers 400 (two credentials), 401 (missing or invalid: one uniform body), 403
 * (`insufficient_permissions`, `ip_not_allowed`), 429 (`rate_limited`, `usage_exceeded`) or 503
 * (Keyward unreachable); for a key with rate limits, every answer carries the `RateLimit` headers. On
 * `@hono/node-server` the client address is the socket's; behind a proxy, or on another runtime,
 * pass `clientIp` (e.g. from `getConnInfo`).
 *
 * @example
 * import { Hono } from 'hono';
 * import { createRemoteVerifier } from '@keyward/sdk';
 * import { keywardHono } from '@keyward/sdk/hono';
 *
 * const auth = keywardHono({ verifier: createRemoteVerifier({ url: 'http://127.0.0.1:4000', verifierToken: process.env.KEYWARD_VERIFIER_TOKEN! }) });
 * const app = new Hono();
 * app.get('/v1/traces', auth.require({ permission: 'traces:read' }), (c) => c.json({ by: c.get('keyward').keyId }));
 */
export function keywardHono(options: KeywardMiddlewareOptions<Context>): KeywardHono {
  const guard = createKeyGuard<Context>(options, {
    presentedKey: (c) => {
      const incoming = incomingOf(c);
      return incoming ? presentedKeyFromRawHeaders(incoming.rawHeaders) : presentedKeyFromHeaders(c.req.raw.headers);
    },
    header: (c, name) => c.req.header(name),
    clientIp: (c) => incomingOf(c)?.socket?.remoteAddress,
  });
  return {
    require(requirement) {
      const check = guard(requirement);
      return async (c, next) => {
        const outcome = await check(c);
        if (outcome.ok) {
          c.set('keyward', outcome.identity);
          await next();
          // Set on the route's answer, however it was made (c.json, or a Response of its own).
          for (const [name, value] of Object.entries(outcome.headers)) c.header(name, value);
          return;
        }
        const { status, body, headers } = outcome.refusal;
        return c.json(body, status, headers);
      };
    },
  };
}
