import type { NextFunction, Request, Response } from 'express';
import { createKeyGuard, type KeyRequirement, type KeywardIdentity, type KeywardMiddlewareOptions } from './middleware/key-guard.js';
import { presentedKeyFromRawHeaders } from './middleware/presented-key.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** The verified key, set by a Keyward middleware. */
    keyward?: KeywardIdentity;
  }
}

/** Keyward for Express; see `keywardExpress`. */
export interface KeywardExpress {
  /** A middleware that lets the request through only with a key that meets the requirement. */
  require(requirement?: KeyRequirement<Request>): (req: Request, res: Response, next: NextFunction) => void;
}

/**
 * Express middleware (4 and 5): reads the key (`Authorization: Bearer`, `x-api-key`, or the legacy
 * `X-Auth-Token`), verifies it for the route's permission with the client's address (`req.ip`,
 * which honours Express's `trust proxy` setting), and puts the verified identity on `req.keyward`.
 * Otherwise it answers 400 (two credentials), 401 (missing or invalid: one uniform body), 403
 * (`insufficient_permissions`, `ip_not_allowed`), 429 (`rate_limited`, `usage_exceeded`) or 503
 * (Keyward unreachable). For a key with rate limits, every answer carries the `RateLimit` headers.
 *
 * @example
 * import express from 'express';
 * import { createRemoteVerifier } from '@keyward/sdk';
 * import { keywardExpress } from '@keyward/sdk/express';
 *
 * const app = express();
 * const auth = keywardExpress({ verifier: createRemoteVerifier({ url: 'http://127.0.0.1:4000', verifierToken: process.env.KEYWARD_VERIFIER_TOKEN! }) });
 * app.get('/v1/traces', auth.require({ permission: 'traces:read' }), (req, res) => { res.json({ by: req.keyward!.keyId }); });
 */
export function keywardExpress(options: KeywardMiddlewareOptions<Request>): KeywardExpress {
  const guard = createKeyGuard<Request>(options, {
    presentedKey: (req) => presentedKeyFromRawHeaders(req.rawHeaders),
    header: (req, name) => req.get(name),
    clientIp: (req) => req.ip,
  });
  return {
    require(requirement) {
      const check = guard(requirement);
      return (req, res, next) => {
        check(req).then((outcome) => {
          if (outcome.ok) {
            req.keyward = outcome.identity;
            res.set(outcome.headers);
            next();
            return;
          }
          const { status, body, headers } = outcome.refusal;
          res.status(status).set(headers).json(body);
        }, next);
      };
    },
  };
}
