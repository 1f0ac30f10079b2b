// Better Auth's API-key verification over HTTP. Its `verifyApiKey` endpoint is server-only (not
// routed by Better Auth's handler), so a bare node:http route calls it, as an API would.
//   node bench/servers/better-auth-http.js <port> <sqlite file> [FULL|NORMAL]
import { createServer } from 'node:http';
import { createBetterAuth } from '../lib/better-auth.js';

const { auth } = createBetterAuth(process.argv[3], process.argv[4] ?? 'FULL');
createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/verify') {
    res.writeHead(404).end();
    return;
  }
  let text = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => (text += chunk));
  req.on('end', async () => {
    try {
      const { key } = JSON.parse(text);
      const payload = JSON.stringify(await auth.api.verifyApiKey({ body: { key } }));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
      res.end(payload);
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err));
    }
  });
}).listen(Number(process.argv[2]), '127.0.0.1', () => console.log('listening'));
