import { recordAudit } from '../audit/record-audit.js';
import { eventActor, recordEvent } from '../webhooks/record-event.js';
import type { Actor, SystemActor } from '../auth/actor.js';
import { assertCanManageOrganization } from '../auth/policy.js';
import type { CoreDeps } from '../deps.js';
import { DomainError, notFound } from '../errors.js';
import type { OrgId } from '../ids.js';
import type { Organization } from '../orgs/organization.js';
import type { Repositories } from '../ports.js';
import { generateSigningKey } from './generate-signing-key.js';
import type { SigningKeyRecord } from './signing-key.js';
import { promotableAt, retirementDueAt, signingKeyViewAt, type SigningKeyView } from './signing-key-lifecycle.js';

export type RotateSigningKeyDeps = Pick<CoreDeps, 'store' | 'clock' | 'ids' | 'encryptionKey' | 'bus' | 'catalogue'>;

export interface RotateSigningKeyOptions {
  /**
   * For a key that may have leaked: the current key leaves the JWKS at once, is marked compromised,
   * and every token it signed is refused on every online path; the next key signs from now on.
   */
  readonly emergency: boolean;
}

/**
 * Rotates an organization's signing keys. Planned: the next key (published at least ten minutes ago,
 * so cached key sets know it) becomes current, the current key becomes previous and stays published
 * until its last token has expired, and a fresh next key is published. Emergency: the same promotion
 * at once, but the current key is retired and compromised instead of kept. Audited in the same
 * transaction; every instance drops its cached key set before this returns.
 */
export async function rotateSigningKey(
  deps: RotateSigningKeyDeps,
  actor: Actor | SystemActor,
  options: RotateSigningKeyOptions,
): Promise<SigningKeyView[]> {
  if (actor.type !== 'system') assertCanManageOrganization(deps.catalogue, actor);
  const orgId = actor.orgId;
  const org = await deps.store.orgs.findById(orgId);
  if (!org) throw notFound.organization();
  if (!org.bootstrappedAt) throw notBootstrapped();
  // Key generation (RSA-3072 takes a while) happens before the write transaction, to keep it short.
  const fresh = await generateSigningKey({
    id: deps.ids.next('sk'),
    orgId,
    algorithm: org.signingAlgorithm,
    state: 'next',
    now: deps.clock.now(),
    encryptionKey: deps.encryptionKey,
  });
  const keys = await deps.store.transaction(async (tx) => {
    const locked = await lockOrganization(tx, orgId);
    const now = deps.clock.now();
    const all = await tx.signingKeys.listForOrg(orgId);
    await retireExpiredPreviousKeys(tx, all, locked, now);
    const current = all.find((k) => k.state === 'current') ?? null;
    let next = all.find((k) => k.state === 'next') ?? null;
    if (!options.emergency) assertPromotable(next, now);
    if (!next) {
      // Only an emergency gets here without a next key (a damaged key set): sign with a new key at once.
      next = await generateSigningKey({ id: deps.ids.next('sk'), orgId, algorithm: locked.signingAlgorithm, state: 'next', now, encryptionKey: deps.encryptionKey });
      await tx.signingKeys.insert(next);
    }
    if (current) {
      await tx.signingKeys.update(
        orgId,
        current.id,
        options.emergency
          ? { state: 'retired', deactivatedAt: now, retiredAt: now, compromisedAt: now }
          : { state: 'previous', deactivatedAt: now },
      );
    }
    await tx.signingKeys.update(orgId, next.id, { state: 'current', activatedAt: now });
    const created: SigningKeyRecord = { ...fresh, createdAt: now, publishedAt: now };
    await tx.signingKeys.insert(created);
    await recordAudit(tx, deps.ids, actor, now, {
      action: options.emergency ? 'signing_key.emergency_rotated' : 'signing_key.rotated',
      targetType: 'signing_key',
      targetId: next.id,
      details: {
        emergency: options.emergency,
        activated: next.id,
        ...(current ? { [options.emergency ? 'compromised' : 'deactivated']: current.id } : {}),
        published: created.id,
        algorithm: created.algorithm,
      },
    });
    await recordEvent(tx, deps.ids, now, orgId, 'signing_key.rotated', {
      signingKey: { activated: next.id, ...(current ? { [options.emergency ? 'compromised' : 'deactivated']: current.id } : {}), published: created.id },
      emergency: options.emergency,
      actor: eventActor(actor),
    });
    await tx.invalidations.append({ type: 'org', orgId }, now);
    return (await tx.signingKeys.listForOrg(orgId)).map((k) => signingKeyViewAt(k, now, locked.accessTokenTtlSeconds));
  });
  await deps.bus.publish({ type: 'org', orgId });
  return keys;
}

/**
 * Takes the organization's row for the rest of the transaction (a no-op UPDATE: PostgreSQL locks the
 * row, SQLite's write transaction is exclusive already), so two rotations of one organization run one
 * after the other and never promote the same next key twice. Answers the organization as locked.
 */
export async function lockOrganization(tx: Repositories, orgId: OrgId): Promise<Organization> {
  const before = await tx.orgs.findById(orgId);
  if (!before) throw notFound.organization();
  await tx.orgs.update(orgId, { signingAlgorithm: before.signingAlgorithm });
  const org = await tx.orgs.findById(orgId);
  if (!org) throw notFound.organization();
  return org;
}

/** Writes `retired` on previous keys whose window has passed (they already left the JWKS by time). */
export async function retireExpiredPreviousKeys(tx: Repositories, keys: readonly SigningKeyRecord[], org: Organization, now: Date): Promise<void> {
  for (const key of keys) {
    const due = retirementDueAt(key, org.accessTokenTtlSeconds);
    if (due && due.getTime() <= now.getTime()) await tx.signingKeys.update(org.id, key.id, { state: 'retired', retiredAt: due });
  }
}

function assertPromotable(next: SigningKeyRecord | null, now: Date): void {
  if (!next) {
    throw new DomainError('conflict', 'The organization has no next signing key to promote; use an emergency rotation to create one.');
  }
  const readyAt = promotableAt(next);
  if (readyAt.getTime() > now.getTime()) {
    throw new DomainError(
      'conflict',
      `The next signing key ${next.id} was published at ${next.publishedAt.toISOString()}; a planned rotation may promote it from ${readyAt.toISOString()}, ten minutes after publication, so that every verifier's cached key set already knows it. Rotate again after that, or use an emergency rotation if the current key may have leaked.`,
      { nextSigningKeyId: next.id, promotableAt: readyAt.toISOString() },
    );
  }
}

function notBootstrapped(): DomainError {
  return new DomainError('organization_not_bootstrapped', 'The organization has no signing keys yet: bootstrap it first (POST /api/organization/bootstrap).');
}
