import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import { ApiFailure } from '../api-failure.js';
import { CliError } from '../cli-error.js';

/**
 * A tool's answer: the API's JSON parsed with the tool's output schema (the wire schema), so fields a
 * newer server adds are dropped rather than failing the client's check, as `structuredContent`, and
 * the same JSON as text for clients that read only `content`. `lead` is a sentence for people.
 */
export function jsonResult(schema: z.ZodType<Record<string, unknown>>, value: unknown, lead?: string): CallToolResult {
  const structuredContent = schema.parse(value);
  const content: CallToolResult['content'] = [];
  if (lead) content.push({ type: 'text', text: lead });
  content.push({ type: 'text', text: JSON.stringify(structuredContent, null, 2) });
  return { content, structuredContent };
}

/**
 * A refusal or failure as an `isError` result the assistant can read and relay: one sentence with
 * the API's status, code and message, what to do next, and the error body as JSON. No
 * `structuredContent`: clients check it against the tool's output schema even on errors.
 */
export function errorResult(err: unknown): CallToolResult {
  if (err instanceof ApiFailure) {
    const body = {
      status: err.status,
      error: err.code,
      message: err.message,
      ...(err.body?.reasons ? { reasons: err.body.reasons } : {}),
      ...(err.body?.requestId ? { requestId: err.body.requestId } : {}),
    };
    const hint = hintFor(err.status, err.code);
    const sentence = `Keyward refused the request: ${err.message} (${err.code}, HTTP ${err.status}).${hint ? ` ${hint}` : ''}`;
    return { isError: true, content: [{ type: 'text', text: sentence }, { type: 'text', text: JSON.stringify(body, null, 2) }] };
  }
  if (err instanceof CliError) return textError(err.message);
  if (err instanceof Error && err.name === 'ZodError') {
    return textError(`Keyward answered in a shape this MCP server does not know (is the server the same version as the CLI?): ${err.message}`);
  }
  return textError(err instanceof Error ? err.message : String(err));
}

/** A failure found before calling the API (two ways of saying one thing, a bad duration). */
export function textError(message: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: message }] };
}

/** What to tell the person behind the assistant, by the API's error code. */
function hintFor(status: number, code: string): string | undefined {
  switch (code) {
    case 'unauthorized':
      return 'The API key in KEYWARD_API_KEY was refused: check that it is active (not expired, revoked or disabled) and belongs to this Keyward server, then restart the MCP server.';
    case 'credential_class_mismatch':
      return 'A legacy project key cannot manage the organization: give the MCP server a personal key.';
    case 'insufficient_permissions':
      return "This API key's rights do not allow it: a key has at most its owner's rights, less any restriction on the key itself. Managing keys, the organization's usage and the audit log need organization:manage, which only an OWNER or ADMIN has: ask one of them, or use a key that has it.";
    case 'api_key_scope_violation':
      return 'A personal key can never have more rights than its owner: ask for fewer permissions (see whoami).';
    case 'api_key_not_owned':
      return 'Only the key\'s owner or an organization admin may change or revoke it.';
    case 'api_key_not_found':
      return 'No key with this id is visible to this API key: list_api_keys with status "all" shows the ones it may see.';
    case 'api_key_already_revoked':
      return 'Revocation is permanent: create a new key instead.';
    case 'organization_not_bootstrapped':
      return 'An owner or admin must bootstrap the organization once (console: Settings → API Keys) before keys can be created.';
    case 'project_not_found':
      return 'No project with this id is visible to this API key (check --project / KEYWARD_PROJECT_ID).';
    case 'validation_failed':
      return 'Fix the fields named in "reasons" and call the tool again.';
    case 'policy_violation':
      return 'The organization\'s key policy refuses this (get_key_policy shows it): each entry of "reasons" names the field and the rule it breaks. Change those fields (an earlier expiresAt, allowedCidrs for a service key) and call the tool again; a key whose expiry breaks the policy must be edited before it can be rolled.';
    case 'rate_limited':
      return 'Wait a minute and try again.';
    default:
      return status >= 500 ? 'The server failed; try again, and if it keeps failing give the requestId to its operator.' : undefined;
  }
}
