import type { FastifyRequest } from 'fastify';
import { oauthErrors } from './oauth-error.js';

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

const MAX_PARAMETERS = 100;

/**
 * The form parser of the OAuth endpoints, on both paths (application/x-www-form-urlencoded): each
 * name with its values in order (several values are refused as `invalid_request` by `formParams`),
 * `+` is a space, a malformed percent-encoding is `invalid_request`, at most 100 parameters are read.
 */
export function parseForm(text: string): FormBody {
  const out: FormBody = new Map();
  let count = 0;
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    if (++count > MAX_PARAMETERS) break;
    const eq = pair.indexOf('=');
    const name = decodeFormComponent(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : decodeFormComponent(pair.slice(eq + 1));
    const values = out.get(name);
    if (values) values.push(value);
    else out.set(name, [value]);
  }
  return out;
}

/** A parsed form: every name with its values. */
export type FormBody = Map<string, string[]>;

const needsDecoding = /[%+]/;

function decodeFormComponent(text: string): string {
  if (!needsDecoding.test(text)) return text;
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw oauthErrors.invalidRequest('The form body is not properly percent-encoded.');
  }
}

/** The one `Authorization` header value, or undefined; several are refused by the caller. */
export function authorizationHeaders(request: Pick<OAuthRequest, 'rawHeaders'>): string[] {
  const out: string[] = [];
  const raw = request.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 13 && raw[i]!.toLowerCase() === 'authorization') out.push(raw[i + 1]!.trim());
  return out;
}
