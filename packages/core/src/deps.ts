import type { IdGenerator } from './ids.js';
import type { KeyFormat } from './keys/key-format.js';
import type { PepperRing } from './keys/key-digest.js';
import type { PermissionCatalogue } from './permissions/catalogue.js';
import type { CacheBus, Clock, Store } from './ports.js';

/** Bounds on what one request or one principal may create (SECURITY.md R46). */
export interface CoreLimits {
  readonly maxActiveKeysPerOwner: number;
  readonly maxCidrsPerKey: number;
  readonly maxScopesPerKey: number;
  readonly maxBindingsPerKey: number;
  /** How long after a roll the old secret may stay valid, at most. */
  readonly maxRollOverlapSeconds: number;
  readonly invitationTtlSeconds: number;
  readonly sessionTtlSeconds: number;
}

export const defaultLimits: CoreLimits = {
  maxActiveKeysPerOwner: 200,
  maxCidrsPerKey: 100,
  maxScopesPerKey: 100,
  maxBindingsPerKey: 100,
  maxRollOverlapSeconds: 30 * 24 * 3600,
  invitationTtlSeconds: 7 * 24 * 3600,
  sessionTtlSeconds: 7 * 24 * 3600,
};

/** Everything core's use cases may need. Each use case declares the narrow part it uses. */
export interface CoreDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly peppers: PepperRing;
  readonly keyFormat: KeyFormat;
  readonly catalogue: PermissionCatalogue;
  readonly bus: CacheBus;
  readonly limits: CoreLimits;
  /** The key that encrypts signing keys at rest (AES-256-GCM), 32 bytes. */
  readonly encryptionKey: Buffer;
}
