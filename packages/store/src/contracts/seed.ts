import { randomBytes } from 'node:crypto';
import type {
  ApiKeyRecord,
  AuditEntry,
  Invitation,
  KeyId,
  OrgId,
  OrgRole,
  Organization,
  Project,
  Repositories,
  RoleBindingId,
  Team,
  User,
  UserId,
  UserRoleBinding,
} from '@keyward/core';

/** A fresh prefixed id, so that tests sharing a store never collide. */
export const nextId = <P extends string>(prefix: P) => `${prefix}_${randomBytes(8).toString('hex')}` as `${P}_${string}`;

/** An instant in 2030 plus `seconds`: fixed, so that orderings are decided by the test. */
export const at = (seconds = 0) => new Date(Date.UTC(2030, 0, 1) + seconds * 1000);

export async function seedOrg(store: Repositories, overrides: Partial<Organization> = {}): Promise<Organization> {
  const org: Organization = {
    id: nextId('org') as OrgId,
    name: 'Org',
    createdAt: at(),
    bootstrappedAt: null,
    signingAlgorithm: 'ES256',
    accessTokenTtlSeconds: 600,
    ...overrides,
  };
  await store.orgs.insert(org);
  return org;
}

export async function seedUser(store: Repositories, overrides: Partial<User> = {}): Promise<User> {
  const user: User = {
    id: nextId('usr') as UserId,
    email: `${randomBytes(5).toString('hex')}@example.test`,
    name: null,
    passwordHash: 'scrypt$x',
    createdAt: at(),
    disabledAt: null,
    ...overrides,
  };
  await store.users.insert(user);
  return user;
}

export async function seedMember(store: Repositories, orgId: OrgId, role: OrgRole = 'MEMBER', createdAt = at()): Promise<User> {
  const user = await seedUser(store);
  await store.members.insert({ orgId, userId: user.id, role, status: 'active', createdAt });
  return user;
}

export function invitationRecord(orgId: OrgId, userId: UserId, overrides: Partial<Invitation> = {}): Invitation {
  return {
    id: nextId('inv'),
    orgId,
    userId,
    email: `${randomBytes(5).toString('hex')}@example.test`,
    role: 'MEMBER',
    tokenDigest: randomBytes(32).toString('hex'),
    expiresAt: at(86_400),
    acceptedAt: null,
    passwordAttempts: 0,
    createdByUserId: null,
    createdAt: at(),
    ...overrides,
  };
}

export async function seedTeam(store: Repositories, orgId: OrgId, overrides: Partial<Team> = {}): Promise<Team> {
  const team: Team = { id: nextId('team'), orgId, name: 'Team', createdAt: at(), ...overrides };
  await store.teams.insert(team);
  return team;
}

export async function seedProject(store: Repositories, orgId: OrgId, overrides: Partial<Project> = {}): Promise<Project> {
  const project: Project = { id: nextId('proj'), orgId, teamId: null, name: 'Project', archivedAt: null, createdAt: at(), ...overrides };
  await store.projects.insert(project);
  return project;
}

export async function seedBinding(store: Repositories, orgId: OrgId, userId: UserId, overrides: Partial<UserRoleBinding> = {}): Promise<UserRoleBinding> {
  const binding: UserRoleBinding = {
    id: nextId('rb') as RoleBindingId,
    orgId,
    userId,
    role: 'CUSTOM',
    permissions: ['traces:read'],
    scopeType: 'PROJECT',
    scopeId: nextId('proj'),
    createdAt: at(),
    ...overrides,
  };
  await store.bindings.insert(binding);
  return binding;
}

export function keyRecord(orgId: OrgId, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  const lookupId = randomBytes(8).toString('hex');
  const createdAt = overrides.createdAt ?? at();
  return {
    id: `key_${lookupId}` as KeyId,
    orgId,
    keyType: 'personal',
    name: 'key',
    description: null,
    lookupId,
    secret: { digest: randomBytes(32).toString('hex'), pepperVersion: 1 },
    previousSecret: null,
    previousSecretExpiresAt: null,
    preview: 'kw_…abcd',
    ownerUserId: null,
    createdByUserId: null,
    createdByKeyId: null,
    projectId: null,
    bindings: [{ role: 'ADMIN', scopeType: 'ORGANIZATION', scopeId: orgId }],
    permissionMode: 'all',
    permissions: [],
    scopes: [],
    allowedCidrs: [],
    expiresAt: null,
    lastUsedAt: null,
    createdAt,
    updatedAt: createdAt,
    revokedAt: null,
    revokedReason: null,
    disabledAt: null,
    rateLimits: [],
    credits: null,
    ...overrides,
  };
}

export async function seedKey(store: Repositories, orgId: OrgId, overrides: Partial<ApiKeyRecord> = {}): Promise<ApiKeyRecord> {
  const key = keyRecord(orgId, overrides);
  await store.keys.insert(key);
  return key;
}

export function auditRecord(orgId: OrgId, overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    id: nextId('aud'),
    orgId,
    at: at(),
    actor: { type: 'system', id: 'test' },
    action: 'api_key.created',
    targetType: 'api_key',
    targetId: null,
    ip: null,
    outcome: 'success',
    requestId: null,
    details: {},
    ...overrides,
  };
}
