import { policyViolationsOf, type OrganizationPolicy } from '../policy/organization-policy.js';
import { keyStatus, type ApiKeyRecord } from './api-key.js';
import { creditsRemainingAt } from '../limits/key-limits.js';

/**
 * The public form of a key, as `GET /api/api-keys/{id}` answers it and as key events carry it: never
 * a secret, a digest or a pepper version. `policy` is its organization's, for `policyViolations`.
 */
export function apiKeyPayload(key: ApiKeyRecord, now: Date, policy: OrganizationPolicy) {
  const iso = (date: Date | null) => (date ? date.toISOString() : null);
  const overlap = key.previousSecretExpiresAt && key.previousSecretExpiresAt.getTime() > now.getTime() ? key.previousSecretExpiresAt : null;
  return {
    id: key.id,
    name: key.name,
    description: key.description,
    keyType: key.keyType,
    status: keyStatus(key, now),
    preview: key.preview,
    ownerUserId: key.ownerUserId,
    createdByUserId: key.createdByUserId,
    createdByKeyId: key.createdByKeyId,
    projectId: key.projectId,
    bindings: key.bindings.map((b) => ({ role: b.role, scopeType: b.scopeType, scopeId: b.scopeId, ...(b.permissions ? { permissions: [...b.permissions] } : {}) })),
    permissionMode: key.permissionMode,
    permissions: [...key.permissions],
    scopes: key.scopes.map((s) => ({ action: s.action, resource: s.resource })),
    allowedCidrs: [...key.allowedCidrs],
    expiresAt: iso(key.expiresAt),
    lastUsedAt: iso(key.lastUsedAt),
    createdAt: key.createdAt.toISOString(),
    updatedAt: key.updatedAt.toISOString(),
    revokedAt: iso(key.revokedAt),
    revokedReason: key.revokedReason,
    rollOverlapEndsAt: iso(overlap),
    policyViolations: policyViolationsOf(policy, key, now),
    rateLimits: key.rateLimits.map(({ name, limit, windowSeconds }) => ({ name, limit, windowSeconds })),
    credits: key.credits
      ? { remaining: creditsRemainingAt(key.credits, now.getTime()), refill: key.credits.refill ? { amount: key.credits.refill.amount, interval: key.credits.refill.interval } : null }
      : null,
    // Counts live where keys are verified, not here: the API fills them in; events carry none.
    rateLimitUse: [] as { name: string; limit: number; used: number; resetAt: string }[],
  };
}
