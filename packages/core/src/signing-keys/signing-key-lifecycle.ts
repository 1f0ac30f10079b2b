import type { SigningKeyId } from '../ids.js';
import type { SigningAlgorithm } from '../orgs/organization.js';
import type { SigningKeyRecord, SigningKeyState } from './signing-key.js';

/**
 * How long the next key is published before a planned rotation may make it sign: jose's
 * `createRemoteJWKSet` caches a key set for ten minutes by default, so a verifier that fetched the
 * set just before the rotation already knows the new key (SECURITY.md R37).
 */
export const PUBLICATION_LEAD_SECONDS = 600;

/** Clock skew allowed between this server and verifiers, added to a previous key's publication. */
export const CLOCK_SKEW_SECONDS = 60;

/** Access-token lifetimes an organization may choose, in seconds. */
export const MIN_ACCESS_TOKEN_TTL_SECONDS = 60;
export const MAX_ACCESS_TOKEN_TTL_SECONDS = 3600;

/**
 * When a previous key stops being published: once the last token it can have signed has expired
 * (deactivation + token lifetime + skew). Null for keys in any other state.
 */
export function retirementDueAt(key: Pick<SigningKeyRecord, 'state' | 'deactivatedAt'>, ttlSeconds: number): Date | null {
  if (key.state !== 'previous' || !key.deactivatedAt) return null;
  return new Date(key.deactivatedAt.getTime() + (ttlSeconds + CLOCK_SKEW_SECONDS) * 1000);
}

/** When a planned rotation may promote this next key. */
export function promotableAt(key: Pick<SigningKeyRecord, 'publishedAt'>): Date {
  return new Date(key.publishedAt.getTime() + PUBLICATION_LEAD_SECONDS * 1000);
}

/** What admins see of a signing key: its lifecycle, never any key material. */
export interface SigningKeyView {
  readonly id: SigningKeyId;
  readonly algorithm: SigningAlgorithm;
  readonly state: SigningKeyState;
  readonly createdAt: Date;
  readonly publishedAt: Date;
  readonly activatedAt: Date | null;
  readonly deactivatedAt: Date | null;
  readonly retiredAt: Date | null;
  readonly compromisedAt: Date | null;
}

/**
 * A key as it stands at `now`: a previous key past its publication window is retired, even before a
 * rotation writes it so (retirement is a matter of time, not of an event).
 */
export function signingKeyViewAt(key: SigningKeyRecord, now: Date, ttlSeconds: number): SigningKeyView {
  const due = retirementDueAt(key, ttlSeconds);
  const retired = due !== null && due.getTime() <= now.getTime();
  return {
    id: key.id,
    algorithm: key.algorithm,
    state: retired ? 'retired' : key.state,
    createdAt: key.createdAt,
    publishedAt: key.publishedAt,
    activatedAt: key.activatedAt,
    deactivatedAt: key.deactivatedAt,
    retiredAt: retired ? due : key.retiredAt,
    compromisedAt: key.compromisedAt,
  };
}

/** Whether a key is in the JWKS at `now`: next, current, or previous within its window; never compromised. */
export function isPublishedAt(key: SigningKeyRecord, now: Date, ttlSeconds: number): boolean {
  if (key.compromisedAt) return false;
  return signingKeyViewAt(key, now, ttlSeconds).state !== 'retired';
}
