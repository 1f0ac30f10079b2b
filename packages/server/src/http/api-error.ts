import type { ApiErrorCode } from '@keyward/wire';

/** A transport-level error answered as-is: the status, the stable code, a message, and headers. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const REALM = 'keyward';

export function unauthorized(kind: 'missing' | 'invalid' = 'invalid', message?: string): ApiError {
  return new ApiError(
    401,
    'unauthorized',
    message ?? (kind === 'missing' ? 'Authentication is required: send an API key or a session token.' : 'The credential is not valid.'),
    {},
    { 'www-authenticate': kind === 'missing' ? `Bearer realm="${REALM}"` : `Bearer realm="${REALM}", error="invalid_token"` },
  );
}

export function invalidRequest(message: string): ApiError {
  return new ApiError(400, 'invalid_request', message, {}, { 'www-authenticate': `Bearer realm="${REALM}", error="invalid_request"` });
}
