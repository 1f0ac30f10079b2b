import { recordAudit } from '../audit/record-audit.js';
import { keyEventData, recordEvent } from '../webhooks/record-event.js';
import type { Actor } from '../auth/actor.js';
import { assertKeyManageable } from '../auth/policy.js';
import type { CoreDeps } from '../deps.js';
import { DomainError } from '../errors.js';
import type { KeyId } from '../ids.js';

export type RevokeKeyDeps = Pick<CoreDeps, 'store' | 'clock' | 'ids' | 'catalogue' | 'bus'>;

/**
 * Revokes a key: permanent and immediate. The revocation and its audit entry commit together, and
 * every cache drops the key before this resolves, so no verification after it can succeed.
 */
export async function revokeKey(deps: RevokeKeyDeps, actor: Actor, keyId: KeyId, reason = 'revoked'): Promise<void> {
  const orgId = actor.orgId;
  await deps.store.transaction(async (tx) => {
    const key = assertKeyManageable(deps.catalogue, actor, await tx.keys.findById(orgId, keyId));
    if (key.revokedAt) throw new DomainError('api_key_already_revoked', 'This key is already revoked.', { revokedAt: key.revokedAt.toISOString() });
    const now = deps.clock.now();
    const changed = await tx.keys.setRevoked(orgId, keyId, now, reason);
    if (!changed) throw new DomainError('api_key_already_revoked', 'This key is already revoked.');
    await recordAudit(tx, deps.ids, actor, now, {
      action: 'api_key.revoked',
      targetType: 'api_key',
      targetId: keyId,
      details: { name: key.name, preview: key.preview, reason },
    });
    await recordEvent(tx, deps.ids, now, orgId, 'api_key.revoked', keyEventData({ ...key, revokedAt: now, revokedReason: reason, updatedAt: now }, actor, now));
    await tx.invalidations.append({ type: 'key', orgId, keyId }, now);
  });
  await deps.bus.publish({ type: 'key', orgId, keyId });
}
