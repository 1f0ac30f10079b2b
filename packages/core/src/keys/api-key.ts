import type { KeyId, OrgId, ProjectId, UserId } from '../ids.js';
import type { Permission } from '../permissions/catalogue.js';
import type { Binding } from '../permissions/roles.js';
import type { Scope } from '../resources/resource-filter.js';
import type { KeyCredits, RateLimit } from '../limits/key-limits.js';

export const keyTypes = ['personal', 'service', 'project'] as const;
export type KeyType = (typeof keyTypes)[number];

export const keyStatuses = ['active', 'expired', 'revoked', 'disabled'] as const;
export type KeyStatus = (typeof keyStatuses)[number];

export type PermissionMode = 'all' | 'restricted';

/** One stored secret digest: HMAC-SHA-256 under a pepper version, hex-encoded. */
export interface SecretDigest {
  readonly digest: string;
  readonly pepperVersion: number;
}

/** The stored form of an API key. The secret itself is never stored. */
export interface ApiKeyRecord {
  readonly id: KeyId;
  readonly orgId: OrgId;
  readonly keyType: KeyType;
  readonly name: string;
  readonly description: string | null;
  /** The public half of the token; null for project keys, which are found by digest. */
  readonly lookupId: string | null;
  readonly secret: SecretDigest;
  /** After a roll, the old secret stays valid until `previousSecretExpiresAt`. */
  readonly previousSecret: SecretDigest | null;
  readonly previousSecretExpiresAt: Date | null;
  readonly preview: string;
  readonly ownerUserId: UserId | null;
  readonly createdByUserId: UserId | null;
  readonly createdByKeyId: KeyId | null;
  readonly projectId: ProjectId | null;
  readonly bindings: readonly Binding[];
  readonly permissionMode: PermissionMode;
  readonly permissions: readonly Permission[];
  readonly scopes: readonly Scope[];
  readonly allowedCidrs: readonly string[];
  readonly expiresAt: Date | null;
  readonly lastUsedAt: Date | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly revokedAt: Date | null;
  readonly revokedReason: string | null;
  readonly disabledAt: Date | null;
  /** Fixed windows a verification must fit in (issue 14); [] for none. */
  readonly rateLimits: readonly RateLimit[];
  /** Null: unlimited. */
  readonly credits: KeyCredits | null;
}

export function keyStatus(key: Pick<ApiKeyRecord, 'revokedAt' | 'disabledAt' | 'expiresAt'>, now: Date): KeyStatus {
  if (key.revokedAt) return 'revoked';
  if (key.disabledAt) return 'disabled';
  if (key.expiresAt && key.expiresAt.getTime() <= now.getTime()) return 'expired';
  return 'active';
}

export function keyIdFromLookupId(lookupId: string): KeyId {
  return `key_${lookupId}`;
}

export function lookupIdFromKeyId(id: string): string | null {
  return /^key_[0-9A-Za-z]{16}$/.test(id) ? id.slice(4) : null;
}
