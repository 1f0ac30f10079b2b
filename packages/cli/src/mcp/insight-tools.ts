import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as wire from '@keyward/wire';
import { z } from 'zod';
import { durationPattern, instantBefore } from './duration.js';
import { guarded, segment, type ToolContext } from './http.js';
import { jsonResult, textError } from './results.js';

const usageWindow = {
  since: z.string().regex(durationPattern, 'must be a duration like 7d, 24h or 90m').optional().describe('The window up to now, e.g. "24h", "7d" (instead of from)'),
  from: wire.instant.optional().describe('Start of the window (RFC 3339); default: 24 hours before "to"'),
  to: wire.instant.optional().describe('End of the window (RFC 3339); default: now'),
  interval: z.enum(['minute', 'hour', 'day']).optional().describe('Bucket size (default "hour")'),
};

type UsageInput = { since?: string | undefined; from?: string | undefined; to?: string | undefined; interval?: string | undefined };

/** The usage query string; null when `since` and `from` both name the start. */
function usageQuery(ctx: ToolContext, { since, from, to, interval }: UsageInput) {
  if (since && from) return null;
  return { from: since ? instantBefore(ctx.now(), since, 'since') : from, to, interval };
}

export function registerInsightTools(server: McpServer, ctx: ToolContext): void {
  const { http } = ctx;
  const readOnly = { readOnlyHint: true, openWorldHint: false } as const;

  server.registerTool(
    'whoami',
    {
      title: 'Who am I',
      description:
        'Who this MCP server acts as: the API key id and type, its organization, and the permissions it has (at a project, when one is given or configured). Start here to see what the other tools may do.',
      inputSchema: { projectId: wire.projectId.optional().describe('Show the permissions at this project (default: the configured --project, if any)') },
      outputSchema: wire.whoamiResponse,
      annotations: readOnly,
    },
    ({ projectId }) =>
      guarded(async () => jsonResult(wire.whoamiResponse, await (projectId ? ctx.atProject(projectId) : http).get('/api/auth/whoami'))),
  );

  server.registerTool(
    'get_key_usage',
    {
      title: 'Usage of an API key',
      description:
        'How often one key was used (requests authenticated with it and verifications), valid and rejected (by reason), over time in buckets, with totals. Works for keys this API key may see: its owner\'s own keys and service keys, or every key for admins.',
      inputSchema: { id: z.string().min(1).max(80).describe('The key id, "key_..."'), ...usageWindow },
      outputSchema: wire.keyUsageResponse,
      annotations: readOnly,
    },
    ({ id, ...window }) =>
      guarded(async () => {
        const query = usageQuery(ctx, window);
        if (!query) return textError('Give either since or from, not both.');
        return jsonResult(wire.keyUsageResponse, await http.get(`/api/api-keys/${segment(id)}/usage`, query));
      }),
  );

  server.registerTool(
    'get_org_usage',
    {
      title: 'Usage of the organization',
      description:
        'Key use across the whole organization over time (valid and rejected, by reason) and its busiest keys. Needs an API key with organization:manage (an OWNER\'s or ADMIN\'s); others get 403.',
      inputSchema: usageWindow,
      outputSchema: wire.organizationUsageResponse,
      annotations: readOnly,
    },
    (window) =>
      guarded(async () => {
        const query = usageQuery(ctx, window);
        if (!query) return textError('Give either since or from, not both.');
        return jsonResult(wire.organizationUsageResponse, await http.get('/api/usage', query));
      }),
  );

  server.registerTool(
    'get_key_policy',
    {
      title: "The organization's key policy",
      description:
        "The rules every new key of the organization must follow, set by its OWNER: maxKeyLifetimeDays (no key may expire later than this many days ahead; a maximum also means keys must expire), defaultKeyLifetimeDays (keys created without expiresAt get it), requireExpiry, requireAllowedCidrsForServiceKeys, personalKeysAllowed. Read it before creating, editing or rolling a key: a key that breaks it is refused with policy_violation, and existing keys list what they break in policyViolations. Any key of the organization may read it.",
      inputSchema: {},
      outputSchema: wire.organizationPolicyResponse,
      annotations: readOnly,
    },
    () => guarded(async () => jsonResult(wire.organizationPolicyResponse, await http.get('/api/organization/policy'))),
  );

  server.registerTool(
    'list_audit_log',
    {
      title: 'Read the audit log',
      description:
        'The organization\'s audit log, newest first: who (actor) did what (action, e.g. "api_key.created", "api_key.revoked") to which target, from which IP, with what outcome. One page at a time; pass nextCursor back as cursor. Needs an API key with organization:manage; others get 403.',
      inputSchema: {
        action: z.string().max(80).optional().describe('Only entries with this action, e.g. "api_key.revoked"'),
        actorId: z.string().max(80).optional().describe('Only entries by this actor (a user or key id)'),
        targetId: z.string().max(80).optional().describe('Only entries about this target, e.g. a key id'),
        limit: z.number().int().min(1).max(100).optional().describe('Page size, 1 to 100 (default 50)'),
        cursor: z.string().max(512).optional().describe('The nextCursor of the previous page'),
      },
      outputSchema: wire.auditList,
      annotations: readOnly,
    },
    (input) => guarded(async () => jsonResult(wire.auditList, await http.get('/api/audit-log', input))),
  );
}
