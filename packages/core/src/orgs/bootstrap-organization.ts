import { recordAudit } from '../audit/record-audit.js';
import type { Actor, SystemActor } from '../auth/actor.js';
import type { CoreDeps } from '../deps.js';
import { notFound } from '../errors.js';
import type { OrgId } from '../ids.js';
import type { Repositories } from '../ports.js';
import { generateSigningKey } from '../signing-keys/generate-signing-key.js';

export type BootstrapDeps = Pick<CoreDeps, 'clock' | 'ids' | 'encryptionKey'>;

/**
 * Provisions the organization's signing keys (a current key that signs, and the next one, already
 * published so that a planned rotation never surprises a cached JWKS). Idempotent and serialized: the
 * conditional `markBootstrapped` lets exactly one of N concurrent calls create the key set (R38).
 * Runs inside the caller's transaction so the org, its keys and the audit entry commit together.
 */
export async function bootstrapInTransaction(
  deps: BootstrapDeps,
  tx: Repositories,
  actor: Actor | SystemActor,
  orgId: OrgId,
): Promise<{ bootstrappedAt: Date; created: boolean }> {
  const org = await tx.orgs.findById(orgId);
  if (!org) throw notFound.organization();
  if (org.bootstrappedAt) return { bootstrappedAt: org.bootstrappedAt, created: false };
  const now = deps.clock.now();
  // Generate before taking the row, to keep the write transaction short.
  const current = await generateSigningKey({ id: deps.ids.next('sk'), orgId, algorithm: org.signingAlgorithm, state: 'current', now, encryptionKey: deps.encryptionKey });
  const next = await generateSigningKey({ id: deps.ids.next('sk'), orgId, algorithm: org.signingAlgorithm, state: 'next', now, encryptionKey: deps.encryptionKey });
  const won = await tx.orgs.markBootstrapped(orgId, now);
  if (!won) {
    const again = await tx.orgs.findById(orgId);
    return { bootstrappedAt: again?.bootstrappedAt ?? now, created: false };
  }
  await tx.signingKeys.insert(current);
  await tx.signingKeys.insert(next);
  await recordAudit(tx, deps.ids, actor, now, {
    action: 'organization.bootstrapped',
    targetType: 'organization',
    targetId: orgId,
    details: { algorithm: org.signingAlgorithm, signingKeyIds: [current.id, next.id] },
  });
  await tx.invalidations.append({ type: 'org', orgId }, now);
  return { bootstrappedAt: now, created: true };
}

export async function bootstrapOrganization(
  deps: BootstrapDeps & Pick<CoreDeps, 'store' | 'bus'>,
  actor: Actor,
): Promise<{ bootstrappedAt: Date; created: boolean }> {
  const result = await deps.store.transaction((tx) => bootstrapInTransaction(deps, tx, actor, actor.orgId));
  if (result.created) await deps.bus.publish({ type: 'org', orgId: actor.orgId });
  return result;
}
