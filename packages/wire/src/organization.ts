import { z } from 'zod';
import { bindingRole, instant, orgId, orgRole, page, pageQuery, permission, projectId, roleBindingId, safeText, teamId, userId } from './common.js';

export const member = z.object({
  userId,
  email: z.string(),
  name: z.string().nullable(),
  role: orgRole,
  status: z.enum(['active', 'invited']),
  createdAt: instant,
}).meta({ id: 'Member' });
export type Member = z.infer<typeof member>;
export const memberList = page(member);
export const memberResponse = z.object({ member });

export const inviteMemberBody = z.strictObject({
  email: safeText({ trim: true }).min(3).max(254),
  role: orgRole,
  name: safeText({ trim: true }).max(100).optional(),
});
export type InviteMemberBody = z.infer<typeof inviteMemberBody>;
export const inviteMemberResponse = z.object({
  member,
  invitation: z.object({ token: z.string().describe('Shown once'), url: z.string(), expiresAt: instant }),
});
export type InviteMemberResponse = z.infer<typeof inviteMemberResponse>;

export const updateMemberBody = z.strictObject({ role: orgRole });
export const userIdParams = z.object({ userId: safeText().max(80) });

export const acceptInvitationBody = z.strictObject({
  token: safeText().min(1).max(200),
  password: safeText().min(1).max(256),
  name: safeText({ trim: true }).max(100).optional(),
});
export const acceptInvitationResponse = z.object({
  user: z.object({ id: userId, email: z.string() }),
  organizationId: orgId,
});

export const team = z.object({ id: teamId, name: z.string(), createdAt: instant }).meta({ id: 'Team' });
export type Team = z.infer<typeof team>;
export const teamList = page(team);
export const teamResponse = z.object({ team });
export const createTeamBody = z.strictObject({ name: safeText({ trim: true }).min(1).max(100) });
export const updateTeamBody = createTeamBody;

export const project = z.object({
  id: projectId,
  name: z.string(),
  teamId: teamId.nullable(),
  archivedAt: instant.nullable(),
  createdAt: instant,
}).meta({ id: 'Project' });
export type Project = z.infer<typeof project>;
export const projectList = page(project);
export const projectResponse = z.object({ project });
export const createProjectBody = z.strictObject({ name: safeText({ trim: true }).min(1).max(100), teamId: teamId.nullable().optional() });
export const updateProjectBody = z.strictObject({
  name: safeText({ trim: true }).min(1).max(100).optional(),
  teamId: teamId.nullable().optional(),
  archived: z.boolean().optional().describe('true archives the project, false restores it'),
});
export const listProjectsQuery = pageQuery.extend({
  includeArchived: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  teamId: teamId.optional(),
});
export const idParams = z.object({ id: safeText().max(80) });

export const roleBinding = z.object({
  id: roleBindingId,
  userId,
  role: bindingRole,
  permissions: z.array(permission).nullable(),
  scopeType: z.enum(['ORGANIZATION', 'TEAM', 'PROJECT']),
  scopeId: z.string(),
  createdAt: instant,
}).meta({ id: 'RoleBinding' });
export type RoleBinding = z.infer<typeof roleBinding>;
export const roleBindingList = page(roleBinding);
export const roleBindingResponse = z.object({ roleBinding });
export const createRoleBindingBody = z.strictObject({
  userId,
  role: bindingRole,
  scopeType: z.enum(['TEAM', 'PROJECT']),
  scopeId: safeText().min(1).max(80),
  permissions: z.array(permission).max(200).optional(),
});
export const listRoleBindingsQuery = pageQuery.extend({ userId: userId.optional() });

export const auditEntry = z.object({
  id: z.string(),
  at: instant,
  actor: z.object({ type: z.enum(['user', 'api_key', 'access_token', 'verifier', 'system', 'leak_report']), id: z.string(), preview: z.string().optional() }),
  action: z.string(),
  targetType: z.string(),
  targetId: z.string().nullable(),
  ip: z.string().nullable(),
  outcome: z.enum(['success', 'denied', 'failure']),
  requestId: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
}).meta({ id: 'AuditEntry' });
export type AuditEntry = z.infer<typeof auditEntry>;
export const auditList = page(auditEntry);
export const listAuditQuery = pageQuery.extend({
  actorId: safeText().max(80).optional(),
  action: safeText().max(80).optional(),
  targetId: safeText().max(80).optional(),
});

export const bootstrapResponse = z.object({ bootstrapped: z.literal(true), bootstrappedAt: instant });

export const organization = z.object({
  id: orgId,
  name: z.string(),
  createdAt: instant,
  bootstrapped: z.boolean(),
  bootstrappedAt: instant.nullable(),
  signingAlgorithm: z.enum(['ES256', 'RS256', 'EdDSA']),
  accessTokenTtlSeconds: z.number().int(),
});
export const organizationResponse = z.object({ organization });

export const catalogueResponse = z.object({
  categories: z.array(
    z.object({
      name: z.string(),
      label: z.string(),
      actions: z.array(z.enum(['read', 'write'])),
      memberAccess: z.enum(['read', 'write']).describe('The highest action the built-in MEMBER role has on this category'),
      descriptions: z.record(z.string(), z.string()).optional(),
    }),
  ),
  permissions: z.array(permission),
  keyPrefix: z.string(),
  keyPattern: z.string().describe('The regular expression of this deployment\'s keys, for secret scanners'),
});
export type CatalogueResponse = z.infer<typeof catalogueResponse>;
