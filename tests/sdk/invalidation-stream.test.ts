import { request as httpRequest } from 'node:http';
import { openInvalidationStream, type InvalidationEvent } from '@keyward/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrg, revoke, startSdkServer, startStreamProxy, until, verifierToken, type OrgFixture, type SdkServer } from './support.js';

/** Reads the raw stream for a while: what a client sees on the wire. */
function readRaw(url: string, token: string | null, forMs: number): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/api/keys/invalidations`, { headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      const finish = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text });
      res.on('end', finish);
      setTimeout(() => {
        req.destroy();
        finish();
      }, forMs);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('GET /api/keys/invalidations', () => {
  let server: SdkServer;
  let org: OrgFixture;
  let other: OrgFixture;
  let deploymentVerifier: string;
  let orgVerifier: string;

  beforeAll(async () => {
    server = await startSdkServer();
    org = await createOrg(server);
    other = await createOrg(server);
    deploymentVerifier = await verifierToken(server, null);
    orgVerifier = await verifierToken(server, org.orgId);
  });
  afterAll(async () => server?.close());

  it('accepts only verifier credentials: nothing or an API key is 401', async () => {
    const none = await call(server, 'GET', '/api/keys/invalidations');
    expect(none.status).toBe(401);
    expect(none.body.error).toBe('unauthorized');
    const apiKey = await call(server, 'GET', '/api/keys/invalidations', { token: org.adminKey });
    expect(apiKey.status).toBe(401);
  });

  it('opens with retry and a ready event, as text/event-stream, not cached', async () => {
    const raw = await readRaw(server.url, deploymentVerifier, 300);
    expect(raw.status).toBe(200);
    expect(raw.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(raw.headers['cache-control']).toBe('no-store');
    expect(raw.text).toMatch(/^retry: 1000\nevent: ready\ndata: \{"heartbeatMs":200,"freshness":true,"lagMs":\d+\}\n\n/);
    // Every 200 ms, the server vouches for its freshness with its own invalidation lag.
    expect(raw.text).toMatch(/\nevent: fresh\ndata: \{"lagMs":\d+\}\n\n/);
  });

  it("sends an organization-scoped verifier only its organization's events, and a deployment verifier every one", async () => {
    const scoped: InvalidationEvent[] = [];
    const everything: InvalidationEvent[] = [];
    const a = openInvalidationStream({ url: server.url, verifierToken: orgVerifier, onEvent: (e) => scoped.push(e) });
    const b = openInvalidationStream({ url: server.url, verifierToken: deploymentVerifier, onEvent: (e) => everything.push(e) });
    try {
      expect(await a.waitUntilConnected()).toBe(true);
      expect(await b.waitUntilConnected()).toBe(true);
      const mine = await org.createKey(org.owner);
      const theirs = await other.createKey(other.owner);
      await revoke(server, other, theirs.apiKey.id);
      await revoke(server, org, mine.apiKey.id);
      await until(() => everything.some((e) => e.type === 'key' && e.keyId === mine.apiKey.id));
      expect(scoped.every((e) => e.type === 'all' || e.orgId === org.orgId)).toBe(true);
      expect(scoped).toContainEqual({ type: 'key', orgId: org.orgId, keyId: mine.apiKey.id });
      expect(everything).toContainEqual({ type: 'key', orgId: other.orgId, keyId: theirs.apiKey.id });
      expect(everything).toContainEqual({ type: 'key', orgId: org.orgId, keyId: mine.apiKey.id });
      // Nothing but the documented fields travels.
      for (const event of everything) for (const field of Object.keys(event)) expect(['type', 'orgId', 'keyId', 'userId']).toContain(field);
    } finally {
      a.close();
      b.close();
    }
  });

  it('has the event in the subscriber before the revoking request answers (one turn of the event loop later)', async () => {
    const seen = new Set<string>();
    const stream = openInvalidationStream({ url: server.url, verifierToken: orgVerifier, onEvent: (e) => e.type === 'key' && seen.add(e.keyId) });
    try {
      await stream.waitUntilConnected();
      for (let i = 0; i < 20; i++) {
        const created = await org.createKey(org.owner);
        seen.clear();
        await revoke(server, org, created.apiKey.id);
        await new Promise((resolve) => setImmediate(resolve));
        expect(seen.has(created.apiKey.id), `round ${i}`).toBe(true);
      }
    } finally {
      stream.close();
    }
  });

  it('reconnects after the stream is cut, reporting each transition, and gives up silent streams', async () => {
    const proxy = await startStreamProxy(server.url);
    const states: boolean[] = [];
    const errors: string[] = [];
    const stream = openInvalidationStream({
      url: proxy.url,
      verifierToken: orgVerifier,
      onEvent: () => {},
      onStateChange: (up) => states.push(up),
      onError: (err) => errors.push(err.message),
      heartbeatTimeoutMs: 400,
      maxReconnectDelayMs: 200,
    });
    try {
      expect(await stream.waitUntilConnected()).toBe(true);
      proxy.streamDown();
      await until(() => !stream.connected);
      expect(states).toEqual([true, false]);
      await new Promise((r) => setTimeout(r, 300));
      expect(stream.connected).toBe(false); // refused with 503 meanwhile
      proxy.streamUp();
      expect(await stream.waitUntilConnected()).toBe(true);
      expect(states).toEqual([true, false, true]);
      proxy.stallStreams();
      await until(() => !stream.connected, 2_000);
      expect(errors).toContain('the invalidation stream went silent');
    } finally {
      stream.close();
      await proxy.close();
    }
  });

  it('stops vouching for a cache within a second of the last fresh event, even while the connection stays open', async () => {
    const proxy = await startStreamProxy(server.url);
    const stream = openInvalidationStream({ url: proxy.url, verifierToken: orgVerifier, onEvent: () => {}, heartbeatTimeoutMs: 30_000 });
    try {
      expect(await stream.waitUntilConnected()).toBe(true);
      await new Promise((r) => setTimeout(r, 500));
      expect(stream.trusted).toBe(true); // fresh events keep coming
      proxy.stallStreams();
      const stalledAt = performance.now();
      await until(() => !stream.trusted, 2_000);
      expect(performance.now() - stalledAt).toBeLessThan(1_000);
      expect(stream.connected).toBe(true);
    } finally {
      stream.close();
      await proxy.close();
    }
  });
});
