// A small service protected by the SDK's Fastify middleware: a remote verifier against a Keyward
// server (local verdict cache, invalidation stream), one route asking for a permission, and the
// same route without authentication (the service's own cost, for the middleware's ratio).
//   KEYWARD_URL=… KEYWARD_VERIFIER_TOKEN=… node bench/servers/sdk-fastify-service.js <port>
import { createRemoteVerifier } from '@keyward/sdk';
import { keywardFastify } from '@keyward/sdk/fastify';
import Fastify from 'fastify';

const verifier = createRemoteVerifier({ url: process.env.KEYWARD_URL, verifierToken: process.env.KEYWARD_VERIFIER_TOKEN });
if (!(await verifier.ready(10_000))) throw new Error('the invalidation stream did not connect');
const app = Fastify({ logger: false });
const auth = keywardFastify({ verifier });
await app.register(auth.plugin);
app.get('/v1/traces', { preHandler: auth.require({ permission: 'traces:read' }) }, async (request) => ({ traces: [], keyId: request.keyward.keyId }));
app.get('/v1/open/traces', async () => ({ traces: [], keyId: null }));
app.get('/stats', async () => verifier.stats());
await app.listen({ port: Number(process.argv[2]), host: '127.0.0.1' });
console.log('listening');
