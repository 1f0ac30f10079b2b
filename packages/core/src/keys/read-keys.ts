import { actingUserId, type Actor } from '../auth/actor.js';
import { canManageOrganization, keyAccess } from '../auth/policy.js';
import type { CoreDeps } from '../deps.js';
import { notFound } from '../errors.js';
import type { KeyId, ProjectId, UserId } from '../ids.js';
import type { KeyListFilter, KeyListSort, Page, PageRequest } from '../ports.js';
import type { ApiKeyRecord, KeyStatus, KeyType } from './api-key.js';

export interface ListKeysQuery {
  readonly status?: KeyStatus | 'all' | undefined;
  /** A name (contains, case-insensitive), an exact key id, the token's last four characters, or a whole token. */
  readonly q?: string | undefined;
  readonly keyType?: KeyType | undefined;
  /** Only the project keys of this project. */
  readonly projectId?: ProjectId | undefined;
  /** Only the keys this user owns. */
  readonly ownerUserId?: UserId | undefined;
  /** Default: newest first. */
  readonly sort?: KeyListSort | undefined;
}

/**
 * Keys the actor may see, newest first unless sorted otherwise. Admins see every key; anyone else
 * sees the keys they own and the organization's service keys (having created a key gives no sight of
 * it), whatever the search.
 */
export async function listKeys(
  deps: Pick<CoreDeps, 'store' | 'clock' | 'catalogue' | 'keyFormat' | 'peppers'>,
  actor: Actor,
  query: ListKeysQuery,
  page: PageRequest,
): Promise<Page<ApiKeyRecord>> {
  const seesAll = canManageOrganization(deps.catalogue, actor);
  const visibleToUserId = seesAll ? undefined : (actingUserId(actor) ?? undefined);
  return deps.store.keys.list(
    actor.orgId,
    {
      status: query.status ?? 'active',
      ...searchOf(deps, query.q),
      keyType: query.keyType,
      projectId: query.projectId,
      ownerUserId: query.ownerUserId,
      sort: query.sort,
      visibleToUserId,
      now: deps.clock.now(),
    },
    page,
  );
}

/**
 * A search term, or a pasted token. A well-formed token (right format and checksum) is looked for by
 * its secret's digest under every configured pepper, as stored, so the secret itself never reaches
 * the store; it finds its key only within the caller's organization and sight, and it authenticates
 * nothing. Anything else searches names, ids and last fours.
 */
function searchOf(deps: Pick<CoreDeps, 'keyFormat' | 'peppers'>, q: string | undefined): Pick<KeyListFilter, 'q' | 'secretDigests'> {
  if (!q) return {};
  const token = deps.keyFormat.parse(q);
  if (!token) return { q };
  return { secretDigests: deps.peppers.versions.map((version) => deps.peppers.digest(token.secret, version).toString('hex')) };
}

/** One key, or `api_key_not_found` when it does not exist or the actor may not see it. */
export async function getKey(deps: Pick<CoreDeps, 'store' | 'catalogue'>, actor: Actor, keyId: KeyId): Promise<ApiKeyRecord> {
  const key = await deps.store.keys.findById(actor.orgId, keyId);
  if (!key || keyAccess(deps.catalogue, actor, key) === 'none') throw notFound.apiKey();
  return key;
}
