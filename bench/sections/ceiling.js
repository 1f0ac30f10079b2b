// Section (a), the references every HTTP ratio is taken against, measured in the same interleaved
// rounds as the cases they judge: node:http and Fastify answering GET hello-world, and a bare
// node:http server that does a verification's smallest honest work (bench/servers/node-echo.js:
// read a ~100-byte JSON body, parse it, one HMAC-SHA-256, ~300 bytes of JSON back), sent the same
// kind of body and headers as `POST /api/keys/verify`.

import { randomBytes } from 'node:crypto';
import { BENCH_PERMISSION, tokenFactory } from '../lib/keyward-db.js';
import { HTTP_HEADERS, httpRow, profileLines, table } from '../lib/report.js';
import { startScript } from '../lib/servers.js';
import { variantsFile } from '../lib/wrk.js';

export const ECHO_KEYS = 10_000;

export default {
  name: 'ceiling',

  async prepare(ctx) {
    const fastify = ctx.track(await startScript('bench/servers/fastify-hello.js', [], { label: 'Fastify hello-world' }));
    const node = ctx.track(await startScript('bench/servers/node-hello.js', [], { label: 'node:http hello-world' }));
    const echo = ctx.track(await startScript('bench/servers/node-echo.js', [], { label: 'node:http POST-JSON echo' }));
    const tokenOf = tokenFactory(`bench-echo-${randomBytes(4).toString('hex')}`);
    const bodies = Array.from({ length: ECHO_KEYS }, (_, i) => JSON.stringify({ key: tokenOf(i).token, permission: BENCH_PERMISSION }));
    // A stand-in for the verifier credential, as long as one.
    const credential = `kwv_${randomBytes(48).toString('base64url').slice(0, 64)}`;
    const least = ctx.track(await startScript('bench/servers/node-least-verify.js', [credential], { label: 'node:http least verification' }));
    const probe = await fetch(`${echo.url}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[0] });
    const answer = await probe.text();
    if (probe.status !== 200) throw new Error(`the echo server answered ${probe.status}`);
    ctx.results.ceiling = { echoBodyBytes: Buffer.byteLength(bodies[0]), echoAnswerBytes: Buffer.byteLength(answer), credentialLength: credential.length };
    const server = (s) => ({ pids: [s.pid], label: s.label });
    return [
      { id: 'hello-fastify', section: 'ceiling', label: 'Fastify hello-world JSON (GET)', connections: 50, target: { url: fastify.url, ...server(fastify) }, profile: [{ pid: fastify.pid, label: 'server' }] },
      { id: 'hello-node', section: 'ceiling', label: 'node:http hello-world JSON (GET)', connections: 50, target: { url: node.url, ...server(node) }, profile: [{ pid: node.pid, label: 'server' }] },
      {
        id: 'echo-node',
        section: 'ceiling',
        label: `node:http POST-JSON echo (random of ${ECHO_KEYS.toLocaleString('en-US')} bodies)`,
        connections: 50,
        target: {
          url: echo.url,
          method: 'POST',
          headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
          variants: variantsFile('body', bodies),
          ...server(echo),
        },
        profile: [{ pid: echo.pid, label: 'server' }],
      },
      {
        id: 'least-node',
        section: 'ceiling',
        label: `node:http least verification (random of ${ECHO_KEYS.toLocaleString('en-US')} keys)`,
        connections: 50,
        target: {
          url: least.url,
          method: 'POST',
          headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
          variants: variantsFile('body', bodies),
          ...server(least),
        },
        profile: [{ pid: least.pid, label: 'server' }],
      },
    ];
  },

  render(ctx, report) {
    const rows = ['hello-node', 'hello-fastify', 'echo-node', 'least-node'].map(ctx.row).filter(Boolean);
    if (rows.length === 0) return;
    const hello = ctx.row('hello-node');
    const echo = ctx.results.ceiling;
    report.push('## (a) The references: bare servers over HTTP');
    report.push('');
    report.push(
      `\`bench/servers/node-hello.js\` and \`bench/servers/fastify-hello.js\` answer \`GET /\` with \`{"hello":"world"}\`; \`bench/servers/node-echo.js\` reads a POST body of ${echo?.echoBodyBytes ?? 'n/a'} bytes (a key and a permission, as sent to \`POST /api/keys/verify\`, with a Bearer credential of ${echo?.credentialLength ?? 'n/a'} characters in \`Authorization\`), \`JSON.parse\`s it, computes one HMAC-SHA-256 of the key and answers ${echo?.echoAnswerBytes ?? 'n/a'} bytes of JSON. \`bench/servers/node-least-verify.js\` is the least a verification served by node:http can do, nothing of Keyward's: the credential compared with the one it was started with, the same bodies parsed, a SHA-256 of the key looked up in a Map (each key's answer made once), and the answer written with the headers Keyward's answers carry (content type, \`no-store\`, three hygiene headers, a request id, the length): the floor under \`POST /api/keys/verify\`. They are measured in the same interleaved rounds as the cases they are compared with.`,
    );
    report.push('');
    report.push(table(HTTP_HEADERS, rows.map((row) => httpRow(row, hello))));
    report.push('');
    const profiles = profileLines(rows);
    if (profiles.length) {
      report.push('Where each server spent its CPU time, from one more run with its CPU profiler on (self time; shares of the time the server was not idle):');
      report.push('');
      report.push(...profiles);
      report.push('');
    }
  },
};
