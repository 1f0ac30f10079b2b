import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ApiError } from '../http/api-error.js';
import type { App } from '../http/typed.js';
import { carriesMetricsToken } from '../metrics.js';
import type { Services } from '../services.js';

/** How long a readiness check waits for the database or Redis before calling it down. */
export const READINESS_PING_TIMEOUT_MS = 1000;

const readinessChecks = z.object({
  database: z.enum(['ok', 'down']),
  redis: z.enum(['ok', 'absent', 'down']),
  invalidations: z.enum(['ok', 'stale']),
  rateLimits: z
    .enum(['local', 'shared', 'alone'])
    .describe('How rate limits and credits are counted: local (no Redis: this instance), shared (through Redis), alone (Redis is set but cannot answer: each instance counts by itself)'),
});

/**
 * Liveness (`/healthz`), readiness (`/readyz`) and Prometheus metrics (`/metrics`): what load
 * balancers, orchestrators and monitoring read (docs/deployment.md, "Monitoring").
 */
export function registerHealthRoutes(app: App, services: Services): void {
  app.get('/healthz', {
    config: { auth: 'none' },
    schema: {
      tags: ['Health'],
      summary: 'Ready: the server answers and its database does',
      response: { 200: z.object({ status: z.literal('ok') }), 503: z.object({ status: z.literal('unavailable') }) },
    },
    handler: async (_request, reply) => {
      try {
        await services.deps.store.ping();
        return { status: 'ok' as const };
      } catch {
        return reply.code(503).header('retry-after', '5').send({ status: 'unavailable' as const });
      }
    },
  });

  app.get('/readyz', {
    config: { auth: 'none' },
    schema: {
      tags: ['Health'],
      summary: 'Whether this instance should get traffic: its database answers and it is not draining',
      description:
        '200 with per-check status while the database answers (within 1 s). Redis is an accelerator: `down` is reported ' +
        'but keeps the instance ready. `invalidations` is `stale` while the invalidation log could not be read for 900 ms ' +
        '(caches are then bypassed). 503 `{"status":"unavailable","checks"}` when the database does not answer, and ' +
        '503 `{"status":"draining"}` from SIGTERM on.',
      response: {
        200: z.object({ status: z.literal('ready'), checks: readinessChecks }),
        503: z.object({ status: z.enum(['unavailable', 'draining']), checks: readinessChecks.optional() }),
      },
    },
    handler: async (_request, reply) => {
      reply.header('cache-control', 'no-store');
      if (services.operations.draining) return reply.code(503).send({ status: 'draining' as const });
      const [database, redis] = await Promise.all([
        answersWithin(() => services.deps.store.ping()),
        services.operations.pingRedis ? answersWithin(services.operations.pingRedis) : Promise.resolve(null),
      ]);
      // The draining flag may have been set while the pings ran.
      if (services.operations.draining) return reply.code(503).send({ status: 'draining' as const });
      const checks = {
        database: database ? ('ok' as const) : ('down' as const),
        redis: redis === null ? ('absent' as const) : redis ? ('ok' as const) : ('down' as const),
        invalidations: services.deps.bus.healthy === false ? ('stale' as const) : ('ok' as const),
        rateLimits: redis === null ? ('local' as const) : !redis || services.verification.meter.degraded ? ('alone' as const) : ('shared' as const),
      };
      if (!database) return reply.code(503).header('retry-after', '5').send({ status: 'unavailable' as const, checks });
      return { status: 'ready' as const, checks };
    },
  });

  app.get('/metrics', {
    config: { auth: 'none' },
    schema: { hide: true },
    handler: async (request, reply) => {
      const token = services.config.metricsToken;
      // Off, or a wrong token: the same 404 as for any path that does not exist.
      if (token === null || !carriesMetricsToken(request.headers.authorization, token)) throw notFound(request);
      const { registry } = services.operations.metrics;
      const text = await registry.metrics();
      return reply.header('cache-control', 'no-store').type(registry.contentType).send(text);
    },
  });
}

/** Whether `ping` resolves within READINESS_PING_TIMEOUT_MS; a hung store must not hang the probe. */
async function answersWithin(ping: () => Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), READINESS_PING_TIMEOUT_MS);
  });
  try {
    return await Promise.race([ping().then(() => true, () => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function notFound(request: FastifyRequest): ApiError {
  return new ApiError(404, 'not_found', `There is nothing at ${request.method} ${request.url.split('?')[0]!}.`);
}
