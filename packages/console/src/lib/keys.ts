import type { ApiKey, ApiKeySort, CatalogueResponse, Member, OrgRole } from '@keyward/wire';
import type { Directory } from './directory';
import type { Session } from './session';

export const statusFilters = ['active', 'expired', 'revoked', 'disabled', 'all'] as const;
export type StatusFilter = (typeof statusFilters)[number];

export const typeLabels: Record<ApiKey['keyType'], string> = { personal: 'Personal', service: 'Service', project: 'Project' };

/** The binding role a person's key gets at a scope: their org role's built-in role (OWNER is ADMIN). */
export function bindingRoleFor(role: OrgRole): 'ADMIN' | 'MEMBER' | 'VIEWER' {
  return role === 'OWNER' || role === 'ADMIN' ? 'ADMIN' : role;
}

/** May this person set a key's credits? Only owners and admins (CONTRACT.md "Per-key rate limits and credits"). */
export function canChangeCredits(session: Session): boolean {
  return session.role === 'OWNER' || session.role === 'ADMIN';
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
  USAGE_EXCEEDED: 'Out of credits',
};

/** The columns the key list sorts by (the API's `sort`), and the direction a first click picks. */
export const sortFields = ['name', 'createdAt', 'lastUsedAt', 'expiresAt'] as const;
export type SortField = (typeof sortFields)[number];
export interface KeySort {
  readonly field: SortField;
  readonly descending: boolean;
}
export const defaultSort: KeySort = { field: 'createdAt', descending: true };

/** `-createdAt` → createdAt, descending; anything unknown is the default (newest first). */
export function parseSort(text: string | null): KeySort {
  const descending = text?.startsWith('-') ?? false;
  const field = descending ? text!.slice(1) : text;
  if (!field || !(sortFields as readonly string[]).includes(field)) return defaultSort;
  return { field: field as SortField, descending };
}

export function sortParam(sort: KeySort): ApiKeySort {
  return `${sort.descending ? '-' : ''}${sort.field}` as ApiKeySort;
}

/** Clicking the sorted column turns its direction; another column starts A→Z for names, newest first for dates. */
export function nextSort(current: KeySort, field: SortField): KeySort {
  if (current.field === field) return { field, descending: !current.descending };
  return { field, descending: field !== 'name' };
}

/** "Name, then by name or email": how the member pickers label a person. */
export function memberName(member: Pick<Member, 'name' | 'email'>): string {
  return member.name ? `${member.name} (${member.email})` : member.email;
}

/**
 * The organization-level permissions of a built-in role, from the catalogue (ADMIN: all; MEMBER: its
 * `memberAccess` per category; VIEWER: read everywhere). Team and project bindings may add more; the
 * server stays the judge, this only marks what a key for this person is unlikely to get.
 */
export function rolePermissions(role: OrgRole, catalogue: CatalogueResponse): ReadonlySet<string> {
  if (role === 'OWNER' || role === 'ADMIN') return new Set([...catalogue.permissions, 'organization:manage']);
  const out = new Set<string>();
  for (const category of catalogue.categories) {
    for (const action of category.actions) {
      if (action === 'read' || (role === 'MEMBER' && category.memberAccess === 'write')) out.add(`${category.name}:${action}`);
    }
  }
  return out;
}

/** A revoked key's `revokedReason` in words: "revoked" is what the API records when none was given. */
export function revocationReasonLabel(reason: string | null): string {
  if (!reason || reason === 'revoked') return 'No reason given';
  if (reason === 'leaked') return 'Leaked: reported by secret scanning';
  return reason;
}
