import { z } from 'zod';

/**
 * Every error code the API answers with. Codes are stable: never renamed or reused. `docs/errors.md`
 * documents each one and a test keeps that page, this list and the OpenAPI document in step.
 */
export const apiErrorCodes = [
  // transport
  'invalid_request',
  'unauthorized',
  'validation_failed',
  'unknown_permission',
  'rate_limited',
  'ip_not_allowed',
  'not_found',
  'method_not_allowed',
  'payload_too_large',
  'unsupported_media_type',
  'service_unavailable',
  'store_busy',
  'internal_error',
  // domain
  'organization_not_found',
  'organization_not_bootstrapped',
  'organization_already_set_up',
  'api_key_not_found',
  'api_key_not_owned',
  'api_key_already_revoked',
  'api_key_scope_violation',
  'policy_violation',
  'credential_class_mismatch',
  'insufficient_permissions',
  'member_not_found',
  'member_already_exists',
  'last_owner',
  'invitation_not_found',
  'team_not_found',
  'project_not_found',
  'project_archived',
  'role_binding_not_found',
  'user_not_found',
  'invalid_credentials',
  'setup_token_invalid',
  'reset_token_invalid',
  'signing_key_not_found',
  'webhook_not_found',
  'webhook_delivery_not_found',
  'conflict',
] as const;
export type ApiErrorCode = (typeof apiErrorCodes)[number];

export const errorBody = z
  .object({
    error: z.enum(apiErrorCodes),
    message: z.string(),
    requestId: z.string().optional(),
    reasons: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .catchall(z.unknown())
  .describe('Every error: a stable code, a message for people, and details')
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof errorBody>;
