import type { CoreDeps } from '../deps.js';
import { randomBase62, type OrgId, type VerifierId } from '../ids.js';
import { digestsEqual } from '../keys/key-digest.js';
import { createKeyFormat, LOOKUP_ID_LENGTH } from '../keys/key-format.js';
import type { VerifierActor } from '../auth/actor.js';
import type { VerifierRecord } from './verifier.js';

/** Verifier credentials share the key format under their own prefix, so scanners can tell them apart. */
export const verifierFormat = createKeyFormat('kwv_');

export async function createVerifier(
  deps: Pick<CoreDeps, 'store' | 'clock' | 'peppers'>,
  input: { name: string; orgId: OrgId | null },
): Promise<{ id: VerifierId; token: string; verifier: VerifierRecord }> {
  const lookupId = randomBase62(LOOKUP_ID_LENGTH);
  const { token, secret } = verifierFormat.generate(lookupId);
  const verifier: VerifierRecord = {
    id: `ver_${lookupId}`,
    name: input.name,
    orgId: input.orgId,
    digest: deps.peppers.digest(secret).toString('hex'),
    pepperVersion: deps.peppers.current.version,
    preview: verifierFormat.preview(token),
    createdAt: deps.clock.now(),
    revokedAt: null,
    previousDigest: null,
    previousPepperVersion: null,
    previousExpiresAt: null,
    lastUsedAt: null,
  };
  await deps.store.verifiers.insert(verifier);
  return { id: verifier.id, token, verifier };
}

const DUMMY = Buffer.alloc(32);

/**
 * The verifier behind a credential, or null: same work for unknown ids and wrong secrets. After a
 * roll, the previous secret is accepted until its `previousExpiresAt`.
 */
export async function authenticateVerifier(
  deps: Pick<CoreDeps, 'store' | 'peppers'> & Partial<Pick<CoreDeps, 'clock'>>,
  token: string,
  lookup: (id: VerifierId) => Promise<VerifierRecord | null> = (id) => deps.store.verifiers.findForVerification(id),
): Promise<VerifierActor | null> {
  const parsed = verifierFormat.parse(token);
  if (!parsed || parsed.kind !== 'lookup') return null;
  const record = await lookup(`ver_${parsed.lookupId}`);
  const version = record && deps.peppers.has(record.pepperVersion) ? record.pepperVersion : deps.peppers.current.version;
  const presented = deps.peppers.digest(parsed.secret, version);
  let ok = digestsEqual(presented, record ? Buffer.from(record.digest, 'hex') : DUMMY);
  if (!ok && record?.previousDigest && record.previousExpiresAt && record.previousPepperVersion !== null && deps.peppers.has(record.previousPepperVersion)) {
    const now = (deps.clock?.now() ?? new Date()).getTime();
    const previous = record.previousPepperVersion === version ? presented : deps.peppers.digest(parsed.secret, record.previousPepperVersion);
    ok = now < record.previousExpiresAt.getTime() && digestsEqual(previous, Buffer.from(record.previousDigest, 'hex'));
  }
  if (!record || !ok || record.revokedAt) return null;
  return { type: 'verifier', verifierId: record.id, orgId: record.orgId };
}

/** The longest overlap a roll may give the previous secret. */
export const MAX_VERIFIER_OVERLAP_MS = 7 * 24 * 3_600_000;

/**
 * Revokes a verifier credential, for good: every instance refuses it within a second (the
 * invalidation log) and ends its invalidation streams. False when it was already revoked.
 */
export async function revokeVerifier(deps: Pick<CoreDeps, 'store' | 'clock' | 'bus'>, verifierId: VerifierId): Promise<boolean> {
  const now = deps.clock.now();
  const event = { type: 'verifier', verifierId } as const;
  const revoked = await deps.store.transaction(async (tx) => {
    if (!(await tx.verifiers.setRevoked(verifierId, now))) return false;
    await tx.invalidations.append(event, now);
    return true;
  });
  if (revoked) await deps.bus.publish(event);
  return revoked;
}

/**
 * A new secret for a verifier credential, under the same id; the current one keeps working for
 * `overlapMs` (0: it stops at once; at most 7 days), so that servers can be given the new one first.
 */
export async function rollVerifier(
  deps: Pick<CoreDeps, 'store' | 'clock' | 'peppers' | 'bus'>,
  verifierId: VerifierId,
  overlapMs: number,
): Promise<{ id: VerifierId; token: string } | null> {
  if (!Number.isFinite(overlapMs) || overlapMs < 0 || overlapMs > MAX_VERIFIER_OVERLAP_MS) {
    throw new RangeError('The overlap must be between 0 and 7 days.');
  }
  const now = deps.clock.now();
  const lookupId = verifierId.slice('ver_'.length);
  const { token, secret } = verifierFormat.generate(lookupId);
  const event = { type: 'verifier', verifierId } as const;
  const rolled = await deps.store.transaction(async (tx) => {
    const record = await tx.verifiers.findForVerification(verifierId);
    if (!record || record.revokedAt) return false;
    await tx.verifiers.setSecret(verifierId, {
      digest: deps.peppers.digest(secret).toString('hex'),
      pepperVersion: deps.peppers.current.version,
      preview: verifierFormat.preview(token),
      previousDigest: overlapMs > 0 ? record.digest : null,
      previousPepperVersion: overlapMs > 0 ? record.pepperVersion : null,
      previousExpiresAt: overlapMs > 0 ? new Date(now.getTime() + overlapMs) : null,
    });
    await tx.invalidations.append(event, now);
    return true;
  });
  if (!rolled) return null;
  await deps.bus.publish(event);
  return { id: verifierId, token };
}
