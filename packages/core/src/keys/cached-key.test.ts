import { describe, expect, it } from 'vitest';
import type { KeyId, OrgId, ProjectId, UserId } from '../ids.js';
import type { ApiKeyRecord } from './api-key.js';
import { CachedKey, CachedKeyFactory } from './cached-key.js';

const orgId = 'org_one' as OrgId;
const projectId = 'proj_one' as ProjectId;

function record(fields: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  const lookupId = 'L000000000000001';
  return {
    id: `key_${lookupId}` as KeyId,
    orgId,
    keyType: 'service',
    name: 'deploy',
    description: null,
    lookupId,
    secret: { digest: 'ab'.repeat(32), pepperVersion: 3 },
    previousSecret: null,
    previousSecretExpiresAt: null,
    preview: 'kw_…abcd',
    ownerUserId: null,
    createdByUserId: 'usr_admin' as UserId,
    createdByKeyId: null,
    projectId: null,
    bindings: [{ role: 'MEMBER', scopeType: 'PROJECT', scopeId: projectId }],
    permissionMode: 'all',
    permissions: [],
    scopes: [],
    allowedCidrs: [],
    expiresAt: null,
    lastUsedAt: null,
    createdAt: new Date(1_000),
    updatedAt: new Date(1_000),
    revokedAt: null,
    revokedReason: null,
    disabledAt: null,
    rateLimits: [],
    credits: null,
    ...fields,
  };
}

describe('CachedKey', () => {
  it('reads back every field of the record it was made from, rare fields included', () => {
    const factory = new CachedKeyFactory();
    const plain = record();
    expect(factory.make(plain).toRecord()).toEqual(plain);
    const rare = record({
      description: 'rolled',
      previousSecret: { digest: 'cd'.repeat(32), pepperVersion: 2 },
      previousSecretExpiresAt: new Date(9_000),
      createdByUserId: null,
      createdByKeyId: 'key_creator00000001' as KeyId,
      expiresAt: new Date(50_000),
      lastUsedAt: new Date(4_000),
      updatedAt: new Date(2_000),
      revokedAt: new Date(3_000),
      revokedReason: 'leaked',
      credits: { remaining: 5, refill: null, version: 1, period: 0 },
      keyType: 'project',
      lookupId: null,
      projectId,
    });
    const cached = factory.make(rare);
    expect(cached.toRecord()).toEqual(rare);
    expect(JSON.parse(JSON.stringify(cached))).toEqual(JSON.parse(JSON.stringify(rare)));
    expect(cached.isRevoked).toBe(true);
    expect(cached.pepperVersion).toBe(3);
    expect(cached.expiresMs).toBe(50_000);
  });

  it('keeps the secret digest as its 32 bytes and never the hex text twice', () => {
    const cached = new CachedKeyFactory().make(record());
    expect(cached.digestBytes).toHaveLength(32);
    expect(Buffer.from(cached.digestBytes, 'latin1').toString('hex')).toBe('ab'.repeat(32));
    expect(cached.secret).toEqual({ digest: 'ab'.repeat(32), pepperVersion: 3 });
  });

  it('gives keys with the same access one profile, and keys with another access their own', () => {
    const factory = new CachedKeyFactory();
    const a = factory.make(record({ id: 'key_A000000000000001' as KeyId, lookupId: 'A000000000000001' }));
    const b = factory.make(record({ id: 'key_B000000000000001' as KeyId, lookupId: 'B000000000000001', name: 'other' }));
    const restricted = factory.make(record({ permissionMode: 'restricted', permissions: ['traces:read'] }));
    const otherOrg = factory.make(record({ orgId: 'org_two' as OrgId }));
    expect(b.access).toBe(a.access);
    expect(restricted.access).not.toBe(a.access);
    expect(otherOrg.access).not.toBe(a.access);
    expect(factory.profileCount).toBe(3);
  });

  it("uses the caller's string for its id, and is made once from a cached key", () => {
    const factory = new CachedKeyFactory();
    const name = ['key_', 'L000000000000001'].join('') as KeyId;
    const cached = factory.make(record(), name);
    expect(cached.id).toBe(name);
    expect(CachedKey.of(cached, () => cached.access, (text) => text)).toBe(cached);
  });
});
