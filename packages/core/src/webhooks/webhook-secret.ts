import { createHmac, randomBytes } from 'node:crypto';
import { decryptSecret, encryptSecret } from '../signing-keys/key-encryption.js';
import type { OrgId } from '../ids.js';
import type { WebhookId } from './webhook.js';

/** A new endpoint secret as Standard Webhooks writes it: `whsec_` and 32 random bytes in base64. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The associated data binding a secret's ciphertext to its endpoint, so rows cannot be swapped. */
const boundTo = (orgId: OrgId, webhookId: WebhookId) => `webhook:${orgId}:${webhookId}`;

/** Endpoint secrets are needed again at every delivery, so they are encrypted at rest as signing keys are. */
export function encryptWebhookSecret(encryptionKey: Buffer, orgId: OrgId, webhookId: WebhookId, secret: string): string {
  return encryptSecret(encryptionKey, secret, boundTo(orgId, webhookId));
}

export function decryptWebhookSecret(encryptionKey: Buffer, orgId: OrgId, webhookId: WebhookId, envelope: string): string {
  return decryptSecret(encryptionKey, envelope, boundTo(orgId, webhookId));
}

/**
 * The `webhook-signature` header of Standard Webhooks: `v1,<base64 HMAC-SHA256>` over
 * `<id>.<timestamp>.<body>`, keyed with the base64-decoded part of each secret after `whsec_`; one
 * signature per live secret, space-separated (during a roll's overlap, the new and the old).
 */
export function signWebhook(secrets: readonly string[], messageId: string, timestampSeconds: number, body: string): string {
  return secrets
    .map((secret) => {
      const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
      return `v1,${createHmac('sha256', key).update(`${messageId}.${timestampSeconds}.${body}`).digest('base64')}`;
    })
    .join(' ');
}
