import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import type { Verifier } from '@keyward/sdk';
import { keywardExpress } from '@keyward/sdk/express';
import { keywardFastify } from '@keyward/sdk/fastify';
import { keywardHono } from '@keyward/sdk/hono';
import express from 'express';
import Fastify, { type FastifyRequest } from 'fastify';
import { Hono } from 'hono';
import { closeServer, listen } from './support.js';

/** One protected service, the same routes in each framework. */
export interface ProtectedApp {
  readonly framework: 'fastify' | 'express' | 'hono';
  readonly url: string;
  close(): Promise<void>;
}

const REALM = 'test-api';

/**
 * Routes: `GET /v1/whoami` (any valid key), `POST /v1/traces` (traces:write),
 * `POST /v1/secrets` (secrets:write), `GET /v1/projects/:projectId/traces/:traceId` (read on the trace).
 */
export async function startFastifyApp(verifier: Verifier): Promise<ProtectedApp> {
  const app = Fastify();
  const auth = keywardFastify({ verifier, realm: REALM });
  await app.register(auth.plugin);
  app.get('/v1/whoami', { preHandler: auth.require() }, async (request) => request.keyward);
  app.post('/v1/traces', { preHandler: auth.require({ permission: 'traces:write' }) }, async (request) => request.keyward);
  app.post('/v1/secrets', { preHandler: auth.require({ permission: 'secrets:write' }) }, async (request) => request.keyward);
  type TraceRequest = FastifyRequest<{ Params: { projectId: string; traceId: string } }>;
  app.get<{ Params: { projectId: string; traceId: string } }>(
    '/v1/projects/:projectId/traces/:traceId',
    { preHandler: auth.require({ action: 'read', resource: (req) => `projects/${(req as TraceRequest).params.projectId}/traces/${(req as TraceRequest).params.traceId}` }) },
    async (request) => request.keyward,
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { framework: 'fastify', url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

export async function startExpressApp(verifier: Verifier): Promise<ProtectedApp> {
  const app = express();
  const auth = keywardExpress({ verifier, realm: REALM });
  app.get('/v1/whoami', auth.require(), (req, res) => void res.json(req.keyward));
  app.post('/v1/traces', auth.require({ permission: 'traces:write' }), (req, res) => void res.json(req.keyward));
  app.post('/v1/secrets', auth.require({ permission: 'secrets:write' }), (req, res) => void res.json(req.keyward));
  app.get(
    '/v1/projects/:projectId/traces/:traceId',
    auth.require({ action: 'read', resource: (req) => `projects/${req.params.projectId}/traces/${req.params.traceId}` }),
    (req, res) => void res.json(req.keyward),
  );
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { framework: 'express', url: `http://127.0.0.1:${port}`, close: () => closeServer(server) };
}

export async function startHonoApp(verifier: Verifier): Promise<ProtectedApp> {
  const auth = keywardHono({ verifier, realm: REALM });
  const app = new Hono();
  app.get('/v1/whoami', auth.require(), (c) => c.json(c.get('keyward')));
  app.post('/v1/traces', auth.require({ permission: 'traces:write' }), (c) => c.json(c.get('keyward')));
  app.post('/v1/secrets', auth.require({ permission: 'secrets:write' }), (c) => c.json(c.get('keyward')));
  app.get(
    '/v1/projects/:projectId/traces/:traceId',
    auth.require({ action: 'read', resource: (c) => `projects/${c.req.param('projectId')}/traces/${c.req.param('traceId')}` }),
    (c) => c.json(c.get('keyward')),
  );
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  const url = await listen(server);
  return { framework: 'hono', url, close: () => closeServer(server) };
}

export const frameworks = [
  ['fastify', startFastifyApp],
  ['express', startExpressApp],
  ['hono', startHonoApp],
] as const;
