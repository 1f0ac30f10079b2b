import {
  soleProjectOf,
  userGrants,
  resolveSession,
  isSessionToken,
  DomainError,
  assertCanUseManagementApi,
  recordRejectedKey,
  type Actor,
  type ApiKeyRecord,
  type KeyActor,
  type OrgId,
  type Session,
  type User,
  type UserActor,
  type VerifierActor,
} from '@keyward/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../services.js';
import { ApiError, unauthorized } from './api-error.js';
import { AuditCoalescer } from './audit-coalescer.js';
import { readCredential, SESSION_COOKIE, type PresentedCredential } from './credentials.js';
import type { VerifierAuthenticator } from './verifier-authenticator.js';
import { accessTokenActor, isAccessTokenShaped } from '../oauth/access-token-actor.js';

export type AuthMode = 'none' | 'any' | 'management' | 'verifier' | 'session';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null;
    verifierActor: VerifierActor | null;
    session: { session: Session; user: User } | null;
    credential: PresentedCredential | null;
  }
  interface FastifyContextConfig {
    auth?: AuthMode;
    /** Webhook-style routes honour `?token=` and `?api_key=` (R8). */
    webhook?: boolean;
    /** What a body must be sent as: JSON (the default) or an HTML form (the OAuth endpoints). */
    bodyType?: 'json' | 'form';
  }
}

/**
 * Authenticates every request according to its route's `auth` mode, before the body is read:
 * `none` (public), `session` (a person's session only), `any` (a person or an API key),
 * `management` (a person, or a key that may administer the organization; legacy project keys get
 * 401 credential_class_mismatch) and `verifier` (a verifier credential only). Failed attempts are
 * counted per client IP, and an IP over the limit gets 429 before any credential work.
 */
export function authenticator(services: Services, verifiers: VerifierAuthenticator) {
  const { deps, config } = services;
  const limited = config.authFailuresPerMinute > 0;
  async function fail(request: FastifyRequest, error: ApiError): Promise<never> {
    if (limited) await services.authFailures.hit(request.ip);
    throw error;
  }
  const rejectedKeys = new AuditCoalescer();
  /** Audits a refused key that was identified (R42), once the 401 is out: it must take no longer than an unknown key's. */
  function auditRejectedKey(request: FastifyRequest, reply: FastifyReply, key: ApiKeyRecord, code: string): void {
    const verdict = rejectedKeys.admit(key.id, deps.clock.now().getTime());
    if (!verdict.audit) return;
    const rejected = { key, code, ip: request.ip, requestId: request.id, suppressedRepeats: verdict.suppressedRepeats };
    reply.raw.once('close', () => {
      recordRejectedKey(deps, rejected).catch((err: unknown) => request.log.error({ err }, 'could not record a rejected key in the audit log'));
    });
  }

  return async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const mode = request.routeOptions.config.auth ?? 'none';
    request.actor = null;
    request.verifierActor = null;
    request.session = null;
    request.credential = null;
    if (mode === 'none') return;
    if (mode === 'verifier') {
      request.verifierActor = await verifiers.authenticate(request.raw, request.query, request.ip);
      return;
    }
    if (limited) {
      const state = await services.authFailures.check(request.ip);
      if (state.limited) {
        throw new ApiError(429, 'rate_limited', 'Too many failed authentication attempts from this address; try again later.', {}, {
          'retry-after': String(state.retryAfterSeconds),
        });
      }
    }
    let credential: PresentedCredential | null;
    try {
      credential = readCredential(request.raw, request.query, {
        allowQuery: request.routeOptions.config.webhook === true,
        cookieToken: sessionCookie(request.headers.cookie),
      });
    } catch (err) {
      if (err instanceof ApiError && err.statusCode === 401) return fail(request, err);
      throw err;
    }
    if (!credential) throw unauthorized('missing');
    request.credential = credential;

    if (isSessionToken(credential.token)) {
      const resolved = await resolveSession(deps, credential.token);
      if (!resolved) return fail(request, unauthorized());
      if (credential.carrier === 'cookie' && !['GET', 'HEAD', 'OPTIONS'].includes(request.method) && request.headers['x-keyward-console'] !== '1') {
        // A cookie rides along on cross-site requests; a custom header cannot (CSRF).
        throw new ApiError(403, 'insufficient_permissions', 'Requests authenticated by the session cookie must send the header X-Keyward-Console: 1.');
      }
      request.session = resolved;
      if (mode === 'session') return;
      request.actor = await userActor(services, request, resolved.user);
      return;
    }
    if (mode === 'session') return fail(request, unauthorized('invalid', 'This needs a person\'s session: log in with POST /api/auth/login.'));
    if (credential.carrier === 'cookie') return fail(request, unauthorized());

    if (credential.token.startsWith(config.keyPrefix)) {
      const verdict = await services.verification.verify({ token: credential.token, ip: request.ip }, { metered: false });
      if (!verdict.valid) {
        if (verdict.code === 'IP_NOT_ALLOWED') {
          throw new ApiError(403, 'ip_not_allowed', 'This key may not be used from this address.');
        }
        if (verdict.key) auditRejectedKey(request, reply, verdict.key, verdict.code);
        return fail(request, unauthorized());
      }
      if (verdict.key.keyType === 'project' && mode === 'management') {
        throw new ApiError(401, 'credential_class_mismatch', 'A project key cannot be used on organization routes; create a personal or service key in Settings → API Keys.', {}, {
          'www-authenticate': 'Bearer realm="keyward", error="invalid_token"',
        });
      }
      const header = request.headers['x-project-id'];
      const actor: KeyActor = {
        type: 'api_key',
        orgId: verdict.key.orgId,
        keyId: verdict.key.id,
        key: verdict.key,
        grants: verdict.grants,
        ownerGrants: verdict.ownerGrants,
        tokenPermissions: null,
        projectId: (typeof header === 'string' && header) || verdict.key.projectId || soleProjectOf(verdict.key),
        ip: request.ip,
        requestId: request.id,
      };
      // Known before it is refused: a key without management rights is audited as a denial (R42).
      request.actor = actor;
      if (mode === 'management') assertCanUseManagementApi(deps.catalogue, actor);
      return;
    }
    if (isAccessTokenShaped(services, credential.token)) {
      // An RFC 9068 access token from /oauth/token: the key behind it, narrowed to the token's scope.
      const actor = await accessTokenActor(services, request, credential.token);
      if (!actor) return fail(request, unauthorized());
      // Known before it is refused: a key without management rights is audited as a denial (R42).
      request.actor = actor;
      if (mode === 'management') assertCanUseManagementApi(deps.catalogue, actor);
      return;
    }
    return fail(request, unauthorized());
  };
}

/** A person's actor in the organization named by X-Organization-Id, or their first one. */
async function userActor(services: Services, request: FastifyRequest, user: User): Promise<UserActor> {
  const { deps } = services;
  const header = request.headers['x-organization-id'];
  let orgId: OrgId | undefined;
  if (typeof header === 'string' && header) {
    orgId = header as OrgId;
  } else {
    const orgs = await deps.store.orgs.listForUser(user.id);
    orgId = orgs[0]?.org.id;
    if (!orgId) throw new DomainError('organization_not_found', 'You are not a member of any organization.');
  }
  const owner = /^org_[0-9A-Za-z]{1,64}$/.test(orgId) ? await services.verdictCache.owner(orgId, user.id) : null;
  if (!owner?.membership || owner.membership.status !== 'active') {
    throw new DomainError('organization_not_found', 'No organization with this id among yours.');
  }
  return {
    type: 'user',
    orgId,
    userId: user.id,
    role: owner.membership.role,
    grants: userGrants(deps.catalogue, orgId, owner.membership, owner.bindings),
    ip: request.ip,
    requestId: request.id,
  };
}

export function requireActor(request: FastifyRequest): Actor {
  if (!request.actor) throw unauthorized('missing');
  return request.actor;
}

const sessionCookiePattern = new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([^;]*)`);

/** The console's session cookie, read only when a route may use it. */
function sessionCookie(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const value = sessionCookiePattern.exec(header)?.[1];
  if (!value) return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}
