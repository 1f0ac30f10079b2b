import type { KeyVerdict } from '@keyward/core';
import * as wire from '@keyward/wire';
import { errors, type App } from '../http/typed.js';
import type { Services } from '../services.js';

/** The wire form of a verdict: the key's facts only once the key is known and valid. */
export function verdictView(verdict: KeyVerdict): wire.VerifyKeyResponse {
  if (!verdict.valid) {
    if (verdict.code === 'NOT_FOUND' || !verdict.key) return { valid: false, code: verdict.code, explanation: verdict.explanation };
    return {
      valid: false,
      code: verdict.code,
      keyId: verdict.key.id,
      organizationId: verdict.key.orgId,
      keyType: verdict.key.keyType,
      explanation: verdict.explanation,
    };
  }
  const { key } = verdict;
  return {
    valid: true,
    code: 'VALID',
    keyId: key.id,
    organizationId: key.orgId,
    keyType: key.keyType,
    ownerUserId: key.ownerUserId,
    projectId: verdict.projectId,
    expiresAt: key.expiresAt ? key.expiresAt.toISOString() : null,
    permissions: verdict.permissions,
    explanation: verdict.explanation,
  };
}

/**
 * The data plane: the operator's servers ask whether a key may do something. Always 200 with a
 * verdict for a verifier credential; a key of an organization the verifier may not see is NOT_FOUND.
 */
export function registerVerifyRoutes(app: App, services: Services): void {
  const { deps } = services;
  app.post('/api/keys/verify', {
    config: { auth: 'verifier' },
    schema: {
      tags: ['Verification'],
      summary: 'Verify a presented key for an action, a project and a client address',
      body: wire.verifyKeyBody,
      response: { 200: wire.verifyKeyResponse, ...errors(400, 401, 422, 429) },
    },
    handler: async (request) => {
      const body = request.body;
      const verdict = await services.verifier.verify({
        token: body.key,
        projectId: body.projectId,
        permission: body.permission,
        action: body.action,
        resource: body.resource,
        ip: body.ip,
        orgId: request.verifierActor?.orgId ?? null,
      });
      if (verdict.key) services.usage.record(verdict.key.orgId, verdict.key.id, verdict.code, deps.clock.now());
      return verdictView(verdict);
    },
  });
}
