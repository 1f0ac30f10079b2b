import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as wire from '@keyward/wire';
import { z } from 'zod';
import { durationPattern, instantAfter } from './duration.js';
import { guarded, segment, type ToolContext } from './http.js';
import { jsonResult, textError } from './results.js';

const secretNotice = 'This secret is shown only now and will never be shown again: store it in a secret manager at once. Keyward keeps only a hash of it.';

/** Said once per key tool: the API, not this server, decides, and API keys manage keys only as admins. */
const managementNote =
  ' Managing keys through the API needs an API key with organization:manage (one whose owner is an organization OWNER or ADMIN); with any other key Keyward answers 403.';

/**
 * The tools' answers. `get_api_key` needs the ApiKey shape without its schema id: a schema with an id
 * becomes a top-level `$ref`, and MCP wants an output schema whose top level is an object.
 */
const outputs = {
  list: wire.page(wire.apiKey),
  get: z.object(wire.apiKey.shape),
  create: wire.createApiKeyResponse.extend({ notice: z.string() }),
  edit: wire.updateApiKeyResponse,
  roll: wire.rollApiKeyResponse.extend({ notice: z.string() }),
  revoke: z.object({ success: z.literal(true), apiKey: wire.apiKey.optional().describe('The key as it is now, when it could be read back') }),
  credits: wire.changeCreditsResponse,
};

const keyIdInput = z.string().min(1).max(80).describe('The key id, "key_..." (from list_api_keys)');
const duration = z.string().regex(durationPattern, 'must be a duration like 30d, 24h or 90m');

/** The access fields that create and edit share, described for an assistant. */
const accessFields = {
  description: z.string().max(1000).nullable().optional().describe('What the key is for'),
  permissionMode: wire.permissionMode
    .optional()
    .describe('"all": the key acts with all of its owner\'s (or its bindings\') rights; "restricted": only the listed permissions, and never beyond the owner'),
  permissions: z.array(wire.permission).max(200).optional().describe('With permissionMode "restricted": permissions like "traces:read", "datasets:write"'),
  bindings: z.array(wire.binding).max(100).optional().describe('Role bindings of a service key: {role, scopeType, scopeId}'),
  scopes: z.array(wire.scope).max(100).optional().describe('Resource filters: {action: read|write|admin|*, resource}'),
  allowedCidrs: z.array(z.string().max(64)).max(100).optional().describe('IP ranges (CIDR) the key may be used from; empty means any address'),
  expiresAt: wire.instant.nullable().optional().describe('When the key stops working (RFC 3339, in the future); null for never'),
  expiresIn: duration.optional().describe('Instead of expiresAt: how long from now the key works, e.g. "30d", "12h"'),
  rateLimits: wire.rateLimits
    .optional()
    .describe(
      'Up to 5 named fixed windows, e.g. [{"name":"requests","limit":100,"windowSeconds":60}]: a verification must fit in every one (windowSeconds 1 to 86400). On edit the list replaces the old one; [] removes every limit',
    ),
  credits: z
    .object({
      remaining: z.number().int().min(0).max(1_000_000_000).describe('Units the key may spend (each VALID verification spends its cost, 1 by default)'),
      refill: wire.creditsRefill.nullable().optional().describe('{amount, interval: "day"|"month"}: remaining is set to amount at 00:00 UTC each day, or on the 1st of each month; null or absent: no refill'),
    })
    .nullable()
    .optional()
    .describe('Only an organization OWNER or ADMIN may set credits (others get 403). null: unlimited. On edit it replaces remaining and refill; to add or take away credits use change_key_credits'),
};

type AccessInput = { expiresAt?: string | null | undefined; expiresIn?: string | undefined };

/** Turns `expiresIn` into `expiresAt`; null when the caller gave both. */
function withExpiry<T extends AccessInput>(ctx: ToolContext, input: T): Omit<T, 'expiresIn'> | null {
  const { expiresIn, ...rest } = input;
  if (expiresIn === undefined) return rest;
  if (rest.expiresAt !== undefined) return null;
  return { ...rest, expiresAt: instantAfter(ctx.now(), expiresIn, 'expiresIn') };
}

/**
 * The person behind the API key this server uses. The API wants an owner for a personal key made with
 * an API key (assignedToUserId); the natural one here is the person the assistant acts for. Null for
 * a service key, which has no owner: the API then asks for assignedToUserId itself.
 */
async function callerOwnerId(ctx: ToolContext): Promise<string | null> {
  const who = await ctx.http.get<wire.WhoamiResponse>('/api/auth/whoami');
  if (who.principal.type === 'user') return null;
  const key = await ctx.http.get<wire.ApiKey>(`/api/api-keys/${segment(who.principal.id)}`);
  return key.ownerUserId;
}

const withoutUndefined = <T extends Record<string, unknown>>(value: T) =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;

export function registerKeyTools(server: McpServer, ctx: ToolContext): void {
  const { http } = ctx;
  const readOnly = { readOnlyHint: true, openWorldHint: false } as const;

  server.registerTool(
    'list_api_keys',
    {
      title: 'List API keys',
      description:
        'Lists the API keys this API key may see, newest first unless sorted, one page at a time (pass nextCursor back as cursor for the next page, with the same sort). Secrets are never included: only a preview.' + managementNote,
      inputSchema: {
        status: z.enum(['active', 'expired', 'revoked', 'disabled', 'all']).optional().describe('Which keys: "active" (the default), "expired", "revoked", "disabled" or "all"'),
        q: z
          .string()
          .max(100)
          .optional()
          .describe('A search: part of a name (case-insensitive), an exact key id, the last four characters of a token, or a whole token (to find which key a leaked token is)'),
        keyType: wire.keyType.optional().describe('Only keys of this type'),
        ownerUserId: wire.userId.optional().describe('Only the personal keys of this member ("usr_...")'),
        sort: wire.apiKeySort
          .optional()
          .describe('The order: createdAt, lastUsedAt, expiresAt or name, with a leading "-" for descending (default "-createdAt", newest first); keys never used or never expiring come last'),
        limit: z.number().int().min(1).max(100).optional().describe('Page size, 1 to 100 (default 50)'),
        cursor: z.string().max(512).optional().describe('The nextCursor of the previous page'),
      },
      outputSchema: outputs.list,
      annotations: readOnly,
    },
    (input) => guarded(async () => jsonResult(outputs.list, await http.get('/api/api-keys', input))),
  );

  server.registerTool(
    'get_api_key',
    {
      title: 'Get an API key',
      description:
        "One API key's details: type, status, owner, access, allowed IPs, expiry, last use, its rate limits with each one's current window (rateLimitUse: used and resetAt) and its credits (null: unlimited). Never its secret." +
        managementNote,
      inputSchema: { id: keyIdInput },
      outputSchema: outputs.get,
      annotations: readOnly,
    },
    ({ id }) => guarded(async () => jsonResult(outputs.get, await http.get(`/api/api-keys/${segment(id)}`))),
  );

  server.registerTool(
    'create_api_key',
    {
      title: 'Create an API key',
      description:
        'Creates an API key and returns its secret (token) ONCE: it is never shown again, so hand it to the person to store in a secret manager right away. ' +
        'A personal key (the default) belongs to the person whose API key this server uses (or assignedToUserId), acts as them and never beyond their rights; service and project keys need an organization OWNER or ADMIN. Prefer an expiry (expiresIn) and the fewest permissions that do the job.' +
        managementNote,
      inputSchema: {
        name: z.string().trim().min(1).max(100).describe('A name people will recognise, e.g. "CI deploy"'),
        keyType: wire.keyType.optional().describe('"personal" (default): acts as you; "service": for a system, with its own bindings; "project": one project (legacy)'),
        projectIds: z.array(wire.projectId).max(100).optional().describe('Service keys: an ADMIN binding on each of these projects (none: organization-wide ADMIN)'),
        projectId: wire.projectId.optional().describe('Project keys: the one project'),
        assignedToUserId: wire.userId.optional().describe("Personal keys: the member who will own it (admins only); by default the owner of this server's API key"),
        ...accessFields,
      },
      outputSchema: outputs.create,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    (input) =>
      guarded(async () => {
        const body = withExpiry(ctx, input);
        if (!body) return textError('Give either expiresAt or expiresIn, not both.');
        if ((body.keyType ?? 'personal') === 'personal' && !body.assignedToUserId) {
          body.assignedToUserId = (await callerOwnerId(ctx)) ?? undefined;
        }
        const created = await http.post<wire.CreateApiKeyResponse>('/api/api-keys', withoutUndefined(body));
        return jsonResult(outputs.create, { ...created, notice: secretNotice }, `Created ${created.apiKey.name} (${created.apiKey.id}). ${secretNotice}`);
      }),
  );

  server.registerTool(
    'edit_api_key',
    {
      title: 'Edit an API key',
      description:
"Changes a key's name, description, expiry, access, rate limits or credits; only the fields given change. Narrowing access that is in use comes back with an 'access_changed_while_in_use' warning." +
        managementNote,
      inputSchema: { id: keyIdInput, name: z.string().trim().min(1).max(100).optional().describe('A new name'), ...accessFields },
      outputSchema: outputs.edit,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    ({ id, ...input }) =>
      guarded(async () => {
        const body = withExpiry(ctx, input);
        if (!body) return textError('Give either expiresAt or expiresIn, not both.');
        if (Object.values(body).every((v) => v === undefined)) return textError('Nothing to change: give at least one field besides id.');
        return jsonResult(outputs.edit, await http.patch(`/api/api-keys/${segment(id)}`, withoutUndefined(body)));
      }),
  );

  server.registerTool(
    'change_key_credits',
    {
      title: "Change an API key's credits",
      description:
        "Changes a key's remaining credits in one atomic step and returns what is left: op \"set\" (to amount), \"increment\" (add amount) or \"decrement\" (take amount away; below zero is refused with 422 and changes nothing). Leaves the refill as it is. Only an organization OWNER or ADMIN may change credits." +
        managementNote,
      inputSchema: {
        keyId: keyIdInput,
        op: wire.changeCreditsBody.shape.op.describe('"set", "increment" or "decrement"'),
        amount: wire.changeCreditsBody.shape.amount.describe('A whole number, 0 to 1,000,000,000'),
      },
      outputSchema: outputs.credits,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    ({ keyId, op, amount }) =>
      guarded(async () => {
        const changed = await http.post<wire.ChangeCreditsResponse>(`/api/api-keys/${segment(keyId)}/credits`, { op, amount });
        return jsonResult(outputs.credits, changed, `${keyId} has ${changed.remaining} credits left.`);
      }),
  );

  server.registerTool(
    'roll_api_key',
    {
      title: 'Roll an API key',
      description:
        'Gives a key a new secret, keeping its id, name and access, and returns the new secret ONCE (never shown again). ' +
        'The old secret stops working at once, or after the overlap (e.g. "24h") so deployments can switch over.' +
        managementNote,
      inputSchema: {
        id: keyIdInput,
        overlap: duration.optional().describe('How long the old secret keeps working, e.g. "1h", "24h" (default: it stops now)'),
        oldKeyExpiresAt: wire.instant.optional().describe('Instead of overlap: when the old secret stops working (RFC 3339)'),
      },
      outputSchema: outputs.roll,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    ({ id, overlap, oldKeyExpiresAt }) =>
      guarded(async () => {
        if (overlap && oldKeyExpiresAt) return textError('Give either overlap or oldKeyExpiresAt, not both.');
        const until = overlap ? instantAfter(ctx.now(), overlap, 'overlap') : oldKeyExpiresAt;
        const rolled = await http.post<wire.RollApiKeyResponse>(`/api/api-keys/${segment(id)}/roll`, until ? { oldKeyExpiresAt: until } : {});
        const old = rolled.apiKey.rollOverlapEndsAt ? `The old secret works until ${rolled.apiKey.rollOverlapEndsAt}.` : 'The old secret has stopped working.';
        const ended = rolled.warnings.map((warning) => ` ${warning.message}`).join('');
        return jsonResult(outputs.roll, { ...rolled, notice: secretNotice }, `Rolled ${rolled.apiKey.name} (${rolled.apiKey.id}). ${old}${ended} ${secretNotice}`);
      }),
  );

  server.registerTool(
    'revoke_api_key',
    {
      title: 'Revoke an API key',
      description:
        'Revokes a key: permanent and immediate, every request with it fails from now on. Confirm the key (get_api_key: name, last use) with the person first.' +
        managementNote,
      inputSchema: {
        id: keyIdInput,
        reason: z.string().max(200).optional().describe('Why, in one line (at most 200 characters), kept with the key and in the audit log; default "revoked"'),
      },
      outputSchema: outputs.revoke,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    ({ id, reason }) =>
      guarded(async () => {
        await http.delete(`/api/api-keys/${segment(id)}`, reason === undefined ? undefined : { reason });
        // The revocation stands even if reading the key back fails; the answer then only lacks its details.
        const apiKey = await http.get<wire.ApiKey>(`/api/api-keys/${segment(id)}`).catch(() => undefined);
        return jsonResult(outputs.revoke, apiKey ? { success: true, apiKey } : { success: true }, `Revoked ${apiKey ? `${apiKey.name} (${id})` : id}.`);
      }),
  );
}
