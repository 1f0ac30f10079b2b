import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { errorBody } from '@keyward/wire';

/** The Fastify instance routes are registered on: zod schemas type requests and responses. */
export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

/** The error responses a route documents, for the OpenAPI document. */
export function errors(...statuses: number[]): Record<number, typeof errorBody> {
  return Object.fromEntries(statuses.map((s) => [s, errorBody.describe(describeStatus(s))]));
}

function describeStatus(status: number): string {
  switch (status) {
    case 400: return 'invalid_request: malformed request, or two credentials';
    case 401: return 'unauthorized: no credential, or not a valid one';
    case 403: return 'The caller is known but may not do this';
    case 404: return 'Not found, or not visible to the caller';
    case 409: return 'Conflict with the current state';
    case 422: return 'validation_failed, with per-field reasons';
    case 429: return 'rate_limited, with Retry-After';
    default: return 'Error';
  }
}

export function pageOf(query: { limit: number; cursor?: string | undefined }) {
  return { limit: query.limit, cursor: query.cursor ?? null };
}
