import type { DomainErrorCode } from '@keyward/core';

/** core knows no HTTP: each domain code's status lives here, and a missing code fails to compile. */
export const statusByCode = {
  organization_not_found: 404,
  organization_not_bootstrapped: 409,
  organization_already_set_up: 409,
  api_key_not_found: 404,
  api_key_not_owned: 403,
  api_key_already_revoked: 409,
  api_key_scope_violation: 403,
  credential_class_mismatch: 401,
  insufficient_permissions: 403,
  member_not_found: 404,
  member_already_exists: 409,
  last_owner: 409,
  invitation_not_found: 404,
  team_not_found: 404,
  project_not_found: 404,
  project_archived: 409,
  role_binding_not_found: 404,
  user_not_found: 404,
  invalid_credentials: 401,
  setup_token_invalid: 403,
  signing_key_not_found: 404,
  invalid_field: 422,
  conflict: 409,
  service_unavailable: 503,
} as const satisfies Record<DomainErrorCode, number>;
