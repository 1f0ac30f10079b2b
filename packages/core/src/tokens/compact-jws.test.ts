import { generateKeyPairSync } from 'node:crypto';
import { createLocalJWKSet, exportJWK, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import type { SigningAlgorithm } from '../orgs/organization.js';
import { BatchSigner } from './batch-signer.js';
import { decodeCompact, looksLikeJws, signCompact, signatureMatches } from './compact-jws.js';

const pairs: Record<SigningAlgorithm, () => ReturnType<typeof generateKeyPairSync>> = {
  ES256: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  RS256: () => generateKeyPairSync('rsa', { modulusLength: 2048 }),
  EdDSA: () => generateKeyPairSync('ed25519'),
};
const header = (alg: string, kid = 'sk_test') => Buffer.from(JSON.stringify({ alg, typ: 'at+jwt', kid })).toString('base64url');

describe('compact JWS over node:crypto', () => {
  for (const algorithm of ['ES256', 'RS256', 'EdDSA'] as const) {
    it(`signs ${algorithm} tokens that jose verifies, and checks them itself`, async () => {
      const { privateKey, publicKey } = pairs[algorithm]();
      const token = signCompact(header(algorithm), algorithm, privateKey, { sub: 'key_x', exp: Math.floor(Date.now() / 1000) + 60 });
      const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'sk_test', alg: algorithm }] });
      await expect(jwtVerify(token, jwks, { typ: 'at+jwt', algorithms: [algorithm] })).resolves.toBeTruthy();
      const decoded = decodeCompact(token)!;
      expect(signatureMatches(algorithm, publicKey, decoded.signingInput, decoded.signature)).toBe(true);
      expect(signatureMatches(algorithm, publicKey, `${decoded.signingInput}x`, decoded.signature)).toBe(false);
    });
  }

  it('decodes strictly: three base64url segments of JSON objects, nothing else', () => {
    const { privateKey } = pairs.ES256();
    const token = signCompact(header('ES256'), 'ES256', privateKey, { a: 1 });
    expect(decodeCompact(token)?.payload).toEqual({ a: 1 });
    expect(looksLikeJws(token)).toBe(true);
    for (const bad of ['', 'kw_abc', `${token}.x`, token.replace('.', '..'), `${token.slice(0, -2)}+/`, `e30.W10.${token.split('.')[2]}`, `eyJ.e30.`]) {
      expect(decodeCompact(bad)).toBeNull();
    }
    expect(looksLikeJws(`eyJ${'a'.repeat(9000)}.a.b`)).toBe(false);
  });

  it('refuses ECDSA signatures that are not 64 bytes (DER or truncated)', () => {
    const { privateKey, publicKey } = pairs.ES256();
    const decoded = decodeCompact(signCompact(header('ES256'), 'ES256', privateKey, {}))!;
    expect(signatureMatches('ES256', publicKey, decoded.signingInput, decoded.signature.subarray(0, 63))).toBe(false);
  });

  it('signs everything asked in one loop turn together, each answer to its asker', async () => {
    const { privateKey, publicKey } = pairs.ES256();
    const batch = new BatchSigner();
    const inputs = Array.from({ length: 20 }, (_, i) => `${header('ES256')}.${Buffer.from(`{"n":${i}}`).toString('base64url')}`);
    const signatures = await Promise.all(inputs.map((input) => batch.sign('ES256', privateKey, input)));
    inputs.forEach((input, i) => expect(signatureMatches('ES256', publicKey, input, signatures[i]!)).toBe(true));
    const { privateKey: ed25519 } = pairs.EdDSA();
    const [wrong, right] = await Promise.allSettled([batch.sign('ES256', ed25519, inputs[0]!), batch.sign('ES256', privateKey, inputs[1]!)]);
    expect(wrong.status).toBe('rejected');
    expect(right.status).toBe('fulfilled');
  });
});
