import { isSafeText } from '@keyward/wire';
import { VerificationError } from '../errors.js';
import type { Verdict, Verifier, VerifyRequest } from '../verdict.js';
import type { PresentedKey } from './presented-key.js';
import { costProblem } from '../request-cost.js';
import { rateLimitHeaders } from './rate-limit-headers.js';

/**
 * What one request spends from its key's rate limits and credits: a whole number from 0 to
 * 1,000,000 (0 checks the key without spending), or a function of the request that gives one.
 *
 * @example
 * const perRow: RequestCost<{ body: { rows: unknown[] } }> = (req) => Math.max(1, req.body.rows.length);
 */
export type RequestCost<Req> = number | ((req: Req) => number);

/**
 * What a route asks of the key: a `category:action` permission, or an action on a resource path;
 * neither means "any valid key". The project comes from `X-Project-Id` unless `projectId` says
 * otherwise; a key bound to exactly one project needs none. `cost` is what the request spends from
 * the key's rate limits and credits, when not the middleware's `cost` (default 1).
 *
 * @example
 * const writeTraces: KeyRequirement<{ params: { id: string } }> = { permission: 'traces:write' };
 * const readTrace: KeyRequirement<{ params: { id: string } }> = {
 *   action: 'read',
 *   resource: (req) => `projects/proj_123/traces/${req.params.id}`,
 * };
 * const export10: KeyRequirement<{ params: { id: string } }> = { permission: 'traces:read', cost: 10 };
 */
export interface KeyRequirement<Req> {
  readonly permission?: string | undefined;
  readonly action?: 'read' | 'write' | 'admin' | undefined;
  readonly resource?: string | ((req: Req) => string | undefined) | undefined;
  /** The project of the request (default: the `X-Project-Id` header). */
  readonly projectId?: ((req: Req) => string | undefined) | undefined;
  /** What the request spends from the key's rate limits and credits (default: the middleware's `cost`, else 1). */
  readonly cost?: RequestCost<Req> | undefined;
}

/**
 * The verified caller, put on the request (`req.keyward`, or `c.get('keyward')` in Hono).
 *
 * @example
 * app.get('/whoami', { preHandler: auth.require() }, async (req) => ({ key: req.keyward!.keyId, org: req.keyward!.organizationId }));
 */
export interface KeywardIdentity {
  readonly keyId: string;
  readonly organizationId: string;
  readonly keyType: Verdict['keyType'];
  /** The owner of a personal key; null for service and project keys. */
  readonly ownerUserId: string | null;
  /** The project the request was verified for: asked, or the key's only one. */
  readonly projectId: string | null;
  /** What the key may do here (`write` includes `read`: both are listed). */
  readonly permissions: readonly string[];
  readonly expiresAt: string | null;
  /** The whole verdict, explanation included (for your logs, not for the caller). */
  readonly verdict: Verdict;
}

/** Options common to the Fastify, Express and Hono middleware. */
export interface KeywardMiddlewareOptions<Req> {
  /** Any verifier: `createRemoteVerifier`, `createEmbeddedVerifier`, or your own. */
  readonly verifier: Verifier;
  /** The realm in `WWW-Authenticate` (default `api`). */
  readonly realm?: string | undefined;
  /** The client's address for IP allowlists (defaults: Fastify's `request.ip`, Express's `req.ip`, the socket's in Hono on Node). */
  readonly clientIp?: ((req: Req) => string | undefined) | undefined;
  /** Every refused or valid verdict, for your logs and audit (the caller only sees the uniform answer). */
  readonly onVerdict?: ((verdict: Verdict, req: Req) => void) | undefined;
  /**
   * Verifications that could not be made (answered 503 or 500), for your logs. Without it, errors
   * answered 500 (a route's permission missing from the catalogue, a request Keyward refuses) go to
   * `logger.error`: never a silent 500.
   */
  readonly onError?: ((err: unknown, req: Req) => void) | undefined;
  /** Where errors go without `onError` (default `console`). */
  readonly logger?: { error(message: string, err?: unknown): void } | undefined;
  /**
   * The deployment's permissions, to check each route's `permission` against. Default: asked of the
   * verifier once (`verifier.permissions()`, which the remote verifier reads from `GET /api/catalogue`).
   */
  readonly permissions?: readonly string[] | undefined;
  /**
   * What each request spends from its key's rate limits and credits (default 1, Keyward's); a route's
   * own `cost` wins. A function gets the request, so the cost can follow the work asked.
   */
  readonly cost?: RequestCost<Req> | undefined;
}

/** The answer the middleware gives instead of calling the route. */
export interface Refusal {
  readonly status: 400 | 401 | 403 | 429 | 500 | 503;
  readonly body: { readonly error: string; readonly message: string };
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Either the verified identity, with the headers to add to the route's answer (the key's
 * `RateLimit` headers; none for a key without rate limits), or the refusal to send.
 */
export type GuardOutcome =
  | { readonly ok: true; readonly identity: KeywardIdentity; readonly headers: Readonly<Record<string, string>> }
  | { readonly ok: false; readonly refusal: Refusal };

/** How a framework exposes what the guard needs from its request. */
export interface RequestAdapter<Req> {
  presentedKey(req: Req): PresentedKey;
  header(req: Req, name: string): string | undefined;
  clientIp(req: Req): string | undefined;
}

const UNAUTHORIZED_BODY = { error: 'unauthorized', message: 'A valid API key is required.' } as const;

/**
 * The framework-free core of the middleware: reads the one key, verifies it for the route's
 * requirement, and answers the way RFC 6750 and Keyward's own API do. Every invalid key (unknown,
 * mistyped, revoked, expired, disabled) gets the same 401 body, so the caller learns nothing about
 * why; the verdict's explanation goes to `onVerdict`. Use it to write middleware for another
 * framework; the Fastify, Express and Hono ones are built on it.
 *
 * @example
 * const guard = createKeyGuard({ verifier }, {
 *   presentedKey: (req: IncomingMessage) => presentedKeyFromRawHeaders(req.rawHeaders),
 *   header: (req, name) => req.headers[name] as string | undefined,
 *   clientIp: (req) => req.socket.remoteAddress,
 * });
 * const outcome = await guard({ permission: 'traces:read' })(req);
 * if (!outcome.ok) { res.writeHead(outcome.refusal.status, outcome.refusal.headers).end(JSON.stringify(outcome.refusal.body)); }
 */
export function createKeyGuard<Req>(options: KeywardMiddlewareOptions<Req>, adapter: RequestAdapter<Req>) {
  const realm = (options.realm ?? 'api').replace(/["\\]/g, '');
  const challenge = (error?: string) => (error ? `Bearer realm="${realm}", error="${error}"` : `Bearer realm="${realm}"`);
  const refuse = (status: Refusal['status'], body: Refusal['body'], headers: Record<string, string> = {}): GuardOutcome => ({
    ok: false,
    refusal: { status, body, headers: { 'cache-control': 'no-store', ...headers } },
  });
  const clientIp = options.clientIp ?? ((req: Req) => adapter.clientIp(req));
  if (typeof options.cost === 'number') {
    const problem = costProblem(options.cost);
    if (problem) throw new TypeError(problem);
  }
  const logger = options.logger ?? console;
  /** Errors answered 500: to `onError`, else to the logger. */
  const reportFailure = (err: unknown, req: Req | null, what: string) => {
    if (options.onError && req !== null) options.onError(err, req);
    else logger.error(`keyward: ${what}`, err);
  };
  let known: Promise<readonly string[]> | null = null;
  /** The deployment's permissions, asked once (again after a failure); null when nobody can tell. */
  const knownPermissions = (): Promise<readonly string[] | null> => {
    if (options.permissions) return Promise.resolve(options.permissions);
    if (!options.verifier.permissions) return Promise.resolve(null);
    known ??= options.verifier.permissions().catch((err: unknown) => {
      known = null;
      throw err;
    });
    return known;
  };
  /** Why a permission cannot be asked of this deployment; null when it can; undefined while nobody can tell. */
  const permissionProblem = async (permission: string): Promise<Error | null | undefined> => {
    let permissions: readonly string[] | null;
    try {
      permissions = await knownPermissions();
    } catch {
      return undefined; // Keyward unreachable for now: asked again on the next request.
    }
    if (!permissions || permissions.includes(permission)) return null;
    const category = permission.split(':')[0];
    const near = permissions.filter((p) => p.startsWith(`${category}:`) || p.split(':')[1] === permission.split(':')[1]).slice(0, 3);
    return new Error(
      `The route asks for "${permission}", which is not a permission of this deployment's catalogue${near.length ? ` (did you mean ${near.map((p) => `"${p}"`).join(' or ')}?)` : ''}. ` +
        'Fix the route, or add it to the catalogue (KEYWARD_PERMISSION_CATALOGUE).',
    );
  };

  return function forRequirement(requirement: KeyRequirement<Req> = {}) {
    if (requirement.permission !== undefined && (requirement.action !== undefined || requirement.resource !== undefined)) {
      throw new TypeError('Ask for a permission, or for an action on a resource, not both.');
    }
    const cost = requirement.cost ?? options.cost;
    if (typeof requirement.cost === 'number') {
      const problem = costProblem(requirement.cost);
      if (problem) throw new TypeError(problem);
    }
    // Checked when the route is registered (a problem is reported at once), and on each request
    // until the catalogue could be read.
    const permission = requirement.permission;
    let problem: Error | null | undefined = permission === undefined ? null : undefined;
    let pending = permission === undefined ? null : permissionProblem(permission);
    void pending?.then((found) => {
      if (found) reportFailure(found, null, found.message);
    });
    return async function guard(req: Req): Promise<GuardOutcome> {
      if (problem === undefined && permission !== undefined) {
        problem = await (pending ??= permissionProblem(permission));
        pending = null;
      }
      if (problem) {
        reportFailure(problem, req, problem.message);
        return refuse(500, { error: 'internal_error', message: 'The request could not be authorized.' });
      }
      const presented = adapter.presentedKey(req);
      if (presented.kind === 'none') return refuse(401, UNAUTHORIZED_BODY, { 'www-authenticate': challenge() });
      if (presented.kind === 'several') {
        return refuse(400, { error: 'invalid_request', message: 'Send exactly one credential: one header (Authorization, x-api-key or X-Auth-Token), not several.' }, {
          'www-authenticate': challenge('invalid_request'),
        });
      }
      if (presented.kind === 'malformed') return refuse(401, UNAUTHORIZED_BODY, { 'www-authenticate': challenge('invalid_token') });

      const request: { -readonly [K in keyof VerifyRequest]: VerifyRequest[K] } = { key: presented.key };
      const projectId = requirement.projectId ? requirement.projectId(req) : adapter.header(req, 'x-project-id');
      if (projectId) request.projectId = projectId;
      if (requirement.permission !== undefined) request.permission = requirement.permission;
      if (requirement.action !== undefined) request.action = requirement.action;
      const resource = typeof requirement.resource === 'function' ? requirement.resource(req) : requirement.resource;
      if (resource !== undefined) request.resource = resource;
      const ip = clientIp(req);
      if (ip) request.ip = ip;
      if (cost !== undefined) {
        request.cost = typeof cost === 'number' ? cost : cost(req);
        // A function's cost is checked here, a number's when the route was defined.
        const problem = costProblem(request.cost);
        if (problem) {
          reportFailure(new TypeError(problem), req, problem);
          return refuse(500, { error: 'internal_error', message: 'The request could not be authorized.' });
        }
      }
      // The project and resource come from the caller's request (a header, a path segment): text
      // Keyward refuses (a NUL, a tab, an unpaired surrogate) is the caller's malformed request, not
      // a server error of this API.
      if ((request.projectId !== undefined && !isSafeText(request.projectId)) || (request.resource !== undefined && !isSafeText(request.resource))) {
        return refuse(400, { error: 'invalid_request', message: 'The request names a project or resource that is not valid text.' }, {
          'www-authenticate': challenge('invalid_request'),
        });
      }

      let verdict: Verdict;
      try {
        verdict = await options.verifier.verify(request);
      } catch (err) {
        if (err instanceof VerificationError && err.code === 'invalid_request') {
          reportFailure(err, req, `Keyward refused the verification request: ${err.message}`);
          return refuse(500, { error: 'internal_error', message: 'The request could not be authorized.' });
        }
        options.onError?.(err, req);
        return refuse(503, { error: 'service_unavailable', message: 'Authorization is temporarily unavailable; try again shortly.' }, { 'retry-after': '1' });
      }
      options.onVerdict?.(verdict, req);
      return outcomeOf(verdict);
    };
  };

  function outcomeOf(verdict: Verdict): GuardOutcome {
    const limits = rateLimitHeaders(verdict.rateLimits, Date.now());
    switch (verdict.code) {
      case 'VALID':
        if (!verdict.valid || !verdict.keyId || !verdict.organizationId) break;
        return {
          ok: true,
          headers: limits,
          identity: {
            keyId: verdict.keyId,
            organizationId: verdict.organizationId,
            keyType: verdict.keyType,
            ownerUserId: verdict.ownerUserId ?? null,
            projectId: verdict.projectId ?? null,
            permissions: verdict.permissions ?? [],
            expiresAt: verdict.expiresAt ?? null,
            verdict,
          },
        };
      case 'INSUFFICIENT_PERMISSIONS':
        return refuse(403, { error: 'insufficient_permissions', message: 'This key may not do this.' }, { 'www-authenticate': challenge('insufficient_scope') });
      case 'PROJECT_REQUIRED':
        return refuse(403, { error: 'insufficient_permissions', message: 'Name a project with the X-Project-Id header: this key reaches several.' }, {
          'www-authenticate': challenge('insufficient_scope'),
        });
      case 'IP_NOT_ALLOWED':
        return refuse(403, { error: 'ip_not_allowed', message: 'This key may not be used from this address.' }, { 'www-authenticate': challenge('insufficient_scope') });
      case 'RATE_LIMITED':
        // A verifier that does not say when (an adapter of your own) gets the earlier answer: 1 s.
        return refuse(429, { error: 'rate_limited', message: 'Too many requests with this key; try again later.' }, {
          ...limits,
          'retry-after': String(verdict.retryAfterSeconds ?? 1),
        });
      case 'USAGE_EXCEEDED':
        // Credits come back with a refill or a top-up, neither of which the verdict announces: no Retry-After.
        return refuse(429, { error: 'usage_exceeded', message: "This key's credits are used up." }, limits);
      default:
        break;
    }
    return refuse(401, UNAUTHORIZED_BODY, { 'www-authenticate': challenge('invalid_token') });
  }
}
