import { z } from 'zod';
import { instant, orgId, orgRole, permission, safeText, userId } from './common.js';

export const loginBody = z.strictObject({
  email: safeText({ trim: true }).min(3).max(254),
  password: safeText().min(1).max(256),
});
export type LoginBody = z.infer<typeof loginBody>;

export const publicUser = z.object({ id: userId, email: z.string(), name: z.string().nullable() });
export type PublicUser = z.infer<typeof publicUser>;

export const organizationSummary = z.object({ id: orgId, name: z.string(), role: orgRole, bootstrapped: z.boolean() });
export type OrganizationSummary = z.infer<typeof organizationSummary>;

export const loginResponse = z.object({
  sessionToken: z.string(),
  expiresAt: instant,
  user: publicUser,
  organizations: z.array(organizationSummary),
});
export type LoginResponse = z.infer<typeof loginResponse>;

export const whoamiResponse = z.object({
  principal: z.object({ type: z.enum(['user', 'api_key', 'access_token']), id: z.string() }),
  organizationId: orgId,
  keyType: z.enum(['personal', 'service', 'project']).optional(),
  role: orgRole.optional().describe('For people: their role in the organization'),
  projectId: z.string().nullable().optional(),
  permissions: z.array(permission).describe('What the credential may do here (at the project, if one applies)'),
  user: publicUser.optional(),
  organizations: z.array(organizationSummary).optional().describe('For people: every organization they belong to'),
});
export type WhoamiResponse = z.infer<typeof whoamiResponse>;

export const setupBody = z.strictObject({
  token: safeText().min(1).max(200),
  organizationName: safeText({ trim: true }).min(1).max(100),
  email: safeText({ trim: true }).min(3).max(254),
  password: safeText().min(1).max(256),
  name: safeText({ trim: true }).max(100).optional(),
});
export type SetupBody = z.infer<typeof setupBody>;

export const setupResponse = z.object({
  organizationId: orgId,
  userId,
  sessionToken: z.string(),
  expiresAt: instant,
});
export type SetupResponse = z.infer<typeof setupResponse>;

export const setupStatusResponse = z.object({ setupRequired: z.boolean() });
