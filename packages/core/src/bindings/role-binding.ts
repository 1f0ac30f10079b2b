import type { OrgId, RoleBindingId, UserId } from '../ids.js';
import type { Permission } from '../permissions/catalogue.js';
import type { BindingRole, ScopeType } from '../permissions/roles.js';

/** A role given to a user at a team or project scope, on top of their org role. */
export interface UserRoleBinding {
  readonly id: RoleBindingId;
  readonly orgId: OrgId;
  readonly userId: UserId;
  readonly role: BindingRole;
  readonly permissions: readonly Permission[] | null;
  readonly scopeType: ScopeType;
  readonly scopeId: string;
  readonly createdAt: Date;
}
