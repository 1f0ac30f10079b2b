// A webhook receiver for section (i), in a process of its own as a real receiver would be: answers
// every POST with 204 and counts them; `GET /count` answers `{"total","lastAt"}` (lastAt: Date.now()
// of the last delivery).
//   node bench/servers/webhook-receiver.js <port>
import { createServer } from 'node:http';

let total = 0;
let lastAt = 0;
createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/count') {
    const body = JSON.stringify({ total, lastAt });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    return;
  }
  req.resume();
  req.on('end', () => {
    total++;
    lastAt = Date.now();
    res.writeHead(204).end();
  });
}).listen(Number(process.argv[2]), '127.0.0.1', () => console.log('listening'));
