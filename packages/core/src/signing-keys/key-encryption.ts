import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM envelope for private signing keys at rest (R7). The associated data binds a ciphertext
 * to its organization and key id, so rows cannot be swapped between organizations undetected.
 * Format: `v1.<iv>.<ciphertext>.<tag>`, each part base64url.
 */
export function encryptSecret(encryptionKey: Buffer, plaintext: string, associatedData: string): string {
  assertKeyLength(encryptionKey);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', encryptionKey, iv);
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

export function decryptSecret(encryptionKey: Buffer, envelope: string, associatedData: string): string {
  assertKeyLength(encryptionKey);
  const [version, iv, ciphertext, tag] = envelope.split('.');
  if (version !== 'v1' || !iv || !ciphertext || !tag) throw new Error('unknown envelope format');
  const decipher = createDecipheriv('aes-256-gcm', encryptionKey, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(associatedData, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
}

function assertKeyLength(key: Buffer): void {
  if (key.length !== 32) throw new Error('the encryption key must be 32 bytes (64 hex characters)');
}
