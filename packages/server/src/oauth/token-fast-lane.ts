import type { IncomingMessage, ServerResponse } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';
import type { FastifyBaseLogger } from 'fastify';
import { BODY_LIMIT_BYTES } from '../limits.js';
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
  const { trustedProxies } = options.services.config;
  const trust = trustedProxies.length > 0 ? proxyAddr.compile(trustedProxies) : null;
  const clientIp = (req: IncomingMessage) => (trust ? proxyAddr(req, trust) : (req.socket.remoteAddress ?? ''));

  async function handle(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    let status = 200;
    let body: string;
    let headers: Record<string, string> = okHeaders;
    try {
      const form = await readBody(req);
      body = await tokenEndpoint(options.services, { ip: clientIp(req), id, rawHeaders: req.rawHeaders, query: {}, body: form === null ? undefined : parseForm(form) });
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

/** The body as text, null when empty; at most BODY_LIMIT_BYTES. */
function readBody(req: IncomingMessage): Promise<string | null> {
  if (Number(req.headers['content-length']) > BODY_LIMIT_BYTES) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > BODY_LIMIT_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(size === 0 ? null : (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8')));
    req.on('error', reject);
  });
}
