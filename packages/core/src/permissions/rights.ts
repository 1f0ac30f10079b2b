import type { Permission, PermissionCatalogue } from './catalogue.js';
import { rolePermissions, roleRank, type Binding, type BindingRole, type ScopeType } from './roles.js';

/**
 * Where a permission is asked for. With no project, only organization-wide grants apply; with a
 * project, grants on its team and on the project itself apply too. `teamId` alone asks at team scope.
 */
export interface ScopeContext {
  readonly projectId?: string | undefined;
  readonly teamId?: string | null | undefined;
}

/** A binding resolved against the catalogue, with a label that explanations quote. */
export interface Grant {
  readonly role: BindingRole;
  readonly scopeType: ScopeType;
  readonly scopeId: string;
  readonly permissions: ReadonlySet<Permission>;
  readonly source: string;
}

export function grantFromBinding(catalogue: PermissionCatalogue, binding: Binding, source: string): Grant {
  return {
    role: binding.role,
    scopeType: binding.scopeType,
    scopeId: binding.scopeId,
    permissions: rolePermissions(catalogue, binding.role, binding.scopeType, binding.permissions ?? []),
    source,
  };
}

export function describeBinding(binding: Pick<Binding, 'role' | 'scopeType' | 'scopeId'>): string {
  return binding.scopeType === 'ORGANIZATION'
    ? `${binding.role} on the organization`
    : `${binding.role} on ${binding.scopeType.toLowerCase()} ${binding.scopeId}`;
}

export function grantCovers(grant: Pick<Grant, 'scopeType' | 'scopeId'>, ctx: ScopeContext): boolean {
  switch (grant.scopeType) {
    case 'ORGANIZATION':
      return true;
    case 'TEAM':
      return ctx.teamId != null && ctx.teamId === grant.scopeId;
    case 'PROJECT':
      return ctx.projectId !== undefined && ctx.projectId === grant.scopeId;
  }
}

/** The first grant that covers the context and carries the permission, or undefined. */
export function grantAllowing(grants: readonly Grant[], ctx: ScopeContext, permission: Permission): Grant | undefined {
  return grants.find((g) => grantCovers(g, ctx) && g.permissions.has(permission));
}

/** The union of permissions of every grant that covers the context. */
export function permissionsAt(grants: readonly Grant[], ctx: ScopeContext): Set<Permission> {
  const out = new Set<Permission>();
  for (const grant of grants) {
    if (!grantCovers(grant, ctx)) continue;
    for (const p of grant.permissions) out.add(p);
  }
  return out;
}

/** The highest-ranked grant covering the context (for generic actions), or undefined. */
export function strongestGrant(grants: readonly Grant[], ctx: ScopeContext): Grant | undefined {
  let best: Grant | undefined;
  for (const grant of grants) {
    if (!grantCovers(grant, ctx)) continue;
    if (!best || roleRank[grant.role] > roleRank[best.role]) best = grant;
  }
  return best;
}

/** Sorted list form, for responses. */
export function sortedPermissions(permissions: Iterable<Permission>, catalogueOrder: readonly Permission[]): Permission[] {
  const set = new Set(permissions);
  return catalogueOrder.filter((p) => set.has(p));
}
