// A fourth reference: the least a verification over bare node:http can do, with nothing of Keyward's:
// a Bearer credential checked by comparing it with the one it was started with, a JSON body of about
// 100 bytes read and parsed, a SHA-256 of the key looked up in a Map (the answer's JSON made once per
// key, as a memoized verdict's is), and the answer written with the headers Keyward's answers carry
// (content type, no-store, the three hygiene headers, a request id and the length). It is the floor
// under `POST /api/keys/verify`: what any verification served by node:http pays.
//   node bench/servers/node-least-verify.js <port> <credential>
import { hash } from 'node:crypto';
import { createServer } from 'node:http';

const credential = `Bearer ${process.argv[3]}`;
const answers = new Map();
const headers = [
  'content-type', 'application/json; charset=utf-8',
  'cache-control', 'no-store',
  'x-content-type-options', 'nosniff',
  'referrer-policy', 'no-referrer',
  'x-frame-options', 'DENY',
];
let requests = 0;

function answerFor(fingerprint, permission) {
  let json = answers.get(fingerprint);
  if (json === undefined) {
    const id = fingerprint.replace(/[^0-9A-Za-z]/g, '').slice(0, 16);
    json = JSON.stringify({
      valid: true,
      code: 'VALID',
      keyId: `key_${id}`,
      organizationId: 'org_0123456789abcdef',
      keyType: 'service',
      ownerUserId: null,
      projectId: 'proj_0123456789abcdef',
      expiresAt: null,
      permissions: [String(permission)],
      explanation: `allowed: ${permission} granted by key binding ADMIN on project proj_0123456789abcdef`,
    });
    answers.set(fingerprint, json);
  }
  return json;
}

createServer((req, res) => {
  if (req.headers.authorization !== credential) {
    res.writeHead(401).end();
    return;
  }
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
    const json = answerFor(hash('sha256', String(ask.key), 'base64'), ask.permission);
    const list = headers.slice();
    list.push('x-request-id', `req_${(requests++).toString(36)}`, 'content-length', String(json.length));
    res.writeHead(200, list);
    res.end(json);
  });
}).listen(Number(process.argv[2]), '127.0.0.1', () => console.log('listening'));
