import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import { randomBase62 } from '@keyward/core';
import Fastify, { type FastifyBaseLogger, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { clientErrorHandler } from './http/client-error.js';
import { ApiError } from './http/api-error.js';
import { authenticator } from './http/authenticate.js';
import { errorHandler } from './http/error-handler.js';
import type { App } from './http/typed.js';
import { loggerOptions } from './logging.js';
import { BODY_LIMIT_BYTES } from './limits.js';
import { createVerifyFastLane } from './http/verify-fast-lane.js';
import { VerifierAuthenticator } from './http/verifier-authenticator.js';
import { createServer } from 'node:http';
import { registerApiKeyRoutes } from './routes/api-keys.js';
import { registerAuthRoutes } from './routes/auth.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerOrganizationRoutes } from './routes/organization.js';
import { registerLeakRoutes, registerVerifyRoutes } from './routes/verify.js';
import { registerGitHubSecretScanningRoutes } from './routes/github-secret-scanning.js';
import { registerInvalidationRoutes } from './routes/invalidations.js';
import { registerOAuthRoutes } from './routes/oauth.js';
import { createTokenFastLane } from './oauth/token-fast-lane.js';
import { registerSigningKeyRoutes } from './routes/signing-keys.js';
import { registerWebhookRoutes } from './routes/webhooks.js';
import { registerApiDocsRoutes } from './routes/api-docs.js';
import type { Services } from './services.js';
import { API_HEADERS, HYGIENE_HEADERS } from './http/response-writer.js';

export { BODY_LIMIT_BYTES } from './limits.js';

export interface BuildAppOptions {
  /** A pino logger configuration, or false for none (tests). */
  readonly logger?: FastifyServerOptions['logger'];
  readonly serveConsole?: boolean;
}

/**
 * Builds the HTTP app from its services, with no I/O of its own: every request and response has a
 * zod schema (the OpenAPI document is generated from them), every route declares how it is
 * authenticated, and every error has the documented shape.
 */
export async function buildApp(services: Services, options: BuildAppOptions = {}): Promise<App> {
  const { config } = services;
  const nextRequestId = requestIds();
  const verifiers = new VerifierAuthenticator(services);
  let logger: FastifyBaseLogger | null = null;
  const fastLane = createVerifyFastLane({ services, verifiers, nextRequestId, log: () => logger! });
  const tokenLane = createTokenFastLane({ services, nextRequestId, log: () => logger! });
  const app = Fastify({
    // The verify and token endpoints are answered before Fastify routes (http/verify-fast-lane.ts, oauth/token-fast-lane.ts).
    serverFactory: (handler) => {
      const { operations } = services;
      const server = createServer({ requestTimeout: 30_000, keepAliveTimeout: 72_000, headersTimeout: 20_000 }, (req, res) => {
        operations.requestsSeen++;
        if (!fastLane(req, res) && !tokenLane(req, res)) handler(req, res);
      });
      server.keepAliveTimeout = 72_000;
      return server;
    },
    logger: options.logger ?? loggerOptions(config.logLevel),
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: config.trustedProxies.length > 0 ? config.trustedProxies : false,
    genReqId: nextRequestId,
    requestIdHeader: false,
    connectionTimeout: 60_000,
    // A draining instance answers what reaches it normally (operator/drain.ts), not with 503.
    return503OnClosing: false,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 200 },
    clientErrorHandler,
  }).withTypeProvider<ZodTypeProvider>();
  logger = app.log;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler(services));
  app.decorateRequest('actor', null);
  app.decorateRequest('verifierActor', null);
  app.decorateRequest('session', null);
  app.decorateRequest('credential', null);

  // Cookies are parsed only where a session cookie may matter (authenticate.ts), not on every request.
  await app.register(fastifyCookie, { hook: false });
  await app.register(fastifyFormbody, { bodyLimit: BODY_LIMIT_BYTES });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Keyward API',
        version: '0.1.0',
        description: 'Create, scope, restrict, verify, watch and revoke API keys. See docs/ for guides.',
      },
      servers: [{ url: config.publicUrl }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An API key, a session token, or an access token' },
          apiKeyHeader: { type: 'apiKey', in: 'header', name: 'x-api-key' },
          legacyProjectKey: { type: 'apiKey', in: 'header', name: 'X-Auth-Token', description: 'Deprecated: legacy project keys' },
        },
      },
      security: [{ bearer: [] }, { apiKeyHeader: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });

  const routes: { method: string; pattern: RegExp }[] = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const pattern = new RegExp(`^${route.url.replace(/:[^/]+/g, '[^/]+').replace(/\*/g, '.*')}$`);
    for (const method of methods) routes.push({ method, pattern });
  });

  // One onRequest hook does the per-request work, before any body is read: hygiene headers, the
  // content type a route accepts, then authentication.
  const authenticate = authenticator(services, verifiers);
  app.addHook('onRequest', async (request, reply) => {
    reply.headers(HYGIENE_HEADERS);
    reply.header('x-request-id', request.id);
    if (request.url.startsWith('/api/')) reply.headers(API_HEADERS);
    if (request.method === 'POST' || request.method === 'PATCH' || request.method === 'PUT') assertContentType(request);
    await authenticate(request, reply);
  });

  registerHealthRoutes(app, services);
  registerAuthRoutes(app, services);
  registerApiKeyRoutes(app, services);
  registerOrganizationRoutes(app, services);
  registerVerifyRoutes(app, services);
  registerLeakRoutes(app, services);
  await registerGitHubSecretScanningRoutes(app, services);
  registerInvalidationRoutes(app, services);
  registerSigningKeyRoutes(app, services);
  registerWebhookRoutes(app, services);
  registerOAuthRoutes(app, services);
  app.get('/api/openapi.json', { config: { auth: 'none' }, schema: { hide: true } }, async () => app.swagger());
  await registerApiDocsRoutes(app, services);

  const consoleDir = options.serveConsole !== false ? config.consoleDir : null;
  const hasConsole = consoleDir !== null && existsSync(join(consoleDir, 'index.html'));
  if (hasConsole) {
    await app.register(fastifyStatic, { root: consoleDir, prefix: '/', wildcard: false, index: false, cacheControl: false, setHeaders: staticHeaders });
  }

  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0]!;
    const allowed = routes.filter((r) => r.pattern.test(path)).map((r) => r.method);
    // A route that exists for this method but found nothing (a missing file under a wildcard) is a 404.
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      reply.header('allow', [...new Set(allowed)].join(', '));
      throw new ApiError(405, 'method_not_allowed', `${request.method} is not allowed here; use ${[...new Set(allowed)].join(' or ')}.`);
    }
    if (hasConsole && request.method === 'GET' && !path.startsWith('/api/') && !path.includes('.')) {
      reply.header('cache-control', 'no-cache');
      reply.header('content-security-policy', CONSOLE_CSP);
      return reply.sendFile('index.html');
    }
    throw new ApiError(404, 'not_found', `There is nothing at ${request.method} ${path}.`);
  });
  return app;
}

/** Bodies are JSON, except on form routes (OAuth): anything else is 415 before the body is read. */
function assertContentType(request: FastifyRequest): void {
  const type = request.headers['content-type'];
  if (!type) return;
  const mime = type.split(';')[0]!.trim().toLowerCase();
  const form = request.routeOptions.config.bodyType === 'form';
  const accepted = form ? mime === 'application/x-www-form-urlencoded' : mime === 'application/json' || mime.endsWith('+json');
  if (!accepted) {
    throw new ApiError(415, 'unsupported_media_type', `Send the body as ${form ? 'application/x-www-form-urlencoded' : 'application/json'}.`);
  }
}

/**
 * Request ids: a random per-process prefix and a counter. Unique across instances and restarts, and
 * far cheaper than drawing random bytes for every request on the hot path.
 */
function requestIds(): () => string {
  const prefix = randomBase62(8);
  let counter = 0;
  return () => `req_${prefix}${(counter++).toString(36)}`;
}

export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

function staticHeaders(reply: { header(name: string, value: string): unknown }, path: string): void {
  reply.header('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
  reply.header('content-security-policy', CONSOLE_CSP);
}
