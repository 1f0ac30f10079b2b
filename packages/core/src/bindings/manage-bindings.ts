import { recordAudit } from '../audit/record-audit.js';
import type { Actor } from '../auth/actor.js';
import { assertCanManageOrganization, assertMayGrantRole, canManageOrganization } from '../auth/policy.js';
import type { CoreDeps } from '../deps.js';
import { FieldError, notFound } from '../errors.js';
import type { ProjectId, RoleBindingId, TeamId, UserId } from '../ids.js';
import { isKnownPermission, type Permission } from '../permissions/catalogue.js';
import type { BindingRole } from '../permissions/roles.js';
import type { Page, PageRequest } from '../ports.js';
import type { UserRoleBinding } from './role-binding.js';

export type BindingDeps = Pick<CoreDeps, 'store' | 'clock' | 'ids' | 'catalogue' | 'bus'>;

/** Admins see every binding; anyone else sees their own. */
export function listRoleBindings(
  deps: Pick<CoreDeps, 'store' | 'catalogue'>,
  actor: Actor,
  filter: { userId?: UserId | undefined },
  page: PageRequest,
): Promise<Page<UserRoleBinding>> {
  if (canManageOrganization(deps.catalogue, actor)) return deps.store.bindings.list(actor.orgId, filter, page);
  const self = actor.type === 'user' ? actor.userId : actor.key.ownerUserId;
  if (!self || (filter.userId && filter.userId !== self)) return Promise.resolve({ items: [], nextCursor: null });
  return deps.store.bindings.list(actor.orgId, { userId: self }, page);
}

/**
 * Gives a member a role on a team (covering its projects) or on one project, on top of their org role;
 * never a role carrying more than the caller holds (`assertMayGrantRole`).
 */
export async function createRoleBinding(
  deps: BindingDeps,
  actor: Actor,
  input: { userId: string; role: BindingRole; scopeType: 'TEAM' | 'PROJECT'; scopeId: string; permissions?: readonly string[] | undefined },
): Promise<UserRoleBinding> {
  assertCanManageOrganization(deps.catalogue, actor);
  let permissions: Permission[] | null = null;
  if (input.role === 'CUSTOM') {
    if (!input.permissions?.length) throw new FieldError('permissions', 'A CUSTOM binding lists its permissions.');
    input.permissions.forEach((p, i) => {
      if (!isKnownPermission(deps.catalogue, p)) throw new FieldError(`permissions[${i}]`, `"${p}" is not a permission of the catalogue.`);
    });
    permissions = [...new Set(input.permissions as Permission[])];
  } else if (input.permissions?.length) {
    throw new FieldError('permissions', 'Only CUSTOM bindings list permissions.');
  }
  const binding = await deps.store.transaction(async (tx) => {
    const member = await tx.members.findForUpdate(actor.orgId, input.userId as UserId);
    if (!member) throw notFound.member();
    if (input.scopeType === 'TEAM' && !(await tx.teams.findById(actor.orgId, input.scopeId as TeamId))) throw notFound.team();
    if (input.scopeType === 'PROJECT' && !(await tx.projects.findById(actor.orgId, input.scopeId as ProjectId))) throw notFound.project();
    await assertMayGrantRole(tx, deps.catalogue, actor, { role: input.role, scopeType: input.scopeType, scopeId: input.scopeId, ...(permissions ? { permissions } : {}) });
    const now = deps.clock.now();
    const created: UserRoleBinding = {
      id: deps.ids.next('rb'),
      orgId: actor.orgId,
      userId: member.userId,
      role: input.role,
      permissions,
      scopeType: input.scopeType,
      scopeId: input.scopeId,
      createdAt: now,
    };
    await tx.bindings.insert(created);
    await recordAudit(tx, deps.ids, actor, now, {
      action: 'role_binding.created',
      targetType: 'role_binding',
      targetId: created.id,
      details: { userId: created.userId, role: created.role, scopeType: created.scopeType, scopeId: created.scopeId },
    });
    await tx.invalidations.append({ type: 'member', orgId: actor.orgId, userId: created.userId }, now);
    return created;
  });
  await deps.bus.publish({ type: 'member', orgId: actor.orgId, userId: binding.userId });
  return binding;
}

export async function deleteRoleBinding(deps: BindingDeps, actor: Actor, bindingId: RoleBindingId): Promise<void> {
  assertCanManageOrganization(deps.catalogue, actor);
  const binding = await deps.store.transaction(async (tx) => {
    const existing = await tx.bindings.findById(actor.orgId, bindingId);
    if (!existing) throw notFound.roleBinding();
    await tx.bindings.delete(actor.orgId, bindingId);
    const now = deps.clock.now();
    await recordAudit(tx, deps.ids, actor, now, {
      action: 'role_binding.deleted',
      targetType: 'role_binding',
      targetId: bindingId,
      details: { userId: existing.userId, role: existing.role, scopeType: existing.scopeType, scopeId: existing.scopeId },
    });
    await tx.invalidations.append({ type: 'member', orgId: actor.orgId, userId: existing.userId }, now);
    return existing;
  });
  await deps.bus.publish({ type: 'member', orgId: actor.orgId, userId: binding.userId });
}
