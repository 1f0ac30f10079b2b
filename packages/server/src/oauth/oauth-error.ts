import type { OAuthErrorCode } from '@keyward/wire';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { REALM } from '../http/api-error.js';
import { toErrorAnswer } from '../http/error-handler.js';

/** Headers of every answer of the token, introspection and revocation endpoints (RFC 6749 §5.1, R32). */
export const OAUTH_HEADERS = {
  'cache-control': 'no-store',
  pragma: 'no-cache',
  'content-type': 'application/json;charset=UTF-8',
} as const;

/** An RFC 6749 error answer: `{"error","error_description"}` with its status and headers. */
export class OAuthError extends Error {
  constructor(
    readonly statusCode: number,
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(description);
  }
}

export const oauthErrors = {
  invalidRequest: (description: string) => new OAuthError(400, 'invalid_request', description),
  /** 401 with a Basic challenge: RFC 6749 §5.2 requires it when Basic was tried, and we send it for body auth too (R30). */
  invalidClient: (description = 'Client authentication failed: client_id must be the API key id and client_secret the API key.') =>
    new OAuthError(401, 'invalid_client', description, { 'www-authenticate': `Basic realm="${REALM}"` }),
  rateLimited: (retryAfterSeconds: number) =>
    new OAuthError(429, 'rate_limited', 'Too many failed client authentications; try again later.', { 'retry-after': String(retryAfterSeconds) }),
};

/** Sends an OAuth answer: the JSON body as a string, with the no-store headers. */
export function sendOAuth(reply: FastifyReply, status: number, body: object | string, headers: Record<string, string> = {}): FastifyReply {
  return reply.code(status).headers({ ...OAUTH_HEADERS, ...headers }).send(typeof body === 'string' ? body : JSON.stringify(body));
}

/** An OAuth error as status, serialized body and headers (the no-store headers included). */
export interface OAuthErrorAnswer {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string>;
}

/**
 * Everything thrown on an OAuth route as an RFC 6749 error. A JSON (or any non-form) body, which the
 * app refuses with 415 before reading it, is `invalid_request` (R31); a database that cannot answer is
 * `temporarily_unavailable` with `Retry-After`; otherwise the app's classification (toErrorAnswer)
 * decides the status. `logError` receives what is the server's fault.
 */
export function oauthErrorAnswer(err: unknown, logError: (err: unknown) => void): OAuthErrorAnswer {
  if (err instanceof OAuthError) {
    return { status: err.statusCode, body: JSON.stringify({ error: err.error, error_description: err.description }), headers: { ...OAUTH_HEADERS, ...err.headers } };
  }
  const answer = toErrorAnswer(err);
  const { status } = answer;
  const headers: Record<string, string> = { ...OAUTH_HEADERS };
  if (answer.headers['retry-after']) headers['retry-after'] = answer.headers['retry-after'];
  if (answer.headers['www-authenticate']) headers['www-authenticate'] = answer.headers['www-authenticate'];
  let body: { error: OAuthErrorCode; error_description: string };
  if (status === 415) body = { error: 'invalid_request', error_description: 'Send the parameters as an application/x-www-form-urlencoded body.' };
  else if (status === 401) body = { error: 'invalid_client', error_description: answer.body.message };
  else if (status === 429) body = { error: 'rate_limited', error_description: answer.body.message };
  else if (status === 503) body = { error: 'temporarily_unavailable', error_description: answer.body.message };
  else if (status >= 500) {
    logError(err);
    body = { error: 'server_error', error_description: 'Something went wrong on our side.' };
  } else body = { error: 'invalid_request', error_description: answer.body.message };
  return { status: status === 415 || status === 422 ? 400 : status, body: JSON.stringify(body), headers };
}

/** The error handler of the OAuth routes (a Fastify scope of their own). */
export async function oauthErrorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const answer = oauthErrorAnswer(err, (cause) => request.log.error({ err: cause }, 'oauth request failed'));
  return reply.code(answer.status).headers(answer.headers).send(answer.body);
}
