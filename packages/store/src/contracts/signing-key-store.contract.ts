import type { KeyId, SigningKeyRecord, Store } from '@keyward/core';
import { describe, expect, it } from 'vitest';
import { at, nextId, seedOrg } from './seed.js';

const signingKeyRecord = (orgId: SigningKeyRecord['orgId'], overrides: Partial<SigningKeyRecord> = {}): SigningKeyRecord => ({
  id: nextId('sk'),
  orgId,
  algorithm: 'ES256',
  state: 'next',
  publicJwk: { kty: 'EC', crv: 'P-256', kid: 'k', use: 'sig', alg: 'ES256' },
  privateKeyCiphertext: 'v1.a.b.c',
  createdAt: at(),
  publishedAt: at(),
  activatedAt: null,
  deactivatedAt: null,
  retiredAt: null,
  compromisedAt: null,
  ...overrides,
});

/** Signing keys per organization, and the deny list of revoked access tokens. */
export function signingKeyStoreContract(open: () => Promise<Store>) {
  describe('SigningKeyRepository', () => {
    it('lists an organization’s signing keys newest first and updates their state', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const older = signingKeyRecord(org.id, { state: 'current', createdAt: at(1), activatedAt: at(1) });
      const newer = signingKeyRecord(org.id, { createdAt: at(2), algorithm: 'RS256', publicJwk: { kty: 'RSA', n: 'x', e: 'AQAB' } });
      await store.signingKeys.insert(older);
      await store.signingKeys.insert(newer);
      expect(await store.signingKeys.listForOrg(org.id)).toEqual([newer, older]);
      await store.signingKeys.update(org.id, newer.id, { state: 'current', activatedAt: at(5) });
      await store.signingKeys.update(org.id, older.id, { state: 'previous', deactivatedAt: at(5), compromisedAt: at(6) });
      await store.signingKeys.update(org.id, older.id, {});
      expect(await store.signingKeys.findById(org.id, newer.id)).toEqual({ ...newer, state: 'current', activatedAt: at(5) });
      expect(await store.signingKeys.findById(org.id, older.id)).toEqual({ ...older, state: 'previous', deactivatedAt: at(5), compromisedAt: at(6) });
      await store.signingKeys.update(org.id, older.id, { state: 'retired', retiredAt: at(7), compromisedAt: null });
      expect(await store.signingKeys.findById(org.id, older.id)).toMatchObject({ state: 'retired', retiredAt: at(7), compromisedAt: null });
    });

    it("never lists, returns or updates another organization's signing key", async () => {
      const store = await open();
      const a = await seedOrg(store);
      const b = await seedOrg(store);
      const key = signingKeyRecord(a.id);
      await store.signingKeys.insert(key);
      expect(await store.signingKeys.listForOrg(b.id)).toEqual([]);
      expect(await store.signingKeys.findById(b.id, key.id)).toBeNull();
      await store.signingKeys.update(b.id, key.id, { state: 'retired', retiredAt: at(1), compromisedAt: at(1) });
      expect(await store.signingKeys.findById(a.id, key.id)).toEqual(key);
    });
  });

  describe('RevokedTokenRepository', () => {
    it('remembers a revoked token id until it expires, and ignores a repeated insert', async () => {
      const store = await open();
      const org = await seedOrg(store);
      const jti = nextId('jti');
      const entry = { jti, orgId: org.id, keyId: nextId('key') as KeyId, expiresAt: at(600) };
      await store.revokedTokens.insert(entry);
      await store.revokedTokens.insert(entry);
      expect(await store.revokedTokens.isRevoked(jti)).toBe(true);
      expect(await store.revokedTokens.isRevoked(nextId('jti'))).toBe(false);
      expect(await store.revokedTokens.purgeExpired(at(599))).toBe(0);
      expect(await store.revokedTokens.isRevoked(jti)).toBe(true);
      expect(await store.revokedTokens.purgeExpired(at(600))).toBeGreaterThanOrEqual(1);
      expect(await store.revokedTokens.isRevoked(jti)).toBe(false);
    });
  });
}
