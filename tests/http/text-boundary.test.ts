import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, type OrgId } from '@keyward/core';
import { call, createOrg, startServer, type ApiAnswer, type OrgFixture, type Person, type TestServer } from '../support/server.js';
import { dialects } from '../support/dialects.js';

/**
 * Text at the boundary (issue 10, item 6): every text field of every route refuses NUL, the other
 * control characters and unpaired surrogates with 422 `validation_failed` and a reason naming the
 * field, stores nothing, and answers the same on SQLite and PostgreSQL (whose text type cannot hold
 * NUL: these were 500s there, and lone surrogates were stored as U+FFFD). Descriptions alone keep tab
 * and line breaks. The verify body's `key` and a leak report's `key` are opaque credentials: a NUL
 * there is simply a key that matches nothing.
 */

/** Strings no single-line field takes, by what is wrong with them. */
const badSingleLine: Record<string, string> = {
  NUL: 'a\u0000b',
  BEL: 'a\u0007b',
  ESC: 'a\u001b[31mb',
  DEL: 'a\u007fb',
  'C1 NEL': 'a\u0085b',
  'line feed': 'a\nb',
  'carriage return': 'a\rb',
  tab: 'a\tb',
  'line separator': 'a\u2028b',
  'lone high surrogate': 'x\ud800',
  'lone low surrogate': '\udc00x',
  'reversed pair': 'x\ude00\ud83d',
};
/** What a multi-line field (a description) still refuses. */
const badMultiLine: Record<string, string> = {
  NUL: 'a\u0000b',
  BEL: 'a\u0007b',
  ESC: 'a\u001b[31mb',
  DEL: 'a\u007fb',
  'C1 NEL': 'a\u0085b',
  'lone high surrogate': 'x\ud800',
  'lone low surrogate': '\udc00x',
};
/** Percent-encoded bad text for query strings and path segments (a lone surrogate has no UTF-8 form to send). */
const badEncoded: Record<string, string> = {
  NUL: 'a%00b',
  BEL: 'a%07b',
  ESC: 'a%1Bb',
  DEL: 'a%7Fb',
  'C1 NEL': 'a%C2%85b',
  'line feed': 'a%0Ab',
  tab: 'a%09b',
};

type Json = Record<string, unknown>;

interface BodyCase {
  readonly route: string;
  readonly path: () => string;
  readonly token: () => string;
  /** A body the route would accept but for the field under test. */
  readonly body: () => Json;
  readonly fields: readonly { readonly field: string; readonly multiline?: boolean }[];
  /** What the route would change, read before and after: equal when nothing was stored. */
  readonly state?: () => Promise<unknown>;
}

interface UrlCase {
  readonly route: string;
  /** The URL with `value` (already percent-encoded) where the field goes. */
  readonly url: (value: string) => string;
  readonly field: string;
  readonly token: () => string;
  readonly body?: () => Json;
}

/** `body` with `value` at `path` (`a.b`, `a[0].b`), a fresh copy. */
function withField(body: Json, path: string, value: unknown): Json {
  const copy = structuredClone(body);
  const parts = path.split(/\.|\[(\d+)\]/).filter((part) => part !== undefined && part !== '');
  let at: any = copy;
  for (const [i, part] of parts.entries()) {
    const last = i === parts.length - 1;
    const key = /^\d+$/.test(part) ? Number(part) : part;
    if (last) at[key] = value;
    else {
      at[key] ??= /^\d+$/.test(parts[i + 1]!) ? [] : {};
      at = at[key];
    }
  }
  return copy;
}

/** Writes `request` on a raw socket (fetch refuses to send a control character in a header) and reads the status and body. */
function rawExchange(url: string, request: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request));
    let data = '';
    socket.on('data', (chunk) => (data += chunk.toString('utf8')));
    const done = () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1]), body: data.slice(data.indexOf('\r\n\r\n') + 4) });
    socket.on('close', done);
    socket.on('error', reject);
  });
}

function expectRefused(answer: ApiAnswer, field: string, context: string): void {
  expect(answer.status, `${context}: ${answer.text}`).toBe(422);
  expect(answer.body.error, context).toBe('validation_failed');
  expect(answer.body.reasons.map((r: { path: string }) => r.path), context).toContain(field);
}

for (const dialect of await dialects()) {
  describe(`text at the boundary on ${dialect}`, () => {
    let server: TestServer;
    let org: OrgFixture;
    let member: Person;
    let keyId: string;
    let liveKey: string;
    let teamId: string;
    let projectId: string;
    let verifier: string;
    let invitationToken: string;

    const owner = () => org.owner.session;
    const json = async (path: string, token = owner()) => (await call(server, 'GET', path, { token })).body;

    beforeAll(async () => {
      server = await startServer({ dialect, env: { KEYWARD_LOG_LEVEL: 'silent' } });
      org = await createOrg(server);
      member = await org.addMember('MEMBER');
      const key = await org.createKey(org.owner, { description: 'before' });
      keyId = key.apiKey.id;
      liveKey = key.token;
      teamId = (await call(server, 'POST', '/api/teams', { token: owner(), body: { name: 'Platform' } })).body.team.id;
      projectId = (await call(server, 'POST', '/api/projects', { token: owner(), body: { name: 'Tracing', teamId } })).body.project.id;
      verifier = (await createVerifier(server.composed.services.deps, { name: `text-${dialect}`, orgId: org.orgId as OrgId })).token;
      const invited = await call(server, 'POST', '/api/members', { token: owner(), body: { email: `invited-${Date.now()}@example.test`, role: 'VIEWER' } });
      invitationToken = invited.body.invitation.token;
    });
    afterAll(async () => server?.close());

    const keys = () => json('/api/api-keys?status=all&limit=100');
    const bodyCases: BodyCase[] = [
      {
        route: 'POST /api/api-keys',
        path: () => '/api/api-keys',
        token: owner,
        body: () => ({ name: 'k', bindings: [{ role: 'VIEWER', scopeType: 'PROJECT', scopeId: projectId }], scopes: [{ action: 'read', resource: 'traces/*' }], allowedCidrs: ['10.0.0.0/8'] }),
        fields: [
          { field: 'name' },
          { field: 'description', multiline: true },
          { field: 'bindings[0].scopeId' },
          { field: 'scopes[0].resource' },
          { field: 'allowedCidrs[0]' },
          { field: 'permissions[0]' },
          { field: 'projectId' },
          { field: 'assignedToUserId' },
        ],
        state: keys,
      },
      {
        route: 'PATCH /api/api-keys/{id}',
        path: () => `/api/api-keys/${keyId}`,
        token: owner,
        body: () => ({}),
        fields: [
          { field: 'name' },
          { field: 'description', multiline: true },
          { field: 'bindings[0].scopeId' },
          { field: 'scopes[0].resource' },
          { field: 'allowedCidrs[0]' },
          { field: 'permissions[0]' },
        ],
        state: () => json(`/api/api-keys/${keyId}`),
      },
      {
        route: 'POST /api/auth/login',
        path: () => '/api/auth/login',
        token: () => '',
        body: () => ({ email: org.owner.email, password: org.owner.password }),
        fields: [{ field: 'email' }, { field: 'password' }],
      },
      {
        route: 'POST /api/setup',
        path: () => '/api/setup',
        token: () => '',
        body: () => ({ token: 'kws_x', organizationName: 'Acme', email: 'ada@acme.test', password: 'long enough password', name: 'Ada' }),
        fields: [{ field: 'token' }, { field: 'organizationName' }, { field: 'email' }, { field: 'password' }, { field: 'name' }],
        state: () => json('/api/setup'),
      },
      {
        route: 'POST /api/members',
        path: () => '/api/members',
        token: owner,
        body: () => ({ email: `new-${Date.now()}@example.test`, role: 'VIEWER', name: 'New' }),
        fields: [{ field: 'email' }, { field: 'name' }],
        state: () => json('/api/members?limit=100'),
      },
      {
        route: 'POST /api/invitations/accept',
        path: () => '/api/invitations/accept',
        token: () => '',
        body: () => ({ token: invitationToken, password: 'correct horse battery', name: 'Invited' }),
        fields: [{ field: 'token' }, { field: 'password' }, { field: 'name' }],
        state: () => json('/api/members?limit=100'),
      },
      {
        route: 'POST /api/teams',
        path: () => '/api/teams',
        token: owner,
        body: () => ({ name: 'Team' }),
        fields: [{ field: 'name' }],
        state: () => json('/api/teams?limit=100'),
      },
      {
        route: 'PATCH /api/teams/{id}',
        path: () => `/api/teams/${teamId}`,
        token: owner,
        body: () => ({ name: 'Renamed' }),
        fields: [{ field: 'name' }],
        state: () => json(`/api/teams/${teamId}`),
      },
      {
        route: 'POST /api/projects',
        path: () => '/api/projects',
        token: owner,
        body: () => ({ name: 'Project' }),
        fields: [{ field: 'name' }, { field: 'teamId' }],
        state: () => json('/api/projects?limit=100&includeArchived=true'),
      },
      {
        route: 'PATCH /api/projects/{id}',
        path: () => `/api/projects/${projectId}`,
        token: owner,
        body: () => ({ name: 'Renamed' }),
        fields: [{ field: 'name' }, { field: 'teamId' }],
        state: () => json(`/api/projects/${projectId}`),
      },
      {
        route: 'POST /api/role-bindings',
        path: () => '/api/role-bindings',
        token: owner,
        body: () => ({ userId: member.userId, role: 'VIEWER', scopeType: 'PROJECT', scopeId: projectId }),
        fields: [{ field: 'userId' }, { field: 'scopeId' }, { field: 'permissions[0]' }],
        state: () => json('/api/role-bindings?limit=100'),
      },
      {
        route: 'POST /api/keys/verify',
        path: () => '/api/keys/verify',
        token: () => verifier,
        body: () => ({ key: liveKey, projectId, action: 'read', resource: 'traces/1', ip: '10.0.0.1' }),
        fields: [{ field: 'projectId' }, { field: 'resource' }, { field: 'ip' }, { field: 'permission' }],
      },
      {
        route: 'POST /api/keys/leaked',
        path: () => '/api/keys/leaked',
        token: () => '',
        body: () => ({ key: 'kw_not_a_key', source: 'scanner', url: 'https://example.test/leak' }),
        fields: [{ field: 'source' }, { field: 'url' }],
        state: () => json('/api/audit-log?limit=100'),
      },
    ];

    for (const testCase of bodyCases) {
      it(`${testCase.route} refuses bad text in ${testCase.fields.map((f) => f.field).join(', ')} with 422 and stores nothing`, async () => {
        const before = await testCase.state?.();
        for (const { field, multiline } of testCase.fields) {
          for (const [what, value] of Object.entries(multiline ? badMultiLine : badSingleLine)) {
            const [method] = testCase.route.split(' ');
            const answer = await call(server, method!, testCase.path(), { token: testCase.token() || undefined, body: withField(testCase.body(), field, value) });
            expectRefused(answer, field, `${testCase.route} ${field} with ${what}`);
          }
        }
        if (testCase.state) expect(await testCase.state()).toEqual(before);
      });
    }

    const queryCases: UrlCase[] = [
      { route: 'GET /api/api-keys', field: 'q', url: (v) => `/api/api-keys?q=${v}`, token: owner },
      { route: 'GET /api/api-keys', field: 'projectId', url: (v) => `/api/api-keys?projectId=${v}`, token: owner },
      { route: 'GET /api/api-keys', field: 'cursor', url: (v) => `/api/api-keys?cursor=${v}`, token: owner },
      { route: 'GET /api/members', field: 'cursor', url: (v) => `/api/members?cursor=${v}`, token: owner },
      { route: 'GET /api/teams', field: 'cursor', url: (v) => `/api/teams?cursor=${v}`, token: owner },
      { route: 'GET /api/projects', field: 'teamId', url: (v) => `/api/projects?teamId=${v}`, token: owner },
      { route: 'GET /api/role-bindings', field: 'userId', url: (v) => `/api/role-bindings?userId=${v}`, token: owner },
      { route: 'GET /api/audit-log', field: 'actorId', url: (v) => `/api/audit-log?actorId=${v}`, token: owner },
      { route: 'GET /api/audit-log', field: 'action', url: (v) => `/api/audit-log?action=${v}`, token: owner },
      { route: 'GET /api/audit-log', field: 'targetId', url: (v) => `/api/audit-log?targetId=${v}`, token: owner },
      { route: 'GET /api/audit-log', field: 'cursor', url: (v) => `/api/audit-log?cursor=${v}`, token: owner },
      { route: 'GET /api/usage', field: 'from', url: (v) => `/api/usage?from=${v}`, token: owner },
    ];
    const paramCases: UrlCase[] = [
      { route: 'GET /api/api-keys/{id}', field: 'id', url: (v) => `/api/api-keys/key_${v}`, token: owner },
      { route: 'PATCH /api/api-keys/{id}', field: 'id', url: (v) => `/api/api-keys/key_${v}`, token: owner, body: () => ({ name: 'x' }) },
      { route: 'POST /api/api-keys/{id}/roll', field: 'id', url: (v) => `/api/api-keys/key_${v}/roll`, token: owner, body: () => ({}) },
      { route: 'DELETE /api/api-keys/{id}', field: 'id', url: (v) => `/api/api-keys/key_${v}`, token: owner },
      { route: 'GET /api/api-keys/{id}/usage', field: 'id', url: (v) => `/api/api-keys/key_${v}/usage`, token: owner },
      { route: 'GET /api/members/{userId}', field: 'userId', url: (v) => `/api/members/usr_${v}`, token: owner },
      { route: 'PATCH /api/members/{userId}', field: 'userId', url: (v) => `/api/members/usr_${v}`, token: owner, body: () => ({ role: 'VIEWER' }) },
      { route: 'DELETE /api/members/{userId}', field: 'userId', url: (v) => `/api/members/usr_${v}`, token: owner },
      { route: 'GET /api/teams/{id}', field: 'id', url: (v) => `/api/teams/team_${v}`, token: owner },
      { route: 'PATCH /api/teams/{id}', field: 'id', url: (v) => `/api/teams/team_${v}`, token: owner, body: () => ({ name: 'x' }) },
      { route: 'GET /api/projects/{id}', field: 'id', url: (v) => `/api/projects/proj_${v}`, token: owner },
      { route: 'PATCH /api/projects/{id}', field: 'id', url: (v) => `/api/projects/proj_${v}`, token: owner, body: () => ({ name: 'x' }) },
      { route: 'DELETE /api/role-bindings/{id}', field: 'id', url: (v) => `/api/role-bindings/rb_${v}`, token: owner },
    ];

    for (const [kind, cases] of [['query', queryCases], ['path', paramCases]] as const) {
      it(`refuses bad text in the ${kind} of every route with 422 naming the ${kind === 'query' ? 'parameter' : 'segment'}`, async () => {
        const audit = await json('/api/audit-log?limit=100');
        for (const testCase of cases) {
          const [method] = testCase.route.split(' ');
          for (const [what, value] of Object.entries(badEncoded)) {
            const answer = await call(server, method!, testCase.url(value), { token: testCase.token(), body: testCase.body?.() });
            expectRefused(answer, testCase.field, `${testCase.route} ${testCase.field} with ${what}`);
          }
          // Bytes that decode to no text at all (a surrogate written as UTF-8) are never a 5xx either.
          const undecodable = await call(server, method!, testCase.url('x%ED%A0%80'), { token: testCase.token(), body: testCase.body?.() });
          expect(undecodable.status, `${testCase.route} ${testCase.field} with %ED%A0%80`).toBeLessThan(500);
        }
        expect(await json('/api/audit-log?limit=100')).toEqual(audit);
      });
    }

    it('refuses a cursor whose decoded sort key holds a NUL, on every dialect', async () => {
      const forged = Buffer.from(JSON.stringify([Date.now(), 'key_a\u0000b'])).toString('base64url');
      for (const path of ['/api/api-keys', '/api/members', '/api/teams', '/api/projects', '/api/role-bindings']) {
        expectRefused(await call(server, 'GET', `${path}?cursor=${forged}`, { token: owner() }), 'cursor', path);
      }
    });

    it('answers a key holding NUL or a lone surrogate as a key that matches nothing, on verify and on leak reports', async () => {
      for (const key of ['kw_\u0000', `${liveKey.slice(0, 10)}\u0000${liveKey.slice(11)}`, `${liveKey}\ud800`, 'eyJ\u0000.eyJ.x']) {
        const verdict = await call(server, 'POST', '/api/keys/verify', { token: verifier, body: { key } });
        expect(verdict.status, JSON.stringify(key)).toBe(200);
        expect(verdict.body).toMatchObject({ valid: false, code: 'NOT_FOUND' });
        const leak = await call(server, 'POST', '/api/keys/leaked', { body: { key } });
        expect(leak.status, JSON.stringify(key)).toBe(202);
      }
      const still = await call(server, 'POST', '/api/keys/verify', { token: verifier, body: { key: liveKey } });
      expect(still.body).toMatchObject({ valid: true, code: 'VALID' });
    });

    it('refuses bad text in OAuth form parameters with invalid_request, naming the parameter', async () => {
      const clientSecret = (await org.createKey(org.owner)).token;
      const clientId = `key_${clientSecret.slice(3, 19)}`;
      const form = (params: Record<string, string>) => Object.entries(params).map(([k, v]) => `${k}=${v}`).join('&');
      const valid = { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, scope: 'traces:read', resource: 'https%3A%2F%2Fapi.example.test' };
      const ok = await call(server, 'POST', '/oauth/token', { rawBody: form(valid), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(ok.status, ok.text).toBe(200);
      for (const [endpoint, base] of [
        ['/oauth/token', valid],
        ['/oauth/introspect', { token: 'eyJ.eyJ.x', client_id: clientId, client_secret: clientSecret }],
        ['/oauth/revoke', { token: 'eyJ.eyJ.x', client_id: clientId, client_secret: clientSecret }],
      ] as const) {
        for (const parameter of Object.keys(base)) {
          for (const [what, value] of Object.entries(badEncoded)) {
            const answer = await call(server, 'POST', endpoint, {
              rawBody: form({ ...base, [parameter]: `${(base as Record<string, string>)[parameter]}${value}` }),
              headers: { 'content-type': 'application/x-www-form-urlencoded' },
            });
            const context = `${endpoint} ${parameter} with ${what}`;
            expect(answer.status, `${context}: ${answer.text}`).toBe(400);
            expect(answer.body.error, context).toBe('invalid_request');
            expect(answer.body.error_description, context).toContain(parameter);
          }
        }
      }
    });

    it('keeps text with accents, CJK, emoji (a surrogate pair) and, in descriptions, tabs and line breaks exactly as sent', async () => {
      const name = 'naïve 名前 😀 ünïcødé';
      const description = 'first line\n\tindented second line\r\nthird 👩‍💻';
      const created = await call(server, 'POST', '/api/api-keys', { token: owner(), body: { name, description } });
      expect(created.status, created.text).toBe(201);
      const read = await json(`/api/api-keys/${created.body.apiKey.id}`);
      expect(read).toMatchObject({ name, description });
      const project = await call(server, 'POST', '/api/projects', { token: owner(), body: { name } });
      expect(project.status).toBe(201);
      expect((await json(`/api/projects/${project.body.project.id}`)).project.name).toBe(name);
      const search = await json(`/api/api-keys?q=${encodeURIComponent('名前 😀')}`);
      expect(search.data.map((k: { id: string }) => k.id)).toEqual([created.body.apiKey.id]);
      // Surrounding whitespace of a name, a pasted line break included, is trimmed before the check.
      const team = await call(server, 'POST', '/api/teams', { token: owner(), body: { name: '  Ops\r\n' } });
      expect(team.status, team.text).toBe(201);
      expect(team.body.team.name).toBe('Ops');
    });

    it('answers a header holding NUL or another control character with 400 invalid_request in the documented shape', async () => {
      for (const [path, header] of [
        ['/api/auth/whoami', `authorization: Bearer ${org.adminKey.slice(0, 10)}\u0000${org.adminKey.slice(11)}`],
        ['/api/auth/whoami', `x-organization-id: ${org.orgId}\u0000`],
        ['/api/api-keys', `x-project-id: ${projectId}\u0007`],
        ['/api/keys/verify', `authorization: Bearer ${verifier}\u007f`],
      ] as const) {
        const answer = await rawExchange(server.url, `GET ${path} HTTP/1.1\r\nhost: keyward.test\r\n${header}\r\nconnection: close\r\n\r\n`);
        expect(answer.status, JSON.stringify(header)).toBe(400);
        expect(JSON.parse(answer.body), JSON.stringify(header)).toMatchObject({ error: 'invalid_request', message: expect.any(String) });
      }
    });

    it('treats odd X-Organization-Id and X-Project-Id headers as ids that match nothing, never a 5xx', async () => {
      for (const value of ['org_\u00e9', 'org_a\tb', `${org.orgId}\u00ff`]) {
        const answer = await call(server, 'GET', '/api/auth/whoami', { token: owner(), headers: { 'x-organization-id': value } });
        expect(answer.status, JSON.stringify(value)).toBe(404);
        expect(answer.body.error).toBe('organization_not_found');
      }
      for (const value of ['proj_\u00e9', 'proj_a\tb', `${projectId}\u00ff`]) {
        const answer = await call(server, 'GET', '/api/auth/whoami', { token: org.adminKey, headers: { 'x-project-id': value } });
        expect(answer.status, JSON.stringify(value)).toBeLessThan(500);
        const keys = await call(server, 'GET', '/api/api-keys', { token: org.adminKey, headers: { 'x-project-id': value } });
        expect(keys.status, JSON.stringify(value)).toBeLessThan(500);
      }
    });
  });
}
