import { DomainError, FieldError, notFound } from '../errors.js';
import type { CoreLimits } from '../deps.js';
import type { OrgId, ProjectId, TeamId } from '../ids.js';
import { CidrError, isWildcardCidr, parseCidr } from '../network/cidr.js';
import { isKnownPermission, type Permission, type PermissionCatalogue } from '../permissions/catalogue.js';
import { rolePermissions, withImpliedReads, type Binding } from '../permissions/roles.js';
import { describeBinding, permissionsAt, type Grant, type ScopeContext } from '../permissions/rights.js';
import type { Repositories } from '../ports.js';
import { resourceFilterProblem, scopeActions, type Scope } from '../resources/resource-filter.js';
import type { PermissionMode } from './api-key.js';

export interface KeyWarning {
  readonly code: 'allowed_cidrs_wildcard' | 'service_key_without_expiry' | 'service_key_organization_wide' | 'access_changed_while_in_use' | 'expiry_set_by_policy';
  readonly message: string;
}

/** Parses CIDRs strictly and returns their canonical forms, deduplicated, plus the wildcard warning. */
export function canonicalCidrs(input: readonly string[], limits: CoreLimits): { cidrs: string[]; warnings: KeyWarning[] } {
  if (input.length > limits.maxCidrsPerKey) {
    throw new FieldError('allowedCidrs', `At most ${limits.maxCidrsPerKey} ranges per key.`);
  }
  const cidrs: string[] = [];
  input.forEach((raw, index) => {
    try {
      const { canonical } = parseCidr(raw);
      if (!cidrs.includes(canonical)) cidrs.push(canonical);
    } catch (err) {
      if (err instanceof CidrError) throw new FieldError(`allowedCidrs[${index}]`, err.message);
      throw err;
    }
  });
  const wildcards = cidrs.filter(isWildcardCidr);
  const warnings: KeyWarning[] = wildcards.length
    ? [
        {
          code: 'allowed_cidrs_wildcard',
          message: `${wildcards.join(' and ')} accepts every address of its family; the allowlist does not restrict ${wildcards.length === 2 ? 'any' : 'those'} clients.`,
        },
      ]
    : [];
  return { cidrs, warnings };
}

export function validateScopes(scopes: readonly Scope[], limits: CoreLimits): Scope[] {
  if (scopes.length > limits.maxScopesPerKey) throw new FieldError('scopes', `At most ${limits.maxScopesPerKey} scopes per key.`);
  return scopes.map((scope, index) => {
    if (!(scopeActions as readonly string[]).includes(scope.action)) {
      throw new FieldError(`scopes[${index}].action`, 'The action must be read, write, admin or *.');
    }
    const resource = scope.resource === '' ? '*' : scope.resource;
    const problem = resourceFilterProblem(resource);
    if (problem) throw new FieldError(`scopes[${index}].resource`, `The resource filter ${problem}.`);
    return { action: scope.action, resource };
  });
}

export function validatePermissions(
  catalogue: PermissionCatalogue,
  mode: PermissionMode,
  permissions: readonly string[],
): Permission[] {
  permissions.forEach((p, index) => {
    if (!isKnownPermission(catalogue, p)) {
      throw new FieldError(`permissions[${index}]`, `"${p}" is not a permission of the catalogue (e.g. traces:read).`);
    }
  });
  if (mode === 'restricted' && permissions.length === 0) {
    throw new FieldError('permissions', 'A restricted key needs at least one permission.');
  }
  if (mode === 'all' && permissions.length > 0) {
    throw new FieldError('permissions', 'Permissions are listed only in restricted mode; set permissionMode to "restricted".');
  }
  return [...new Set(permissions as Permission[])];
}

export function validateExpiry(expiresAt: Date | null | undefined, now: Date): Date | null {
  if (!expiresAt) return null;
  if (expiresAt.getTime() <= now.getTime()) throw new FieldError('expiresAt', 'The expiry must be in the future.');
  return expiresAt;
}

/** A binding with its scope checked against the organization, and the context to evaluate rights at. */
export interface ResolvedBinding {
  readonly binding: Binding;
  readonly ctx: ScopeContext;
}

/**
 * Checks each binding's scope exists in the organization (another organization's id is not found,
 * like a missing one), and that CUSTOM bindings list known permissions.
 */
export async function resolveBindings(
  tx: Pick<Repositories, 'teams' | 'projects'>,
  catalogue: PermissionCatalogue,
  orgId: OrgId,
  bindings: readonly Binding[],
  limits: CoreLimits,
): Promise<ResolvedBinding[]> {
  if (bindings.length > limits.maxBindingsPerKey) throw new FieldError('bindings', `At most ${limits.maxBindingsPerKey} bindings.`);
  const out: ResolvedBinding[] = [];
  for (const [index, raw] of bindings.entries()) {
    const permissions = raw.role === 'CUSTOM' ? [...(raw.permissions ?? [])] : undefined;
    if (raw.role === 'CUSTOM') {
      if (!permissions || permissions.length === 0) throw new FieldError(`bindings[${index}].permissions`, 'A CUSTOM binding lists its permissions.');
      permissions.forEach((p, i) => {
        if (!isKnownPermission(catalogue, p)) throw new FieldError(`bindings[${index}].permissions[${i}]`, `"${p}" is not a permission of the catalogue.`);
      });
    } else if (raw.permissions && raw.permissions.length > 0) {
      throw new FieldError(`bindings[${index}].permissions`, 'Only CUSTOM bindings list permissions.');
    }
    const binding: Binding = { role: raw.role, scopeType: raw.scopeType, scopeId: raw.scopeId, ...(permissions ? { permissions } : {}) };
    if (raw.scopeType === 'ORGANIZATION') {
      if (raw.scopeId !== orgId) throw notFound.organization();
      out.push({ binding, ctx: {} });
    } else if (raw.scopeType === 'TEAM') {
      const team = await tx.teams.findById(orgId, raw.scopeId as TeamId);
      if (!team) throw notFound.team();
      out.push({ binding, ctx: { teamId: team.id } });
    } else {
      const project = await tx.projects.findById(orgId, raw.scopeId as ProjectId);
      if (!project) throw notFound.project();
      if (project.archivedAt) throw new DomainError('project_archived', 'This project is archived; keys cannot be bound to it.', { projectId: project.id });
      out.push({ binding, ctx: { projectId: project.id, teamId: project.teamId } });
    }
  }
  return out;
}

/**
 * The ceiling at creation and edit: everything a personal key's bindings would grant (narrowed by
 * restricted mode) must be within its owner's current rights at the same scope. Asking for more is
 * refused (never silently clamped); the runtime intersection still applies on every use.
 */
export function assertWithinCeiling(
  catalogue: PermissionCatalogue,
  bindings: readonly ResolvedBinding[],
  mode: PermissionMode,
  permissions: readonly Permission[],
  ownerGrants: readonly Grant[],
  ownerRoleLabel: string,
): void {
  const restriction = mode === 'restricted' ? withImpliedReads(permissions) : null;
  for (const { binding, ctx } of bindings) {
    const asked = rolePermissions(catalogue, binding.role, binding.scopeType, binding.permissions ?? []);
    const owned = permissionsAt(ownerGrants, ctx);
    const missing = [...asked].filter((p) => (!restriction || restriction.has(p)) && !owned.has(p));
    if (missing.length > 0) {
      throw new DomainError(
        'api_key_scope_violation',
        `The key would exceed its owner's rights (${ownerRoleLabel}): ${describeBinding(binding)} includes ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}.`,
        { missing, binding },
      );
    }
  }
  if (restriction) assertRestrictedPermissionsGrantable(catalogue, bindings, permissions);
}

/** In restricted mode, a listed permission that no binding grants would be dead weight: refuse it. */
export function assertRestrictedPermissionsGrantable(
  catalogue: PermissionCatalogue,
  bindings: readonly ResolvedBinding[],
  permissions: readonly Permission[],
): void {
  const grantable = new Set<string>();
  for (const { binding } of bindings) {
    for (const p of rolePermissions(catalogue, binding.role, binding.scopeType, binding.permissions ?? [])) grantable.add(p);
  }
  const orphan = permissions.filter((p) => !grantable.has(p));
  if (orphan.length > 0) {
    throw new DomainError('api_key_scope_violation', `No binding of the key grants ${orphan.join(', ')}.`, { missing: orphan });
  }
}
