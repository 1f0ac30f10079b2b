import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseForProcess, freePort, runCli, startServerProcess, type DatabaseForProcess, type ServerProcess } from '../support/process.js';

/**
 * CONTRACT.md, "Several instances and operations": on SIGTERM an instance stops accepting
 * connections, answers what is in flight (requests arriving on already open connections are answered
 * normally, with `Connection: close`; `/readyz` answers 503 from the signal on), flushes usage and
 * exits 0 within 10 s. Driven over raw sockets, so that which connection carries what is certain.
 * @see issue 11
 */

interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** One HTTP/1.1 connection, written and read by hand. */
class RawConnection {
  private buffer = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  readonly closed: Promise<void>;
  isClosed = false;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake?.();
    });
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        this.wake?.();
        resolve();
      }),
    );
    socket.on('error', () => {});
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  write(text: string): void {
    this.socket.write(text);
  }

  /** Reads one response with a content-length body (every answer here has one). */
  async response(timeoutMs = 5000): Promise<RawResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end >= 0) {
        const [statusLine, ...lines] = this.buffer.subarray(0, end).toString('latin1').split('\r\n');
        const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
        const length = Number(headers['content-length'] ?? 0);
        if (this.buffer.length >= end + 4 + length) {
          const body = this.buffer.subarray(end + 4, end + 4 + length).toString('utf8');
          this.buffer = this.buffer.subarray(end + 4 + length);
          return { status: Number(statusLine!.split(' ')[1]), headers, body };
        }
      }
      if (this.isClosed) throw new Error(`connection closed before a whole response: ${this.buffer.toString('latin1')}`);
      if (Date.now() > deadline) throw new Error('no response in time');
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 50);
      });
      this.wake = null;
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}

function get(path: string, token?: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: keyward.test\r\n${token ? `Authorization: Bearer ${token}\r\n` : ''}\r\n`;
}

/** A verify request; `sentBytes` cuts the body short (the rest is sent later, or never). */
function verifyRequest(verifier: string, key: string): { head: string; body: string } {
  const body = JSON.stringify({ key });
  return {
    head: `POST /api/keys/verify HTTP/1.1\r\nHost: keyward.test\r\nAuthorization: Bearer ${verifier}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
    body,
  };
}

async function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

describe('graceful drain on SIGTERM', () => {
  let db: DatabaseForProcess;
  let adminKey: string;
  let verifier: string;
  const processes: ServerProcess[] = [];

  beforeAll(async () => {
    db = await databaseForProcess('sqlite');
    const org = JSON.parse((await runCli(['admin', 'create-org', '--name', 'Drain', '--owner-email', 'drain@example.test', '--json'], db.env)).stdout);
    adminKey = org.adminKey.token;
    verifier = JSON.parse((await runCli(['admin', 'create-verifier', '--name', 'gateway', '--json'], db.env)).stdout).token;
  }, 60_000);
  afterAll(async () => {
    for (const server of processes) await server.stop('SIGKILL');
    await db?.drop();
  });

  async function start(): Promise<{ server: ServerProcess; port: number }> {
    const port = await freePort();
    const server = startServerProcess({ ...db.env, KEYWARD_USAGE_FLUSH_MS: '600000' }, port);
    processes.push(server);
    await server.ready();
    return { server, port };
  }

  it('answers in-flight requests and requests on open connections with Connection: close, refuses new connections, flushes usage, exits 0', async () => {
    const { server, port } = await start();
    // A key of its own, so that its usage counts only the verifications below.
    const created = await fetch(`${server.url}/api/api-keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
      body: JSON.stringify({ name: 'counted', keyType: 'service' }),
    });
    expect(created.status).toBe(201);
    const counted = (await created.json()) as { token: string; apiKey: { id: string } };
    const verify = verifyRequest(verifier, counted.token);

    // Three kept-alive connections, each warmed by one answered request; one with a request in flight.
    const inFlight = await RawConnection.open(port);
    const forReadiness = await RawConnection.open(port);
    const forVerify = await RawConnection.open(port);
    for (const connection of [inFlight, forReadiness, forVerify]) {
      connection.write(verify.head + verify.body);
      const warm = await connection.response();
      expect(warm.status).toBe(200);
      expect(JSON.parse(warm.body).code).toBe('VALID');
      expect(warm.headers.connection).toBe('keep-alive');
    }
    // An event stream must not hold the drain until its deadline.
    const stream = await RawConnection.open(port);
    stream.write(get('/api/keys/invalidations', verifier));
    // A request in flight: headers and half its body sent before the signal.
    inFlight.write(verify.head + verify.body.slice(0, 10));
    await new Promise((resolve) => setTimeout(resolve, 100));

    const signalledAt = performance.now();
    const exited = server.stop('SIGTERM').then((code) => ({ code, afterMs: performance.now() - signalledAt }));
    await new Promise((resolve) => setTimeout(resolve, 150));

    // /readyz answers 503 draining at once, on an open connection, and closes it after.
    forReadiness.write(get('/readyz'));
    const readiness = await forReadiness.response();
    expect(readiness.status).toBe(503);
    expect(JSON.parse(readiness.body)).toEqual({ status: 'draining' });
    expect(readiness.headers.connection).toBe('close');
    await forReadiness.closed;

    // No new connections.
    expect(await refusesConnections(port)).toBe(true);

    // A request arriving on an open connection during the drain is answered normally.
    forVerify.write(verify.head + verify.body);
    const late = await forVerify.response();
    expect(late.status).toBe(200);
    expect(JSON.parse(late.body).code).toBe('VALID');
    expect(late.headers.connection).toBe('close');
    await forVerify.closed;

    // The request in flight completes and is answered.
    inFlight.write(verify.body.slice(10));
    const finished = await inFlight.response();
    expect(finished.status).toBe(200);
    expect(JSON.parse(finished.body).code).toBe('VALID');
    expect(finished.headers.connection).toBe('close');
    await inFlight.closed;

    await stream.closed;
    const { code, afterMs } = await exited;
    expect(code).toBe(0);
    // Idle grace (2 s) and the closing work, well before the 8 s cut: nothing was left hanging.
    expect(afterMs).toBeLessThan(6000);

    // Every verification answered was counted and flushed (3 warm-ups, 2 during the drain).
    const { server: again } = await start();
    const usage = await fetch(`${again.url}/api/api-keys/${counted.apiKey.id}/usage?interval=minute`, { headers: { authorization: `Bearer ${adminKey}` } });
    expect(((await usage.json()) as { totals: { valid: number } }).totals.valid).toBe(5);
    expect(await again.stop('SIGTERM')).toBe(0);
  }, 60_000);

  it('cuts a connection that never finishes its request at the deadline and still exits 0 within 10 s', async () => {
    const { server, port } = await start();
    const stuck = await RawConnection.open(port);
    const verify = verifyRequest(verifier, adminKey);
    stuck.write(verify.head + verify.body.slice(0, 5));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const signalledAt = performance.now();
    const code = await server.stop('SIGTERM');
    const afterMs = performance.now() - signalledAt;
    expect(code).toBe(0);
    expect(afterMs).toBeGreaterThan(7000);
    expect(afterMs).toBeLessThan(10_000);
    expect(stuck.isClosed).toBe(true);
  }, 30_000);

  it('skips the idle grace on SIGINT (Ctrl-C at a terminal) and exits 0 at once', async () => {
    const { server, port } = await start();
    const idle = await RawConnection.open(port);
    idle.write(get('/readyz'));
    expect((await idle.response()).status).toBe(200);
    const signalledAt = performance.now();
    expect(await server.stop('SIGINT')).toBe(0);
    // Under the 2 s idle grace that SIGTERM waits.
    expect(performance.now() - signalledAt).toBeLessThan(2000);
    expect(idle.isClosed).toBe(true);
  }, 30_000);
});
