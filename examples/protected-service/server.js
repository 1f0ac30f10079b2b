// A small API protected by Keyward, with the SDK's Fastify middleware.
//
//   GET  /healthz                   open
//   GET  /v1/me                     any valid key: who is calling
//   GET  /v1/projects/:id/traces    traces:read on project :id
//   POST /v1/projects/:id/traces    traces:write on project :id
//
// Run it (after `npm run build` at the repository root):
//   KEYWARD_VERIFIER_TOKEN=kwv_… node examples/protected-service/server.js
// README.md beside this file walks through it with curl.
import { randomUUID } from 'node:crypto';
import { keywardFastify } from '@keyward/sdk/fastify';
import Fastify from 'fastify';
import { verifierFromEnv } from './verifier.js';

// Behind a load balancer, set trustProxy (e.g. to its address) so request.ip, which the middleware
// sends for the keys' IP allowlists, is the client's and not the proxy's.
const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'info' } });

const verifier = await verifierFromEnv((err) => app.log.warn({ err: err.message }, 'keyward'));
const auth = keywardFastify({
  verifier,
  realm: 'example',
  // The caller gets one uniform 401/403; the reason is for your logs.
  onVerdict: (verdict, request) => {
    if (!verdict.valid) request.log.info({ code: verdict.code, keyId: verdict.keyId, explanation: verdict.explanation }, 'key refused');
  },
  onError: (err, request) => request.log.error({ err }, 'keyward could not verify'),
});
await app.register(auth.plugin);

/** The project comes from the path, so a key bound to other projects is refused here. */
const projectParams = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^proj_[0-9A-Za-z]{1,64}$' } },
  required: ['id'],
};
const projectOfPath = (request) => request.params.id;

/** Traces kept in memory, per project: enough to show reads and writes. */
const tracesByProject = new Map();

app.get('/healthz', async () => ({ ok: true }));

app.get('/v1/me', { preHandler: auth.require() }, async (request) => {
  const { keyId, organizationId, keyType, ownerUserId, projectId, permissions, expiresAt } = request.keyward;
  return { keyId, organizationId, keyType, ownerUserId, projectId, permissions, expiresAt };
});

app.get(
  '/v1/projects/:id/traces',
  { schema: { params: projectParams }, preHandler: auth.require({ permission: 'traces:read', projectId: projectOfPath }) },
  async (request) => ({ projectId: request.params.id, traces: tracesByProject.get(request.params.id) ?? [] }),
);

app.post(
  '/v1/projects/:id/traces',
  {
    schema: {
      params: projectParams,
      body: { type: 'object', properties: { name: { type: 'string', maxLength: 200 } }, required: ['name'], additionalProperties: false },
    },
    preHandler: auth.require({ permission: 'traces:write', projectId: projectOfPath }),
  },
  async (request, reply) => {
    const trace = { id: `tr_${randomUUID().slice(0, 8)}`, name: request.body.name, createdByKey: request.keyward.keyId };
    const traces = tracesByProject.get(request.params.id) ?? [];
    traces.push(trace);
    tracesByProject.set(request.params.id, traces);
    return reply.code(201).send(trace);
  },
);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    await app.close();
    // The embedded verifier writes its last usage counts here.
    await verifier.close();
  });
}

await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' });
