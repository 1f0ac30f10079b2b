// A third reference: a bare node:http server doing the smallest honest version of a verification's
// work: it reads a JSON body of about 100 bytes, JSON.parses it, computes one HMAC-SHA-256 and answers
// about 300 bytes of JSON. A verification can cost about what this costs.
//   node bench/servers/node-echo.js <port>
import { createHmac, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

const secret = randomBytes(32);
createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    let ask;
    try {
      ask = JSON.parse(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    } catch {
      res.writeHead(400).end();
      return;
    }
    const digest = createHmac('sha256', secret).update(String(ask.key)).digest('hex');
    const payload = JSON.stringify({
      valid: true,
      code: 'VALID',
      keyId: `key_${digest.slice(0, 16)}`,
      organizationId: `org_${digest.slice(16, 32)}`,
      keyType: 'service',
      ownerUserId: null,
      projectId: `proj_${digest.slice(32, 48)}`,
      expiresAt: null,
      permissions: [String(ask.permission)],
      explanation: `allowed: ${ask.permission} granted by key binding ADMIN on project proj_${digest.slice(32, 48)}`,
    });
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload) });
    res.end(payload);
  });
}).listen(Number(process.argv[2]), '127.0.0.1', () => console.log('listening'));
