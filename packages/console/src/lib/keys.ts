import type { ApiKey, OrgRole } from '@keyward/wire';
import type { Directory } from './directory';
import type { Session } from './session';

export const statusFilters = ['active', 'expired', 'revoked', 'disabled', 'all'] as const;
export type StatusFilter = (typeof statusFilters)[number];

export const typeLabels: Record<ApiKey['keyType'], string> = { personal: 'Personal', service: 'Service', project: 'Project' };

/** The binding role a person's key gets at a scope: their org role's built-in role (OWNER is ADMIN). */
export function bindingRoleFor(role: OrgRole): 'ADMIN' | 'MEMBER' | 'VIEWER' {
  return role === 'OWNER' || role === 'ADMIN' ? 'ADMIN' : role;
}

/** May this person edit, roll and revoke the key (its owner, or an admin)? Having created it gives nothing. */
export function canManageKey(session: Session, key: ApiKey): boolean {
  if (session.isAdmin) return true;
  return key.keyType === 'personal' && key.ownerUserId === session.user.id;
}

export interface ScopeSummary {
  readonly text: string;
  readonly detail: string;
}

/** "Organization", "Team: Platform", "3 projects"… with the full list as detail. */
export function describeScope(key: ApiKey, directory: Directory): ScopeSummary {
  if (key.keyType === 'project' && key.projectId) {
    const name = directory.projectName(key.projectId);
    return { text: name, detail: `Project ${name}` };
  }
  const names = key.bindings.map((b) =>
    b.scopeType === 'ORGANIZATION' ? 'Organization' : b.scopeType === 'TEAM' ? `Team ${directory.teamName(b.scopeId)}` : `Project ${directory.projectName(b.scopeId)}`,
  );
  const detail = names.join(', ');
  if (key.bindings.length === 0) return { text: '—', detail: 'No bindings' };
  if (key.bindings.length === 1) {
    const binding = key.bindings[0]!;
    if (binding.scopeType === 'ORGANIZATION') return { text: 'Organization', detail };
    return { text: binding.scopeType === 'TEAM' ? `Team: ${directory.teamName(binding.scopeId)}` : `Project: ${directory.projectName(binding.scopeId)}`, detail };
  }
  const kinds = new Set(key.bindings.map((b) => b.scopeType));
  const noun = kinds.size === 1 && kinds.has('TEAM') ? 'teams' : kinds.size === 1 && kinds.has('PROJECT') ? 'projects' : 'scopes';
  return { text: `${key.bindings.length} ${noun}`, detail };
}

export function describePermissions(key: ApiKey): ScopeSummary {
  const roles = [...new Set(key.bindings.map((b) => b.role))].map((r) => r.charAt(0) + r.slice(1).toLowerCase());
  if (key.permissionMode === 'all') {
    const role = roles.length === 1 ? roles[0] : null;
    return { text: role ? `All (${role})` : 'All', detail: `Every permission of the key's role${roles.length ? ` (${roles.join(', ')})` : ''} at its scope` };
  }
  return { text: `Restricted · ${key.permissions.length}`, detail: key.permissions.join(', ') };
}

/** The overlap options of a roll, in seconds after now. */
export const rollOverlaps = [
  { id: 'now', label: 'Immediately', seconds: 0, hint: 'The current secret stops working as soon as the new one is made.' },
  { id: '1h', label: 'In 1 hour', seconds: 3600, hint: 'Both secrets work for an hour while you deploy the new one.' },
  { id: '24h', label: 'In 24 hours', seconds: 86_400, hint: 'Both secrets work for a day.' },
  { id: '7d', label: 'In 7 days', seconds: 7 * 86_400, hint: 'Both secrets work for a week.' },
] as const;

export const expirationPresets = [
  { id: 'never', label: 'No expiration', days: null },
  { id: '7', label: '7 days', days: 7 },
  { id: '30', label: '30 days', days: 30 },
  { id: '60', label: '60 days', days: 60 },
  { id: '90', label: '90 days', days: 90 },
  { id: '365', label: '1 year', days: 365 },
] as const;

/** The reason codes of rejected verifications, in words. */
export const rejectionLabels: Record<string, string> = {
  NOT_FOUND: 'Unknown key',
  EXPIRED: 'Expired',
  REVOKED: 'Revoked',
  DISABLED: 'Disabled',
  IP_NOT_ALLOWED: 'IP not allowed',
  INSUFFICIENT_PERMISSIONS: 'Insufficient permissions',
  PROJECT_REQUIRED: 'Project required',
  RATE_LIMITED: 'Rate limited',
};
