/**
 * Domain error codes. A code is stable: never renamed, never reused. The HTTP layer maps each one to a
 * status (`server/src/http/status-by-code.ts`) and `docs/errors.md` documents each one; a test keeps the
 * three in step.
 */
export const domainErrorCodes = [
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
  'invalid_field',
  'conflict',
  'service_unavailable',
] as const;
export type DomainErrorCode = (typeof domainErrorCodes)[number];

/**
 * A failure with a stable code and a message that is safe to show the caller. `details` are structured
 * and also safe to show; `cause` is logged and never sent.
 */
export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A validation failure on one field of a request, raised by core where the rule needs domain data. */
export class FieldError extends DomainError {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super('invalid_field', message, { path });
  }
}

/** Raised by stores when a unique constraint is violated. Use cases translate it to a domain code. */
export class StoreConflict extends Error {
  override readonly name = 'StoreConflict';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Raised by stores when the database cannot be reached or timed out. The server answers 503. */
export class StoreUnavailable extends Error {
  override readonly name: string = 'StoreUnavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Raised by the SQLite store when another process held the write lock for longer than the store
 * waits for it (the write changed nothing). The server answers 503 `store_busy` with `Retry-After`.
 */
export class StoreBusy extends StoreUnavailable {
  override readonly name: string = 'StoreBusy';
}

export const notFound = {
  apiKey: () => new DomainError('api_key_not_found', 'No API key with this id.'),
  organization: () => new DomainError('organization_not_found', 'No organization with this id.'),
  member: () => new DomainError('member_not_found', 'No member with this id in the organization.'),
  team: () => new DomainError('team_not_found', 'No team with this id.'),
  project: () => new DomainError('project_not_found', 'No project with this id.'),
  roleBinding: () => new DomainError('role_binding_not_found', 'No role binding with this id.'),
};

export function forbidden(message = 'You may not do this.'): DomainError {
  return new DomainError('insufficient_permissions', message);
}
