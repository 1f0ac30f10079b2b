// A second reference: the same JSON answer from bare node:http (Keyward's verify fast lane answers
// before Fastify's routing, so this is its lower-level ceiling).
//   node bench/servers/node-hello.js <port>
import { createServer } from 'node:http';

const payload = JSON.stringify({ hello: 'world' });
createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}).listen(Number(process.argv[2]), '127.0.0.1', () => console.log('listening'));
