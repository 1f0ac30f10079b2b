import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildSecurityFixture,
  credentialClasses,
  type Credential,
  type CredentialClass,
  type SecurityFixture,
} from '../support/credential-classes.js';
import { dialects } from '../support/dialects.js';
import { registeredRoutes } from '../support/registered-routes.js';
import { call, startServer, type TestServer } from '../support/server.js';

/**
 * The security matrix (issue 10): every management route called with every class of credential,
 * each answer checked against one table written from CONTRACT.md ("Credentials on a request",
 * "Errors", "API keys", "Organization, members, teams, projects", "Rights over keys (clarified)").
 * A route the app registers but the table lacks fails the last test, so a new route cannot ship
 * without its row.
 */

/**
 * An expected status, or a status and the error code the contract names for it; or a list of such
 * when the contract names two refusals for one request and says nothing of their order.
 */
type Answer = number | `${number} ${string}` | readonly (number | `${number} ${string}`)[];
type Expected = Record<CredentialClass, Answer>;
type Ids = Record<string, string>;

interface Row {
  /** As registered: `METHOD /api/path/:param`. */
  readonly route: string;
  readonly variant?: string;
  /** Ids the call names (path parameters by name, and ids the body uses); made fresh per cell when the call destroys its target. */
  readonly ids?: (f: SecurityFixture) => Ids | Promise<Ids>;
  readonly body?: (ids: Ids) => unknown;
  /** The call ends the credential it uses (logout): each cell gets a fresh one. */
  readonly endsCredential?: boolean;
  readonly expected: Expected;
}

/** Nothing valid, or a credential for another door: "401 for a missing or bad credential". */
const unauthenticated = { none: 401, mistypedKey: 401, verifier: 401 } as const;

/**
 * "Management needs a person's session, or an API key with `organization:manage` (an org ADMIN)":
 * keys without it get 403 on every management route ("a project-scoped service key never manages
 * keys, members, bindings, teams or projects"), a legacy project key 401 `credential_class_mismatch`
 * (docs/api.md). `managers` answers for OWNER and ADMIN sessions, the org-wide service key and an
 * access token minted from it; `manageOnly` (default: the same) for a key restricted to
 * `organization:manage` and an access token narrowed to it, which pass the door but may grant nothing
 * else ("Rights over keys (clarified)"). Another organization's admin acts in their own organization:
 * with this organization's ids, exactly as with missing ones (404); naming this organization in
 * `X-Organization-Id`, 404 `organization_not_found`.
 */
function management(answers: { managers: Answer; manageOnly?: Answer; member: Answer; viewer?: Answer; otherOrg: Answer }): Expected {
  return {
    ...unauthenticated,
    ownerSession: answers.managers,
    adminSession: answers.managers,
    memberSession: answers.member,
    viewerSession: answers.viewer ?? answers.member,
    memberPersonalKey: 403,
    restrictedKey: 403,
    manageOnlyKey: answers.manageOnly ?? answers.managers,
    scopedKey: 403,
    projectServiceKey: 403,
    orgServiceKey: answers.managers,
    accessToken: answers.managers,
    manageOnlyAccessToken: answers.manageOnly ?? answers.managers,
    legacyProjectKey: '401 credential_class_mismatch',
    otherOrgAdmin: answers.otherOrg,
    otherOrgAdminNamingThisOrg: '404 organization_not_found',
  };
}

/** "`GET /api/auth/whoami` with any credential → 200"; likewise the caller's organization. */
function anyCredential(status: Answer): Expected {
  const expected = Object.fromEntries(credentialClasses.map((c) => [c, status])) as Expected;
  return { ...expected, ...unauthenticated, otherOrgAdminNamingThisOrg: '404 organization_not_found' };
}

/** Logout ends a person's session; nothing else has one to end. */
function sessionsOnly(status: Answer): Expected {
  const expected = Object.fromEntries(credentialClasses.map((c) => [c, 401])) as Expected;
  for (const c of ['ownerSession', 'adminSession', 'memberSession', 'viewerSession', 'otherOrgAdmin', 'otherOrgAdminNamingThisOrg'] as const) expected[c] = status;
  return expected;
}

/** Public documents: a credential, good or bad, changes nothing. */
function publicRoute(status: Answer): Expected {
  return Object.fromEntries(credentialClasses.map((c) => [c, status])) as Expected;
}

const suffix = () => randomBytes(5).toString('hex');
const name = () => `matrix ${suffix()}`;
const serviceKey = (f: SecurityFixture) => ({ id: f.ids.serviceKey });
const ownerPersonalKey = (f: SecurityFixture) => ({ id: f.ids.ownerPersonalKey });
const freshServiceKey = async (f: SecurityFixture) => ({ id: await f.make.serviceKey() });
const freshInvitee = async (f: SecurityFixture) => ({ userId: await f.make.invitee() });
const readRights = { permissionMode: 'restricted', permissions: ['traces:read'] };
const webhookBody = () => ({ url: 'https://hooks.example.com/matrix', events: ['*'] });
const makeWebhook = async (f: SecurityFixture) => {
  const created = await call(f.server, 'POST', '/api/webhooks', { token: f.org.owner.session, body: webhookBody() });
  if (created.status !== 201) throw new Error(`webhook: ${created.status} ${created.text}`);
  const test = await call(f.server, 'POST', `/api/webhooks/${created.body.webhook.id}/test`, { token: f.org.owner.session });
  return { id: created.body.webhook.id as string, deliveryId: test.body.deliveryId as string };
};
/** One endpoint (with one delivery) for the calls that leave it in place: an organization has at most 50. */
const sharedWebhooks = new WeakMap<SecurityFixture, Promise<Ids>>();
const sharedWebhook = (f: SecurityFixture) => {
  if (!sharedWebhooks.has(f)) sharedWebhooks.set(f, makeWebhook(f));
  return sharedWebhooks.get(f)!;
};
/** "A restricted or scoped key, or a narrowed access token, holding only organization:manage cannot mint ...: 403". */
const beyondTheCaller = '403 api_key_scope_violation';

const rows: Row[] = [
  // Authentication
  { route: 'GET /api/auth/whoami', expected: anyCredential(200) },
  { route: 'POST /api/auth/logout', endsCredential: true, expected: sessionsOnly(200) },
  // "A signed-in person changes their password ... (a session only)": a weak new password is refused
  // before anything is checked or changed; a wrong current one shows that a session reaches the check.
  {
    route: 'POST /api/auth/change-password',
    variant: 'a weak new password',
    body: () => ({ currentPassword: 'whatever-it-is', newPassword: 'short' }),
    expected: sessionsOnly('422 validation_failed'),
  },
  {
    route: 'POST /api/auth/change-password',
    variant: 'a wrong current password',
    body: () => ({ currentPassword: `wrong-${suffix()}`, newPassword: `new-password-${suffix()}` }),
    expected: sessionsOnly('401 invalid_credentials'),
  },

  // The organization and its signing keys
  { route: 'GET /api/organization', expected: anyCredential(200) },
  { route: 'PATCH /api/organization', body: () => ({ accessTokenTtlSeconds: 600 }), expected: management({ managers: 200, member: 403, otherOrg: 200 }) },
  { route: 'POST /api/organization/bootstrap', expected: management({ managers: 200, member: 403, otherOrg: 200 }) },
  { route: 'GET /api/organization/policy', expected: anyCredential(200) },
  {
    // The policy binds admins too: only an OWNER's session replaces it (an API key is never an OWNER).
    route: 'PUT /api/organization/policy',
    body: () => ({ maxKeyLifetimeDays: null, defaultKeyLifetimeDays: null, requireExpiry: false, requireAllowedCidrsForServiceKeys: false, personalKeysAllowed: true }),
    expected: { ...management({ managers: 403, member: 403, otherOrg: 403 }), ownerSession: 200 },
  },
  { route: 'GET /api/signing-keys', expected: management({ managers: 200, member: 403, otherOrg: 200 }) },
  // A planned rotation promotes a next key once it has been published for ten minutes: right after
  // bootstrap there is none, so whoever may rotate gets 409 and nothing changes.
  { route: 'POST /api/signing-keys/rotate', body: () => ({}), expected: management({ managers: 409, member: 403, otherOrg: 409 }) },

  // Members
  { route: 'GET /api/members', expected: management({ managers: 200, member: 200, otherOrg: 200 }) },
  { route: 'GET /api/members/:userId', ids: (f) => ({ userId: f.ids.member }), expected: management({ managers: 200, member: 200, otherOrg: 404 }) },
  // A role, like a binding, follows the granting rule: MEMBER and VIEWER carry reads a manage-only caller lacks.
  {
    route: 'POST /api/members',
    body: () => ({ email: `matrix-${suffix()}@example.test`, role: 'MEMBER' }),
    expected: management({ managers: 201, manageOnly: '403 insufficient_permissions', member: 403, otherOrg: 201 }),
  },
  {
    route: 'PATCH /api/members/:userId',
    ids: freshInvitee,
    body: () => ({ role: 'VIEWER' }),
    expected: management({ managers: 200, manageOnly: '403 insufficient_permissions', member: 403, otherOrg: 404 }),
  },
  { route: 'DELETE /api/members/:userId', ids: freshInvitee, expected: management({ managers: 200, member: 403, otherOrg: 404 }) },

  // Teams
  { route: 'GET /api/teams', expected: management({ managers: 200, member: 200, otherOrg: 200 }) },
  { route: 'POST /api/teams', body: () => ({ name: name() }), expected: management({ managers: 201, member: 403, otherOrg: 201 }) },
  { route: 'GET /api/teams/:id', ids: (f) => ({ id: f.ids.team }), expected: management({ managers: 200, member: 200, otherOrg: 404 }) },
  { route: 'PATCH /api/teams/:id', ids: (f) => ({ id: f.ids.team }), body: () => ({ name: 'Platform' }), expected: management({ managers: 200, member: 403, otherOrg: 404 }) },

  // Projects
  { route: 'GET /api/projects', expected: management({ managers: 200, member: 200, otherOrg: 200 }) },
  {
    route: 'POST /api/projects',
    ids: (f) => ({ teamId: f.ids.team }),
    body: ({ teamId }) => ({ name: name(), teamId }),
    expected: management({ managers: 201, member: 403, otherOrg: 404 }),
  },
  { route: 'GET /api/projects/:id', ids: (f) => ({ id: f.ids.project }), expected: management({ managers: 200, member: 200, otherOrg: 404 }) },
  { route: 'PATCH /api/projects/:id', ids: (f) => ({ id: f.ids.project }), body: () => ({ name: 'web' }), expected: management({ managers: 200, member: 403, otherOrg: 404 }) },

  // Role bindings
  { route: 'GET /api/role-bindings', expected: management({ managers: 200, member: 200, otherOrg: 200 }) },
  {
    route: 'POST /api/role-bindings',
    ids: (f) => ({ userId: f.ids.assignee, projectId: f.ids.project }),
    body: ({ userId, projectId }) => ({ userId, role: 'VIEWER', scopeType: 'PROJECT', scopeId: projectId }),
    // docs/keys.md: bindings follow the granting rule; a VIEWER binding carries reads a manage-only caller lacks.
    expected: management({ managers: 201, manageOnly: '403 insufficient_permissions', member: 403, otherOrg: 404 }),
  },
  { route: 'DELETE /api/role-bindings/:id', ids: async (f) => ({ id: await f.make.roleBinding() }), expected: management({ managers: 200, member: 403, otherOrg: 404 }) },

  // Audit log and usage
  { route: 'GET /api/audit-log', expected: management({ managers: 200, member: 403, otherOrg: 200 }) },
  { route: 'GET /api/usage', expected: management({ managers: 200, member: 403, otherOrg: 200 }) },

  // API keys. MEMBER and VIEWER "create personal keys for themselves ..., see their own keys and the
  // organization's service keys, and revoke only their own"; "only [OWNER and ADMIN] create service
  // and project keys (anyone else: 403 insufficient_permissions)"; "403 api_key_not_owned (visible
  // to the caller but not theirs)"; a personal key made with an API key needs assignedToUserId (422).
  { route: 'GET /api/api-keys', expected: management({ managers: 200, member: 200, otherOrg: 200 }) },
  {
    route: 'POST /api/api-keys',
    variant: 'a personal key for oneself',
    body: () => ({ name: name(), ...readRights }),
    // An API key names the owner with assignedToUserId (else 422); a manage-only credential also holds no traces:read.
    expected: { ...management({ managers: 201, manageOnly: [422, beyondTheCaller], member: 201, otherOrg: 201 }), orgServiceKey: 422, accessToken: 422 },
  },
  {
    route: 'POST /api/api-keys',
    variant: 'a personal key for another member',
    ids: (f) => ({ userId: f.ids.assignee }),
    body: ({ userId }) => ({ name: name(), assignedToUserId: userId, ...readRights }),
    expected: management({ managers: 201, manageOnly: beyondTheCaller, member: 403, otherOrg: 404 }),
  },
  {
    route: 'POST /api/api-keys',
    variant: 'an org-wide service key',
    body: () => ({ name: name(), keyType: 'service' }),
    expected: management({ managers: 201, manageOnly: beyondTheCaller, member: '403 insufficient_permissions', otherOrg: 201 }),
  },
  {
    route: 'POST /api/api-keys',
    variant: 'a project key',
    ids: (f) => ({ projectId: f.ids.project }),
    body: ({ projectId }) => ({ name: name(), keyType: 'project', projectId }),
    expected: management({ managers: 201, manageOnly: beyondTheCaller, member: '403 insufficient_permissions', otherOrg: 404 }),
  },
  { route: 'GET /api/api-keys/:id', variant: 'a service key', ids: serviceKey, expected: management({ managers: 200, member: 200, otherOrg: 404 }) },
  { route: 'GET /api/api-keys/:id', variant: "the owner's personal key", ids: ownerPersonalKey, expected: management({ managers: 200, member: 404, otherOrg: 404 }) },
  {
    route: 'PATCH /api/api-keys/:id',
    variant: 'a service key',
    ids: serviceKey,
    body: () => ({ description: 'edited by the security matrix' }),
    expected: management({ managers: 200, member: '403 api_key_not_owned', otherOrg: 404 }),
  },
  {
    route: 'PATCH /api/api-keys/:id',
    variant: "the owner's personal key",
    ids: ownerPersonalKey,
    body: () => ({ description: 'edited by the security matrix' }),
    expected: management({ managers: 200, member: 404, otherOrg: 404 }),
  },
  {
    route: 'POST /api/api-keys/:id/roll',
    variant: 'a service key',
    ids: freshServiceKey,
    // "a new secret hands out the key's rights, so the caller must hold them all" (docs/keys.md).
    expected: management({ managers: 201, manageOnly: beyondTheCaller, member: '403 api_key_not_owned', otherOrg: 404 }),
  },
  {
    route: 'DELETE /api/api-keys/:id',
    variant: 'a service key',
    ids: freshServiceKey,
    expected: management({ managers: 200, member: '403 api_key_not_owned', otherOrg: 404 }),
  },
  {
    route: 'DELETE /api/api-keys/:id',
    variant: "a MEMBER's own personal key",
    ids: async (f) => ({ id: await f.make.memberPersonalKey() }),
    expected: management({ managers: 200, member: 200, viewer: 404, otherOrg: 404 }),
  },
  // Credits: "only OWNER/ADMIN may set credits" (CONTRACT.md "Per-key rate limits and credits"); the
  // key must first be one the caller may manage, so a member meets a service key as not theirs.
  {
    route: 'POST /api/api-keys/:id/credits',
    variant: 'a service key with credits',
    ids: async (f) => ({ id: await f.make.meteredServiceKey() }),
    body: () => ({ op: 'increment', amount: 1 }),
    expected: management({ managers: 200, member: '403 api_key_not_owned', otherOrg: 404 }),
  },
  {
    route: 'POST /api/api-keys/:id/credits',
    variant: "a MEMBER's own personal key with credits",
    ids: async (f) => ({ id: await f.make.meteredMemberKey() }),
    body: () => ({ op: 'increment', amount: 1 }),
    expected: management({ managers: 200, member: '403 insufficient_permissions', viewer: 404, otherOrg: 404 }),
  },
  { route: 'GET /api/api-keys/:id/usage', variant: 'a service key', ids: serviceKey, expected: management({ managers: 200, member: 200, otherOrg: 404 }) },

  // Webhooks: owners and admins only (CONTRACT.md "Webhooks").
  { route: 'GET /api/webhooks', expected: management({ managers: 200, member: 403, otherOrg: 200 }) },
  { route: 'POST /api/webhooks', body: webhookBody, expected: management({ managers: 201, member: 403, otherOrg: 201 }) },
  { route: 'GET /api/webhooks/:id', ids: sharedWebhook, expected: management({ managers: 200, member: 403, otherOrg: 404 }) },
  { route: 'PATCH /api/webhooks/:id', ids: sharedWebhook, body: () => ({ description: 'matrix' }), expected: management({ managers: 200, member: 403, otherOrg: 404 }) },
  { route: 'DELETE /api/webhooks/:id', ids: makeWebhook, expected: management({ managers: 200, member: 403, otherOrg: 404 }) },
  { route: 'POST /api/webhooks/:id/roll-secret', ids: sharedWebhook, expected: management({ managers: 200, member: 403, otherOrg: 404 }) },
  { route: 'POST /api/webhooks/:id/test', ids: sharedWebhook, expected: management({ managers: 202, member: 403, otherOrg: 404 }) },
  { route: 'GET /api/webhooks/:id/deliveries', ids: sharedWebhook, expected: management({ managers: 200, member: 403, otherOrg: 404 }) },
  {
    route: 'POST /api/webhooks/:id/deliveries/:deliveryId/retry',
    ids: sharedWebhook,
    expected: management({ managers: 202, member: 403, otherOrg: 404 }),
  },

  // Public documents under /api/
  { route: 'GET /api/catalogue', expected: publicRoute(200) },
  { route: 'GET /api/openapi.json', expected: publicRoute(200) },
  // The API reference (Swagger UI) and the document it renders.
  { route: 'GET /api/docs', expected: publicRoute(200) },
  { route: 'GET /api/docs/', expected: publicRoute(200) },
  { route: 'GET /api/docs/json', expected: publicRoute(200) },
  { route: 'GET /api/docs/yaml', expected: publicRoute(200) },
  { route: 'GET /api/docs/static/index.html', variant: 'redirected to the page', expected: publicRoute(200) },
  { route: 'GET /api/docs/static/swagger-initializer.js', expected: publicRoute(200) },
];

/** Routes under /api/ that take no management credential, and where their credentials are tested. */
const outsideTheMatrix: Record<string, string> = {
  'POST /api/auth/login': 'takes a password (tests/http/credentials.test.ts)',
  'GET /api/setup': 'first-run setup, public',
  'POST /api/setup': 'takes the one-time setup token (tests/process/operator.test.ts)',
  'POST /api/invitations/accept': 'takes an invitation token and a password (tests/http/organization.test.ts)',
  'POST /api/auth/reset-password': 'takes a one-time reset token and a password (tests/http/accounts.test.ts)',
  'GET /api/docs/static/*': "the API reference's files, public (tests/http/api-docs.test.ts)",
  'POST /api/keys/verify': 'verification: verifier credentials only (tests/http/verify.test.ts)',
  'GET /api/keys/invalidations': "the verifiers' invalidation stream (tests/sdk/invalidation-stream.test.ts)",
  'POST /api/keys/leaked': 'a leak report: holding the key is all it takes (tests/http/verify.test.ts)',
  'POST /api/keys/leaked/github': "GitHub's leak reports, signed with GitHub's keys (tests/http/github-secret-scanning.test.ts)",
};

/** The same id with its last characters changed: well formed, and surely nobody's. */
function missing(id: string): string {
  return `${id.slice(0, -4)}${randomBytes(8).toString('hex').replace(/[^a-z]/g, '').padEnd(4, 'z').slice(0, 4)}`;
}

function pathOf(route: string, ids: Ids): string {
  return route.split(' ')[1]!.replace(/:(\w+)/g, (_all, param: string) => {
    const id = ids[param];
    if (!id) throw new Error(`${route}: no id for :${param}`);
    return id;
  });
}

async function send(server: TestServer, row: Row, credential: Credential, ids: Ids) {
  return call(server, row.route.split(' ')[0]!, pathOf(row.route, ids), {
    token: credential.token,
    ...(credential.headers ? { headers: credential.headers } : {}),
    ...(row.body ? { body: row.body(ids) } : {}),
  });
}

/**
 * One cell: the answer in the table's terms, plus what else went wrong (an error body not in the
 * documented shape; another organization's admin told anything about this organization's ids).
 */
async function answerOf(f: SecurityFixture, row: Row, cls: CredentialClass): Promise<Answer | string> {
  const ids = (await row.ids?.(f)) ?? {};
  const given = f.credentials[cls];
  const credential = row.endsCredential && given.fresh ? await given.fresh() : given;
  const res = await send(f.server, row, credential, ids);
  const expected = row.expected[cls];
  const withCode = `${res.status} ${res.body?.error}`;
  const matches = (one: number | string) => (typeof one === 'number' ? one === res.status : one === withCode);
  // The table's own value when it matches (so the comparison shows only the cells that differ).
  const answer: Answer | string = (Array.isArray(expected) ? expected.some(matches) : matches(expected as number | string)) ? expected : withCode;
  if (res.status >= 400 && (typeof res.body?.error !== 'string' || typeof res.body?.message !== 'string')) {
    return `${res.status} without the error body {"error","message"}: ${res.text.slice(0, 80)}`;
  }
  if (cls === 'otherOrgAdmin' && res.status === 404 && row.ids) {
    // "another organization's id answers exactly like a missing one"
    const unknown = Object.fromEntries(Object.entries(ids).map(([k, v]) => [k, missing(v)]));
    const control = await send(f.server, row, credential, unknown);
    if (control.status !== res.status || control.body?.error !== res.body?.error || control.body?.message !== res.body?.message) {
      return `${withCode} "${res.body?.message}", but a missing id: ${control.status} ${control.body?.error} "${control.body?.message}"`;
    }
  }
  if (cls.startsWith('otherOrgAdmin')) {
    const leaked = [f.org.orgId, ...Object.values(f.ids)].find((id) => res.text.includes(id));
    if (leaked) return `${withCode} showing ${leaked} of the other organization`;
  }
  return answer;
}

const titleOf = (row: Row) => `${row.route}${row.variant ? ` (${row.variant})` : ''}`;

for (const dialect of await dialects()) {
  describe(`the security matrix: every management route × every credential class, on ${dialect}`, () => {
    let server: TestServer;
    let fixture: SecurityFixture;

    beforeAll(async () => {
      // The matrix sends many bad credentials and creates many keys from one address on purpose.
      server = await startServer({ dialect, env: { KEYWARD_AUTH_FAILURES_PER_MINUTE: '0', KEYWARD_KEY_CREATIONS_PER_MINUTE: '0' } });
      fixture = await buildSecurityFixture(server);
    }, 120_000);
    afterAll(async () => server?.close());

    for (const row of rows) {
      it(`${titleOf(row)} answers every credential class as the contract says`, async () => {
        const actual: Record<string, Answer | string> = {};
        for (const cls of credentialClasses) actual[cls] = await answerOf(fixture, row, cls);
        expect(actual).toEqual(row.expected);
      });
    }

    it('has a row for every route the app registers under /api/, and none for a route it does not', () => {
      const registered = registeredRoutes(server).filter((r) => r.split(' ')[1]!.startsWith('/api/'));
      const covered = new Set([...rows.map((r) => r.route), ...Object.keys(outsideTheMatrix)]);
      expect(registered.filter((r) => !covered.has(r)), 'registered routes missing from the matrix').toEqual([]);
      expect([...covered].filter((r) => !registered.includes(r)), 'matrix rows for routes the app does not register').toEqual([]);
    });
  });
}
