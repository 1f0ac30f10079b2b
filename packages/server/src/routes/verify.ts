import { reportLeakedKey, type KeyVerdict, type VerifierActor } from '@keyward/core';
import * as wire from '@keyward/wire';
import { ApiError } from '../http/api-error.js';
import { fastSerializerFor, fastValidatorFor } from '../http/fast-schema.js';
import { errors, type App } from '../http/typed.js';
import type { Services } from '../services.js';

/** The body of a verify call, validated. */
export type VerifyBody = wire.VerifyKeyBody;

/** A verification's verdict; `tokenExpiresAt` is the `exp` of an access token presented as the key. */
export interface VerdictOfBody {
  readonly verdict: KeyVerdict;
  readonly tokenExpiresAt: Date | null;
}

/**
 * The verification itself, shared by the Fastify route and the fast lane (`http/verify-fast-lane.ts`):
 * the verdict for a validated body, metered and counted in the key's usage; without a promise when
 * everything it needs is in memory (the fast lane then answers synchronously).
 */
export function verdictFor(services: Services, verifier: VerifierActor, body: VerifyBody): VerdictOfBody | Promise<VerdictOfBody> {
  const startedAt = performance.now();
  // An access token is checked as a token (any audience: the operator's servers are its resource servers), then as its key.
  if (services.oauth.tokens.looksLikeToken(body.key)) return tokenVerdictFor(services, verifier, body, startedAt);
  const verdict = services.verification.check({
    token: body.key,
    projectId: body.projectId,
    permission: body.permission,
    action: body.action,
    resource: body.resource,
    ip: body.ip,
    orgId: verifier.orgId,
    cost: body.cost,
  });
  if (verdict instanceof Promise) return verdict.then((v) => counted(services, v, null, startedAt));
  return counted(services, verdict, null, startedAt);
}

async function tokenVerdictFor(services: Services, verifier: VerifierActor, body: VerifyBody, startedAt: number): Promise<VerdictOfBody> {
  const request = { projectId: body.projectId, permission: body.permission, action: body.action, resource: body.resource, ip: body.ip, orgId: verifier.orgId };
  const checked = await services.oauth.tokens.verify(body.key, { ...request, audience: null });
  const tokenExpiresAt = checked.token ? new Date(checked.token.claims.exp * 1000) : null;
  // The token spends the limits and credits of the key behind it.
  return counted(services, await services.verification.settle(checked.verdict, body.cost), tokenExpiresAt, startedAt);
}

function counted(services: Services, verdict: KeyVerdict, tokenExpiresAt: Date | null, startedAt: number): VerdictOfBody {
  services.operations.metrics.countVerification(verdict.code, startedAt);
  return { verdict, tokenExpiresAt };
}

/** Compiled once: the request check (Ajv) and the answer writer (fast-json-stringify). */
export const verifyBodyValidator = fastValidatorFor(wire.verifyKeyBody);
export const verdictSerializer = fastSerializerFor(wire.verifyKeyResponse);

/**
 * The data plane: the operator's servers ask whether a key may do something. Always 200 with a
 * verdict for a verifier credential; a key of an organization the verifier may not see is NOT_FOUND.
 * On a listening server, the fast lane answers this route before Fastify routes it; this route
 * serves the same answers through `inject` and documents the endpoint in the OpenAPI document.
 */
export function registerVerifyRoutes(app: App, services: Services): void {
  app.post('/api/keys/verify', {
    config: { auth: 'verifier' },
    validatorCompiler: verifyBodyValidator,
    serializerCompiler: verdictSerializer,
    schema: {
      tags: ['Verification'],
      summary: 'Verify a presented key for an action, a project and a client address',
      body: wire.verifyKeyBody,
      response: { 200: wire.verifyKeyResponse, ...errors(400, 401, 422, 429) },
    },
    handler: async (request) => {
      const { verdict, tokenExpiresAt } = await verdictFor(services, request.verifierActor!, request.body);
      return services.verifier.answer(verdict, tokenExpiresAt);
    },
  });
}

/**
 * Leak reports (SECURITY.md R4): anyone holding a key can report it leaked, which revokes it at once
 * with the reason `leaked` and records where it was found. The answer is the same whatever the key
 * was, so the endpoint tells nothing about keys. Reports that match no key count as failed
 * authentication for the client's rate limit.
 */
export function registerLeakRoutes(app: App, services: Services): void {
  app.post('/api/keys/leaked', {
    config: { auth: 'none' },
    schema: {
      tags: ['Verification'],
      summary: 'Report a leaked key: it is revoked at once if it is a live key',
      body: wire.leakReportBody,
      response: { 202: wire.leakReportResponse, ...errors(400, 422, 429) },
    },
    handler: async (request, reply) => {
      const { config } = services;
      if (config.authFailuresPerMinute > 0 && (await services.authFailures.check(request.ip)).limited) {
        throw new ApiError(429, 'rate_limited', 'Too many reports from this address; try again later.', {}, { 'retry-after': '60' });
      }
      const { key, source, url } = request.body;
      const outcome = await reportLeakedKey(services.deps, services.verifier, { token: key, source, url }, { ip: request.ip, requestId: request.id });
      if (outcome === 'unknown' && config.authFailuresPerMinute > 0) await services.authFailures.hit(request.ip);
      reply.code(202);
      return { status: 'received' as const };
    },
  });
}
