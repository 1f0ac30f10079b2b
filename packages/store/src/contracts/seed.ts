import { randomBytes } from 'node:crypto';
import type { ApiKeyRecord, KeyId, OrgId, Organization, Store, User, UserId } from '@keyward/core';

export const nextId = <P extends string>(prefix: P) => `${prefix}_${randomBytes(8).toString('hex')}` as `${P}_${string}`;

export async function seedOrg(store: Store, overrides: Partial<Organization> = {}): Promise<Organization> {
  const org: Organization = {
    id: nextId('org') as OrgId,
    name: 'Org',
    createdAt: new Date('2030-01-01T00:00:00Z'),
    bootstrappedAt: null,
    signingAlgorithm: 'ES256',
    accessTokenTtlSeconds: 600,
    ...overrides,
  };
  await store.orgs.insert(org);
  return org;
}

export async function seedUser(store: Store, overrides: Partial<User> = {}): Promise<User> {
  const user: User = {
    id: nextId('usr') as UserId,
    email: `${randomBytes(5).toString('hex')}@example.test`,
    name: null,
    passwordHash: 'scrypt$x',
    createdAt: new Date('2030-01-01T00:00:00Z'),
    disabledAt: null,
    ...overrides,
  };
  await store.users.insert(user);
  return user;
}

export async function seedMember(store: Store, orgId: OrgId, role: 'OWNER' | 'ADMIN' | 'MEMBER' | 'VIEWER' = 'MEMBER', createdAt = new Date()) {
  const user = await seedUser(store);
  await store.members.insert({ orgId, userId: user.id, role, status: 'active', createdAt });
  return user;
}

export function keyRecord(orgId: OrgId, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  const lookupId = randomBytes(8).toString('hex');
  const at = overrides.createdAt ?? new Date('2030-01-01T00:00:00Z');
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
    createdAt: at,
    updatedAt: at,
    revokedAt: null,
    revokedReason: null,
    disabledAt: null,
    ...overrides,
  };
}

export async function seedKey(store: Store, orgId: OrgId, overrides: Partial<ApiKeyRecord> = {}): Promise<ApiKeyRecord> {
  const key = keyRecord(orgId, overrides);
  await store.keys.insert(key);
  return key;
}
