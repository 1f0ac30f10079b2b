import { describe, expect, it } from 'vitest';
import type { KeyId, OrgId, ProjectId, TeamId, UserId } from '../ids.js';
import { createLocalCacheBus } from '../local-cache-bus.js';
import type { Membership } from '../members/membership.js';
import { defaultCatalogue } from '../permissions/catalogue.js';
import type { Project } from '../projects/project.js';
import type { ApiKeyRecord } from './api-key.js';
import { CachedKey } from './cached-key.js';
import { PepperRing } from './key-digest.js';
import { createKeyFormat } from './key-format.js';
import { CachedVerdictSource, type OwnerState, type VerdictSource } from './verdict-source.js';
import { KeyVerifier } from './verify-key.js';

const orgId = 'org_one' as OrgId;
const projectId = 'proj_one' as ProjectId;
const ownerId = 'usr_owner' as UserId;
const keyFormat = createKeyFormat();

/** A clock the test moves by hand. */
function manualClock(start = Date.UTC(2030, 0, 1)) {
  let now = start;
  return { now: () => new Date(now), advance: (ms: number) => void (now += ms), at: () => now };
}

/** Peppers whose HMACs are counted, to show what the hot path skips. */
function countingPeppers() {
  const ring = new PepperRing([{ version: 1, key: Buffer.alloc(32, 7) }]);
  const counted = { digests: 0 };
  const digest = ring.digest.bind(ring);
  ring.digest = (secret, version) => {
    counted.digests++;
    return digest(secret, version);
  };
  return { ring, counted };
}

/** Keys, owners and projects held by the test, each read counted; `readsNow`: keys are read at once too. */
function memorySource(readsNow = false) {
  const keys = new Map<string, ApiKeyRecord>();
  const owners = new Map<string, OwnerState>();
  const projects = new Map<string, Project>();
  const reads = { keys: 0, owners: 0, projects: 0 };
  const source: VerdictSource = {
    ...(readsNow
      ? {
          keyByLookupIdNow(lookupId: string) {
            reads.keys++;
            return keys.get(lookupId) ?? null;
          },
        }
      : {}),
    async keyByLookupId(lookupId) {
      reads.keys++;
      return keys.get(lookupId) ?? null;
    },
    async keyByDigest() {
      reads.keys++;
      return null;
    },
    async owner(_org, userId) {
      reads.owners++;
      return owners.get(userId) ?? { membership: null, bindings: [], userDisabled: false };
    },
    async project(_org, id) {
      reads.projects++;
      return projects.get(id) ?? null;
    },
  };
  return { source, keys, owners, projects, reads };
}

function setup(options: { maxEntries?: number; maxAgeMs?: number; readsNow?: boolean } = {}) {
  const clock = manualClock();
  const { ring, counted } = countingPeppers();
  const memory = memorySource(options.readsNow);
  const bus = createLocalCacheBus() as ReturnType<typeof createLocalCacheBus> & { healthy?: boolean };
  const cache = new CachedVerdictSource(memory.source, bus, { maxEntries: options.maxEntries ?? 1000, negativeTtlMs: 5000, maxAgeMs: options.maxAgeMs ?? 0 });
  const verifier = new KeyVerifier({ source: cache, clock, peppers: ring, keyFormat, catalogue: defaultCatalogue });
  memory.projects.set(projectId, { id: projectId, orgId, teamId: null, name: 'one', archivedAt: null, createdAt: new Date(0) });

  /** Stores a key and returns its token; `fields` override the record. */
  function addKey(fields: Partial<ApiKeyRecord> = {}): { token: string; key: ApiKeyRecord } {
    const lookupId = `L${String(memory.keys.size).padStart(15, '0')}`;
    const { token, secret } = keyFormat.generate(lookupId);
    const key: ApiKeyRecord = {
      id: `key_${lookupId}` as KeyId,
      orgId,
      keyType: 'service',
      name: 'k',
      description: null,
      lookupId,
      secret: { digest: ring.referenceDigest(secret).toString('hex'), pepperVersion: 1 },
      previousSecret: null,
      previousSecretExpiresAt: null,
      preview: keyFormat.preview(token),
      ownerUserId: null,
      createdByUserId: null,
      createdByKeyId: null,
      projectId: null,
      bindings: [{ role: 'MEMBER', scopeType: 'PROJECT', scopeId: projectId }],
      permissionMode: 'all',
      permissions: [],
      scopes: [],
      allowedCidrs: [],
      expiresAt: null,
      lastUsedAt: null,
      createdAt: new Date(0),
      updatedAt: new Date(0),
      revokedAt: null,
      revokedReason: null,
      disabledAt: null,
      rateLimits: [],
      credits: null,
      ...fields,
    };
    memory.keys.set(lookupId, key);
    return { token, key };
  }

  /** Replaces a stored key's record, as an edit does, and announces it. */
  function change(key: ApiKeyRecord, fields: Partial<ApiKeyRecord>): ApiKeyRecord {
    const next = { ...key, ...fields };
    memory.keys.set(key.lookupId!, next);
    bus.emit({ type: 'key', keyId: key.id, orgId });
    return next;
  }

  return { clock, counted, memory, bus, cache, verifier, addKey, change };
}

const ask = { permission: 'traces:read' } as const;

describe('KeyVerifier', () => {
  it('verifies a token once the whole way, then again from memory with no read and no HMAC', async () => {
    const { verifier, addKey, memory, counted } = setup();
    const { token, key } = addKey();
    const first = await verifier.verify({ token, ...ask });
    expect(first).toMatchObject({ valid: true, code: 'VALID', projectId });
    const reads = { ...memory.reads };
    const digests = counted.digests;
    for (let i = 0; i < 5; i++) expect(await verifier.verify({ token, ...ask })).toMatchObject({ valid: true, key: { id: key.id } });
    expect(memory.reads).toEqual(reads);
    expect(counted.digests).toBe(digests);
  });

  it('answers from memory without a promise (check), and reads through one only when it must', async () => {
    const { verifier, addKey, change, clock } = setup();
    const { token, key } = addKey();
    const unknown = verifier.check({ token, ...ask });
    expect(unknown).toBeInstanceOf(Promise);
    expect(await unknown).toMatchObject({ valid: true });
    expect(verifier.check({ token, ...ask })).toMatchObject({ valid: true, code: 'VALID', key: { id: key.id } });
    // A malformed key is refused at once, with no read.
    const broken = token.slice(0, -1) + (token.at(-1) === 'A' ? 'B' : 'A');
    expect(verifier.check({ token: broken, ...ask })).toMatchObject({ valid: false, code: 'NOT_FOUND', explanation: expect.stringContaining('well-formed') });
    // After an invalidation the key is read again (a promise), and the new state is the answer.
    change(key, { revokedAt: clock.now() });
    const after = verifier.check({ token, ...ask });
    expect(after).toBeInstanceOf(Promise);
    expect(await after).toMatchObject({ valid: false, code: 'REVOKED' });
    expect(verifier.check({ token, ...ask })).toMatchObject({ valid: false, code: 'REVOKED' });
    // A malformed ask throws synchronously, before any lookup.
    expect(() => verifier.check({ token, permission: 'traces:reed' })).toThrow(/did you mean "traces:read"/);
  });

  it('refuses a token one character off, and never takes it for a known one', async () => {
    const { verifier, addKey } = setup();
    const { token } = addKey();
    await verifier.verify({ token, ...ask });
    const last = token.at(-7)!;
    const tampered = token.slice(0, -7) + (last === 'a' ? 'b' : 'a') + token.slice(-6);
    expect(await verifier.verify({ token: tampered, ...ask })).toMatchObject({ valid: false, code: 'NOT_FOUND' });
  });

  it('refuses an unknown lookup id after the lookup alone (no HMAC, remembered), and hashes a wrong secret of a known id', async () => {
    const { verifier, addKey, memory, counted } = setup();
    const { key } = addKey();
    const unknown = keyFormat.generate('Lunknown00000000').token;
    expect(await verifier.verify({ token: unknown, ...ask })).toMatchObject({ valid: false, code: 'NOT_FOUND' });
    expect([memory.reads.keys, counted.digests]).toEqual([1, 0]);
    expect(await verifier.verify({ token: unknown, ...ask })).toMatchObject({ valid: false, code: 'NOT_FOUND' });
    expect([memory.reads.keys, counted.digests]).toEqual([1, 0]);
    // The same lookup id with another secret: the key exists, so its digest is compared.
    const wrongSecret = keyFormat.generate(key.lookupId!).token;
    expect(await verifier.verify({ token: wrongSecret, ...ask })).toMatchObject({ valid: false, code: 'NOT_FOUND' });
    expect(counted.digests).toBe(1);
  });

  it('refuses an unknown lookup id without a promise when the source reads at once, and caches what it finds', async () => {
    const { verifier, addKey, memory, counted } = setup({ readsNow: true });
    const unknown = keyFormat.generate('Lunknown00000000').token;
    expect(verifier.check({ token: unknown, ...ask })).toMatchObject({ valid: false, code: 'NOT_FOUND' });
    expect(verifier.check({ token: unknown, ...ask })).toMatchObject({ valid: false, code: 'NOT_FOUND' });
    expect([memory.reads.keys, counted.digests]).toEqual([1, 0]);
    // A stored key is read at once too, then verified (a promise: the secret, the owner, the project).
    const { token, key } = addKey();
    expect(await verifier.check({ token, ...ask })).toMatchObject({ valid: true, key: { id: key.id } });
    expect(memory.reads.keys).toBe(2);
    expect(verifier.check({ token, ...ask })).toMatchObject({ valid: true });
  });

  it('answers REVOKED on the first verification after the invalidation, however warm the memory', async () => {
    const { verifier, addKey, change, clock } = setup();
    const { token, key } = addKey();
    for (let i = 0; i < 3; i++) await verifier.verify({ token, ...ask });
    change(key, { revokedAt: clock.now() });
    expect(await verifier.verify({ token, ...ask })).toMatchObject({ valid: false, code: 'REVOKED' });
  });

  it('answers EXPIRED from the moment the injected clock reaches the expiry, on the memorized path too', async () => {
    const { verifier, addKey, clock } = setup();
    const { token } = addKey({ expiresAt: new Date(clock.at() + 1000) });
    expect(await verifier.verify({ token, ...ask })).toMatchObject({ valid: true });
    clock.advance(999);
    expect(await verifier.verify({ token, ...ask })).toMatchObject({ valid: true });
    clock.advance(1);
    expect(await verifier.verify({ token, ...ask })).toMatchObject({ valid: false, code: 'EXPIRED' });
  });

  it("accepts a rolled key's old secret until its overlap ends, remembered or not", async () => {
    const { verifier, addKey, change, clock } = setup();
    const old = addKey();
    await verifier.verify({ token: old.token, ...ask });
    const { token: fresh, secret } = keyFormat.generate(old.key.lookupId!);
    const ring = new PepperRing([{ version: 1, key: Buffer.alloc(32, 7) }]);
    change(old.key, {
      secret: { digest: ring.referenceDigest(secret).toString('hex'), pepperVersion: 1 },
      previousSecret: old.key.secret,
      previousSecretExpiresAt: new Date(clock.at() + 60_000),
    });
    expect(await verifier.verify({ token: old.token, ...ask })).toMatchObject({ valid: true });
    expect(await verifier.verify({ token: fresh, ...ask })).toMatchObject({ valid: true });
    clock.advance(59_999);
    expect(await verifier.verify({ token: old.token, ...ask })).toMatchObject({ valid: true });
    clock.advance(1);
    expect(await verifier.verify({ token: old.token, ...ask })).toMatchObject({ valid: false, code: 'NOT_FOUND' });
    expect(await verifier.verify({ token: fresh, ...ask })).toMatchObject({ valid: true });
  });

  it("follows the owner's rights: a personal key loses what its owner loses at the member invalidation", async () => {
    const { verifier, addKey, memory, bus } = setup();
    const membership = (role: Membership['role']): Membership => ({ orgId, userId: ownerId, role, status: 'active', createdAt: new Date(0) });
    memory.owners.set(ownerId, { membership: membership('ADMIN'), bindings: [], userDisabled: false });
    const { token } = addKey({ keyType: 'personal', ownerUserId: ownerId, bindings: [{ role: 'ADMIN', scopeType: 'ORGANIZATION', scopeId: orgId }] });
    const write = { permission: 'traces:write' };
    expect(await verifier.verify({ token, ...write })).toMatchObject({ valid: true });
    memory.owners.set(ownerId, { membership: membership('VIEWER'), bindings: [], userDisabled: false });
    // Not announced yet: the memory still answers as before (invalidations are what keep it fresh).
    expect(await verifier.verify({ token, ...write })).toMatchObject({ valid: true });
    bus.emit({ type: 'member', orgId, userId: ownerId });
    expect(await verifier.verify({ token, ...write })).toMatchObject({ valid: false, code: 'INSUFFICIENT_PERMISSIONS' });
    expect(await verifier.verify({ token, ...ask })).toMatchObject({ valid: true });
  });

  it('checks an archived project again after the organization is invalidated', async () => {
    const { verifier, addKey, memory, bus } = setup();
    const { token } = addKey();
    expect(await verifier.verify({ token, ...ask })).toMatchObject({ valid: true });
    memory.projects.set(projectId, { ...memory.projects.get(projectId)!, archivedAt: new Date(0) });
    bus.emit({ type: 'org', orgId });
    expect(await verifier.verify({ token, ...ask })).toMatchObject({ valid: false, code: 'INSUFFICIENT_PERMISSIONS', explanation: `project ${projectId} is archived` });
  });

  it("keeps to a verifier's organization on the memorized path", async () => {
    const { verifier, addKey } = setup();
    const { token } = addKey();
    expect(await verifier.verify({ token, ...ask, orgId })).toMatchObject({ valid: true });
    expect(await verifier.verify({ token, ...ask, orgId: 'org_other' as OrgId })).toMatchObject({ valid: false, code: 'NOT_FOUND' });
  });

  it('reads everything again while the bus is not healthy, and trusts memory once it is', async () => {
    const { verifier, addKey, memory, bus } = setup();
    const { token } = addKey();
    await verifier.verify({ token, ...ask });
    bus.healthy = false;
    const before = memory.reads.keys;
    await verifier.verify({ token, ...ask });
    await verifier.verify({ token, ...ask });
    expect(memory.reads.keys).toBe(before + 2);
    bus.healthy = true;
    await verifier.verify({ token, ...ask });
    const warm = memory.reads.keys;
    await verifier.verify({ token, ...ask });
    expect(memory.reads.keys).toBe(warm);
  });

  it('holds maxEntries keys whatever owners and projects they have: those are kept apart', async () => {
    const { verifier, addKey, memory, cache, clock } = setup({ maxEntries: 2 });
    memory.owners.set(ownerId, { membership: { orgId, userId: ownerId, role: 'ADMIN', status: 'active', createdAt: new Date(0) }, bindings: [], userDisabled: false });
    const personal = { keyType: 'personal', ownerUserId: ownerId, bindings: [{ role: 'ADMIN', scopeType: 'ORGANIZATION', scopeId: orgId }] } as const;
    const tokens = [addKey(personal).token, addKey().token];
    for (const token of tokens) expect(await verifier.verify({ token, ...ask })).toMatchObject({ valid: true });
    expect([cache.keyCount, cache.size]).toEqual([2, 4]); // two keys; with the owner and the project
    const reads = { ...memory.reads };
    clock.advance(1001);
    for (const token of tokens) expect(await verifier.verify({ token, ...ask })).toMatchObject({ valid: true });
    expect(memory.reads).toEqual(reads);
  });

  it('looks an evicted entry up again within a second, without an invalidation', async () => {
    const { verifier, addKey, memory, clock } = setup({ maxEntries: 2 });
    const { token } = addKey();
    await verifier.verify({ token, ...ask });
    // Two other keys push the first out of the two-key cache.
    for (let i = 0; i < 2; i++) await verifier.verify({ token: addKey().token, ...ask });
    const before = memory.reads.keys;
    clock.advance(1001);
    expect(await verifier.verify({ token, ...ask })).toMatchObject({ valid: true });
    expect(memory.reads.keys).toBe(before + 1);
  });

  it('shares one access profile and one decision among keys with the same access, and keeps per key only the key', async () => {
    const { verifier, addKey, cache } = setup();
    const one = addKey();
    const two = addKey();
    const other = addKey({ bindings: [{ role: 'VIEWER', scopeType: 'PROJECT', scopeId: projectId }] });
    const a = await verifier.verify({ token: one.token, ...ask });
    const b = await verifier.verify({ token: two.token, ...ask });
    const c = await verifier.verify({ token: other.token, ...ask });
    expect(a.key).toBeInstanceOf(CachedKey);
    expect((a.key as CachedKey).access).toBe((b.key as CachedKey).access);
    expect((c.key as CachedKey).access).not.toBe((a.key as CachedKey).access);
    expect(cache.profileCount).toBe(2);
    if (!a.valid || !b.valid) throw new Error('expected valid verdicts');
    expect(b.subject).toBe(a.subject);
    expect(b.permissions).toBe(a.permissions);
    expect(b.explanation).toBe(a.explanation);
    // The answer is each key's own, made per verification.
    expect(verifier.answer(a)).toMatchObject({ valid: true, keyId: one.key.id, organizationId: orgId, projectId, expiresAt: null });
    expect(verifier.answer(b)).toMatchObject({ valid: true, keyId: two.key.id });
    const narrowed = await verifier.verify({ token: one.token, ...ask, tokenPermissions: ['traces:read'] });
    expect(verifier.answer(narrowed)).toMatchObject({ valid: true, permissions: ['traces:read'] });
  });

  it("follows a project moved to another team: the profile's memoized decisions are per project record", async () => {
    const { verifier, addKey, memory, bus } = setup();
    const teamA = 'team_a' as TeamId;
    memory.projects.set(projectId, { id: projectId, orgId, teamId: teamA, name: 'one', archivedAt: null, createdAt: new Date(0) });
    const { token } = addKey({ bindings: [{ role: 'MEMBER', scopeType: 'TEAM', scopeId: teamA }] });
    expect(await verifier.verify({ token, ...ask, projectId })).toMatchObject({ valid: true });
    expect(await verifier.verify({ token, ...ask, projectId })).toMatchObject({ valid: true });
    memory.projects.set(projectId, { id: projectId, orgId, teamId: 'team_b' as TeamId, name: 'one', archivedAt: null, createdAt: new Date(0) });
    bus.emit({ type: 'org', orgId });
    expect(await verifier.verify({ token, ...ask, projectId })).toMatchObject({ valid: false, code: 'INSUFFICIENT_PERMISSIONS' });
  });

  it('keeps the cached key an ApiKeyRecord: every field reads as the stored record has it', async () => {
    const { verifier, addKey, clock } = setup();
    const expiresAt = new Date(clock.at() + 86_400_000);
    const { token, key } = addKey({ description: 'ci', createdByUserId: ownerId, expiresAt, lastUsedAt: new Date(5), updatedAt: new Date(7) });
    const verdict = await verifier.verify({ token, ...ask });
    expect(verdict.key).toBeInstanceOf(CachedKey);
    expect((verdict.key as CachedKey).toRecord()).toEqual(key);
    expect(await verifier.identifyKey(token)).toEqual(key);
    expect(verifier.answer(verdict)).toMatchObject({ expiresAt: expiresAt.toISOString() });
  });
});

describe('CachedVerdictSource', () => {
  it('never stores a load that started before an invalidation, and shares one read among concurrent callers', async () => {
    let release!: () => void;
    let reads = 0;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { key: record } = setup().addKey();
    const source: VerdictSource = {
      keyByLookupId: async () => {
        reads++;
        await gate;
        return record;
      },
      keyByDigest: async () => null,
      owner: async () => ({ membership: null, bindings: [], userDisabled: false }),
      project: async () => null,
    };
    const bus = createLocalCacheBus();
    const cache = new CachedVerdictSource(source, bus, { maxEntries: 10, negativeTtlMs: 1000, maxAgeMs: 0 });
    const first = cache.keyByLookupId('x');
    const joined = cache.keyByLookupId('x');
    expect(reads).toBe(1);
    const generation = cache.peekGeneration();
    bus.emit({ type: 'key', keyId: 'key_x' as KeyId, orgId });
    expect(cache.peekGeneration()).not.toBe(generation);
    release();
    expect((await first)?.toRecord()).toEqual(record);
    expect(await joined).toBe(await first);
    expect(cache.peekKeyByLookupId('x')).toBeUndefined();
    const stored = await cache.keyByLookupId('x');
    expect(reads).toBe(2);
    expect(cache.peekKeyByLookupId('x')).toBe(stored);
  });
});
