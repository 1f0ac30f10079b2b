import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './server.js';

/**
 * A redis-server of the test's own, on a free port, with no persistence: a test can kill it, pause
 * it (SIGSTOP: a hung Redis whose connections stay open) and start it again, harming no other test.
 */
export interface OwnRedis {
  readonly url: string;
  /** Kills the process (SIGKILL): connections close at once. */
  kill(): Promise<void>;
  /** SIGSTOP: the process stops answering, its connections stay open. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** Starts a new process on the same port (after `kill`). */
  restart(): Promise<void>;
  /** Ends it whatever its state; for afterAll. */
  stop(): Promise<void>;
  /** How many clients are subscribed to `channel` now (PUBSUB NUMSUB). */
  subscribers(channel: string): Promise<number>;
}

export function redisServerAvailable(): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = spawn('redis-server', ['--version'], { stdio: 'ignore' });
    probe.once('error', () => resolve(false));
    probe.once('exit', (code) => resolve(code === 0));
  });
}

/** The Redis the machine runs (CI starts it), shared by the multi-instance suites. */
export const sharedRedisUrl = process.env.KEYWARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Whether a Redis answers at `url` (by default the shared one). */
export function redisAvailable(url = sharedRedisUrl): Promise<boolean> {
  return answersPing(url);
}

async function answersPing(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 500, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  let paused = false;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (!(await answersPing(url))) {
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const kill = async () => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((r) => running.once('exit', r));
    if (paused) running.kill('SIGCONT');
    paused = false;
    running.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    url,
    kill,
    pause() {
      child?.kill('SIGSTOP');
      paused = true;
    },
    resume() {
      child?.kill('SIGCONT');
      paused = false;
    },
    restart: start,
    stop: kill,
    async subscribers(channel) {
      const client = new Redis(url, { lazyConnect: true, connectTimeout: 500, maxRetriesPerRequest: 0, retryStrategy: () => null });
      client.on('error', () => {});
      try {
        await client.connect();
        const [, count] = (await client.pubsub('NUMSUB', channel)) as [string, number];
        return Number(count);
      } finally {
        client.disconnect();
      }
    },
  };
}
