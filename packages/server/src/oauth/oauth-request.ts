import { parse } from 'node:querystring';
import type { FastifyRequest } from 'fastify';

/**
 * What the OAuth endpoints read of a request, whoever received it: the Fastify routes, or the token
 * fast lane that answers `POST /oauth/token` before Fastify routes it (token-fast-lane.ts).
 */
export interface OAuthRequest {
  /** The client's address (the right-most untrusted hop behind trusted proxies). */
  readonly ip: string;
  readonly id: string;
  /** Raw header names and values, to see a repeated Authorization header. */
  readonly rawHeaders: readonly string[];
  readonly query: unknown;
  /** The parsed form (`parseForm`), or undefined without a body. */
  readonly body: unknown;
}

export function oauthRequestOf(request: FastifyRequest): OAuthRequest {
  return { ip: request.ip, id: request.id, rawHeaders: request.raw.rawHeaders, query: request.query, body: request.body };
}

/**
 * The form parser of the OAuth endpoints, on both paths: a repeated name gives an array (refused as
 * `invalid_request`), `+` is a space, and at most 100 parameters are read.
 */
export function parseForm(text: string): Record<string, string | string[]> {
  return parse(text, '&', '=', { maxKeys: 100 }) as Record<string, string | string[]>;
}

/** The one `Authorization` header value, or undefined; several are refused by the caller. */
export function authorizationHeaders(request: Pick<OAuthRequest, 'rawHeaders'>): string[] {
  const out: string[] = [];
  const raw = request.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 13 && raw[i]!.toLowerCase() === 'authorization') out.push(raw[i + 1]!.trim());
  return out;
}
