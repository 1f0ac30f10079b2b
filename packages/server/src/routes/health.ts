import { z } from 'zod';
import type { App } from '../http/typed.js';
import type { Services } from '../services.js';

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
}
