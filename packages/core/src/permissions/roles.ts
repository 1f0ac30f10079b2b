import { ORGANIZATION_MANAGE, findCategory, isKnownPermission, type Permission, type PermissionCatalogue } from './catalogue.js';

export const orgRoles = ['OWNER', 'ADMIN', 'MEMBER', 'VIEWER'] as const;
export type OrgRole = (typeof orgRoles)[number];

export const bindingRoles = ['ADMIN', 'MEMBER', 'VIEWER', 'CUSTOM'] as const;
export type BindingRole = (typeof bindingRoles)[number];

export const scopeTypes = ['ORGANIZATION', 'TEAM', 'PROJECT'] as const;
export type ScopeType = (typeof scopeTypes)[number];

/** A role at a scope. CUSTOM carries its own permission list. A TEAM scope covers the team's projects. */
export interface Binding {
  readonly role: BindingRole;
  readonly scopeType: ScopeType;
  readonly scopeId: string;
  readonly permissions?: readonly string[];
}

/** The built-in role that an org role gives across every project: OWNER and ADMIN are ADMIN. */
export function bindingRoleForOrgRole(role: OrgRole): Exclude<BindingRole, 'CUSTOM'> {
  return role === 'OWNER' || role === 'ADMIN' ? 'ADMIN' : role;
}

/** Ranks for generic (non-category) actions: read needs VIEWER, write MEMBER, admin ADMIN. */
export const roleRank: Record<BindingRole, number> = { VIEWER: 1, MEMBER: 2, ADMIN: 3, CUSTOM: 0 };
export const orgRoleRank: Record<OrgRole, number> = { VIEWER: 1, MEMBER: 2, ADMIN: 3, OWNER: 4 };

/** Adds `x:read` wherever `x:write` is present: write access includes reading. */
export function withImpliedReads(permissions: Iterable<string>): Set<Permission> {
  const out = new Set<Permission>();
  for (const p of permissions) {
    out.add(p as Permission);
    if (p.endsWith(':write')) out.add(`${p.slice(0, -':write'.length)}:read`);
  }
  return out;
}

/**
 * The permissions a role grants at a scope, over the catalogue. `organization:manage` comes only from
 * ADMIN (or a CUSTOM list naming it) at ORGANIZATION scope: a team or project admin does not administer
 * the organization.
 */
export function rolePermissions(
  catalogue: PermissionCatalogue,
  role: BindingRole,
  scopeType: ScopeType,
  customPermissions: readonly string[] = [],
): Set<Permission> {
  const out = new Set<Permission>();
  if (role === 'CUSTOM') {
    for (const p of withImpliedReads(customPermissions)) {
      if (!isKnownPermission(catalogue, p)) continue;
      if (p === ORGANIZATION_MANAGE && scopeType !== 'ORGANIZATION') continue;
      out.add(p);
    }
    return out;
  }
  for (const category of catalogue.categories) {
    out.add(`${category.name}:read`);
    const canWrite = category.actions.includes('write');
    if (canWrite && (role === 'ADMIN' || (role === 'MEMBER' && category.memberAccess === 'write'))) {
      out.add(`${category.name}:write`);
    }
  }
  if (role === 'ADMIN' && scopeType === 'ORGANIZATION') out.add(ORGANIZATION_MANAGE);
  return out;
}

/** True if `permission`'s category is read-only in the catalogue (so `:write` can never be granted). */
export function isReadOnlyCategory(catalogue: PermissionCatalogue, category: string): boolean {
  const entry = findCategory(catalogue, category);
  return entry !== undefined && !entry.actions.includes('write');
}
