// Token issuance (OAuth 2.0 client credentials, ES256 JWT access tokens): Keyward against
// node-oidc-provider, side by side in one run on the same machine (BENCHMARKING.md). Each server runs
// in its own process pinned to core 0; the load generator (wrk, bench/lib/wrk.js) runs on core 1.
// Both have a few hundred clients and every request uses the next one (HTTP Basic), so neither serves a
// single hot client. Runs are interleaved (Keyward, oidc-provider, Keyward, ...) and medians reported.
//
//   npm run build && node bench/oauth-issuance.js [--connections 50] [--duration 10] [--rounds 3] [--clients 300]
//
// `runOAuthIssuanceBench({ connections, durationSeconds })` returns the rows for `npm run bench`.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort, killWithBench, waitForHttp } from './lib/processes.js';
import { measure, requireWrk, variantsFile } from './lib/wrk.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'packages/server/dist/main.js');

function hasTaskset() {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return cpus().length >= 2;
  } catch {
    return false;
  }
}

/** Starts `node <args>` (pinned to core 0 when possible) and resolves once `ready(output)` is true. */
function startProcess(args, env, ready, pin) {
  const command = pin ? 'taskset' : process.execPath;
  const argv = pin ? ['-c', '0', process.execPath, ...args] : args;
  // Killed with the benchmark however it ends (a failure while setting up included).
  const child = killWithBench(spawn(command, argv, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
  let output = '';
  return new Promise((resolveChild, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start:\n${output}`)), 30_000);
    const onData = (chunk) => {
      output += chunk;
      if (ready(output)) {
        clearTimeout(timer);
        resolveChild(child);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited with ${code}:\n${output}`));
    });
  });
}


function stop(child) {
  return new Promise((resolveStop) => {
    if (child.exitCode !== null) return resolveStop();
    child.removeAllListeners('exit');
    child.once('exit', () => resolveStop());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}

const basic = (id, secret) => {
  const encode = (text) => encodeURIComponent(text).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`;
};

/** Keyward on SQLite with one organization and `clients` service keys (each an OAuth client). */
export async function startKeyward(clients, pin) {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-bench-oauth-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    KEYWARD_DATABASE_URL: `sqlite:${join(dir, 'keyward.db')}`,
    KEYWARD_PORT: String(port),
    KEYWARD_HOST: '127.0.0.1',
    KEYWARD_PUBLIC_URL: url,
    KEYWARD_LOG_LEVEL: 'warn',
    KEYWARD_CONSOLE_DIR: '',
    // The setup makes hundreds of keys in seconds: the per-person creation rate is off for it.
    KEYWARD_KEY_CREATIONS_PER_MINUTE: '0',
  };
  // Operator commands refuse a store that does not exist yet: `migrate` makes it, as an operator would.
  execFileSync(process.execPath, [main, 'migrate'], { cwd: root, env: { ...process.env, ...env }, stdio: 'ignore' });
  const created = JSON.parse(
    execFileSync(process.execPath, [main, 'admin', 'create-org', '--name', 'Bench', '--owner-email', 'bench@example.test', '--json'], {
      cwd: root,
      env: { ...process.env, ...env },
      encoding: 'utf8',
    }),
  );
  // BENCH_KEYWARD_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the server.
  const nodeArgs = (process.env.BENCH_KEYWARD_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = await startProcess([...nodeArgs, main, 'serve'], env, () => true, pin);
  await waitForHttp(`${url}/healthz`);
  const admin = created.adminKey.token;
  const authorizations = [];
  for (let i = 0; i < clients; i++) {
    const response = await fetch(`${url}/api/api-keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `bench client ${i}`, keyType: 'service' }),
    });
    if (response.status !== 201) throw new Error(`creating a key: ${response.status} ${await response.text()}`);
    const { token, apiKey } = await response.json();
    authorizations.push(basic(apiKey.id, token));
  }
  return {
    name: 'keyward',
    url,
    path: '/oauth/token',
    body: 'grant_type=client_credentials',
    authorizations,
    async close() {
      await stop(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** oidc-provider 9 with `clients` confidential clients, client credentials and ES256 JWT access tokens. */
export async function startOidcProvider(clients, pin) {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-bench-oidc-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const script = join(dir, 'provider.mjs');
  writeFileSync(
    script,
    `
import { generateKeyPair, exportJWK } from ${JSON.stringify(pathToFileURL(join(root, 'node_modules/jose/dist/webapi/index.js')).href)};
import Provider from ${JSON.stringify(pathToFileURL(join(root, 'node_modules/oidc-provider/lib/index.js')).href)};
const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), kid: 'bench', alg: 'ES256', use: 'sig' };
const clients = Array.from({ length: ${clients} }, (_, i) => ({
  client_id: 'client-' + i, client_secret: 'secret-' + i + '-' + 'x'.repeat(32),
  grant_types: ['client_credentials'], response_types: [], redirect_uris: [], token_endpoint_auth_method: 'client_secret_basic', id_token_signed_response_alg: 'ES256',
}));
const resource = 'https://api.example.test';
const provider = new Provider(${JSON.stringify(url)}, {
  clients,
  jwks: { keys: [jwk] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({ scope: 'api:read', audience: resource, accessTokenTTL: 600, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } }),
    },
  },
});
provider.listen(${port}, '127.0.0.1', () => console.log('listening'));
`,
  );
  const child = await startProcess([script], {}, (out) => out.includes('listening'), pin);
  const authorizations = Array.from({ length: clients }, (_, i) => basic(`client-${i}`, `secret-${i}-${'x'.repeat(32)}`));
  return {
    name: 'oidc-provider',
    url,
    path: '/token',
    body: 'grant_type=client_credentials',
    authorizations,
    async close() {
      await stop(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One wrk run: every request uses a client drawn at random (its HTTP Basic authorization). */
async function load(target, connections, durationSeconds) {
  target.variants ??= variantsFile('header:Authorization', target.authorizations);
  const result = await measure(
    { url: target.url, path: target.path, method: 'POST', body: target.body, headers: { 'content-type': 'application/x-www-form-urlencoded' }, variants: target.variants, label: target.name },
    { connections, durationSeconds },
  );
  if (result.errors > 0) throw new Error(`${target.name}: ${result.errors} connection errors or timeouts in ${result.total} requests`);
  return { requestsPerSecond: result.requestsPerSecond, p50Ms: result.p50Ms, p99Ms: result.p99Ms };
}

/** A token from the target, checked to be an ES256 JWT, before measuring. */
async function checkTarget(target) {
  const response = await fetch(`${target.url}${target.path}`, {
    method: 'POST',
    headers: { authorization: target.authorizations[0], 'content-type': 'application/x-www-form-urlencoded' },
    body: target.body,
  });
  const body = await response.json();
  let alg = null;
  try {
    alg = JSON.parse(Buffer.from(String(body.access_token).split('.')[0], 'base64url').toString()).alg;
  } catch {
    // not a JWT
  }
  if (response.status !== 200 || alg !== 'ES256') throw new Error(`${target.name} did not issue an ES256 JWT: ${JSON.stringify(body)}`);
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * Rows `{name, requestsPerSecond, p50Ms, p99Ms}` for Keyward and oidc-provider, medians of `rounds`
 * interleaved runs of `durationSeconds` at `connections` connections.
 */
export async function runOAuthIssuanceBench({ connections = 50, durationSeconds = 10, rounds = 3, clients = 300, log = () => {} } = {}) {
  if (!existsSync(main)) throw new Error('Build first: npm run build');
  requireWrk(log);
  const pin = hasTaskset();
  if (pin) execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
  log(`starting Keyward and oidc-provider with ${clients} clients each${pin ? ' (servers on core 0, load on core 1)' : ''}`);
  const targets = [await startKeyward(clients, pin), await startOidcProvider(clients, pin)];
  try {
    for (const target of targets) {
      await checkTarget(target);
      await load(target, connections, 2); // warm-up
    }
    const runs = new Map(targets.map((t) => [t.name, []]));
    for (let round = 1; round <= rounds; round++) {
      for (const target of targets) {
        const run = await load(target, connections, durationSeconds);
        runs.get(target.name).push(run);
        log(`round ${round} ${target.name}: ${Math.round(run.requestsPerSecond)} req/s, p50 ${run.p50Ms} ms, p99 ${run.p99Ms} ms`);
      }
    }
    return targets.map(({ name }) => {
      const list = runs.get(name);
      return {
        name: name === 'keyward' ? 'token issuance: Keyward' : 'token issuance: oidc-provider',
        requestsPerSecond: Math.round(median(list.map((r) => r.requestsPerSecond))),
        p50Ms: median(list.map((r) => r.p50Ms)),
        p99Ms: median(list.map((r) => r.p99Ms)),
      };
    });
  } finally {
    for (const target of targets) await target.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name, fallback) => {
    const index = process.argv.indexOf(`--${name}`);
    return index > 0 ? Number(process.argv[index + 1]) : fallback;
  };
  const rows = await runOAuthIssuanceBench({
    connections: arg('connections', 50),
    durationSeconds: arg('duration', 10),
    rounds: arg('rounds', 3),
    clients: arg('clients', 300),
    log: (line) => console.error(line),
  });
  console.table(rows);
  const [keyward, oidc] = rows;
  console.log(`Keyward issues ${(keyward.requestsPerSecond / oidc.requestsPerSecond).toFixed(2)}x the tokens per second of oidc-provider (target: at least 2x, aim 4x); Keyward p99 ${keyward.p99Ms} ms (target < 20 ms).`);
}
