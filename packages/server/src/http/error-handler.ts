import { DomainError, InvalidAskError, StoreBusy, StoreUnavailable, UnknownPermissionError, recordAudit, type Actor } from '@keyward/core';
import type { Services } from '../services.js';
import type { ApiErrorCode, ErrorBody } from '@keyward/wire';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ApiError } from './api-error.js';
import { AuditCoalescer } from './audit-coalescer.js';
import { statusByCode } from './status-by-code.js';

export interface ErrorAnswer {
  readonly status: number;
  readonly body: ErrorBody;
  readonly headers: Record<string, string>;
}

function answer(status: number, error: ApiErrorCode, message: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): ErrorAnswer {
  return { status, body: { ...extra, error, message } as ErrorBody, headers };
}

function issuePath(issue: { instancePath?: string; params?: { issue?: { path?: PropertyKey[] } } }, context: string): string {
  const path = issue.params?.issue?.path;
  const parts = path && path.length ? path.map(String) : (issue.instancePath ?? '').split('/').filter(Boolean);
  const joined = parts.reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
  return joined || context;
}

/** The field an Ajv error is about, in the same `a.b[0]` form as zod's. */
function ajvPath(issue: { instancePath?: string; params?: Record<string, unknown> }, context: string): string {
  const base = (issue.instancePath ?? '').split('/').filter(Boolean);
  const named = issue.params?.missingProperty ?? issue.params?.additionalProperty;
  if (typeof named === 'string') base.push(named);
  const joined = base.reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
  return joined || context;
}

/**
 * Turns anything thrown while handling a request into the documented error shape. Bad input is a 4xx
 * with a stable code; an unknown error is `internal_error` with a fixed message (its cause is logged,
 * never sent); a database that cannot answer, or whose write lock another process held too long, is
 * 503 with `Retry-After` (fail closed).
 */
export function toErrorAnswer(err: unknown): ErrorAnswer {
  if (err instanceof ApiError) return answer(err.statusCode, err.code, err.message, err.details, err.headers);
  if (err instanceof DomainError) {
    if (err.code === 'invalid_field') {
      const path = typeof err.details.path === 'string' ? err.details.path : '';
      return answer(422, 'validation_failed', 'The request body is not valid.', { reasons: [{ path, message: err.message }] });
    }
    return answer(statusByCode[err.code], err.code as ApiErrorCode, err.message, err.details);
  }
  if (err instanceof UnknownPermissionError) {
    return answer(422, 'unknown_permission', err.message, { permission: err.permission, didYouMean: err.didYouMean });
  }
  if (err instanceof InvalidAskError) {
    return answer(422, 'validation_failed', 'The request body is not valid.', { reasons: [{ path: err.path, message: err.message }] });
  }
  if (err instanceof StoreBusy) {
    return answer(503, 'store_busy', 'The database is busy with another writer; nothing was changed. Try again shortly.', {}, { 'retry-after': '2' });
  }
  if (err instanceof StoreUnavailable) {
    return answer(503, 'service_unavailable', 'The database is not reachable; try again shortly.', {}, { 'retry-after': '5' });
  }
  if (hasZodFastifySchemaValidationErrors(err)) {
    const context = (err as { validationContext?: string }).validationContext ?? 'body';
    const reasons = err.validation.map((issue) => ({
      path: issuePath(issue as never, context),
      message: issue.message ?? 'is not valid',
    }));
    return answer(422, 'validation_failed', `The request ${context === 'querystring' ? 'query' : context} is not valid.`, { reasons });
  }
  const fastifyError = err as FastifyError;
  if (fastifyError.code === 'FST_ERR_VALIDATION' && Array.isArray(fastifyError.validation)) {
    const context = (err as { validationContext?: string }).validationContext ?? 'body';
    const reasons = fastifyError.validation.map((issue) => ({ path: ajvPath(issue, context), message: issue.message ?? 'is not valid' }));
    return answer(422, 'validation_failed', `The request ${context === 'querystring' ? 'query' : context} is not valid.`, { reasons });
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return answer(400, 'invalid_request', 'The request body is not valid JSON.');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return answer(413, 'payload_too_large', 'The request body is too large (at most 64 KiB).');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return answer(415, 'unsupported_media_type', 'Send the body as application/json.');
    default:
      break;
  }
  if (err instanceof SyntaxError || fastifyError.statusCode === 400) {
    return answer(400, 'invalid_request', 'The request is malformed.');
  }
  if (fastifyError.statusCode === 413) return answer(413, 'payload_too_large', 'The request is too large.');
  if (fastifyError.statusCode === 415) return answer(415, 'unsupported_media_type', 'This content type is not accepted here.');
  return answer(500, 'internal_error', 'Something went wrong on our side. The request id identifies it in the logs.');
}

const deniedCodes = new Set(['insufficient_permissions', 'api_key_not_owned', 'api_key_scope_violation']);

/**
 * The app's error handler. A known caller refused with 403 leaves an audit entry (`outcome: denied`,
 * R42), written on its own: the refused change never happened. Repeats are coalesced (see
 * `AuditCoalescer`), so that one caller cannot grow the audit log without bound.
 */
export function errorHandler(services: Pick<Services, 'deps'>) {
  const denials = new AuditCoalescer();
  return async function handleError(err: unknown, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const answer = toErrorAnswer(err);
    if (answer.status === 403 && request.actor && deniedCodes.has(answer.body.error)) {
      await auditDenial(services, denials, request, request.actor, answer.body.error);
    }
    return send(answer, err, request, reply);
  };
}

async function auditDenial(services: Pick<Services, 'deps'>, denials: AuditCoalescer, request: FastifyRequest, actor: Actor, code: string): Promise<void> {
  const { store, ids, clock } = services.deps;
  const at = clock.now();
  const route = request.routeOptions.url ?? null;
  const caller = actor.type === 'user' ? `user:${actor.userId}` : `${actor.type}:${actor.keyId}`;
  const verdict = denials.admit(JSON.stringify([actor.orgId, caller, request.method, route, code]), at.getTime());
  if (!verdict.audit) return;
  const repeats = verdict.suppressedRepeats > 0 ? { suppressedRepeats: verdict.suppressedRepeats } : {};
  await store
    .transaction((tx) =>
      recordAudit(tx, ids, actor, at, {
        action: 'authorization.denied',
        targetType: 'request',
        targetId: null,
        outcome: 'denied',
        details: { method: request.method, route, code, ...repeats },
      }),
    )
    .catch((auditErr: unknown) => request.log.error({ err: auditErr }, 'could not record a denial in the audit log'));
}

function send({ status, body, headers }: ErrorAnswer, err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (status >= 500 && status !== 503) request.log.error({ err }, 'request failed');
  else if (status === 503) request.log.warn({ err }, 'dependency unavailable');
  return reply
    .code(status)
    .headers(headers)
    .header('cache-control', 'no-store')
    .type('application/json; charset=utf-8')
    .serializer(JSON.stringify)
    .send({ ...body, requestId: request.id });
}
