import { actingUserId, type Actor } from '../auth/actor.js';
import { canManageOrganization, keyAccess } from '../auth/policy.js';
import type { CoreDeps } from '../deps.js';
import { notFound } from '../errors.js';
import type { KeyId, ProjectId } from '../ids.js';
import type { Page, PageRequest } from '../ports.js';
import type { ApiKeyRecord, KeyStatus, KeyType } from './api-key.js';

export interface ListKeysQuery {
  readonly status?: KeyStatus | 'all' | undefined;
  readonly q?: string | undefined;
  readonly keyType?: KeyType | undefined;
  /** Only the project keys of this project. */
  readonly projectId?: ProjectId | undefined;
}

/**
 * Keys the actor may see, newest first. Admins see every key; anyone else sees the keys they own and
 * the organization's service keys (having created a key gives no sight of it).
 */
export async function listKeys(
  deps: Pick<CoreDeps, 'store' | 'clock' | 'catalogue'>,
  actor: Actor,
  query: ListKeysQuery,
  page: PageRequest,
): Promise<Page<ApiKeyRecord>> {
  const seesAll = canManageOrganization(deps.catalogue, actor);
  const visibleToUserId = seesAll ? undefined : (actingUserId(actor) ?? undefined);
  return deps.store.keys.list(
    actor.orgId,
    { status: query.status ?? 'active', q: query.q, keyType: query.keyType, projectId: query.projectId, visibleToUserId, now: deps.clock.now() },
    page,
  );
}

/** One key, or `api_key_not_found` when it does not exist or the actor may not see it. */
export async function getKey(deps: Pick<CoreDeps, 'store' | 'catalogue'>, actor: Actor, keyId: KeyId): Promise<ApiKeyRecord> {
  const key = await deps.store.keys.findById(actor.orgId, keyId);
  if (!key || keyAccess(deps.catalogue, actor, key) === 'none') throw notFound.apiKey();
  return key;
}
