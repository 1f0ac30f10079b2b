import type { OrgId } from '../ids.js';

export type WebhookId = `wh_${string}`;
export type WebhookEventId = `evt_${string}`;
export type WebhookDeliveryId = `whd_${string}`;

/** Every event an endpoint may subscribe to (CONTRACT.md "Webhooks"); `*` subscribes to all of them. */
export const webhookEventTypes = [
  'api_key.created',
  'api_key.updated',
  'api_key.rolled',
  'api_key.revoked',
  'api_key.leaked',
  'api_key.expiring',
  'api_key.expired',
  'api_key.credits_exhausted',
  'member.added',
  'member.removed',
  'member.role_changed',
  'signing_key.rotated',
  'webhook.test',
] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

/** How long the secret replaced by a roll keeps signing deliveries beside the new one. */
export const WEBHOOK_SECRET_OVERLAP_MS = 24 * 3600 * 1000;
/** An endpoint whose every attempt has failed for this long is disabled (as Svix does). */
export const WEBHOOK_DISABLE_AFTER_MS = 5 * 24 * 3600 * 1000;
export const WEBHOOK_DESCRIPTION_MAX = 500;
export const WEBHOOK_URL_MAX = 2000;
/** Endpoints per organization: each one multiplies the deliveries of every change. */
export const WEBHOOKS_PER_ORGANIZATION_MAX = 50;

/** The stored form of an endpoint. Secrets are AES-256-GCM envelopes, never plaintext. */
export interface WebhookEndpointRecord {
  readonly id: WebhookId;
  readonly orgId: OrgId;
  readonly url: string;
  /** Event types, or `['*']`. */
  readonly events: readonly string[];
  readonly description: string | null;
  readonly enabled: boolean;
  readonly disabledReason: string | null;
  readonly secretEncrypted: string;
  readonly previousSecretEncrypted: string | null;
  readonly previousSecretExpiresAt: Date | null;
  /** Since when every attempt to this endpoint has failed; null after a success. */
  readonly failingSince: Date | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** One outbox entry: the exact JSON body that is signed and sent for every delivery of it. */
/** What writing an event's deliveries needs of an endpoint subscribed to it. */
export interface SubscribedWebhookEndpoint {
  readonly id: WebhookId;
  readonly createdAt: Date;
}

export interface WebhookEventRecord {
  readonly id: WebhookEventId;
  readonly orgId: OrgId;
  readonly type: WebhookEventType;
  readonly payload: string;
  readonly createdAt: Date;
  /**
   * True while its deliveries are still to be written by the delivery worker (`recordEvent`, see
   * `fanOutEvents`); false when they were written with it (a test event to one endpoint).
   */
  readonly fanOutPending: boolean;
}

export type WebhookDeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface WebhookAttempt {
  readonly number: number;
  readonly at: Date;
  readonly statusCode: number | null;
  readonly durationMs: number;
  readonly error: string | null;
  readonly responseExcerpt: string | null;
}

export interface WebhookDeliveryRecord {
  readonly id: WebhookDeliveryId;
  readonly orgId: OrgId;
  readonly endpointId: WebhookId;
  readonly eventId: WebhookEventId;
  readonly eventType: string;
  readonly status: WebhookDeliveryStatus;
  readonly nextAttemptAt: Date | null;
  /** Attempts still allowed after a failure; null follows the retry schedule (a manual retry is one attempt). */
  readonly retriesLeft: number | null;
  readonly attemptCount: number;
  readonly createdAt: Date;
  readonly attempts: readonly WebhookAttempt[];
}

/** A due delivery leased to one worker, with what sending it needs. */
export interface ClaimedWebhookDelivery {
  readonly id: WebhookDeliveryId;
  readonly orgId: OrgId;
  readonly endpointId: WebhookId;
  readonly eventId: WebhookEventId;
  readonly payload: string;
  readonly url: string;
  readonly secretEncrypted: string;
  readonly previousSecretEncrypted: string | null;
  readonly previousSecretExpiresAt: Date | null;
  readonly retriesLeft: number | null;
  readonly attemptCount: number;
  readonly leaseToken: string;
}

export type WebhookEndpointPatch = Partial<
  Pick<
    WebhookEndpointRecord,
    'url' | 'events' | 'description' | 'enabled' | 'disabledReason' | 'secretEncrypted' | 'previousSecretEncrypted' | 'previousSecretExpiresAt' | 'failingSince'
  >
> & { readonly updatedAt: Date };
