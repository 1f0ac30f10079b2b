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
  'USAGE_EXCEEDED',
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
  cost: z
    .number()
    .int()
    .min(0)
    .max(1_000_000)
    .optional()
    .describe("Units this request spends from the key's rate limits and credits (default 1; 0 checks without spending)"),
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
  rateLimits: z
    .array(z.object({ name: z.string(), limit: z.number().int(), windowSeconds: z.number().int(), remaining: z.number().int(), resetAt: instant }))
    .optional()
    .describe("For a key with rate limits, once every key check passed (VALID, RATE_LIMITED, USAGE_EXCEEDED): each window's remainder after this request, and when the window ends"),
  credits: z
    .object({ remaining: z.number().int() })
    .optional()
    .describe('For a key with credits, once every key check passed (VALID, RATE_LIMITED, USAGE_EXCEEDED): what is left after this request'),
  retryAfterSeconds: z.number().int().optional().describe('RATE_LIMITED: seconds until every exceeded window has ended'),
}).meta({ id: 'Verdict' });
export type VerifyKeyResponse = z.infer<typeof verifyKeyResponse>;

export const leakReportBody = z.strictObject({
  key: z.string().min(1).max(4096).describe('The leaked key, as found'),
  source: safeText().max(100).optional().describe('Who found it, e.g. "github-secret-scanning"'),
  url: safeText().max(2048).optional().describe('Where it was found'),
});
export type LeakReportBody = z.infer<typeof leakReportBody>;

export const leakReportResponse = z.object({ status: z.literal('received') });
