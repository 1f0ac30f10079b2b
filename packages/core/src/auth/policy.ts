import { DomainError, forbidden } from '../errors.js';
import type { ApiKeyRecord } from '../keys/api-key.js';
import { describeBinding, grantFromBinding, type Grant } from '../permissions/rights.js';
import type { Binding } from '../permissions/roles.js';
import type { Repositories } from '../ports.js';
import { ORGANIZATION_MANAGE, type PermissionCatalogue } from '../permissions/catalogue.js';
import { decide, type Subject } from '../permissions/decide.js';
import type { ScopeContext } from '../permissions/rights.js';
import { actingUserId, type Actor } from './actor.js';
import { assertGrantWithin } from './granting.js';
import { keyGrants } from './grants.js';

/** What bounds an actor's rights, for `decide`. */
export function subjectOf(actor: Actor): Subject {
  if (actor.type === 'user') {
    return { grants: actor.grants, ownerGrants: null, scopes: [], tokenPermissions: null, restricted: false };
  }
  return {
    grants: actor.grants,
    ownerGrants: actor.ownerGrants,
    ownerLabel: actor.key.ownerUserId ? `owner ${actor.key.ownerUserId}` : undefined,
    scopes: actor.key.scopes,
    tokenPermissions: actor.tokenPermissions,
    restricted: actor.key.permissionMode === 'restricted',
  };
}

/** OWNER and ADMIN people, and keys that effectively hold `organization:manage`. */
export function canManageOrganization(catalogue: PermissionCatalogue, actor: Actor): boolean {
  if (actor.type === 'user') return actor.role === 'OWNER' || actor.role === 'ADMIN';
  return decide(catalogue, subjectOf(actor), { kind: 'permission', permission: ORGANIZATION_MANAGE }, {}).allowed;
}

export function assertCanManageOrganization(catalogue: PermissionCatalogue, actor: Actor): void {
  if (!canManageOrganization(catalogue, actor)) {
    throw forbidden('Only organization owners and admins (or keys with organization:manage) may do this.');
  }
}

/**
 * Management routes need a person's session or a key holding `organization:manage`; other keys may
 * only read what their rights allow. A person of any role passes here; each use case decides further.
 */
export function assertCanUseManagementApi(catalogue: PermissionCatalogue, actor: Actor): void {
  if (actor.type === 'user') return;
  assertCanManageOrganization(catalogue, actor);
}

/**
 * How far an actor reaches a key: `manage` (edit, roll, revoke), `view`, or `none` (answers 404).
 * Only current rights count: OWNER/ADMIN (or a key effectively holding `organization:manage`) reach
 * every key, a person their own personal keys; everyone sees the organization's service keys. Having
 * created a key is history (`createdByUserId`), never authority.
 */
export function keyAccess(catalogue: PermissionCatalogue, actor: Actor, key: ApiKeyRecord): 'manage' | 'view' | 'none' {
  if (key.orgId !== actor.orgId) return 'none';
  if (canManageOrganization(catalogue, actor)) return 'manage';
  const userId = actingUserId(actor);
  if (userId && key.keyType === 'personal' && key.ownerUserId === userId) return 'manage';
  if (key.keyType === 'service') return 'view';
  return 'none';
}

/** The fields of a key that decide its rights. */
export type KeyAccessFields = Pick<ApiKeyRecord, 'keyType' | 'projectId' | 'bindings' | 'permissionMode' | 'permissions' | 'scopes' | 'ownerUserId'>;

/** What bounds a key's rights, for `decide`: its grants, its owner's current grants, its scopes. */
export function subjectOfKey(catalogue: PermissionCatalogue, key: KeyAccessFields, ownerGrants: readonly Grant[] | null): Subject {
  return {
    grants: keyGrants(catalogue, key),
    ownerGrants: key.keyType === 'personal' ? (ownerGrants ?? []) : null,
    ownerLabel: key.ownerUserId ? `owner ${key.ownerUserId}` : undefined,
    scopes: key.scopes,
    tokenPermissions: null,
    restricted: key.permissionMode === 'restricted',
  };
}

/**
 * The granting rule for keys: a key that an actor creates, edits or rolls must not be able to do
 * anything the actor cannot do itself at this moment (403 `api_key_scope_violation`, never clamped).
 * `ownerGrants` are a personal key's owner's current grants.
 */
export async function assertMayGrantKey(
  tx: Pick<Repositories, 'projects'>,
  catalogue: PermissionCatalogue,
  actor: Actor,
  key: KeyAccessFields,
  ownerGrants: readonly Grant[] | null,
): Promise<void> {
  await assertGrantWithin(tx, catalogue, actor.orgId, subjectOf(actor), subjectOfKey(catalogue, key, ownerGrants), 'this key');
}

export function assertKeyManageable(catalogue: PermissionCatalogue, actor: Actor, key: ApiKeyRecord | null): ApiKeyRecord {
  const access = key ? keyAccess(catalogue, actor, key) : 'none';
  if (!key || access === 'none') throw new DomainError('api_key_not_found', 'No API key with this id.');
  if (access === 'view') throw new DomainError('api_key_not_owned', 'This key belongs to someone else; only its owner or an admin may change it.');
  return key;
}

export function decideFor(catalogue: PermissionCatalogue, actor: Actor, permission: `${string}:${string}`, ctx: ScopeContext) {
  return decide(catalogue, subjectOf(actor), { kind: 'permission', permission }, ctx);
}

/**
 * The granting rule for people: a role (an org role as its binding, or a team or project binding)
 * given by an actor must not carry anything the actor cannot do itself at this moment (403
 * `insufficient_permissions`). An ADMIN person grants any role; a key restricted to
 * `organization:manage` grants none that carries more.
 */
export async function assertMayGrantRole(
  tx: Pick<Repositories, 'projects'>,
  catalogue: PermissionCatalogue,
  actor: Actor,
  binding: Binding,
): Promise<void> {
  const granted: Subject = {
    grants: [grantFromBinding(catalogue, binding, describeBinding(binding))],
    ownerGrants: null,
    scopes: [],
    tokenPermissions: null,
    restricted: false,
  };
  await assertGrantWithin(tx, catalogue, actor.orgId, subjectOf(actor), granted, describeBinding(binding), 'insufficient_permissions');
}
