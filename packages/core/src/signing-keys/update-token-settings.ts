import { recordAudit } from '../audit/record-audit.js';
import type { Actor } from '../auth/actor.js';
import { assertCanManageOrganization } from '../auth/policy.js';
import type { CoreDeps } from '../deps.js';
import { FieldError, notFound } from '../errors.js';
import type { Organization, SigningAlgorithm } from '../orgs/organization.js';
import { generateSigningKey } from './generate-signing-key.js';
import { lockOrganization } from './rotate-signing-key.js';
import { MAX_ACCESS_TOKEN_TTL_SECONDS, MIN_ACCESS_TOKEN_TTL_SECONDS } from './signing-key-lifecycle.js';

export interface TokenSettingsPatch {
  readonly signingAlgorithm?: SigningAlgorithm | undefined;
  readonly accessTokenTtlSeconds?: number | undefined;
}

/**
 * Changes how the organization's access tokens are made. A new lifetime applies to tokens issued from
 * now on. A new algorithm applies from the next generated key: the unused next key is replaced at once
 * by one of the new algorithm (it has signed nothing), which a planned rotation can promote once it
 * has been published for ten minutes. Owners and admins only; audited.
 */
export async function updateTokenSettings(
  deps: Pick<CoreDeps, 'store' | 'clock' | 'ids' | 'encryptionKey' | 'bus' | 'catalogue'>,
  actor: Actor,
  patch: TokenSettingsPatch,
): Promise<Organization> {
  assertCanManageOrganization(deps.catalogue, actor);
  const ttl = patch.accessTokenTtlSeconds;
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < MIN_ACCESS_TOKEN_TTL_SECONDS || ttl > MAX_ACCESS_TOKEN_TTL_SECONDS)) {
    throw new FieldError('accessTokenTtlSeconds', `The lifetime must be a whole number of seconds from ${MIN_ACCESS_TOKEN_TTL_SECONDS} to ${MAX_ACCESS_TOKEN_TTL_SECONDS}.`);
  }
  const before = await deps.store.orgs.findById(actor.orgId);
  if (!before) throw notFound.organization();
  const algorithm = patch.signingAlgorithm;
  const algorithmChanges = algorithm !== undefined && algorithm !== before.signingAlgorithm;
  const replacement =
    algorithmChanges && before.bootstrappedAt
      ? await generateSigningKey({ id: deps.ids.next('sk'), orgId: actor.orgId, algorithm, state: 'next', now: deps.clock.now(), encryptionKey: deps.encryptionKey })
      : null;
  const updated = await deps.store.transaction(async (tx) => {
    const org = await lockOrganization(tx, actor.orgId);
    const now = deps.clock.now();
    await tx.orgs.update(org.id, {
      ...(algorithm !== undefined ? { signingAlgorithm: algorithm } : {}),
      ...(ttl !== undefined ? { accessTokenTtlSeconds: ttl } : {}),
    });
    let replaced: string | null = null;
    if (replacement && algorithm !== org.signingAlgorithm) {
      const next = (await tx.signingKeys.listForOrg(org.id)).find((k) => k.state === 'next');
      if (next) {
        await tx.signingKeys.update(org.id, next.id, { state: 'retired', retiredAt: now });
        replaced = next.id;
      }
      await tx.signingKeys.insert({ ...replacement, createdAt: now, publishedAt: now });
    }
    await recordAudit(tx, deps.ids, actor, now, {
      action: 'organization.token_settings_updated',
      targetType: 'organization',
      targetId: org.id,
      details: {
        ...(algorithm !== undefined ? { signingAlgorithm: { from: org.signingAlgorithm, to: algorithm } } : {}),
        ...(ttl !== undefined ? { accessTokenTtlSeconds: { from: org.accessTokenTtlSeconds, to: ttl } } : {}),
        ...(replaced ? { replacedNextSigningKey: replaced, published: replacement!.id } : {}),
      },
    });
    await tx.invalidations.append({ type: 'org', orgId: org.id }, now);
    return (await tx.orgs.findById(org.id))!;
  });
  await deps.bus.publish({ type: 'org', orgId: actor.orgId });
  return updated;
}
