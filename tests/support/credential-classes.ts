import { randomBytes } from 'node:crypto';
import { createVerifier } from '@keyward/core';
import { tokenFor } from '../oauth/support.js';
import { call, createOrg, type OrgFixture, type Person, type TestServer } from './server.js';

/**
 * Every kind of credential a request to the management API can carry (issue 10, "A security test
 * matrix"), in the order the matrix reports them.
 */
export const credentialClasses = [
  'none',
  'mistypedKey',
  'verifier',
  'ownerSession',
  'adminSession',
  'memberSession',
  'viewerSession',
  'memberPersonalKey',
  'restrictedKey',
  'manageOnlyKey',
  'scopedKey',
  'projectServiceKey',
  'orgServiceKey',
  'accessToken',
  'manageOnlyAccessToken',
  'legacyProjectKey',
  'otherOrgAdmin',
  'otherOrgAdminNamingThisOrg',
] as const;
export type CredentialClass = (typeof credentialClasses)[number];

export interface Credential {
  readonly token?: string;
  readonly headers?: Record<string, string>;
  /** A fresh credential of the same class, for calls that end the one they use (logout). */
  readonly fresh?: () => Promise<Credential>;
}

/** Ids of the first organization that the matrix's requests name. */
export interface TargetIds {
  readonly project: string;
  readonly team: string;
  /** An active MEMBER, the target of reads. */
  readonly member: string;
  /** Another MEMBER, to whom admins give personal keys and bindings. */
  readonly assignee: string;
  /** An org-wide service key made by the owner. */
  readonly serviceKey: string;
  /** The owner's own personal key. */
  readonly ownerPersonalKey: string;
}

export interface SecurityFixture {
  readonly server: TestServer;
  readonly org: OrgFixture;
  readonly other: OrgFixture;
  readonly ids: TargetIds;
  readonly member: Person;
  readonly credentials: Record<CredentialClass, Credential>;
  /** Fresh targets for calls that destroy theirs, made by the first organization's owner. */
  readonly make: {
    invitee(): Promise<string>;
    serviceKey(): Promise<string>;
    memberPersonalKey(): Promise<string>;
    /** A service key with credits. */
    meteredServiceKey(): Promise<string>;
    /** The member's personal key, given credits by the owner. */
    meteredMemberKey(): Promise<string>;
    roleBinding(): Promise<string>;
  };
}

const suffix = () => randomBytes(5).toString('hex');

/** The same token with its last character changed: its checksum no longer matches. */
export function mistype(token: string): string {
  const last = token.at(-1)!;
  return token.slice(0, -1) + (last === 'a' ? 'b' : 'a');
}

async function expectStatus<T = any>(answer: Promise<{ status: number; body: T; text: string }>, status: number, what: string): Promise<T> {
  const res = await answer;
  if (res.status !== status) throw new Error(`${what}: ${res.status} ${res.text}`);
  return res.body;
}

async function login(server: TestServer, person: Person): Promise<string> {
  const body = await expectStatus(call(server, 'POST', '/api/auth/login', { body: { email: person.email, password: person.password } }), 200, 'login');
  return body.sessionToken as string;
}

/**
 * Two organizations on one server: the first with people of every role, keys of every class and
 * targets (a team, a project, a service key, the owner's personal key); the second with an ADMIN who
 * must see nothing of the first.
 */
export async function buildSecurityFixture(server: TestServer): Promise<SecurityFixture> {
  const org = await createOrg(server);
  const other = await createOrg(server);
  const owner = org.owner.session;
  const [admin, member, viewer, assignee, otherAdmin] = await Promise.all([
    org.addMember('ADMIN'),
    org.addMember('MEMBER'),
    org.addMember('VIEWER'),
    org.addMember('MEMBER'),
    other.addMember('ADMIN'),
  ]);
  const team = (await expectStatus(call(server, 'POST', '/api/teams', { token: owner, body: { name: `Team ${suffix()}` } }), 201, 'team')).team.id;
  const project = (await expectStatus(call(server, 'POST', '/api/projects', { token: owner, body: { name: `Project ${suffix()}`, teamId: team } }), 201, 'project')).project.id;

  const memberPersonalKey = await org.createKey(member);
  const restrictedKey = await org.createKey(admin, { permissionMode: 'restricted', permissions: ['traces:read'] });
  const manageOnlyKey = await org.createKey(admin, { permissionMode: 'restricted', permissions: ['organization:manage'] });
  const scopedKey = await org.createKey(admin, { scopes: [{ action: 'read', resource: `projects/${project}/traces` }] });
  const projectServiceKey = await org.createKey(org.owner, { keyType: 'service', projectIds: [project] });
  const legacyProjectKey = await org.createKey(org.owner, { keyType: 'project', projectId: project });
  const serviceKey = await org.createKey(org.owner, { keyType: 'service' });
  const ownerPersonalKey = await org.createKey(org.owner);
  const verifier = (await createVerifier(server.composed.services.deps, { name: `matrix ${suffix()}`, orgId: null })).token;
  const accessToken = await tokenFor(server, org.adminKey);
  const manageOnlyAccessToken = await tokenFor(server, org.adminKey, { scope: 'organization:manage' });

  const session = (person: Person, headers?: Record<string, string>): Credential => ({
    token: person.session,
    ...(headers ? { headers } : {}),
    fresh: async () => ({ token: await login(server, person), ...(headers ? { headers } : {}) }),
  });
  const credentials: Record<CredentialClass, Credential> = {
    none: {},
    mistypedKey: { token: mistype(org.adminKey) },
    verifier: { token: verifier },
    ownerSession: session(org.owner),
    adminSession: session(admin),
    memberSession: session(member),
    viewerSession: session(viewer),
    memberPersonalKey: { token: memberPersonalKey.token },
    restrictedKey: { token: restrictedKey.token },
    manageOnlyKey: { token: manageOnlyKey.token },
    scopedKey: { token: scopedKey.token },
    projectServiceKey: { token: projectServiceKey.token },
    orgServiceKey: { token: org.adminKey },
    accessToken: { token: accessToken },
    manageOnlyAccessToken: { token: manageOnlyAccessToken },
    legacyProjectKey: { token: legacyProjectKey.token },
    otherOrgAdmin: session(otherAdmin),
    otherOrgAdminNamingThisOrg: session(otherAdmin, { 'x-organization-id': org.orgId }),
  };

  const invitee = async () =>
    (await expectStatus(call(server, 'POST', '/api/members', { token: owner, body: { email: `invitee-${suffix()}@example.test`, role: 'MEMBER' } }), 201, 'invite')).member
      .userId as string;
  return {
    server,
    org,
    other,
    member,
    ids: { project, team, member: member.userId, assignee: assignee.userId, serviceKey: serviceKey.apiKey.id, ownerPersonalKey: ownerPersonalKey.apiKey.id },
    credentials,
    make: {
      invitee,
      serviceKey: async () => (await org.createKey(org.owner, { keyType: 'service' })).apiKey.id,
      memberPersonalKey: async () => (await org.createKey(member)).apiKey.id,
      meteredServiceKey: async () => (await org.createKey(org.owner, { keyType: 'service', credits: { remaining: 100 } })).apiKey.id,
      meteredMemberKey: async () => {
        const id = (await org.createKey(member)).apiKey.id as string;
        await expectStatus(call(server, 'PATCH', `/api/api-keys/${id}`, { token: owner, body: { credits: { remaining: 100 } } }), 200, 'credits');
        return id;
      },
      roleBinding: async () => {
        const userId = await invitee();
        const body = { userId, role: 'VIEWER', scopeType: 'PROJECT', scopeId: project };
        return (await expectStatus(call(server, 'POST', '/api/role-bindings', { token: owner, body }), 201, 'role binding')).roleBinding.id as string;
      },
    },
  };
}
