import { z } from 'zod';
import { instant, orgId, permission, safeText, userId } from './common.js';

export const verdictCode = z.enum([
  'VALID',
  'NOT_FOUND',
  'EXPIRED',
  'REVOKED',
  'DISABLED',
  'IP_NOT_ALLOWED',
  'INSUFFICIENT_PERMISSIONS',
  'PROJECT_REQUIRED',
  'RATE_LIMITED',
]);
export type VerdictCode = z.infer<typeof verdictCode>;

export const verifyKeyBody = z.strictObject({
  // The key is a credential as presented, not text: anything that is not a key, a NUL included, is NOT_FOUND.
  key: z.string().min(1).max(4096).describe('The presented API key or access token'),
  projectId: safeText().max(80).optional(),
  permission: permission.optional().describe('e.g. traces:write'),
  action: z.enum(['read', 'write', 'admin']).optional(),
  resource: safeText().max(512).optional().describe('e.g. projects/proj_123/traces/tr_9'),
  ip: safeText().max(64).optional().describe("The client's address, for IP allowlists"),
});
export type VerifyKeyBody = z.infer<typeof verifyKeyBody>;

export const verifyKeyResponse = z.object({
  valid: z.boolean(),
  code: verdictCode,
  keyId: z.string().optional(),
  organizationId: orgId.optional(),
  keyType: z.enum(['personal', 'service', 'project']).optional(),
  ownerUserId: userId.nullable().optional(),
  projectId: z.string().nullable().optional(),
  expiresAt: instant.nullable().optional(),
  permissions: z.array(permission).optional(),
  explanation: z.string().optional(),
}).meta({ id: 'Verdict' });
export type VerifyKeyResponse = z.infer<typeof verifyKeyResponse>;

export const leakReportBody = z.strictObject({
  key: z.string().min(1).max(4096).describe('The leaked key, as found'),
  source: safeText().max(100).optional().describe('Who found it, e.g. "github-secret-scanning"'),
  url: safeText().max(2048).optional().describe('Where it was found'),
});
export type LeakReportBody = z.infer<typeof leakReportBody>;

export const leakReportResponse = z.object({ status: z.literal('received') });
