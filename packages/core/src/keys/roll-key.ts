import { recordAudit } from '../audit/record-audit.js';
import { keyEventData, recordEvent } from '../webhooks/record-event.js';
import type { Actor } from '../auth/actor.js';
import { loadUserGrants } from '../auth/grants.js';
import { assertKeyManageable, assertMayGrantKey } from '../auth/policy.js';
import type { CoreDeps } from '../deps.js';
import { DomainError, FieldError } from '../errors.js';
import type { KeyId } from '../ids.js';
import { loadPolicy } from '../policy/manage-policy.js';
import { assertRollWithinPolicy } from '../policy/organization-policy.js';
import type { ApiKeyRecord } from './api-key.js';

export type RollKeyDeps = Pick<CoreDeps, 'store' | 'clock' | 'ids' | 'peppers' | 'keyFormat' | 'catalogue' | 'bus' | 'limits'>;

/** What a roll tells beside the new secret: that it ended the overlap an earlier roll had promised. */
export interface RollWarning {
  readonly code: 'previous_overlap_ended';
  readonly message: string;
  /** When the secret this roll ended would have stopped working. */
  readonly previousSecretExpiresAt: Date;
}

/**
 * Gives a key a new secret under the same id. The old secret stays valid until `oldKeyExpiresAt`
 * (default: now, i.e. at once), which may never be later than the key's own expiry nor further away
 * than the configured maximum overlap. A key already inside an overlap window loses its older secret
 * at once (a key holds two secrets at most), and the answer says so with `previous_overlap_ended`.
 */
export async function rollKey(
  deps: RollKeyDeps,
  actor: Actor,
  keyId: KeyId,
  options: { oldKeyExpiresAt?: Date | undefined } = {},
): Promise<{ token: string; key: ApiKeyRecord; warnings: RollWarning[] }> {
  const orgId = actor.orgId;
  const result = await deps.store.transaction(async (tx) => {
    const key = assertKeyManageable(deps.catalogue, actor, await tx.keys.findById(orgId, keyId));
    if (key.revokedAt) throw new DomainError('api_key_already_revoked', 'A revoked key cannot be rolled.');
    // A new secret hands out the key's rights: only to someone who holds them all.
    const owner = key.keyType === 'personal' && key.ownerUserId ? await loadUserGrants(tx, deps.catalogue, orgId, key.ownerUserId) : null;
    await assertMayGrantKey(tx, deps.catalogue, actor, key, owner?.grants ?? null);
    const now = deps.clock.now();
    const policy = await loadPolicy(tx, orgId);
    assertRollWithinPolicy(policy, key, now);
    const overlapEnd = options.oldKeyExpiresAt && options.oldKeyExpiresAt.getTime() > now.getTime() ? options.oldKeyExpiresAt : null;
    if (overlapEnd && key.expiresAt && overlapEnd.getTime() > key.expiresAt.getTime()) {
      throw new FieldError('oldKeyExpiresAt', `The old secret cannot outlive the key, which expires at ${key.expiresAt.toISOString()}.`);
    }
    if (overlapEnd && overlapEnd.getTime() - now.getTime() > deps.limits.maxRollOverlapSeconds * 1000) {
      throw new FieldError('oldKeyExpiresAt', `The overlap may last at most ${Math.round(deps.limits.maxRollOverlapSeconds / 86400)} days.`);
    }
    const ended = key.previousSecret && key.previousSecretExpiresAt && key.previousSecretExpiresAt.getTime() > now.getTime() ? key.previousSecretExpiresAt : null;
    const warnings: RollWarning[] = ended
      ? [
          {
            code: 'previous_overlap_ended',
            message: `An earlier roll's previous secret was to keep working until ${ended.toISOString()}; this roll ended it now.`,
            previousSecretExpiresAt: ended,
          },
        ]
      : [];
    const generated = key.lookupId ? deps.keyFormat.generate(key.lookupId) : deps.keyFormat.generateProjectKey();
    const secret = { digest: deps.peppers.digest(generated.secret).toString('hex'), pepperVersion: deps.peppers.current.version };
    const preview = deps.keyFormat.preview(generated.token);
    await tx.keys.setSecret(orgId, keyId, {
      secret,
      previousSecret: overlapEnd ? key.secret : null,
      previousSecretExpiresAt: overlapEnd,
      preview,
      updatedAt: now,
    });
    await recordAudit(tx, deps.ids, actor, now, {
      action: 'api_key.rolled',
      targetType: 'api_key',
      targetId: keyId,
      details: {
        name: key.name,
        previousPreview: key.preview,
        preview,
        oldKeyExpiresAt: (overlapEnd ?? now).toISOString(),
        ...(ended ? { previousOverlapEndedAt: ended.toISOString() } : {}),
      },
    });
    const updated: ApiKeyRecord = {
      ...key,
      secret,
      previousSecret: overlapEnd ? key.secret : null,
      previousSecretExpiresAt: overlapEnd,
      preview,
      updatedAt: now,
    };
    await recordEvent(tx, deps.ids, now, orgId, 'api_key.rolled', keyEventData(updated, actor, now, policy));
    await tx.invalidations.append({ type: 'key', orgId, keyId }, now);
    return { token: generated.token, key: updated, warnings };
  });
  await deps.bus.publish({ type: 'key', orgId, keyId });
  return result;
}
