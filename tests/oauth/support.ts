import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { compose, loadConfig, loggerOptions } from '@keyward/server';
import { openTestStore } from '@keyward/store/testing';
import type { Clock } from '@keyward/core';
import { call, createOrg, type OrgFixture, type TestServer } from '../support/server.js';

/** A free loopback port, so that the server's issuer (its public URL) and its real address agree. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Like `startServer`, but on a port chosen first, with `KEYWARD_PUBLIC_URL` set to the real address:
 * OAuth clients insist that the issuer in the metadata is the URL they fetched it from.
 */
export async function startOAuthServer(options: { clock?: Clock; env?: Record<string, string>; dialect?: 'sqlite' | 'postgres' } = {}): Promise<TestServer> {
  const store = await openTestStore(options.dialect ?? 'sqlite');
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const config = loadConfig({
      KEYWARD_DATABASE_URL: 'sqlite::memory:',
      KEYWARD_PEPPER: randomBytes(32).toString('hex'),
      KEYWARD_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      KEYWARD_PORT: String(port),
      KEYWARD_PUBLIC_URL: url,
      KEYWARD_CONSOLE_DIR: '',
      KEYWARD_LOG_LEVEL: 'info',
      ...options.env,
    });
    const logs: string[] = [];
    const stream = { write: (line: string) => void logs.push(line) };
    const composed = await compose(config, {
      store,
      ...(options.clock ? { clock: options.clock } : {}),
      logger: { ...(loggerOptions(config.logLevel) as object), stream } as never,
    });
    try {
      await composed.app.listen({ port, host: '127.0.0.1' });
    } catch (err) {
      await composed.close();
      if (attempt < 3) continue; // someone took the port in between
      throw err;
    }
    return {
      url,
      composed,
      config,
      logs,
      async close() {
        await composed.close();
        await store.close();
      },
    };
  }
}

/** HTTP Basic credentials as RFC 6749 Appendix B wants them: each part form-encoded, then base64. */
export function basic(id: string, secret: string): string {
  const encode = (text: string) => encodeURIComponent(text).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`;
}

/** The key id (OAuth client_id) of a personal or service key's token. */
export function clientIdOf(token: string): string {
  const match = /([0-9A-Za-z]{16})_[0-9A-Za-z]{49}$/.exec(token);
  if (!match) throw new Error('not a key with a lookup id');
  return `key_${match[1]}`;
}

/** A form POST. */
export async function postForm(
  server: Pick<TestServer, 'url'>,
  path: string,
  params: Record<string, string> | string,
  headers: Record<string, string> = {},
) {
  const body = typeof params === 'string' ? params : new URLSearchParams(params).toString();
  return call(server, 'POST', path, { rawBody: body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });
}

/** A token for a key, through client_secret_basic. */
export async function tokenFor(server: Pick<TestServer, 'url'>, key: string, params: Record<string, string> = {}): Promise<string> {
  const answer = await postForm(server, '/oauth/token', { grant_type: 'client_credentials', ...params }, { authorization: basic(clientIdOf(key), key) });
  if (answer.status !== 200) throw new Error(`token request failed: ${answer.status} ${answer.text}`);
  return answer.body.access_token;
}

/** A controllable clock for the server: starts now, moves only when told. */
export function movableClock(start = Date.now()): Clock & { advance(seconds: number): void; set(ms: number): void } {
  let now = start;
  return {
    now: () => new Date(now),
    advance(seconds) {
      now += seconds * 1000;
    },
    set(ms) {
      now = ms;
    },
  };
}

export { call, createOrg, type OrgFixture, type TestServer };
export { dialects } from '../support/dialects.js';
