import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { errorBody } from '@keyward/wire';

/** The Fastify instance routes are registered on: zod schemas type requests and responses. */
export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

/** The error responses a route documents, for the OpenAPI document. */
export function errors(...statuses: number[]): Record<number, typeof errorBody> {
  return Object.fromEntries(statuses.map((s) => [s, errorBody]));
}

export function pageOf(query: { limit: number; cursor?: string | undefined }) {
  return { limit: query.limit, cursor: query.cursor ?? null };
}
