import { randomBytes, randomInt } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { ownPostgresAvailable, startOwnPostgres, type OwnPostgres } from '../support/own-postgres.js';
import { freePort, runCli, startServerProcess, type ServerProcess } from '../support/process.js';

/**
 * Issue 11, "Faults, each a test with real services", against CONTRACT.md "Several instances and
 * operations" and SECURITY.md R49 (database unavailable: 503 with Retry-After, never a key whose
 * revocation state is unknown) and R50 (a hung dependency holds no request past its bound). Each test
 * runs its own PostgreSQL (initdb into a temporary folder, pg_ctl on a free port) and `keyward serve`
 * processes from the built CLI over it, so that stopping, hanging or killing them harms no other
 * test. Redis faults are in tests/http/resilience.test.ts. Needs `npm run build` first.
 */

const ci = process.env.CI === 'true';
const available = ci || ownPostgresAvailable();
if (!available) console.warn('SKIPPED: fault tests need PostgreSQL binaries (initdb, pg_ctl) and, as root, a postgres user (under CI=true they fail instead).');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How long after the database stops answering an instance may still trust a cached verdict (CONTRACT.md: 1 s). */
const TRUST_BOUND_MS = 1000;
/** The documented bound of a statement (docs/deployment.md, "PostgreSQL": 10 s, 11 s as the client sees it), with scheduling slack. */
const STATEMENT_BOUND_MS = 15_000;
/**
 * SIGKILLs of one instance in the kill test: issue 11 asks for 50. Each restart waits until the new
 * process is ready: 1.6 s at best on the shared 2-core machine this was written on (load average
 * about 10), but 8 to 12 s as the median under the test's own load there (measured: 10 kills took
 * 81 s; in a whole-file run, 11 kills took 127 s), so 50 would take 7 to 10 minutes alone. The kills
 * stop at 50 or when KILL_BUDGET_MS has passed, whichever comes first, but never before MIN_KILLS;
 * the test logs how many it did. In a whole CI run on a quiet machine a restart to ready took 2.2 s
 * at the median (45 kills in 122 s), so the budget of 180 s lets all 50 happen there.
 */
const KILLS = Number(process.env.KEYWARD_FAULT_KILLS ?? 50);
const MIN_KILLS = Math.min(KILLS, 10);
const KILL_BUDGET_MS = 180_000;

interface Answer {
  /** The HTTP status, or why there is none. */
  readonly status: number | 'no answer' | 'unreachable';
  readonly body: any;
  readonly retryAfter: string | null;
  readonly ms: number;
}

/** One request, abandoned after `timeoutMs` (a hang is a finding, not a stuck test). */
async function send(
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; timeoutMs?: number } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const started = performance.now();
  try {
    const response = await fetch(`${base}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 20_000),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: response.status, body, retryAfter: response.headers.get('retry-after'), ms: performance.now() - started };
  } catch (err) {
    const status = (err as Error).name === 'TimeoutError' ? 'no answer' : 'unreachable';
    return { status, body: undefined, retryAfter: null, ms: performance.now() - started };
  }
}

/** A 503 as R49 wants it: the documented error shape, Retry-After, no verdict. */
function isUnavailable(answer: Answer): boolean {
  return (
    answer.status === 503 &&
    typeof answer.body?.error === 'string' &&
    typeof answer.body?.message === 'string' &&
    answer.body.valid === undefined &&
    Number(answer.retryAfter) > 0
  );
}

/** What a list of answers says, for an assertion that shows everything when it fails. */
const summary = (answers: Answer[]) => answers.map((a) => `${a.status}${a.body?.error ? ` ${a.body.error}` : ''}${a.body?.code ? ` ${a.body.code}` : ''} in ${Math.round(a.ms)} ms`);

/** Runs `work` over `items`, `concurrency` at a time. */
async function inParallel<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

interface CreatedKey {
  readonly id: string;
  readonly token: string;
}

/** A Keyward deployment over a PostgreSQL of the test's own: an organization, a verifier credential, instances. */
interface Deployment {
  readonly postgres: OwnPostgres;
  readonly databaseUrl: string;
  readonly env: Record<string, string>;
  readonly adminKey: string;
  readonly verifier: string;
  /** Starts one more `keyward serve` (on `port`, or a free one) and waits until it is ready; killed after the test. */
  instance(port?: number): Promise<ServerProcess>;
  createKey(server: ServerProcess, name: string, timeoutMs?: number): Promise<Answer>;
  revokeKey(server: ServerProcess, id: string, timeoutMs?: number): Promise<Answer>;
  verify(server: ServerProcess, token: string, timeoutMs?: number): Promise<Answer>;
  /** Every key of the organization, every status, through the API. */
  listKeys(server: ServerProcess): Promise<any[]>;
}

describe.runIf(available)('faults, each against a PostgreSQL and server processes of its own', () => {
  /** Run after each test, last registered first, whether it passed or not. */
  let cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    const pending = cleanups.reverse();
    cleanups = [];
    for (const cleanup of pending) await cleanup().catch((err: unknown) => console.warn('cleanup failed:', err));
  });

  /**
   * A PostgreSQL of the test's own with a database, `instances` server processes over it, an
   * organization (its ADMIN service key) and a verifier credential.
   */
  async function deployment(instances: number): Promise<Deployment & { servers: ServerProcess[] }> {
    const postgres = await startOwnPostgres();
    cleanups.push(() => postgres.cleanup());
    const databaseUrl = await postgres.createDatabase('keyward');
    const env = {
      KEYWARD_DATABASE_URL: databaseUrl,
      KEYWARD_PEPPER: randomBytes(32).toString('hex'),
      KEYWARD_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      // These tests create keys faster than a person would (R46 has its own test).
      KEYWARD_KEY_CREATIONS_PER_MINUTE: '0',
    };
    const instance = async (port?: number) => {
      const server = startServerProcess(env, port ?? (await freePort()));
      cleanups.push(async () => void (await server.stop('SIGKILL')));
      await server.ready();
      return server;
    };
    // The first `serve` migrates the new database; the rest may then start alongside the operator commands.
    const first = await instance();
    const [org, verifier, others] = await Promise.all([
      runCli(['admin', 'create-org', '--name', 'Faults', '--owner-email', 'faults@example.test', '--json'], env),
      runCli(['admin', 'create-verifier', '--name', 'gateway', '--json'], env),
      Promise.all(Array.from({ length: instances - 1 }, () => instance())),
    ]);
    expect(org.code, org.stderr).toBe(0);
    expect(verifier.code, verifier.stderr).toBe(0);
    const adminKey = (JSON.parse(org.stdout) as { adminKey: { token: string } }).adminKey.token;
    const verifierToken = (JSON.parse(verifier.stdout) as { token: string }).token;

    return {
      postgres,
      databaseUrl,
      env,
      adminKey,
      verifier: verifierToken,
      servers: [first, ...others],
      instance,
      createKey: (server, name, timeoutMs) => send(server.url, 'POST', '/api/api-keys', { token: adminKey, body: { name, keyType: 'service' }, ...(timeoutMs ? { timeoutMs } : {}) }),
      revokeKey: (server, id, timeoutMs) => send(server.url, 'DELETE', `/api/api-keys/${id}`, { token: adminKey, ...(timeoutMs ? { timeoutMs } : {}) }),
      verify: (server, token, timeoutMs) => send(server.url, 'POST', '/api/keys/verify', { token: verifierToken, body: { key: token }, ...(timeoutMs ? { timeoutMs } : {}) }),
      async listKeys(server) {
        const keys: any[] = [];
        let cursor: string | null = null;
        do {
          const page = await send(server.url, 'GET', `/api/api-keys?status=all&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: adminKey });
          expect(page.status).toBe(200);
          keys.push(...(page.body.data as any[]));
          cursor = page.body.nextCursor as string | null;
        } while (cursor);
        return keys;
      },
    };
  }

  async function createKeys(deployed: Deployment, server: ServerProcess, count: number, prefix: string): Promise<CreatedKey[]> {
    const keys: CreatedKey[] = [];
    for (let i = 0; i < count; i++) {
      const created = await deployed.createKey(server, `${prefix} ${i}`);
      expect(created.status).toBe(201);
      keys.push({ id: created.body.apiKey.id as string, token: created.body.token as string });
    }
    return keys;
  }

  /** Polls until `probe` holds, or fails naming `what`. */
  async function until(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
    const started = performance.now();
    while (!(await probe())) {
      if (performance.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${what}`);
      await sleep(50);
    }
    return performance.now() - started;
  }

  it('PostgreSQL stopped and restarted: bounded 503s with Retry-After, a cached key untrusted after 1 s, recovery without a restart, no acknowledged write lost', async () => {
    const deployed = await deployment(1);
    const server = deployed.servers[0]!;
    const keys = await createKeys(deployed, server, 30, 'before the stop');
    const revoked = keys.slice(0, 10);
    for (const key of revoked) expect((await deployed.revokeKey(server, key.id)).status).toBe(200);
    const cached = keys[20]!;
    const unseen = keys[21]!;
    expect((await deployed.verify(server, cached.token)).body).toMatchObject({ valid: true, code: 'VALID' });
    expect((await deployed.verify(server, revoked[0]!.token)).body).toMatchObject({ valid: false, code: 'REVOKED' });

    // The cached key is verified without pause from the stop on: while the database is down it may be
    // trusted for at most 1 s after the last successful read of the invalidation log, so never after
    // 1 s from the moment the database is surely gone (pg_ctl returned).
    let verifying = true;
    let stoppedAt = Number.POSITIVE_INFINITY;
    const cachedAnswers: { afterStopMs: number; answer: Answer }[] = [];
    const verifyLoop = (async () => {
      while (verifying) {
        const answer = await deployed.verify(server, cached.token, STATEMENT_BOUND_MS);
        cachedAnswers.push({ afterStopMs: performance.now() - stoppedAt, answer });
      }
    })();
    await deployed.postgres.stop();
    stoppedAt = performance.now();

    const outage = await Promise.all([
      send(server.url, 'GET', '/api/api-keys?status=all', { token: deployed.adminKey }),
      deployed.createKey(server, 'while the database is down'),
      deployed.revokeKey(server, keys[25]!.id),
      deployed.verify(server, unseen.token),
      send(server.url, 'GET', '/api/auth/whoami', { token: keys[26]!.token }),
    ]);
    // Connections are refused at once: nothing waits for a timeout.
    expect(outage.filter((answer) => !isUnavailable(answer) || answer.ms > 6000), summary(outage).join('; ')).toEqual([]);

    const readiness = await send(server.url, 'GET', '/readyz', { timeoutMs: 5000 });
    expect(readiness.status).toBe(503);
    expect(readiness.body).toMatchObject({ status: 'unavailable', checks: { database: 'down' } });
    expect(readiness.ms).toBeLessThan(3000);
    expect((await send(server.url, 'GET', '/healthz')).status).toBe(503);

    await sleep(Math.max(0, stoppedAt + TRUST_BOUND_MS + 500 - performance.now()));
    verifying = false;
    await verifyLoop;
    const late = cachedAnswers.filter((entry) => entry.afterStopMs > TRUST_BOUND_MS).map((entry) => entry.answer);
    expect(late.length).toBeGreaterThan(0);
    // Never a verdict on a key whose revocation state is unknown: 503, never VALID, never another 5xx.
    expect(late.filter((answer) => !isUnavailable(answer)), summary(late).join('; ')).toEqual([]);
    const during = cachedAnswers.filter((entry) => entry.afterStopMs >= 0).map((entry) => entry.answer);
    expect(during.filter((answer) => answer.status !== 200 && !isUnavailable(answer)), summary(during).join('; ')).toEqual([]);

    // Back: the same process answers again within a few seconds, nothing restarted.
    await deployed.postgres.start();
    const recoveredInMs = await until(async () => (await send(server.url, 'GET', '/api/api-keys?limit=1', { token: deployed.adminKey, timeoutMs: 5000 })).status === 200, 10_000, 'the API answers 200 again');
    expect(recoveredInMs).toBeLessThan(5000);
    await until(async () => (await send(server.url, 'GET', '/readyz')).body?.checks?.invalidations === 'ok', 5000, '/readyz reports the invalidation log followed again');
    expect((await send(server.url, 'GET', '/readyz')).body).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'absent', invalidations: 'ok', rateLimits: 'local' } });
    expect(server.child.exitCode).toBeNull();

    // Every write acknowledged before the stop is there, revocations included.
    const listed = new Map((await deployed.listKeys(server)).map((key) => [key.id as string, key]));
    for (const key of keys) expect(listed.has(key.id), `acknowledged key ${key.id} is missing`).toBe(true);
    for (const key of revoked) expect(listed.get(key.id).status).toBe('revoked');
    expect((await deployed.verify(server, cached.token)).body).toMatchObject({ valid: true, code: 'VALID' });
    expect((await deployed.verify(server, unseen.token)).body).toMatchObject({ valid: true, code: 'VALID' });
    for (const key of revoked) expect((await deployed.verify(server, key.token)).body).toMatchObject({ valid: false, code: 'REVOKED' });
  }, 90_000);

  it('PostgreSQL hung (SIGSTOP of the postmaster and every backend): 503 with Retry-After within the statement bound, never a hang; after SIGCONT it recovers', async () => {
    const deployed = await deployment(1);
    const server = deployed.servers[0]!;
    const keys = await createKeys(deployed, server, 10, 'before the hang');
    const cached = keys[0]!;
    expect((await deployed.verify(server, cached.token)).body).toMatchObject({ valid: true, code: 'VALID' });

    // Writers keep creating keys, so that some are inside a transaction when the database hangs.
    let writing = true;
    const writes: { startedAt: number; answer: Answer }[] = [];
    const writers = Array.from({ length: 4 }, async (_, n) => {
      for (let i = 0; writing; i++) {
        const startedAt = performance.now();
        writes.push({ startedAt, answer: await deployed.createKey(server, `writer ${n} ${i}`, 40_000) });
      }
    });
    await sleep(500);
    deployed.postgres.pause();
    const pausedAt = performance.now();
    writing = false;
    try {
      const readiness = await send(server.url, 'GET', '/readyz', { timeoutMs: 5000 });
      expect(readiness.status).toBe(503);
      expect(readiness.body).toMatchObject({ status: 'unavailable', checks: { database: 'down' } });
      expect(readiness.ms).toBeLessThan(3000);

      await sleep(Math.max(0, pausedAt + TRUST_BOUND_MS - performance.now()));
      const hung = await Promise.all([
        send(server.url, 'GET', '/api/api-keys?status=all', { token: deployed.adminKey, timeoutMs: 40_000 }),
        deployed.createKey(server, 'while the database hangs', 40_000),
        deployed.revokeKey(server, keys[5]!.id, 40_000),
        deployed.verify(server, keys[6]!.token, 40_000),
        // Cached, but its revocation state can no longer be known: not VALID.
        deployed.verify(server, cached.token, 40_000),
        send(server.url, 'GET', '/api/auth/whoami', { token: keys[7]!.token, timeoutMs: 40_000 }),
      ]);
      expect(hung.filter((answer) => !isUnavailable(answer) || answer.ms > STATEMENT_BOUND_MS), summary(hung).join('; ')).toEqual([]);

      // A write in flight when the database hung answers within the bound too (201 if it committed first).
      await Promise.all(writers);
      const inFlight = writes.filter((write) => write.startedAt + write.answer.ms > pausedAt);
      const late = inFlight.filter((write) => !(write.answer.status === 201 || isUnavailable(write.answer)) || write.startedAt + write.answer.ms - pausedAt > STATEMENT_BOUND_MS);
      expect(late.map((write) => `${summary([write.answer])[0]}, ${Math.round(write.startedAt + write.answer.ms - pausedAt)} ms after the hang`)).toEqual([]);
    } finally {
      deployed.postgres.resume();
    }

    const recoveredInMs = await until(async () => (await send(server.url, 'GET', '/api/api-keys?limit=1', { token: deployed.adminKey, timeoutMs: 15_000 })).status === 200, 20_000, 'the API answers 200 again');
    expect(recoveredInMs).toBeLessThan(15_000);
    await until(async () => (await send(server.url, 'GET', '/readyz')).body?.checks?.invalidations === 'ok', 5000, '/readyz reports the invalidation log followed again');
    expect((await deployed.verify(server, cached.token)).body).toMatchObject({ valid: true, code: 'VALID' });
    const created = await deployed.createKey(server, 'after the hang');
    expect(created.status).toBe(201);
    // Every create answered 201, before or during the hang, is there.
    const listed = new Set((await deployed.listKeys(server)).map((key) => key.id as string));
    const acknowledged = writes.filter((write) => write.answer.status === 201).map((write) => write.answer.body.apiKey.id as string);
    expect(acknowledged.filter((id) => !listed.has(id))).toEqual([]);
  }, 120_000);

  it('the LISTEN connection killed from the server side (pg_terminate_backend): re-established, and no revocation missed on the other instance meanwhile', async () => {
    const deployed = await deployment(2);
    const [a, b] = deployed.servers as [ServerProcess, ServerProcess];
    const admin = new pg.Client({ connectionString: deployed.databaseUrl });
    await admin.connect();
    cleanups.push(() => admin.end());
    const listeners = async () =>
      Number((await admin.query(`select count(*)::int as n from pg_stat_activity where application_name = 'keyward-listen' and datname = current_database()`)).rows[0].n);
    const killListeners = async () =>
      (await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'keyward-listen' and datname = current_database()`)).rowCount ?? 0;
    await until(async () => (await listeners()) === 2, 10_000, 'both instances listen');

    const keys = await createKeys(deployed, a, 40, 'revoked across kills');
    // B has verified every key: each verdict sits in its cache.
    for (const key of keys) expect((await deployed.verify(b, key.token)).body.code).toBe('VALID');

    /** From the revoke's 2xx on A to B's first answer that is not VALID. */
    const delays: number[] = [];
    let kills = 0;
    const batches = 10;
    const perBatch = keys.length / batches;
    for (let batch = 0; batch < batches; batch++) {
      const chunk = keys.slice(batch * perBatch, (batch + 1) * perBatch);
      // Every other batch is revoked while the LISTEN connections are killed: their notifications find nobody.
      const kill = batch % 2 === 0 ? killListeners() : Promise.resolve(0);
      const revoked = await Promise.all(
        chunk.map(async (key) => {
          const answer = await deployed.revokeKey(a, key.id);
          const acknowledgedAt = performance.now();
          expect(answer.status).toBe(200);
          let verdict: Answer;
          do verdict = await deployed.verify(b, key.token);
          while (verdict.body?.code === 'VALID' && performance.now() - acknowledgedAt < 5000);
          delays.push(performance.now() - acknowledgedAt);
          return verdict;
        }),
      );
      kills += (await kill) > 0 ? 1 : 0;
      expect(revoked.map((verdict) => verdict.body?.code)).toEqual(chunk.map(() => 'REVOKED'));
    }
    expect(kills).toBe(batches / 2);
    expect(delays.filter((ms) => ms >= TRUST_BOUND_MS), `delays: ${delays.map(Math.round).join(', ')}`).toEqual([]);

    // Listening again, and nothing missed on either instance.
    await until(async () => (await listeners()) === 2, 5000, 'both LISTEN connections are back');
    for (const key of keys) {
      expect((await deployed.verify(b, key.token)).body.code).toBe('REVOKED');
      expect((await deployed.verify(a, key.token)).body.code).toBe('REVOKED');
    }
  }, 120_000);

  it(`${KILLS} SIGKILLs (at least ${MIN_KILLS} within ${KILL_BUDGET_MS / 1000} s) of one of two instances under create/revoke load: every acknowledged create and revoke kept, no revoked key VALID on either`, async () => {
    const deployed = await deployment(2);
    let a = deployed.servers[0]!;
    const b = deployed.servers[1]!;
    const portA = Number(new URL(a.url).port);

    const created: CreatedKey[] = [];
    const revokedIds = new Set<string>();
    /** Answers that are neither a success nor the killed instance's dropped connection. */
    const unexpected: string[] = [];
    const note = (what: string, answer: Answer) => {
      if (answer.status !== 'unreachable') unexpected.push(`${what}: ${summary([answer])[0]}`);
    };
    let running = true;
    // A few loops in parallel, each alternating between the instances: a key is created on one,
    // verified on the other (its verdict cached there), and every other key revoked on the first.
    const worker = async (n: number) => {
      for (let i = 0; running; i++) {
        const [here, there] = (i + n) % 2 === 0 ? [a, b] : [b, a];
        const made = await deployed.createKey(here, `load ${n} ${i}`, 20_000);
        if (made.status !== 201) {
          note('create', made);
          await sleep(20);
          continue;
        }
        const key = { id: made.body.apiKey.id as string, token: made.body.token as string };
        created.push(key);
        const verdict = await deployed.verify(there, key.token, 20_000);
        if (verdict.status !== 200) note('verify', verdict);
        if (i % 2 === 1) continue;
        const revoked = await deployed.revokeKey(here, key.id, 20_000);
        if (revoked.status === 200) revokedIds.add(key.id);
        else note('revoke', revoked);
      }
    };
    const workers = Array.from({ length: 4 }, (_, n) => worker(n));

    const startedAt = performance.now();
    const restartMs: number[] = [];
    let kills = 0;
    try {
      for (; kills < KILLS && (kills < MIN_KILLS || performance.now() - startedAt < KILL_BUDGET_MS); kills++) {
        await sleep(200 + randomInt(400));
        await a.stop('SIGKILL');
        const restarting = performance.now();
        a = await deployed.instance(portA);
        restartMs.push(performance.now() - restarting);
      }
    } finally {
      running = false;
      await Promise.all(workers);
    }
    const elapsedMs = performance.now() - startedAt;
    console.info(
      `${kills} SIGKILLs in ${Math.round(elapsedMs / 1000)} s (restart to ready: median ${Math.round(restartMs.sort((x, y) => x - y)[restartMs.length >> 1]!)} ms); ` +
        `${created.length} creates and ${revokedIds.size} revokes acknowledged`,
    );
    expect(kills).toBeGreaterThanOrEqual(MIN_KILLS);
    expect(unexpected).toEqual([]);
    expect(created.length).toBeGreaterThan(kills);
    expect(revokedIds.size).toBeGreaterThan(kills / 2);

    // Every acknowledged create is there and every acknowledged revoke holds, read through B.
    const missing: string[] = [];
    const notRevoked: string[] = [];
    await inParallel(created, 8, async (key) => {
      const read = await send(b.url, 'GET', `/api/api-keys/${key.id}`, { token: deployed.adminKey });
      if (read.status !== 200) missing.push(`${key.id}: ${summary([read])[0]}`);
      else if (revokedIds.has(key.id) && read.body.status !== 'revoked') notRevoked.push(`${key.id}: ${read.body.status}`);
    });
    expect(missing).toEqual([]);
    expect(notRevoked).toEqual([]);

    // No revoked key verifies VALID on either instance (B cached many of them as VALID before their revoke).
    const accepted: string[] = [];
    const finalA = a;
    await inParallel(
      created.filter((key) => revokedIds.has(key.id)),
      8,
      async (key) => {
        for (const [name, server] of [['A', finalA], ['B', b]] as const) {
          const verdict = await deployed.verify(server, key.token);
          if (verdict.status !== 200 || verdict.body.code !== 'REVOKED') accepted.push(`${key.id} on ${name}: ${summary([verdict])[0]}`);
        }
      },
    );
    expect(accepted).toEqual([]);
  }, 360_000);
});
