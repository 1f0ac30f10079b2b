import {
  apiKeyPayload,
  type ApiKeyRecord,
  type AuditEntry,
  type MemberView,
  type Organization,
  type OrganizationPolicy,
  type Project,
  type Team,
  type UserRoleBinding,
  type WindowUse,
} from '@keyward/core';
import type * as wire from '@keyward/wire';

const iso = (date: Date) => date.toISOString();
const isoOrNull = (date: Date | null) => (date ? date.toISOString() : null);

/**
 * The public form of a key: no secret, no digest, no pepper version. `policy` is its organization's,
 * for `policyViolations`.
 */
export function apiKeyView(key: ApiKeyRecord, now: Date, policy: OrganizationPolicy, use: readonly WindowUse[] = []): wire.ApiKey {
  return {
    ...apiKeyPayload(key, now, policy),
    rateLimitUse: use.map((w) => ({ name: w.name, limit: w.limit, used: w.used, resetAt: new Date(w.resetAtMs).toISOString() })),
  };
}

export function memberView(member: MemberView): wire.Member {
  return { userId: member.userId, email: member.email, name: member.name, role: member.role, status: member.status, createdAt: iso(member.createdAt) };
}

export function teamView(team: Team): wire.Team {
  return { id: team.id, name: team.name, createdAt: iso(team.createdAt) };
}

export function projectView(project: Project): wire.Project {
  return { id: project.id, name: project.name, teamId: project.teamId, archivedAt: isoOrNull(project.archivedAt), createdAt: iso(project.createdAt) };
}

export function roleBindingView(binding: UserRoleBinding): wire.RoleBinding {
  return {
    id: binding.id,
    userId: binding.userId,
    role: binding.role,
    permissions: binding.permissions ? [...binding.permissions] : null,
    scopeType: binding.scopeType,
    scopeId: binding.scopeId,
    createdAt: iso(binding.createdAt),
  };
}

export function auditEntryView(entry: AuditEntry): wire.AuditEntry {
  return {
    id: entry.id,
    at: iso(entry.at),
    actor: { type: entry.actor.type, id: entry.actor.id, ...(entry.actor.preview ? { preview: entry.actor.preview } : {}) },
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId,
    ip: entry.ip,
    outcome: entry.outcome,
    requestId: entry.requestId,
    details: entry.details,
  };
}

export function organizationView(org: Organization) {
  return {
    id: org.id,
    name: org.name,
    createdAt: iso(org.createdAt),
    bootstrapped: org.bootstrappedAt !== null,
    bootstrappedAt: isoOrNull(org.bootstrappedAt),
    signingAlgorithm: org.signingAlgorithm,
    accessTokenTtlSeconds: org.accessTokenTtlSeconds,
  };
}

export function organizationSummaries(list: { org: Organization; role: wire.OrgRole }[]): wire.OrganizationSummary[] {
  return list.map(({ org, role }) => ({ id: org.id, name: org.name, role, bootstrapped: org.bootstrappedAt !== null }));
}
