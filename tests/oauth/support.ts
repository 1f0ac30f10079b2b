import type { Clock } from '@keyward/core';
import { call, createOrg, startServer, type OrgFixture, type TestServer } from '../support/server.js';

/**
 * `startServer` (which runs on a port chosen first, with `KEYWARD_PUBLIC_URL` set to the real
 * address: OAuth clients insist that the issuer in the metadata is the URL they fetched it from).
 */
export function startOAuthServer(options: { clock?: Clock; env?: Record<string, string>; dialect?: 'sqlite' | 'postgres' } = {}): Promise<TestServer> {
  return startServer(options);
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
