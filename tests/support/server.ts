import { randomBytes } from 'node:crypto';
import { createServer as createNetServer } from 'node:net';
import { compose, loadConfig, loggerOptions, type Composed, type Config } from '@keyward/server';
import { openTestStore } from '@keyward/store/testing';
import { createOrganization, type Clock, type CoreLimits, type Store } from '@keyward/core';

export type Dialect = 'sqlite' | 'postgres';

export interface TestServer {
  readonly url: string;
  readonly composed: Composed;
  readonly config: Config;
  /** Everything the logger wrote, to search for leaked secrets. */
  readonly logs: string[];
  close(): Promise<void>;
}

export interface StartOptions {
  readonly dialect?: Dialect;
  /** An open store to serve from (several instances over one database); closed by its opener. */
  readonly store?: Store;
  readonly env?: Record<string, string>;
  readonly clock?: Clock;
  readonly limits?: Partial<CoreLimits>;
}

/** A free loopback port, so that the server's public URL and its real address agree. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts the composed server over a fresh store of the dialect, on a port chosen first, with
 * `KEYWARD_PUBLIC_URL` set to its real address (links it prints and OAuth's issuer are right) unless
 * `env` sets one.
 */
export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const store = options.store ?? (await openTestStore(options.dialect ?? 'sqlite'));
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    let config: Config;
    try {
      config = loadConfig({
        KEYWARD_DATABASE_URL: 'sqlite::memory:',
        KEYWARD_PEPPER: randomBytes(32).toString('hex'),
        KEYWARD_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
        KEYWARD_PORT: String(port),
        KEYWARD_PUBLIC_URL: url,
        KEYWARD_CONSOLE_DIR: '',
        KEYWARD_LOG_LEVEL: 'info',
        // Suites create many keys per person in a few seconds; tests/http/key-creation-rate.test.ts
        // covers the limit (R46) and its default.
        KEYWARD_KEY_CREATIONS_PER_MINUTE: '0',
        ...options.env,
      });
    } catch (err) {
      if (!options.store) await store.close();
      throw err;
    }
    const logs: string[] = [];
    const stream = { write: (line: string) => void logs.push(line) };
    const composed = await compose(config, {
      store,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.limits ? { limits: options.limits } : {}),
      logger: { ...(loggerOptions(config.logLevel) as object), stream } as never,
    });
    try {
      await composed.app.listen({ port, host: '127.0.0.1' });
    } catch (err) {
      await composed.close();
      if (attempt < 3) continue; // someone took the port in between
      if (!options.store) await store.close();
      throw err;
    }
    return {
      url,
      composed,
      config,
      logs,
      async close() {
        await composed.close();
        if (!options.store) await store.close();
      },
    };
  }
}

export interface ApiAnswer<T = any> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
  readonly text: string;
}

/** One HTTP call with fetch; the body is parsed when it is JSON. */
export async function call<T = any>(
  server: Pick<TestServer, 'url'>,
  method: string,
  path: string,
  options: { token?: string | undefined; body?: unknown; headers?: Record<string, string>; rawBody?: string } = {},
): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${server.url}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body: parsed as T, headers: response.headers, text };
}

export interface Person {
  readonly userId: string;
  readonly email: string;
  readonly password: string;
  readonly session: string;
}

export interface OrgFixture {
  readonly orgId: string;
  readonly owner: Person;
  /** The org-wide ADMIN service key created with the organization. */
  readonly adminKey: string;
  addMember(role: 'ADMIN' | 'MEMBER' | 'VIEWER' | 'OWNER'): Promise<Person>;
  /** A personal key of the person, made through the API. */
  createKey(person: Person | string, body?: Record<string, unknown>): Promise<{ token: string; apiKey: any; warnings: any[] }>;
}

let counter = 0;
const unique = () => `${Date.now().toString(36)}${(counter++).toString(36)}${randomBytes(3).toString('hex')}`;

/** An organization made as `keyward admin create-org` makes it, with helpers that go through the API. */
export async function createOrg(server: TestServer, name = `Org ${unique()}`): Promise<OrgFixture> {
  const password = `pw-${unique()}`;
  const email = `owner-${unique()}@example.test`;
  const { deps } = server.composed.services;
  const created = await createOrganization(deps, { name, ownerEmail: email, ownerPassword: password, bootstrap: true, createAdminKey: true });
  const login = await call(server, 'POST', '/api/auth/login', { body: { email, password } });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${login.text}`);
  const orgId = created.organization.id;
  const owner: Person = { userId: created.ownerUserId, email, password, session: login.body.sessionToken };
  const adminKey = created.adminKey!.token;
  const orgHeaders = { 'x-organization-id': orgId };
  return {
    orgId,
    owner,
    adminKey,
    async addMember(role) {
      const memberEmail = `${role.toLowerCase()}-${unique()}@example.test`;
      const memberPassword = `pw-${unique()}`;
      const invited = await call(server, 'POST', '/api/members', { token: owner.session, headers: orgHeaders, body: { email: memberEmail, role } });
      if (invited.status !== 201) throw new Error(`invite failed: ${invited.status} ${invited.text}`);
      const accepted = await call(server, 'POST', '/api/invitations/accept', { body: { token: invited.body.invitation.token, password: memberPassword } });
      if (accepted.status !== 200) throw new Error(`accept failed: ${accepted.status} ${accepted.text}`);
      const memberLogin = await call(server, 'POST', '/api/auth/login', { body: { email: memberEmail, password: memberPassword } });
      return { userId: invited.body.member.userId, email: memberEmail, password: memberPassword, session: memberLogin.body.sessionToken };
    },
    async createKey(person, body = {}) {
      const token = typeof person === 'string' ? person : person.session;
      const created = await call(server, 'POST', '/api/api-keys', { token, headers: orgHeaders, body: { name: `key ${unique()}`, ...body } });
      if (created.status !== 201) throw new Error(`create key failed: ${created.status} ${created.text}`);
      return created.body;
    },
  };
}

/** The dialects to run black-box suites against: SQLite always, PostgreSQL when reachable (always under CI). */
export { postgresAvailable } from '@keyward/store/testing';
