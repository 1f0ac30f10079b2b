import { recordAudit } from '../audit/record-audit.js';
import type { Actor } from '../auth/actor.js';
import { assertKeyManageable, canManageOrganization } from '../auth/policy.js';
import type { CoreDeps } from '../deps.js';
import { DomainError, FieldError, forbidden } from '../errors.js';
import type { KeyId } from '../ids.js';
import { CREDITS_MAX, creditPeriod } from './key-limits.js';
import type { CreditsChange, KeyMeter } from './key-meter.js';

export type ChangeCreditsDeps = Pick<CoreDeps, 'store' | 'clock' | 'ids' | 'catalogue' | 'bus'>;

/**
 * `POST /api/api-keys/{id}/credits`: sets, increments or decrements a key's remaining credits,
 * atomically against verifications spending them at the same moment (the meter applies the change
 * where it counts: this process, or Redis for every instance). A decrement below zero changes nothing
 * (422). The stored amount becomes exact at once, under a new version: spending counted before the
 * change is in the amount and is not subtracted again by a later usage flush. Owners and admins only.
 */
export async function changeKeyCredits(deps: ChangeCreditsDeps, meter: KeyMeter, actor: Actor, keyId: KeyId, change: CreditsChange): Promise<{ remaining: number }> {
  if (!Number.isInteger(change.amount) || change.amount < 0 || change.amount > CREDITS_MAX) {
    throw new FieldError('amount', `amount must be a whole number from 0 to ${CREDITS_MAX}.`);
  }
  const orgId = actor.orgId;
  const now = deps.clock.now();
  const remaining = await deps.store.transaction(async (tx) => {
    const key = assertKeyManageable(deps.catalogue, actor, await tx.keys.findByIdForUpdate(orgId, keyId));
    if (!canManageOrganization(deps.catalogue, actor)) throw forbidden('Only organization owners and admins may change credits.');
    if (key.revokedAt) throw new DomainError('api_key_already_revoked', 'A revoked key cannot be changed.');
    const credits = key.credits;
    if (!credits) throw new FieldError('op', 'This key has unlimited use: give it credits first (PATCH the key with "credits").');
    const version = Math.max(now.getTime(), credits.version + 1);
    const remaining = await meter.changeCredits({ ...key, credits }, change, version, now.getTime());
    if (remaining === null) {
      throw new FieldError('amount', `The key has fewer than ${change.amount} credits left; a decrement may not take them below zero. Nothing changed.`);
    }
    await tx.keys.setCredits(orgId, keyId, { remaining, version, period: creditPeriod(credits.refill, now.getTime()) }, now);
    await recordAudit(tx, deps.ids, actor, now, {
      action: 'api_key.credits_changed',
      targetType: 'api_key',
      targetId: keyId,
      details: { name: key.name, preview: key.preview, op: change.op, amount: change.amount, remaining },
    });
    await tx.invalidations.append({ type: 'key', orgId, keyId }, now);
    return remaining;
  });
  await deps.bus.publish({ type: 'key', orgId, keyId });
  return { remaining };
}
