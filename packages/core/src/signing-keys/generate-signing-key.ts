import { exportJWK, generateKeyPair } from 'jose';
import type { OrgId, SigningKeyId } from '../ids.js';
import type { SigningAlgorithm } from '../orgs/organization.js';
import { encryptSecret } from './key-encryption.js';
import type { SigningKeyRecord, SigningKeyState } from './signing-key.js';

const generationOptions: Record<SigningAlgorithm, Parameters<typeof generateKeyPair>[1]> = {
  ES256: { extractable: true },
  // RFC 9068 requires RS256 support; 3072-bit keys meet ASVS's 128-bit floor.
  RS256: { extractable: true, modulusLength: 3072 },
  EdDSA: { extractable: true, crv: 'Ed25519' },
};

/** A new key pair for an organization: the public JWK in clear, the private JWK encrypted. */
export async function generateSigningKey(input: {
  id: SigningKeyId;
  orgId: OrgId;
  algorithm: SigningAlgorithm;
  state: SigningKeyState;
  now: Date;
  encryptionKey: Buffer;
}): Promise<SigningKeyRecord> {
  const { publicKey, privateKey } = await generateKeyPair(input.algorithm, generationOptions[input.algorithm]);
  const publicJwk = { ...(await exportJWK(publicKey)), kid: input.id, alg: input.algorithm, use: 'sig' };
  const privateJwk = { ...(await exportJWK(privateKey)), kid: input.id, alg: input.algorithm };
  return {
    id: input.id,
    orgId: input.orgId,
    algorithm: input.algorithm,
    state: input.state,
    publicJwk,
    privateKeyCiphertext: encryptSecret(input.encryptionKey, JSON.stringify(privateJwk), `${input.orgId}/${input.id}`),
    createdAt: input.now,
    publishedAt: input.now,
    activatedAt: input.state === 'current' ? input.now : null,
    deactivatedAt: null,
    retiredAt: null,
    compromisedAt: null,
  };
}
