import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createVerifier, type OrgId } from '@keyward/core';
import { openTestStore, type TestStore } from '@keyward/store/testing';
import { call, createOrg, startServer, type OrgFixture, type TestServer } from '../support/server.js';

export { call, createOrg, type OrgFixture, type TestServer };

/** A Keyward server on a SQLite file (so an embedded verifier can open the same database). */
export interface SdkServer extends TestServer {
  readonly store: TestStore;
  readonly pepper: string;
}

export async function startSdkServer(env: Record<string, string> = {}): Promise<SdkServer> {
  const store = await openTestStore('sqlite');
  // Verification-heavy tests must not trip the failed-authentication limit of their own address.
  const server = await startServer({ store, env: { KEYWARD_AUTH_FAILURES_PER_MINUTE: '0', ...env } });
  return {
    ...server,
    store,
    pepper: server.config.peppers.map((p) => `v${p.version}:${p.key.toString('hex')}`).join(','),
    async close() {
      await server.close();
      await store.close();
    },
  };
}

/** A verifier credential, for every organization (`orgId` null) or one. */
export async function verifierToken(server: TestServer, orgId: string | null): Promise<string> {
  return (await createVerifier(server.composed.services.deps, { name: `sdk-${Date.now()}`, orgId: orgId as OrgId | null })).token;
}

/** `POST /api/keys/verify`. */
export async function verifyDirect(server: TestServer, token: string, body: Record<string, unknown>) {
  return call(server, 'POST', '/api/keys/verify', { token, body });
}

export async function revoke(server: TestServer, org: OrgFixture, keyId: string): Promise<void> {
  const answer = await call(server, 'DELETE', `/api/api-keys/${keyId}`, { token: org.adminKey });
  if (answer.status !== 200) throw new Error(`revoke failed: ${answer.status} ${answer.text}`);
}

/** A project in the organization, made through the API. */
export async function createProject(server: TestServer, org: OrgFixture): Promise<string> {
  const answer = await call(server, 'POST', '/api/projects', { token: org.adminKey, body: { name: `p-${Date.now()}-${Math.trunc(performance.now())}` } });
  if (answer.status !== 201) throw new Error(`create project failed: ${answer.status} ${answer.text}`);
  return answer.body.project.id;
}

export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/**
 * An HTTP proxy in front of Keyward that can take the invalidation stream down (cutting open
 * streams and answering 503 to new ones, or silently stalling them) while verification still works.
 */
export interface StreamProxy {
  readonly url: string;
  /** Cuts every open stream and refuses new ones until `streamUp()`. */
  streamDown(): void;
  /** Keeps open streams open but forwards nothing more on them (a silent network failure). */
  stallStreams(): void;
  streamUp(): void;
  readonly openStreams: number;
  close(): Promise<void>;
}

export async function startStreamProxy(target: string): Promise<StreamProxy> {
  const upstream = new URL(target);
  let down = false;
  let stalled = false;
  const streams = new Set<ServerResponse>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const isStream = req.url?.startsWith('/api/keys/invalidations') ?? false;
    if (isStream && down) {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' }).end('{"error":"service_unavailable","message":"down"}');
      return;
    }
    const forward = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (!isStream) {
          answer.pipe(res);
          return;
        }
        streams.add(res);
        res.once('close', () => {
          streams.delete(res);
          answer.destroy();
        });
        answer.on('data', (chunk: Buffer) => {
          if (!stalled) res.write(chunk);
        });
        answer.on('end', () => res.end());
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  const url = await listen(server);
  return {
    url,
    streamDown() {
      down = true;
      for (const res of streams) res.destroy();
    },
    stallStreams() {
      stalled = true;
    },
    streamUp() {
      down = false;
      stalled = false;
    },
    get openStreams() {
      return streams.size;
    },
    close: () => closeServer(server),
  };
}

/** Waits until `check()` is true, polling every 10 ms, for at most `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
