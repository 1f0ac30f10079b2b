import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier } from '@keyward/core';
import { loadConfig } from '@keyward/server';
import { openStore } from '@keyward/store';
import { openTestStore, postgresAvailable, testPostgresUrl, type TestStore } from '@keyward/store/testing';
import type { Store } from '@keyward/core';
import { call, createOrg, freePort, startServer, type TestServer } from '../support/server.js';

/**
 * CONTRACT.md, "Several instances and operations": `GET /readyz` with per-check status (503 when the
 * database cannot answer; Redis down is reported, not fatal) and `GET /metrics` in Prometheus text,
 * only with `KEYWARD_METRICS_TOKEN` as a Bearer token (else 404). @see issue 11
 */
const metricsToken = `mt_${randomBytes(16).toString('hex')}`;
const servers: TestServer[] = [];
const stores: Store[] = [];
afterAll(async () => {
  for (const server of servers) await server.close().catch(() => {});
  for (const store of stores) await store.close().catch(() => {});
});

async function started(env: Record<string, string> = {}, store?: Store): Promise<TestServer> {
  const server = await startServer({ env, ...(store ? { store } : {}) });
  servers.push(server);
  if (store) stores.push(store);
  return server;
}

async function scrape(server: TestServer, token: string | undefined = metricsToken) {
  return call(server, 'GET', '/metrics', { token });
}

/** The value of one sample (`name{labels} value`) in Prometheus text, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

async function verifyingFixture(server: TestServer) {
  const org = await createOrg(server);
  const verifier = (await createVerifier(server.composed.services.deps, { name: 'gateway', orgId: null })).token;
  const { token, apiKey } = await org.createKey(org.owner);
  const verify = async (key = token) => (await call(server, 'POST', '/api/keys/verify', { token: verifier, body: { key } })).body.code as string;
  return { org, verifier, token, apiKey, verify };
}

describe('GET /readyz', () => {
  it('answers 200 ready with each check: database ok, redis absent without KEYWARD_REDIS_URL, invalidations ok', async () => {
    const server = await started();
    const answer = await call(server, 'GET', '/readyz');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'absent', invalidations: 'ok', rateLimits: 'local' } });
    expect(answer.headers.get('cache-control')).toBe('no-store');
    // Liveness is unchanged.
    expect((await call(server, 'GET', '/healthz')).body).toEqual({ status: 'ok' });
  });

  it('reports Redis ok, then down once it stops, and stays ready: Redis is an accelerator', async () => {
    const redis = await startRedis();
    try {
      const server = await started({ KEYWARD_REDIS_URL: redis.url, KEYWARD_REDIS_PREFIX: `kw-${randomBytes(4).toString('hex')}` });
      const before = await call(server, 'GET', '/readyz');
      expect(before.status).toBe(200);
      expect(before.body.checks).toEqual({ database: 'ok', redis: 'ok', invalidations: 'ok', rateLimits: 'shared' });
      await redis.stop();
      const during = await call(server, 'GET', '/readyz');
      expect(during.status).toBe(200);
      // Rate limits and credits are counted by this instance alone meanwhile.
      expect(during.body).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'down', invalidations: 'ok', rateLimits: 'alone' } });
      // Verification goes on from the database.
      const { verify } = await verifyingFixture(server);
      expect(await verify()).toBe('VALID');
    } finally {
      await redis.stop();
    }
  });
});

const postgresReady = process.env.CI === 'true' || (await postgresAvailable());

describe.runIf(postgresReady)('GET /readyz when PostgreSQL cannot answer', () => {
  let direct: TestStore;
  let proxied: Store;
  let server: TestServer;
  const proxy = new PausableProxy(new URL(testPostgresUrl));

  beforeAll(async () => {
    direct = await openTestStore('postgres');
    await proxy.listen();
    const url = new URL(testPostgresUrl);
    url.host = `127.0.0.1:${proxy.port}`;
    proxied = await openStore(url.toString(), { schema: direct.schema });
    server = await started({ KEYWARD_METRICS_TOKEN: metricsToken, KEYWARD_USAGE_FLUSH_MS: '100' }, proxied);
  });
  afterAll(async () => {
    proxy.resume();
    await server?.close().catch(() => {});
    await proxied?.close().catch(() => {});
    await direct?.close();
    await proxy.close();
  });

  it('answers 503 with the failing check within its 1 s bound while the database hangs, and ready again once it answers', async () => {
    expect((await call(server, 'GET', '/readyz')).status).toBe(200);
    proxy.pause();
    const startedAt = performance.now();
    const during = await call(server, 'GET', '/readyz');
    const elapsedMs = performance.now() - startedAt;
    expect(during.status).toBe(503);
    expect(during.body.status).toBe('unavailable');
    expect(during.body.checks.database).toBe('down');
    // The log could not be read for longer than 900 ms either: caches are bypassed, and it says so.
    expect(during.body.checks.invalidations).toBe('stale');
    expect(during.headers.get('retry-after')).toEqual(expect.any(String));
    expect(elapsedMs).toBeGreaterThanOrEqual(900);
    expect(elapsedMs).toBeLessThan(2500);
    proxy.resume();
    await expect.poll(async () => (await call(server, 'GET', '/readyz')).status, { timeout: 10_000, interval: 100 }).toBe(200);
  });

  it('answers 503 at once when the database refuses connections, counts the failed usage flushes, and recovers', async () => {
    const { verify } = await verifyingFixture(server);
    expect(await verify()).toBe('VALID');
    const failuresBefore = sample((await scrape(server)).text, 'keyward_usage_flush_failures_total') ?? 0;
    await proxy.cut();
    // Usage counted now can only be flushed once the database is back.
    for (let i = 0; i < 5; i++) expect(await verify()).toBe('VALID');
    const during = await call(server, 'GET', '/readyz');
    expect(during.status).toBe(503);
    expect(during.body).toMatchObject({ status: 'unavailable', checks: { database: 'down', redis: 'absent' } });
    await expect.poll(async () => sample((await scrape(server)).text, 'keyward_usage_flush_failures_total') ?? 0, { timeout: 5000 }).toBeGreaterThan(failuresBefore);
    await proxy.listen();
    await expect.poll(async () => (await call(server, 'GET', '/readyz')).status, { timeout: 15_000, interval: 200 }).toBe(200);
  });
});

describe('GET /metrics', () => {
  it('is 404, exactly like a path that does not exist, without KEYWARD_METRICS_TOKEN', async () => {
    const server = await started();
    const metrics = await scrape(server, 'anything-at-all-1234');
    const nothing = await call(server, 'GET', '/nothing-here', { token: 'anything-at-all-1234' });
    expect(metrics.status).toBe(404);
    expect(withoutRequestId(metrics.body)).toEqual({ ...withoutRequestId(nothing.body), message: 'There is nothing at GET /metrics.' });
    expect(metrics.text).not.toContain('keyward_');
  });

  it('is 404 without the token or with a wrong one, and Prometheus text with it', async () => {
    const server = await started({ KEYWARD_METRICS_TOKEN: metricsToken });
    for (const token of ['', `${metricsToken}x`, metricsToken.slice(0, -1), `mt_${randomBytes(16).toString('hex')}`]) {
      const answer = await scrape(server, token);
      expect(answer.status, String(token)).toBe(404);
      expect(answer.body.error).toBe('not_found');
    }
    const basic = await call(server, 'GET', '/metrics', { headers: { authorization: `Basic ${metricsToken}` } });
    expect(basic.status).toBe(404);
    const answer = await scrape(server);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    for (const declared of [
      '# TYPE keyward_verifications_total counter',
      '# TYPE keyward_verify_duration_seconds histogram',
      '# TYPE keyward_verify_errors_total counter',
      '# TYPE keyward_verifier_cache_entries gauge',
      '# TYPE keyward_verifier_cache_hits_total counter',
      '# TYPE keyward_verifier_cache_misses_total counter',
      '# TYPE keyward_usage_flush_duration_seconds histogram',
      '# TYPE keyward_usage_flush_failures_total counter',
      '# TYPE keyward_invalidations_received_total counter',
      '# TYPE keyward_invalidation_lag_seconds gauge',
      '# TYPE keyward_webhook_deliveries_total counter',
      // Process defaults.
      '# TYPE process_cpu_seconds_total counter',
      '# TYPE process_resident_memory_bytes gauge',
      '# TYPE nodejs_eventloop_lag_seconds gauge',
    ]) {
      expect(answer.text).toContain(declared);
    }
  });

  it('counts verifications by code, their duration, cache hits and misses, usage flushes, and invalidations read from the log', async () => {
    // Two instances on one SQLite file: a revoke made on B reaches A through the store's log.
    const file = join(mkdtempSync(join(tmpdir(), 'keyward-metrics-')), 'keyward.db');
    const storeA = await openStore(`sqlite:${file}`, { migrate: true });
    const storeB = await openStore(`sqlite:${file}`);
    const server = await started({ KEYWARD_METRICS_TOKEN: metricsToken, KEYWARD_USAGE_FLUSH_MS: '50' }, storeA);
    const secrets = { KEYWARD_PEPPER: server.config.peppers[0]!.key.toString('hex'), KEYWARD_ENCRYPTION_KEY: server.config.encryptionKey.toString('hex') };
    const other = await started(secrets, storeB);
    const { org, apiKey, verify } = await verifyingFixture(server);
    const before = (await scrape(server)).text;
    const receivedBefore = sample(before, 'keyward_invalidations_received_total')!;
    const hitsBefore = sample(before, 'keyward_verifier_cache_hits_total')!;
    const missesBefore = sample(before, 'keyward_verifier_cache_misses_total')!;
    for (let i = 0; i < 7; i++) expect(await verify()).toBe('VALID');
    expect(await verify(`${org.adminKey.slice(0, -4)}zzzz`)).not.toBe('VALID');
    expect((await call(other, 'DELETE', `/api/api-keys/${apiKey.id}`, { token: org.owner.session })).status).toBe(200);
    await expect.poll(() => verify(), { timeout: 1000, interval: 20 }).toBe('REVOKED');
    expect(await verify()).toBe('REVOKED');
    const error = await call(server, 'POST', '/api/keys/verify', { token: 'not-a-verifier', body: { key: 'x' } });
    expect(error.status).toBe(401);

    await expect.poll(async () => sample((await scrape(server)).text, 'keyward_usage_flush_duration_seconds_count') ?? 0, { timeout: 5000 }).toBeGreaterThan(0);
    const after = (await scrape(server)).text;
    const counted = (code: string) => sample(after, `keyward_verifications_total{code="${code}"}`) ?? 0;
    const total = after
      .split('\n')
      .filter((line) => line.startsWith('keyward_verifications_total{'))
      .reduce((sum, line) => sum + Number(line.split(' ')[1]), 0);
    expect(counted('VALID')).toBeGreaterThanOrEqual(7);
    expect(counted('REVOKED')).toBeGreaterThanOrEqual(2);
    // Every verdict is counted once: 7 valid, 1 mistyped key, the polls until REVOKED, 1 more.
    expect(total - counted('VALID') - counted('REVOKED')).toBe(1);
    expect(sample(after, 'keyward_verify_duration_seconds_count')).toBe(total);
    expect(sample(after, 'keyward_verify_duration_seconds_bucket{le="+Inf"}')).toBe(total);
    expect(sample(after, 'keyward_verify_duration_seconds_sum')).toBeGreaterThan(0);
    expect(sample(after, 'keyward_verify_errors_total{status="401"}')).toBe(1);
    expect(sample(after, 'keyward_verifier_cache_hits_total')! - hitsBefore).toBeGreaterThanOrEqual(6);
    expect(sample(after, 'keyward_verifier_cache_misses_total')! - missesBefore).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'keyward_verifier_cache_entries')).toBeGreaterThan(0);
    expect(sample(after, 'keyward_usage_flush_failures_total')).toBe(0);
    expect(sample(after, 'keyward_invalidations_received_total')! - receivedBefore).toBeGreaterThanOrEqual(1);
    const lag = sample(after, 'keyward_invalidation_lag_seconds')!;
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(lag).toBeLessThan(0.9);
  });

  it('keeps each instance its own series, even in one process', async () => {
    const a = await started({ KEYWARD_METRICS_TOKEN: metricsToken });
    const b = await started({ KEYWARD_METRICS_TOKEN: metricsToken });
    const { verify } = await verifyingFixture(a);
    expect(await verify()).toBe('VALID');
    expect(sample((await scrape(a)).text, 'keyward_verifications_total{code="VALID"}')).toBe(1);
    expect(sample((await scrape(b)).text, 'keyward_verifications_total{code="VALID"}')).toBeUndefined();
  });

  it('refuses a guessable KEYWARD_METRICS_TOKEN at start', () => {
    const base = { KEYWARD_DATABASE_URL: 'sqlite::memory:', KEYWARD_CONSOLE_DIR: '' };
    expect(() => loadConfig({ ...base, KEYWARD_METRICS_TOKEN: 'short' })).toThrow(/KEYWARD_METRICS_TOKEN/);
    expect(() => loadConfig({ ...base, KEYWARD_METRICS_TOKEN: 'has a space in it, sixteen+' })).toThrow(/KEYWARD_METRICS_TOKEN/);
    expect(loadConfig({ ...base, KEYWARD_METRICS_TOKEN: metricsToken }).metricsToken).toBe(metricsToken);
    expect(loadConfig(base).metricsToken).toBeNull();
  });
});

function withoutRequestId(body: Record<string, unknown>): Record<string, unknown> {
  const { requestId: _requestId, ...rest } = body;
  return rest;
}

/** A redis-server of this test's own on a free port, so that stopping it harms no other test. */
async function startRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('redis-server did not start');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A TCP proxy to PostgreSQL that can stop forwarding (a hung database), refuse (down) and come back. */
class PausableProxy {
  private server: Server | null = null;
  private readonly pairs = new Set<[Socket, Socket]>();
  private paused = false;
  port = 0;

  constructor(private readonly target: URL) {}

  listen(): Promise<void> {
    return new Promise((resolve) => {
      this.server = createServer((client) => {
        const upstream = connect(Number(this.target.port || 5432), this.target.hostname);
        const pair: [Socket, Socket] = [client, upstream];
        this.pairs.add(pair);
        client.pipe(upstream).pipe(client);
        if (this.paused) this.hold(pair);
        const drop = () => {
          this.pairs.delete(pair);
          client.destroy();
          upstream.destroy();
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
      });
      this.server.listen(this.port, '127.0.0.1', () => {
        const address = this.server!.address();
        this.port = typeof address === 'object' && address ? address.port : this.port;
        resolve();
      });
    });
  }

  /** Bytes stop flowing both ways; connections stay open. */
  pause(): void {
    this.paused = true;
    for (const pair of this.pairs) this.hold(pair);
  }

  resume(): void {
    this.paused = false;
    for (const [client, upstream] of this.pairs) {
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
      upstream.resume();
    }
  }

  /** Every connection is dropped and new ones are refused until `listen` again. */
  async cut(): Promise<void> {
    for (const [client, upstream] of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
    await this.close();
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private hold([client, upstream]: [Socket, Socket]): void {
    client.unpipe(upstream);
    upstream.unpipe(client);
    client.pause();
    upstream.pause();
  }
}
