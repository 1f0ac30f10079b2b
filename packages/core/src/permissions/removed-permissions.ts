import type { KeyId, OrgId } from '../ids.js';
import type { Store } from '../ports.js';
import { isKnownPermission, type PermissionCatalogue } from './catalogue.js';

export interface KeyNamingRemoved {
  readonly id: KeyId;
  readonly orgId: OrgId;
  readonly name: string;
  readonly missing: readonly string[];
}

/**
 * Active keys that name a permission the catalogue no longer has (a restricted key's list, a CUSTOM
 * binding's), at most `limit`, with how many there are in all. Starting with such a catalogue would
 * silently change what those keys may do: `serve` refuses unless told to accept it.
 */
export async function keysNamingRemovedPermissions(
  store: Pick<Store, 'keys'>,
  catalogue: PermissionCatalogue,
  now: Date,
  limit = 20,
): Promise<{ keys: KeyNamingRemoved[]; total: number }> {
  const keys: KeyNamingRemoved[] = [];
  let total = 0;
  let after: string | null = null;
  for (;;) {
    const batch = await store.keys.scanNamingPermissions(now, after, 1000);
    for (const key of batch) {
      const missing = key.permissions.filter((p) => !isKnownPermission(catalogue, p));
      if (missing.length === 0) continue;
      total++;
      if (keys.length < limit) keys.push({ id: key.id, orgId: key.orgId, name: key.name, missing });
    }
    if (batch.length < 1000) break;
    after = batch[batch.length - 1]!.id;
  }
  return { keys, total };
}
