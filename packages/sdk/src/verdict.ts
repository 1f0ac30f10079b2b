import type { VerdictCode as WireVerdictCode, VerifyKeyBody, VerifyKeyResponse } from '@keyward/wire';

/**
 * What to verify: the presented key (or access token), and optionally the project, the permission
 * (`category:action`) or an action on a resource path, the client's address for IP allowlists, and
 * the `cost` the request spends from the key's rate limits and credits (0 to 1,000,000; default 1).
 * The same body as `POST /api/keys/verify`.
 *
 * @example
 * const request: VerifyRequest = { key: presented, permission: 'traces:write', projectId: 'proj_123', ip: '203.0.113.7', cost: 5 };
 */
export type VerifyRequest = VerifyKeyBody;

/**
 * A verdict: `valid`, a stable `code`, the key's facts once it is known, and an `explanation` of the
 * decision for the operator (never for the caller). The same body as `POST /api/keys/verify` answers.
 * For a key with rate limits, `VALID` and `RATE_LIMITED` carry `rateLimits` (each window's `limit`,
 * `windowSeconds`, `remaining` and `resetAt`), and `RATE_LIMITED` carries `retryAfterSeconds`; for a
 * key with credits, `VALID` and `USAGE_EXCEEDED` carry `credits.remaining`.
 *
 * @example
 * const verdict: Verdict = await verifier.verify({ key });
 * if (!verdict.valid) console.warn(verdict.code, verdict.explanation);
 */
export type Verdict = VerifyKeyResponse;

/**
 * The stable verdict codes: `VALID`, `NOT_FOUND`, `EXPIRED`, `REVOKED`, `DISABLED`, `IP_NOT_ALLOWED`,
 * `INSUFFICIENT_PERMISSIONS`, `PROJECT_REQUIRED`, `RATE_LIMITED`, `USAGE_EXCEEDED` (the key's
 * credits cannot pay the request's cost).
 *
 * @example
 * const denied: VerdictCode = 'INSUFFICIENT_PERMISSIONS';
 */
export type VerdictCode = WireVerdictCode;

/**
 * Anything that verifies keys: the remote verifier, the embedded verifier, or your own adapter (an
 * offline access-token verifier, a test double). The middleware takes any of them.
 *
 * @example
 * const alwaysValid: Verifier = { verify: async () => ({ valid: true, code: 'VALID', keyId: 'key_test' }) };
 */
export interface Verifier {
  verify(request: VerifyRequest): Promise<Verdict>;
  /**
   * The permissions of the deployment's catalogue (`GET /api/catalogue`), when the verifier can tell:
   * the middleware checks each route's permission against them, so a typo is reported at start
   * rather than answered 500 to every caller.
   */
  permissions?(): Promise<readonly string[]>;
}

/**
 * A cache invalidation from `GET /api/keys/invalidations`: a key changed (revoked, edited, rolled),
 * a member's rights changed, something organization-wide changed, or everything must be dropped.
 *
 * @example
 * const event: InvalidationEvent = { type: 'key', orgId: 'org_1', keyId: 'key_1' };
 */
export type InvalidationEvent =
  | { readonly type: 'all' }
  | { readonly type: 'key'; readonly orgId: string; readonly keyId: string }
  | { readonly type: 'member'; readonly orgId: string; readonly userId: string }
  | { readonly type: 'org'; readonly orgId: string };
