import type { KeyId, Store } from '@keyward/core';
import { describe, expect, it } from 'vitest';
import { nextId, seedOrg } from './seed.js';

/** Audit log, usage, signing keys, meta and the token deny list. */
export function recordsStoreContract(open: () => Promise<Store>) {
  describe('audit log', () => {
    it('lists newest first, filters by actor, action and target, pages, and keeps tenants apart', async () => {
      const store = await open();
      const a = await seedOrg(store);
      const b = await seedOrg(store);
      for (let i = 0; i < 5; i++) {
        await store.audit.append({
          id: nextId('aud') as `aud_${string}`,
          orgId: a.id,
          at: new Date(Date.UTC(2030, 0, 1, 0, 0, i)),
          actor: { type: 'user', id: i % 2 ? 'usr_odd' : 'usr_even' },
          action: i < 3 ? 'api_key.created' : 'api_key.revoked',
          targetType: 'api_key',
          targetId: `key_${i}`,
          ip: null,
          outcome: 'success',
          requestId: null,
          details: { i },
        });
      }
      const all = await store.audit.list(a.id, {}, { limit: 2 });
      expect(all.items.map((e) => e.details.i)).toEqual([4, 3]);
      const next = await store.audit.list(a.id, {}, { limit: 10, cursor: all.nextCursor });
      expect(next.items.map((e) => e.details.i)).toEqual([2, 1, 0]);
      expect((await store.audit.list(a.id, { actorId: 'usr_odd' }, { limit: 10 })).items.map((e) => e.details.i)).toEqual([3, 1]);
      expect((await store.audit.list(a.id, { action: 'api_key.revoked' }, { limit: 10 })).items).toHaveLength(2);
      expect((await store.audit.list(a.id, { targetId: 'key_2' }, { limit: 10 })).items).toHaveLength(1);
      expect((await store.audit.list(b.id, {}, { limit: 10 })).items).toEqual([]);
    });
  });

  describe('usage', () => {
    it('adds counts by minute and code, aggregates by minute, hour and day, and ranks keys', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const other = await seedOrg(store);
      const k1 = 'key_one' as KeyId;
      const k2 = 'key_two' as KeyId;
      const t = (h: number, m: number) => new Date(Date.UTC(2030, 0, 1, h, m));
      await store.usage.add([
        { orgId: org.id, keyId: k1, minuteStart: t(10, 1), valid: 3, rejected: 1, rejectedByCode: { EXPIRED: 1 } },
        { orgId: org.id, keyId: k2, minuteStart: t(10, 1), valid: 1, rejected: 0, rejectedByCode: {} },
      ]);
      await store.usage.add([{ orgId: org.id, keyId: k1, minuteStart: t(10, 1), valid: 2, rejected: 2, rejectedByCode: { EXPIRED: 1, IP_NOT_ALLOWED: 1 } }]);
      await store.usage.add([{ orgId: org.id, keyId: k1, minuteStart: t(11, 30), valid: 1, rejected: 0, rejectedByCode: {} }]);
      await store.usage.add([{ orgId: other.id, keyId: 'key_x' as KeyId, minuteStart: t(10, 1), valid: 100, rejected: 0, rejectedByCode: {} }]);
      const minutes = await store.usage.buckets(org.id, k1, t(0, 0), t(23, 0), 'minute');
      expect(minutes).toEqual([
        { start: t(10, 1), valid: 5, rejected: 3, rejectedByCode: { EXPIRED: 2, IP_NOT_ALLOWED: 1 } },
        { start: t(11, 30), valid: 1, rejected: 0, rejectedByCode: {} },
      ]);
      const hours = await store.usage.buckets(org.id, null, t(0, 0), t(23, 0), 'hour');
      expect(hours.map((b) => [b.start.toISOString(), b.valid, b.rejected])).toEqual([
        [t(10, 0).toISOString(), 6, 3],
        [t(11, 0).toISOString(), 1, 0],
      ]);
      const days = await store.usage.buckets(org.id, null, t(0, 0), t(23, 0), 'day');
      expect(days).toHaveLength(1);
      expect(days[0]!.valid).toBe(7);
      expect(await store.usage.buckets(org.id, k1, t(11, 0), t(12, 0), 'minute')).toHaveLength(1);
      expect(await store.usage.topKeys(org.id, t(0, 0), t(23, 0), 5)).toEqual([
        { keyId: k1, valid: 6, rejected: 3 },
        { keyId: k2, valid: 1, rejected: 0 },
      ]);
    });
  });

  describe('signing keys, meta, revoked tokens', () => {
    it('keeps signing keys per organization and updates their state', async () => {
      const store = await open();
      const a = await seedOrg(store);
      const b = await seedOrg(store);
      const key = {
        id: nextId('sk') as `sk_${string}`,
        orgId: a.id,
        algorithm: 'ES256' as const,
        state: 'next' as const,
        publicJwk: { kty: 'EC', kid: 'x' },
        privateKeyCiphertext: 'v1.a.b.c',
        createdAt: new Date('2030-01-01'),
        publishedAt: new Date('2030-01-01'),
        activatedAt: null,
        deactivatedAt: null,
        retiredAt: null,
        compromisedAt: null,
      };
      await store.signingKeys.insert(key);
      expect(await store.signingKeys.listForOrg(a.id)).toEqual([key]);
      expect(await store.signingKeys.listForOrg(b.id)).toEqual([]);
      expect(await store.signingKeys.findById(b.id, key.id)).toBeNull();
      await store.signingKeys.update(b.id, key.id, { state: 'retired' });
      const activatedAt = new Date('2030-02-01');
      await store.signingKeys.update(a.id, key.id, { state: 'current', activatedAt });
      expect(await store.signingKeys.findById(a.id, key.id)).toEqual({ ...key, state: 'current', activatedAt });
    });

    it('sets meta values, inserts if absent exactly once, and deletes', async () => {
      const store = await open();
      const name = nextId('meta');
      expect(await store.meta.get(name)).toBeNull();
      const results = await Promise.all([1, 2, 3].map((i) => store.meta.setIfAbsent(name, String(i))));
      expect(results.filter(Boolean)).toHaveLength(1);
      await store.meta.set(name, 'x');
      expect(await store.meta.get(name)).toBe('x');
      expect(await store.meta.delete(name)).toBe(true);
      expect(await store.meta.delete(name)).toBe(false);
    });

    it('remembers revoked token ids until they expire', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const jti = nextId('jti');
      await store.revokedTokens.insert({ jti, orgId: org.id, keyId: 'key_x' as KeyId, expiresAt: new Date('2030-01-01T00:10:00Z') });
      await store.revokedTokens.insert({ jti, orgId: org.id, keyId: 'key_x' as KeyId, expiresAt: new Date('2030-01-01T00:10:00Z') });
      expect(await store.revokedTokens.isRevoked(jti)).toBe(true);
      expect(await store.revokedTokens.purgeExpired(new Date('2030-01-01T00:09:59Z'))).toBe(0);
      expect(await store.revokedTokens.purgeExpired(new Date('2030-01-01T00:10:00Z'))).toBeGreaterThanOrEqual(1);
      expect(await store.revokedTokens.isRevoked(jti)).toBe(false);
    });
  });
}
