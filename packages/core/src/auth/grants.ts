import type { UserRoleBinding } from '../bindings/role-binding.js';
import type { ApiKeyRecord } from '../keys/api-key.js';
import type { Membership } from '../members/membership.js';
import type { PermissionCatalogue } from '../permissions/catalogue.js';
import { bindingRoleForOrgRole, withImpliedReads } from '../permissions/roles.js';
import { describeBinding, grantFromBinding, type Grant } from '../permissions/rights.js';
import type { Repositories } from '../ports.js';
import type { OrgId, UserId } from '../ids.js';

/**
 * A person's grants in an organization: their org role across every project (OWNER and ADMIN count as
 * ADMIN) plus what their team and project bindings add. Empty when they are not an active member.
 */
export function userGrants(
  catalogue: PermissionCatalogue,
  orgId: OrgId,
  membership: Membership | null,
  bindings: readonly UserRoleBinding[],
): Grant[] {
  if (!membership || membership.status !== 'active') return [];
  const grants = [
    grantFromBinding(
      catalogue,
      { role: bindingRoleForOrgRole(membership.role), scopeType: 'ORGANIZATION', scopeId: orgId },
      `org role ${membership.role}`,
    ),
  ];
  for (const binding of bindings) {
    grants.push(
      grantFromBinding(
        catalogue,
        { role: binding.role, scopeType: binding.scopeType, scopeId: binding.scopeId, permissions: binding.permissions ?? [] },
        `role binding ${binding.id} (${describeBinding(binding)})`,
      ),
    );
  }
  return grants;
}

export async function loadUserGrants(
  repos: Pick<Repositories, 'members' | 'bindings'>,
  catalogue: PermissionCatalogue,
  orgId: OrgId,
  userId: UserId,
): Promise<{ membership: Membership | null; grants: Grant[] }> {
  const membership = await repos.members.find(orgId, userId);
  if (!membership || membership.status !== 'active') return { membership, grants: [] };
  const bindings = await repos.bindings.listForUser(orgId, userId);
  return { membership, grants: userGrants(catalogue, orgId, membership, bindings) };
}

/**
 * A key's own grants. Project keys hold ADMIN on their one project. In `restricted` mode every grant is
 * narrowed to the listed permissions.
 */
export function keyGrants(
  catalogue: PermissionCatalogue,
  key: Pick<ApiKeyRecord, 'keyType' | 'projectId' | 'bindings' | 'permissionMode' | 'permissions'>,
): Grant[] {
  const bindings =
    key.keyType === 'project' && key.projectId
      ? [{ role: 'ADMIN' as const, scopeType: 'PROJECT' as const, scopeId: key.projectId }]
      : key.bindings;
  const restriction = key.permissionMode === 'restricted' ? withImpliedReads(key.permissions) : null;
  return bindings.map((binding) => {
    const grant = grantFromBinding(catalogue, binding, `key binding ${describeBinding(binding)}`);
    if (!restriction) return grant;
    const permissions = new Set([...grant.permissions].filter((p) => restriction.has(p)));
    return { ...grant, permissions, source: `${grant.source}, restricted` };
  });
}

/** The one project a key is bound to, when it is bound to exactly one; otherwise null. */
export function soleProjectOf(key: ApiKeyRecord): string | null {
  if (key.projectId) return key.projectId;
  if (key.bindings.length === 0) return null;
  const first = key.bindings[0]!;
  if (first.scopeType !== 'PROJECT') return null;
  return key.bindings.every((b) => b.scopeType === 'PROJECT' && b.scopeId === first.scopeId) ? first.scopeId : null;
}
