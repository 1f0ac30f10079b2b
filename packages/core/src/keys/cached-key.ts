import type { KeyId, OrgId, ProjectId, UserId } from '../ids.js';
import type { KeyCredits, RateLimit } from '../limits/key-limits.js';
import type { Permission } from '../permissions/catalogue.js';
import type { Binding } from '../permissions/roles.js';
import type { Scope } from '../resources/resource-filter.js';
import type { ApiKeyRecord, KeyType, PermissionMode, SecretDigest } from './api-key.js';

/**
 * What every key with the same access shares (issue 13): organization, type, project, bindings,
 * permission mode and list, scopes, allowlist and rate limits. The verifier keeps what it derives
 * from them here (grants, decisions, permission lists), so a million keys made alike cost one of each.
 */
export class AccessProfile {
  /** Set by the verifier that uses this profile (its grants and memoized decisions); null until then. */
  verifierState: unknown = null;

  constructor(
    readonly orgId: OrgId,
    readonly keyType: KeyType,
    readonly projectId: ProjectId | null,
    readonly bindings: readonly Binding[],
    readonly permissionMode: PermissionMode,
    readonly permissions: readonly Permission[],
    readonly scopes: readonly Scope[],
    readonly allowedCidrs: readonly string[],
    readonly rateLimits: readonly RateLimit[],
  ) {}
}

/** Fields most keys leave empty, kept out of line so that a key without them pays one null. */
interface RareFields {
  readonly description: string | null;
  readonly lookupId: string | null;
  readonly previousSecret: SecretDigest | null;
  readonly previousSecretExpiresAt: Date | null;
  readonly revokedAt: Date | null;
  readonly revokedReason: string | null;
  readonly disabledAt: Date | null;
  readonly credits: KeyCredits | null;
}

const STATUS_REVOKED = 1;
const STATUS_DISABLED = 2;
const STATUS_MASK = 3;
/** The key's lookup id is its id without `key_` (every key but the legacy project keys). */
const LOOKUP_FROM_ID = 4;
/** `createdBy` is a key's id (else a user's, or null). */
const CREATED_BY_KEY = 8;
const PEPPER_SHIFT = 4;

const dateOrNull = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));

/**
 * A key record as a verdict cache keeps it (issue 13): the same `ApiKeyRecord`, held in about a
 * third of the heap of the store's plain record. What many keys share is one `AccessProfile`; the
 * digest is kept as its 32 bytes (a latin1 string), instants as numbers (a `Date` costs 96 bytes),
 * rarely set fields out of line; the rest of the record is made on demand by getters. The verifier
 * keeps its per-key state in the last fields, so a cached key needs no side table.
 *
 * A cached key is replaced, never changed, when its key changes: what it holds stays true for as long
 * as the cache holds it, except the verifier's own state.
 */
export class CachedKey implements ApiKeyRecord {
  /** The verifier's stamp of when this entry was last seen current in the cache (see `KeyVerifier`). */
  stamp = -1;
  /** The owner's state read with that stamp (personal keys). */
  ownerState: unknown = null;
  /** The SHA-256 (32 latin1 characters) of the token that matched this key's current secret; never the token. */
  fingerprint: string | null = null;

  private constructor(
    readonly id: KeyId,
    readonly access: AccessProfile,
    readonly ownerUserId: UserId | null,
    readonly name: string,
    readonly preview: string,
    /** The secret's HMAC as 32 bytes in a latin1 string. */
    readonly digestBytes: string,
    private readonly bits: number,
    /** When it expires, in ms since the epoch; null: never. */
    readonly expiresMs: number | null,
    private readonly createdMs: number,
    private readonly updatedMs: number | null,
    private readonly lastUsedMs: number | null,
    private readonly createdBy: string | null,
    private readonly rare: RareFields | null,
  ) {}

  /**
   * The cached form of a record. `profile` finds (or makes) the shared profile of its access; `intern`
   * gives one string per distinct value for ids many keys repeat (owner, creator). `id` is the
   * record's id as a string the caller already holds (the cache's name for it), when it has one.
   */
  static of(record: ApiKeyRecord, profile: (record: ApiKeyRecord) => AccessProfile, intern: (text: string) => string, id: KeyId = record.id): CachedKey {
    if (record instanceof CachedKey) return record;
    const fromId = record.lookupId !== null && record.id === `key_${record.lookupId}`;
    const status = record.revokedAt ? STATUS_REVOKED : record.disabledAt ? STATUS_DISABLED : 0;
    const createdBy = record.createdByKeyId ?? record.createdByUserId;
    const bits = status | (fromId ? LOOKUP_FROM_ID : 0) | (record.createdByKeyId ? CREATED_BY_KEY : 0) | (record.secret.pepperVersion << PEPPER_SHIFT);
    const rare =
      record.description !== null || (record.lookupId !== null && !fromId) || record.previousSecret || record.revokedAt || record.disabledAt || record.credits
        ? {
            description: record.description,
            lookupId: fromId ? null : record.lookupId,
            previousSecret: record.previousSecret,
            previousSecretExpiresAt: record.previousSecretExpiresAt,
            revokedAt: record.revokedAt,
            revokedReason: record.revokedReason,
            disabledAt: record.disabledAt,
            credits: record.credits,
          }
        : null;
    const created = record.createdAt.getTime();
    const updated = record.updatedAt.getTime();
    return new CachedKey(
      id === record.id ? id : record.id,
      profile(record),
      record.ownerUserId === null ? null : (intern(record.ownerUserId) as UserId),
      record.name,
      record.preview,
      Buffer.from(record.secret.digest, 'hex').toString('latin1'),
      bits,
      record.expiresAt ? record.expiresAt.getTime() : null,
      created,
      updated === created ? null : updated,
      record.lastUsedAt ? record.lastUsedAt.getTime() : null,
      createdBy === null ? null : intern(createdBy),
      rare,
    );
  }

  get isRevoked(): boolean {
    return (this.bits & STATUS_MASK) === STATUS_REVOKED;
  }

  get isDisabled(): boolean {
    return (this.bits & STATUS_MASK) === STATUS_DISABLED;
  }

  get pepperVersion(): number {
    return this.bits >>> PEPPER_SHIFT;
  }

  get orgId(): OrgId {
    return this.access.orgId;
  }
  get keyType(): KeyType {
    return this.access.keyType;
  }
  get projectId(): ProjectId | null {
    return this.access.projectId;
  }
  get bindings(): readonly Binding[] {
    return this.access.bindings;
  }
  get permissionMode(): PermissionMode {
    return this.access.permissionMode;
  }
  get permissions(): readonly Permission[] {
    return this.access.permissions;
  }
  get scopes(): readonly Scope[] {
    return this.access.scopes;
  }
  get allowedCidrs(): readonly string[] {
    return this.access.allowedCidrs;
  }
  get rateLimits(): readonly RateLimit[] {
    return this.access.rateLimits;
  }
  get lookupId(): string | null {
    return this.bits & LOOKUP_FROM_ID ? this.id.slice(4) : (this.rare?.lookupId ?? null);
  }
  get secret(): SecretDigest {
    return { digest: Buffer.from(this.digestBytes, 'latin1').toString('hex'), pepperVersion: this.pepperVersion };
  }
  get description(): string | null {
    return this.rare?.description ?? null;
  }
  get previousSecret(): SecretDigest | null {
    return this.rare?.previousSecret ?? null;
  }
  get previousSecretExpiresAt(): Date | null {
    return this.rare?.previousSecretExpiresAt ?? null;
  }
  get createdByUserId(): UserId | null {
    return this.createdBy !== null && !(this.bits & CREATED_BY_KEY) ? (this.createdBy as UserId) : null;
  }
  get createdByKeyId(): KeyId | null {
    return this.bits & CREATED_BY_KEY ? (this.createdBy as KeyId) : null;
  }
  get expiresAt(): Date | null {
    return dateOrNull(this.expiresMs);
  }
  get lastUsedAt(): Date | null {
    return dateOrNull(this.lastUsedMs);
  }
  get createdAt(): Date {
    return new Date(this.createdMs);
  }
  get updatedAt(): Date {
    return new Date(this.updatedMs ?? this.createdMs);
  }
  get revokedAt(): Date | null {
    return this.rare?.revokedAt ?? null;
  }
  get revokedReason(): string | null {
    return this.rare?.revokedReason ?? null;
  }
  get disabledAt(): Date | null {
    return this.rare?.disabledAt ?? null;
  }
  get credits(): KeyCredits | null {
    return this.rare?.credits ?? null;
  }

  /** The plain record (every field an own property): for a spread, a copy, or JSON. */
  toRecord(): ApiKeyRecord {
    return {
      id: this.id,
      orgId: this.orgId,
      keyType: this.keyType,
      name: this.name,
      description: this.description,
      lookupId: this.lookupId,
      secret: this.secret,
      previousSecret: this.previousSecret,
      previousSecretExpiresAt: this.previousSecretExpiresAt,
      preview: this.preview,
      ownerUserId: this.ownerUserId,
      createdByUserId: this.createdByUserId,
      createdByKeyId: this.createdByKeyId,
      projectId: this.projectId,
      bindings: this.bindings,
      permissionMode: this.permissionMode,
      permissions: this.permissions,
      scopes: this.scopes,
      allowedCidrs: this.allowedCidrs,
      expiresAt: this.expiresAt,
      lastUsedAt: this.lastUsedAt,
      createdAt: this.createdAt,
      updatedAt: this.updatedAt,
      revokedAt: this.revokedAt,
      revokedReason: this.revokedReason,
      disabledAt: this.disabledAt,
      rateLimits: this.rateLimits,
      credits: this.credits,
    };
  }

  toJSON(): ApiKeyRecord {
    return this.toRecord();
  }
}

/** Profiles kept for sharing at most; a profile in use stays with its keys after it leaves the table. */
const PROFILES_MAX = 10_000;
/** Interned strings (owner and creator ids) at most. */
const INTERNED_MAX = 100_000;

/**
 * Makes cached keys, sharing one `AccessProfile` among keys with the same access and one string among
 * equal owner and creator ids. Both tables are bounded: past their size, the oldest go (keys holding
 * them keep them).
 */
export class CachedKeyFactory {
  private readonly profiles = new Map<string, AccessProfile>();
  private readonly strings = new Map<string, string>();
  private readonly profileOf = (record: ApiKeyRecord): AccessProfile => {
    const name = JSON.stringify([
      record.orgId,
      record.keyType,
      record.projectId,
      record.bindings,
      record.permissionMode,
      record.permissions,
      record.scopes,
      record.allowedCidrs,
      record.rateLimits,
    ]);
    let profile = this.profiles.get(name);
    if (!profile) {
      if (this.profiles.size >= PROFILES_MAX) this.profiles.delete(this.profiles.keys().next().value!);
      profile = new AccessProfile(
        this.intern(record.orgId) as OrgId,
        record.keyType,
        record.projectId === null ? null : (this.intern(record.projectId) as ProjectId),
        record.bindings,
        record.permissionMode,
        record.permissions,
        record.scopes,
        record.allowedCidrs,
        record.rateLimits,
      );
      this.profiles.set(name, profile);
    }
    return profile;
  };
  private readonly internOf = (text: string): string => this.intern(text);

  /** The cached form of `record`; `id`: the same id, as a string the caller keeps anyway. */
  make(record: ApiKeyRecord, id?: KeyId): CachedKey {
    return CachedKey.of(record, this.profileOf, this.internOf, id);
  }

  /** Distinct profiles held now (for tests and stats). */
  get profileCount(): number {
    return this.profiles.size;
  }

  private intern(text: string): string {
    const known = this.strings.get(text);
    if (known !== undefined) return known;
    if (this.strings.size >= INTERNED_MAX) this.strings.delete(this.strings.keys().next().value!);
    this.strings.set(text, text);
    return text;
  }
}
