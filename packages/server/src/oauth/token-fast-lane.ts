import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import { clientIpResolver, readBoundedBody } from '../http/raw-request.js';
import type { Services } from '../services.js';
import { OAUTH_HEADERS, OAuthError, oauthErrorAnswer } from './oauth-error.js';
import { parseForm } from './oauth-request.js';
import { tokenEndpoint } from './token-endpoint.js';

const PATH = '/oauth/token';
const hygiene = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY' };
const okHeaders = { ...OAUTH_HEADERS, ...hygiene };

export interface TokenFastLaneOptions {
  readonly services: Services;
  readonly nextRequestId: () => string;
  readonly log: () => FastifyBaseLogger;
}

/**
 * `POST /oauth/token` on a listening server, answered before Fastify routes it: issuance is the
 * OAuth server's hot path, and Fastify's routing, hooks and reply pipeline cost about as much as the
 * ES256 signature itself. It takes only requests Fastify would answer the same way (the exact path, a
 * form body); through the same `tokenEndpoint`, form parser and error answers as the route, it gives
 * the same answers. Returns whether it took the request.
 */
export function createTokenFastLane(options: TokenFastLaneOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const clientIp = clientIpResolver(options.services.config.trustedProxies);

  async function handle(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    let status = 200;
    let body: string;
    let headers: Record<string, string> = okHeaders;
    try {
      const form = await readBoundedBody(req, tooLarge);
      body = await tokenEndpoint(options.services, { ip: clientIp(req), id, rawHeaders: req.rawHeaders, query: {}, body: form === '' ? undefined : parseForm(form) });
    } catch (err) {
      const answer = oauthErrorAnswer(err, (cause) => options.log().error({ err: cause, reqId: id }, 'oauth request failed'));
      status = answer.status;
      body = answer.body;
      headers = { ...answer.headers, ...hygiene };
    }
    if (res.headersSent) return void res.end();
    res.writeHead(status, { ...headers, 'x-request-id': id, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  return (req, res) => {
    if (req.method !== 'POST' || req.url !== PATH) return false;
    const type = req.headers['content-type'];
    if (type === undefined || type.split(';')[0]!.trim().toLowerCase() !== 'application/x-www-form-urlencoded') return false;
    void handle(req, res, options.nextRequestId());
    return true;
  };
}

function tooLarge(): OAuthError {
  return new OAuthError(413, 'invalid_request', 'The request body is too large (at most 64 KiB).');
}
