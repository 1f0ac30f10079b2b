// The ceiling: Fastify's hello-world JSON route, with Fastify's defaults and no logger.
//   node bench/servers/fastify-hello.js <port>
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/', async () => ({ hello: 'world' }));
await app.listen({ port: Number(process.argv[2]), host: '127.0.0.1' });
console.log('listening');
