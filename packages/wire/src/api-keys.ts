import { z } from 'zod';
import { bindingRole, instant, instantOrDate, keyId, pageQuery, permission, projectId, safeText, scopeType, userId } from './common.js';
import { policyField } from './policy.js';

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
    revokedReason: z
      .string()
      .nullable()
      .describe('Null unless revoked: the reason given when revoking, else "revoked"; "leaked" when revoked through a leak report'),
    rollOverlapEndsAt: instant.nullable().describe('After a roll, when the previous secret stops working'),
    policyViolations: z
      .array(policyField)
      .describe("The organization policy's fields this key breaks now (the policy changes no existing key); [] when it complies"),
  })
  .describe('An API key. Never contains the secret or any hash of it.')
  .meta({ id: 'ApiKey' });
export type ApiKey = z.infer<typeof apiKey>;

export const keyWarning = z
  .object({
    code: z.enum(['allowed_cidrs_wildcard', 'service_key_without_expiry', 'service_key_organization_wide', 'access_changed_while_in_use', 'expiry_set_by_policy']),
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
  expiresAt: instantOrDate.nullable().optional().describe('Must be in the future; null or absent for no expiry; a date alone means midnight UTC'),
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
  expiresAt: instantOrDate.nullable().optional(),
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

export const rollWarning = z
  .object({
    code: z.enum(['previous_overlap_ended']),
    message: z.string(),
    previousSecretExpiresAt: instant.optional().describe('previous_overlap_ended: when the secret this roll ended would have stopped working'),
  })
  .meta({ id: 'RollWarning' });
export type RollWarning = z.infer<typeof rollWarning>;

export const rollApiKeyResponse = z.object({
  token: z.string(),
  apiKey,
  warnings: z.array(rollWarning).describe('previous_overlap_ended when an earlier roll\'s overlap was still running: its secret stopped at once'),
});
export type RollApiKeyResponse = z.infer<typeof rollApiKeyResponse>;

/** Why a key was revoked: free text, one line, kept with the key and in its audit entry. */
export const revokeApiKeyBody = z
  .strictObject({
    reason: safeText({ trim: true })
      .max(200)
      .nullable()
      .optional()
      .describe('Why, at most 200 characters, one line; absent, null or empty: the reason is "revoked"'),
  })
  .nullish();
export type RevokeApiKeyBody = z.input<typeof revokeApiKeyBody>;

/** The orders of the key list: a field, ascending, or descending with a leading `-`. */
export const apiKeySort = z.enum(['createdAt', '-createdAt', 'lastUsedAt', '-lastUsedAt', 'expiresAt', '-expiresAt', 'name', '-name']);
export type ApiKeySort = z.infer<typeof apiKeySort>;

// A strict object: a misspelt or unsupported parameter (`ownerId=`) is 422 naming it, never ignored
// (ignoring it would answer every key, the opposite of what was asked).
export const listApiKeysQuery = z.strictObject({
  ...pageQuery.shape,
  // Longer than other lists' cursors: a cursor of the name order carries a name.
  cursor: safeText().max(1024).optional().describe('The nextCursor of the previous page (of the same sort)'),
  status: z.enum(['active', 'expired', 'revoked', 'disabled', 'all']).default('active'),
  q: safeText()
    .max(100)
    .optional()
    .describe('A name (contains, case-insensitive), an exact key id, the last four characters of the token, or a whole pasted token (matched by its hash)'),
  keyType: keyType.optional(),
  projectId: safeText().max(80).optional().describe('Only the project keys of this project'),
  ownerUserId: userId.optional().describe('Only the personal keys of this member'),
  sort: apiKeySort
    .default('-createdAt')
    .describe('createdAt, lastUsedAt, expiresAt or name; a leading "-" for descending. Keys never used, and keys without expiry, sort last either way'),
});
export type ListApiKeysQuery = z.input<typeof listApiKeysQuery>;

export const apiKeyIdParams = z.object({ id: safeText().max(80) });
