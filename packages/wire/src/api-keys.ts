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

/** Per-key rate limits (issue 14): fixed windows aligned on multiples of `windowSeconds` since the Unix epoch. */
export const RATE_LIMITS_MAX = 5;
export const rateLimit = z
  .object({
    name: z.string().regex(/^[a-z0-9_-]{1,32}$/, 'a name is 1 to 32 of a-z, 0-9, "_" and "-"').describe('1 to 32 of a-z, 0-9, _ and -; unique per key'),
    limit: z.number().int().min(1).max(1_000_000_000).describe('Units (the verify call\'s cost, 1 by default) allowed per window'),
    windowSeconds: z.number().int().min(1).max(86_400).describe('The window: 1 second to 1 day, aligned on multiples of it since the Unix epoch (UTC)'),
  })
  .meta({ id: 'RateLimit' });
export type RateLimit = z.infer<typeof rateLimit>;

export const rateLimits = z
  .array(rateLimit)
  .max(RATE_LIMITS_MAX)
  .superRefine((limits, ctx) => {
    const seen = new Set<string>();
    limits.forEach((limit, index) => {
      if (seen.has(limit.name)) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `"${limit.name}" is named twice: each limit needs its own name` });
      seen.add(limit.name);
    });
  })
  .describe('Up to 5 named fixed windows; a verification must fit in every one');

/** A refill sets `remaining` to `amount` at the start of each UTC day or month. */
export const creditsRefill = z
  .object({
    amount: z.number().int().min(1).max(1_000_000_000),
    interval: z.enum(['day', 'month']).describe('At 00:00 UTC each day, or on the 1st of each month at 00:00 UTC'),
  })
  .meta({ id: 'CreditsRefill' });
export type CreditsRefill = z.infer<typeof creditsRefill>;

export const credits = z
  .object({
    remaining: z.number().int().min(0).max(1_000_000_000),
    refill: creditsRefill.nullable(),
  })
  .meta({ id: 'Credits' });
export type Credits = z.infer<typeof credits>;

const creditsInput = z
  .strictObject({
    remaining: z.number().int().min(0).max(1_000_000_000).describe('Units left; a VALID verification spends its cost'),
    refill: creditsRefill.nullable().optional().describe('Absent or null: no refill (the credits are spent once)'),
  })
  .nullable()
  .describe('null: unlimited. Only owners and admins may set credits');

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
    rateLimits: z.array(rateLimit).describe('[] when the key has none'),
    rateLimitUse: z
      .array(z.object({ name: z.string(), limit: z.number().int(), used: z.number().int(), resetAt: instant }))
      .describe("Each limit's current window as counted now (across instances when they share Redis); [] without limits, and in webhook events, which carry no counts"),
    credits: credits
      .nullable()
      .describe('null: unlimited. remaining is as spent so far, at most one usage flush (KEYWARD_USAGE_FLUSH_MS) behind the verdicts'),
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
  rateLimits: rateLimits.optional(),
  credits: creditsInput.optional(),
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
  rateLimits: rateLimits.optional().describe('Replaces the list; [] removes every limit'),
  credits: creditsInput.optional().describe('Replaces remaining and refill; null makes the key unlimited'),
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

/** `POST /api/api-keys/{id}/credits`: an atomic change of a key's remaining credits. */
export const changeCreditsBody = z.strictObject({
  op: z.enum(['set', 'increment', 'decrement']),
  amount: z.number().int().min(0).max(1_000_000_000),
});
export type ChangeCreditsBody = z.infer<typeof changeCreditsBody>;

export const changeCreditsResponse = z.object({ remaining: z.number().int().min(0) });
export type ChangeCreditsResponse = z.infer<typeof changeCreditsResponse>;
