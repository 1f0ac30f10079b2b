import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, type OrgId } from '@keyward/core';
import { loadConfig } from '@keyward/server';
import { dialects } from '../support/dialects.js';
import { startServer, type TestServer } from '../support/server.js';

interface OpenedStream {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Promise<string>;
  close(): void;
}

/** Opens `GET /api/keys/invalidations` and resolves on the answer's head; a 200 stream stays open until closed. */
function openStream(url: string, token: string): Promise<OpenedStream> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/api/keys/invalidations`, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      const body = new Promise<string>((done) => {
        res.on('end', () => done(text));
        res.on('close', () => done(text));
      });
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

async function until<T>(attempt: () => Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Opens a stream once a slot is free (closes travel to the server asynchronously). */
function openOnceFree(url: string, token: string): Promise<OpenedStream> {
  return until(async () => {
    const stream = await openStream(url, token);
    if (stream.status === 200) return stream;
    stream.close();
    return undefined;
  });
}

describe('a cap on open invalidation streams per verifier credential (issue 10)', () => {
  let server: TestServer;
  const opened: OpenedStream[] = [];
  const verifier = async (orgId: string | null = null) =>
    (await createVerifier(server.composed.services.deps, { name: `cap-${Date.now()}`, orgId: orgId as OrgId | null })).token;

  beforeAll(async () => {
    server = await startServer({ env: { KEYWARD_LOG_LEVEL: 'silent' } });
  });
  afterAll(async () => {
    for (const stream of opened) stream.close();
    await server?.close();
  });

  it('reads KEYWARD_MAX_STREAMS_PER_VERIFIER (default 16) and refuses values below 1', () => {
    const base = { KEYWARD_DATABASE_URL: 'sqlite::memory:', KEYWARD_CONSOLE_DIR: '' };
    expect(loadConfig(base).maxStreamsPerVerifier).toBe(16);
    expect(loadConfig({ ...base, KEYWARD_MAX_STREAMS_PER_VERIFIER: '2' }).maxStreamsPerVerifier).toBe(2);
    expect(() => loadConfig({ ...base, KEYWARD_MAX_STREAMS_PER_VERIFIER: '0' })).toThrow(/KEYWARD_MAX_STREAMS_PER_VERIFIER/);
  });

  it('answers the 17th stream of one credential 429 rate_limited with Retry-After, and other credentials 200', async () => {
    const token = await verifier();
    for (let i = 0; i < 16; i++) {
      const stream = await openStream(server.url, token);
      opened.push(stream);
      expect(stream.status, `stream ${i + 1}`).toBe(200);
    }
    const refused = await openStream(server.url, token);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(JSON.parse(await refused.body)).toMatchObject({ error: 'rate_limited', message: expect.any(String) });

    const another = await openStream(server.url, await verifier());
    opened.push(another);
    expect(another.status).toBe(200);

    // A closed stream frees its slot: the next one opens.
    opened.shift()!.close();
    opened.push(await openOnceFree(server.url, token));
    const again = await openStream(server.url, token);
    expect(again.status).toBe(429);
  });
});

for (const dialect of await dialects()) {
  describe(`invalidation stream slots of clients that hang up, on ${dialect}`, () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startServer({ dialect, env: { KEYWARD_LOG_LEVEL: 'silent', KEYWARD_MAX_STREAMS_PER_VERIFIER: '1' } });
    });
    afterAll(async () => server?.close());

    it('frees the slot of a client gone at any moment, even while its credential was being looked up', async () => {
      // A fresh credential is read from the database (a round trip on PostgreSQL): a client that hangs
      // up meanwhile is gone before its stream opens, and must not keep the only slot.
      for (let i = 0; i < 30; i++) {
        const token = (await createVerifier(server.composed.services.deps, { name: `hangup-${i}`, orgId: null })).token;
        await new Promise<void>((resolve) => {
          const req = httpRequest(`${server.url}/api/keys/invalidations`, { headers: { authorization: `Bearer ${token}` } }, (res) => {
            res.resume();
            req.destroy();
          });
          req.on('error', () => resolve());
          req.on('close', () => resolve());
          req.end();
          setTimeout(() => req.destroy(), i % 5);
        });
        const stream = await openOnceFree(server.url, token);
        expect(stream.status, `client ${i}`).toBe(200);
        stream.close();
      }
    });
  });
}
