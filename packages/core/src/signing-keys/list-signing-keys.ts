import type { Actor } from '../auth/actor.js';
import { assertCanManageOrganization } from '../auth/policy.js';
import type { CoreDeps } from '../deps.js';
import { notFound } from '../errors.js';
import { signingKeyViewAt, type SigningKeyView } from './signing-key-lifecycle.js';

/** The organization's signing keys, newest first, as they stand now. Owners and admins only. */
export async function listSigningKeys(deps: Pick<CoreDeps, 'store' | 'clock' | 'catalogue'>, actor: Actor): Promise<SigningKeyView[]> {
  assertCanManageOrganization(deps.catalogue, actor);
  const org = await deps.store.orgs.findById(actor.orgId);
  if (!org) throw notFound.organization();
  const now = deps.clock.now();
  const keys = await deps.store.signingKeys.listForOrg(actor.orgId);
  return keys.map((key) => signingKeyViewAt(key, now, org.accessTokenTtlSeconds));
}
