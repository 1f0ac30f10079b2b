import { z } from 'zod';
import { bindingRole, instant, keyId, pageQuery, permission, projectId, safeText, scopeType, userId } from './common.js';

export const keyType = z.enum(['personal', 'service', 'project']);
export const keyStatus = z.enum(['active', 'expired', 'revoked', 'disabled']);
export const permissionMode = z.enum(['all', 'restricted']);
export const scopeAction = z.enum(['read', 'write', 'admin', '*']);

export const binding = z.object({
  role: bindingRole,
  scopeType,
  scopeId: z.string().min(1).max(80),
  permissions: z.array(permission).max(200).optional().describe('For CUSTOM bindings only'),
});

export const scope = z.object({
  action: scopeAction,
  resource: z.string().max(512).describe('A resource filter: path segments and "*" (a whole segment); "*" alone matches all'),
});

// What a request may send: the same shapes with every text field checked (`safeText`). The answers
// above keep plain strings, so an answer never fails on what an older version stored.
const bindingInput = binding.extend({ scopeId: safeText().min(1).max(80) });
const scopeInput = scope.extend({ resource: safeText().max(512).describe('A resource filter: path segments and "*" (a whole segment); "*" alone matches all') });
const allowedCidrs = z.array(safeText().max(64)).max(100);

export const apiKey = z
  .object({
    id: keyId,
    name: z.string(),
    description: z.string().nullable(),
    keyType,
    status: keyStatus,
    preview: z.string().describe('The prefix, "…", and the last four characters of the token'),
    ownerUserId: userId.nullable(),
    createdByUserId: userId.nullable(),
    createdByKeyId: keyId.nullable(),
    projectId: projectId.nullable(),
    bindings: z.array(binding),
    permissionMode,
    permissions: z.array(permission),
    scopes: z.array(scope),
    allowedCidrs: z.array(z.string()),
    expiresAt: instant.nullable(),
    lastUsedAt: instant.nullable(),
    createdAt: instant,
    updatedAt: instant,
    revokedAt: instant.nullable(),
    revokedReason: z.string().nullable().describe('"revoked", or "leaked" when revoked through a leak report'),
    rollOverlapEndsAt: instant.nullable().describe('After a roll, when the previous secret stops working'),
  })
  .describe('An API key. Never contains the secret or any hash of it.')
  .meta({ id: 'ApiKey' });
export type ApiKey = z.infer<typeof apiKey>;

export const keyWarning = z
  .object({
    code: z.enum(['allowed_cidrs_wildcard', 'service_key_without_expiry', 'service_key_organization_wide', 'access_changed_while_in_use']),
    message: z.string(),
  })
  .meta({ id: 'KeyWarning' });
export type KeyWarning = z.infer<typeof keyWarning>;

const name = safeText({ trim: true }).min(1).max(100);
const description = safeText({ multiline: true }).max(1000).nullable().describe('Tab and line breaks allowed');

export const createApiKeyBody = z.strictObject({
  name,
  description: description.optional(),
  keyType: keyType.default('personal'),
  bindings: z.array(bindingInput).max(100).optional(),
  projectIds: z.array(projectId).max(100).optional().describe('Service keys: an ADMIN binding on each project'),
  projectId: projectId.optional().describe('Project keys: the one project'),
  assignedToUserId: userId.optional().describe('Admins: a personal key for another member'),
  permissionMode: permissionMode.default('all'),
  permissions: z.array(permission).max(200).optional(),
  scopes: z.array(scopeInput).max(100).optional(),
  allowedCidrs: allowedCidrs.optional(),
  expiresAt: instant.nullable().optional().describe('Must be in the future; null or absent for no expiry'),
});
export type CreateApiKeyBody = z.input<typeof createApiKeyBody>;

export const createApiKeyResponse = z.object({
  token: z.string().describe('The secret: shown once, never again'),
  apiKey,
  warnings: z.array(keyWarning),
});
export type CreateApiKeyResponse = z.infer<typeof createApiKeyResponse>;

export const updateApiKeyBody = z.strictObject({
  name: name.optional(),
  description: description.optional(),
  expiresAt: instant.nullable().optional(),
  permissionMode: permissionMode.optional(),
  permissions: z.array(permission).max(200).optional(),
  bindings: z.array(bindingInput).max(100).optional(),
  scopes: z.array(scopeInput).max(100).optional(),
  allowedCidrs: allowedCidrs.optional(),
});
export type UpdateApiKeyBody = z.input<typeof updateApiKeyBody>;

export const updateApiKeyResponse = apiKey.extend({ warnings: z.array(keyWarning) });
export type UpdateApiKeyResponse = z.infer<typeof updateApiKeyResponse>;

export const rollApiKeyBody = z
  .strictObject({
    oldKeyExpiresAt: instant.optional().describe('Until when the old secret keeps working; default now'),
  })
  .nullish();
export type RollApiKeyBody = z.input<typeof rollApiKeyBody>;

export const rollApiKeyResponse = z.object({ token: z.string(), apiKey });
export type RollApiKeyResponse = z.infer<typeof rollApiKeyResponse>;

export const listApiKeysQuery = pageQuery.extend({
  status: z.enum(['active', 'expired', 'revoked', 'disabled', 'all']).default('active'),
  q: safeText().max(100).optional().describe('Name contains, case-insensitive'),
  keyType: keyType.optional(),
  projectId: safeText().max(80).optional().describe('Only the project keys of this project'),
});
export type ListApiKeysQuery = z.input<typeof listApiKeysQuery>;

export const apiKeyIdParams = z.object({ id: safeText().max(80) });
