import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import { clientIpResolver, readBoundedBody } from '../http/raw-request.js';
import { fixedHeaders, HYGIENE_HEADERS, writeAnswer } from '../http/response-writer.js';
import type { Services } from '../services.js';
import { OAUTH_HEADERS, OAuthError, oauthErrorAnswer } from './oauth-error.js';
import { parseForm } from './oauth-request.js';
import { tokenEndpoint } from './token-endpoint.js';

const PATH = '/oauth/token';
const okHeaders = fixedHeaders(OAUTH_HEADERS, HYGIENE_HEADERS);
const errorHeaders = fixedHeaders(HYGIENE_HEADERS);

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
    let headers = okHeaders;
    let extra: Record<string, string> | undefined;
    try {
      const form = await readBoundedBody(req, tooLarge);
      body = await tokenEndpoint(options.services, { ip: clientIp(req), id, rawHeaders: req.rawHeaders, query: {}, body: form === '' ? undefined : parseForm(form) });
    } catch (err) {
      const answer = oauthErrorAnswer(err, (cause) => options.log().error({ err: cause, reqId: id }, 'oauth request failed'));
      status = answer.status;
      body = answer.body;
      headers = errorHeaders;
      extra = answer.headers;
    }
    writeAnswer(res, status, headers, id, body, extra);
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
